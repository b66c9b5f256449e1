// The syntax of xl domain configuration files (xl.cfg(5); libxlu's config lexer and grammar):
//
//   key = value            one setting per line, or several separated by ';'
//   key += value           appends to an earlier list, or concatenates to an earlier string
//   value: 'single' or "double" quoted string (one line; backslash escapes), a number
//          (decimal digits or 0x hex, kept as text), or [ value, value, ... ] which may span
//          lines, may nest and may end with a trailing comma
//   # comment to the end of the line
//
// A second `=` to a key is an error. libxlu would keep the last one and silently drop the
// earlier (a second `disk = [...]` loses the first one's disks); the reference we follow says
// nothing of it, so vxsim refuses it on purpose. Every value keeps its line so that errors
// about a list item point at the item.
import { ConfigError } from "./config-error.ts";

export type XlValue = XlAtom | XlList;
export interface XlAtom {
  kind: "atom";
  text: string;
  /** A quoted string (false: a bare number). xl reads both as text; numbers may be quoted. */
  quoted: boolean;
  line: number;
}
export interface XlList {
  kind: "list";
  items: XlValue[];
  line: number;
}

export interface XlSetting {
  key: string;
  value: XlValue;
  /** Line of the last assignment to the key (as reported: after the source's lineMap). */
  line: number;
  /** Operator of the last assignment (xl refuses `+=` for numbers). */
  op: "=" | "+=";
}

export interface XlSourceOptions {
  /** Name used in error messages. */
  file: string;
  /** Maps a line of `text` to the line reported (inline xl.cfg inside a YAML file). */
  lineMap?: (line: number) => number;
}

type TokKind = "ident" | "number" | "string" | "=" | "+=" | "[" | "]" | "," | ";" | "nl" | "eof";
interface Tok {
  kind: TokKind;
  text: string;
  line: number;
}

const ESCAPES: Record<string, string> = {
  '"': '"', "'": "'", "\\": "\\", a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v",
};

/** Characters that usually mean the file was written as Python (xm configs). */
const PYTHONISH = "+.():{}";

const IDENT = /[A-Za-z_][A-Za-z0-9_.]*/y;
const NUMBER = /0[xX][0-9a-fA-F]+|[0-9]+/y;
const WORD_TAIL = /[A-Za-z0-9_.]+/y;

/** The match of a sticky regex at `pos`, or undefined. */
function at(re: RegExp, s: string, pos: number): string | undefined {
  re.lastIndex = pos;
  return re.exec(s)?.[0];
}

class XlSyntaxParser {
  private pos = 0;
  private line = 1;
  private peeked: Tok | undefined;
  /** The key whose value is being read (the field of errors). */
  private key = "";
  private readonly text: string;
  private readonly opts: XlSourceOptions;

  constructor(text: string, opts: XlSourceOptions) {
    this.text = text;
    this.opts = opts;
  }

  /** `line` is a line of the text; it is mapped for the message. */
  fail(line: number, reason: string): never {
    throw new ConfigError(this.opts.file, this.shown(line), this.key, reason);
  }

  parse(): XlSetting[] {
    const out: XlSetting[] = [];
    for (;;) {
      this.key = "";
      const t = this.next();
      if (t.kind === "eof") return out;
      if (t.kind === "nl" || t.kind === ";") continue;
      if (t.kind !== "ident") this.fail(t.line, `expected a setting (key = value), found ${describe(t)}`);
      this.key = t.text;
      const op = this.next();
      if (op.kind !== "=" && op.kind !== "+=") this.fail(op.line, `expected '=' or '+=' after '${t.text}', found ${describe(op)}`);
      const value = this.value(this.next());
      const end = this.next();
      if (end.kind !== "nl" && end.kind !== ";" && end.kind !== "eof") {
        this.fail(end.line, `expected the end of the line or ';' after the value, found ${describe(end)}`);
      }
      out.push({ key: t.text, value, line: this.shown(t.line), op: op.kind });
    }
  }

  private value(t: Tok): XlValue {
    if (t.kind === "string" || t.kind === "number") return { kind: "atom", text: t.text, quoted: t.kind === "string", line: this.shown(t.line) };
    if (t.kind !== "[") {
      this.fail(t.line, `expected a value (a quoted string, a number or a [list]), found ${describe(t)}`);
    }
    const list: XlList = { kind: "list", items: [], line: this.shown(t.line) };
    for (;;) {
      let item = this.skipNewlines();
      if (item.kind === "]") return list;
      if (item.kind === "eof") this.fail(item.line, `list opened on line ${this.shown(t.line)} is not closed (expected ']')`);
      if (item.kind === ",") this.fail(item.line, "expected a list item or ']', found ','");
      list.items.push(this.value(item));
      item = this.skipNewlines();
      if (item.kind === "]") return list;
      if (item.kind === "eof") this.fail(item.line, `list opened on line ${this.shown(t.line)} is not closed (expected ']')`);
      if (item.kind !== ",") this.fail(item.line, `expected ',' or ']' after a list item, found ${describe(item)}`);
    }
  }

  private shown(line: number): number {
    return this.opts.lineMap ? this.opts.lineMap(line) : line;
  }

  private skipNewlines(): Tok {
    let t = this.next();
    while (t.kind === "nl") t = this.next();
    return t;
  }

