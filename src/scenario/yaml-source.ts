// A YAML file kept with its syntax tree so that any value can be traced back to its line:
// schema errors and semantic errors both point at the key or value they are about.
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from "yaml";
import { ConfigError } from "./config-error.ts";

/** A path into the data: map keys and sequence indexes. */
export type Path = readonly (string | number)[];

export class YamlSource {
  readonly file: string;
  readonly data: unknown;
  private readonly doc: Document;
  private readonly lc: LineCounter;

  private constructor(file: string, doc: Document, lc: LineCounter) {
    this.file = file;
    this.doc = doc;
    this.lc = lc;
    this.data = doc.toJS({ maxAliasCount: 1000 });
  }

  /** Parses YAML text; syntax errors (all of them) become one ConfigError. */
  static parse(text: string, file: string): YamlSource {
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
    if (doc.errors.length > 0) {
      throw ConfigError.many(doc.errors.map((e) => new ConfigError(file, lc.linePos(e.pos[0]).line, "", `YAML syntax: ${e.message}`)));
    }
    return new YamlSource(file, doc, lc);
  }

  /** The node at `path` (deepest existing ancestor when the path does not exist). With
   *  `key`, the key node of the last segment when it is a map key. */
  node(path: Path, key = false): Node | undefined {
    let node: unknown = this.doc.contents;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
        if (!pair) return node as Node;
        if (last && key) return pair.key as Node;
        node = pair.value ?? pair.key; // `key:` with no value: point at the key
      } else if (isSeq(node) && typeof seg === "number") {
        const item = node.items[seg];
        if (item === undefined) return node as Node;
        node = item;
      } else {
        return node as Node | undefined;
      }
    }
    return node as Node | undefined;
  }

  /** 1-based line of the node at `path` (see node()); 1 for an empty document. */
  line(path: Path, key = false): number {
    const n = this.node(path, key);
    return n?.range ? this.lc.linePos(n.range[0]).line : 1;
  }

  /** 1-based line where the node at `path` ends. */
  endLine(path: Path): number {
    const n = this.node(path);
    return n?.range ? this.lc.linePos(n.range[1]).line : 1;
  }

  /** An error about the value (or, with `key`, the key) at `path`. */
  error(path: Path, reason: string, key = false): ConfigError {
    return new ConfigError(this.file, this.line(path, key), fieldName(path), reason);
  }
}

/** `workloads[0].fio.bs` for ["workloads", 0, "fio", "bs"]. */
export function fieldName(path: Path): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? seg : `.${seg}`;
  }
  return out;
}
