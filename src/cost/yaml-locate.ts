// Finds the line of a field in a parsed YAML document, so that every profile error can name
// file:line. A path is a list of map keys and sequence indices, as in a JSON pointer.
import { LineCounter, isMap, isSeq, isScalar, type Document, type Node } from "yaml";

export type Path = (string | number)[];

export class YamlLocator {
  private readonly doc: Document;
  private readonly lines: LineCounter;

  constructor(doc: Document, lines: LineCounter) {
    this.doc = doc;
    this.lines = lines;
  }

  /** Line of the value at `path` (for a map entry, the line of its key, where a reader looks).
   *  Falls back to the deepest existing ancestor; the document root is line 1. */
  line(path: Path): number {
    let node: unknown = this.doc.contents;
    let offset = 0;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        offset = (pair.key as Node).range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
        node = node.items[seg];
        offset = (node as Node).range?.[0] ?? offset;
      } else {
        break;
      }
    }
    return this.lines.linePos(offset).line;
  }
}

/** The dotted form of a path used in messages: primitives.hypercall.cycles, copy.points[2].ns. */
export function fieldName(path: Path): string {
  let out = "";
  for (const seg of path) out += typeof seg === "number" ? `[${seg}]` : out === "" ? seg : `.${seg}`;
  return out === "" ? "(document)" : out;
}