  private next(): Tok {
    if (this.peeked) {
      const t = this.peeked;
      this.peeked = undefined;
      return t;
    }
    return this.scan();
  }

  private scan(): Tok {
    const s = this.text;
    for (;;) {
      if (this.pos >= s.length) return { kind: "eof", text: "", line: this.line };
      const c = s[this.pos]!;
      if (c === " " || c === "\t" || c === "\r") {
        this.pos++;
      } else if (c === "#") {
        while (this.pos < s.length && s[this.pos] !== "\n") this.pos++;
      } else {
        break;
      }
    }
    const c = s[this.pos]!;
    const line = this.line;
    if (c === "\n") {
      this.pos++;
      this.line++;
      return { kind: "nl", text: "\n", line };
    }
    const word = at(IDENT, s, this.pos);
    if (word !== undefined) {
      this.pos += word.length;
      return { kind: "ident", text: word, line };
    }
    const num = at(NUMBER, s, this.pos);
    if (num !== undefined) {
      const tail = at(WORD_TAIL, s, this.pos + num.length);
      if (tail !== undefined) {
        this.fail(line, `malformed number '${num}${tail}' (xl numbers are decimal or 0x hexadecimal, without units)`);
      }
      this.pos += num.length;
      return { kind: "number", text: num, line };
    }
    if (c === "'" || c === '"') return { kind: "string", text: this.quoted(c), line };
    if (c === "+" && s[this.pos + 1] === "=") {
      this.pos += 2;
      return { kind: "+=", text: "+=", line };
    }
    if (c === "=" || c === "[" || c === "]" || c === "," || c === ";") {
      this.pos++;
      return { kind: c, text: c, line };
    }
    const hint = PYTHONISH.includes(c) ? " (xl.cfg is not Python: values are quoted strings, numbers or [lists])" : "";
    this.fail(line, `unexpected character '${c}'${hint}`);
  }

  /** Reads a quoted string starting at the opening quote and returns its dequoted text. */
  private quoted(q: string): string {
    const s = this.text;
    const line = this.line;
    let out = "";
    let i = this.pos + 1;
    for (;;) {
      const c = s[i];
      if (c === undefined || c === "\n") this.fail(line, `unterminated string (a ${q === "'" ? "single" : "double"}-quoted string must end on the line it starts)`);
      if (c === q) break;
      if (c !== "\\") {
        out += c;
        i++;
        continue;
      }
      const e = s[i + 1];
      if (e === undefined || e === "\n") this.fail(line, "unterminated string (backslash at the end of the line)");
      if (Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
        i += 2;
      } else if (e === "x") {
        const hex = /^[0-9a-fA-F]{2}/.exec(s.slice(i + 2, i + 4));
        if (!hex) this.fail(line, "invalid escape '\\x' in quoted string (expected two hex digits, as \\x41)");
        out += String.fromCharCode(parseInt(hex[0], 16));
        i += 4;
      } else if (e >= "0" && e <= "7") {
        const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4))![0];
        const code = parseInt(oct, 8);
        if (code > 0xff) this.fail(line, `invalid escape '\\${oct}' in quoted string (octal escapes go up to \\377)`);
        out += String.fromCharCode(code);
        i += 1 + oct.length;
      } else {
        this.fail(line, `invalid escape '\\${e}' in quoted string (expected one of \\" \\' \\\\ \\a \\b \\f \\n \\r \\t \\v \\xHH \\ooo)`);
      }
    }
    this.pos = i + 1;
    return out;
  }
}

function describe(t: Tok): string {
  switch (t.kind) {
    case "eof":
      return "the end of the file";
    case "nl":
      return "the end of the line";
    case "string":
      return `the string ${JSON.stringify(t.text)}`;
    default:
      return `'${t.text}'`;
  }
}

/** Every assignment of the file, in order (no merging). */
export function parseXlStatements(text: string, opts: XlSourceOptions): XlSetting[] {
  return new XlSyntaxParser(text, opts).parse();
}

/** The settings: one `=` per key (a second one is a ConfigError at its line); `+=` appends to a
 *  list or concatenates to a string set earlier (or sets the key when it was not set). */
export function parseXlSettings(text: string, opts: XlSourceOptions): Map<string, XlSetting> {
  const out = new Map<string, XlSetting>();
  const firstLine = new Map<string, number>();
  for (const s of parseXlStatements(text, opts)) {
    const prev = out.get(s.key);
    if (s.op === "+=" && prev) {
      const a = prev.value;
      const b = s.value;
      if (a.kind !== b.kind) {
        throw new ConfigError(opts.file, s.line, s.key, `cannot add ${b.kind === "list" ? "a list" : "a string"} to ${a.kind === "list" ? "a list" : "a string"} (use += with the same kind of value)`);
      }
      const value: XlValue =
        a.kind === "list" && b.kind === "list"
          ? { kind: "list", items: [...a.items, ...b.items], line: a.line }
          : { kind: "atom", text: (a as XlAtom).text + (b as XlAtom).text, quoted: true, line: a.line };
      out.set(s.key, { key: s.key, value, line: s.line, op: "+=" });
    } else if (prev) {
      throw new ConfigError(opts.file, s.line, s.key, `set again (first set on line ${firstLine.get(s.key)}); a key takes one '=' (xl would silently keep only the last; use += to add to a list or string)`);
    } else {
      firstLine.set(s.key, s.line);
      out.set(s.key, s);
    }
  }
  return out;
}
