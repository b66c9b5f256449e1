// The one error type of configuration files (xl.cfg, scenario YAML): it names the file, the
// line (1-based; 0 when the problem is the file as a whole, e.g. a missing key) and the
// field, and says what was expected. Several problems found in one pass travel together.

export class ConfigError extends Error {
  readonly file: string;
  readonly line: number;
  readonly field: string;
  /** What was wrong, without the location prefix. */
  readonly reason: string;
  /** Every problem of the pass, this one first (length 1 for a single error). */
  readonly all: readonly ConfigError[];

  constructor(file: string, line: number, field: string, reason: string, all?: readonly ConfigError[]) {
    super(all && all.length > 1 ? all.map((e) => e.message).join("\n") : formatLocation(file, line, field, reason));
    this.name = "ConfigError";
    this.file = file;
    this.line = line;
    this.field = field;
    this.reason = reason;
    this.all = all && all.length > 0 ? all : [this];
  }

  /** One error carrying several, in file order (line, then the order found). */
  static many(errors: readonly ConfigError[]): ConfigError {
    if (errors.length === 0) throw new RangeError("ConfigError.many needs at least one error");
    const sorted = errors
      .map((e, i) => ({ e, i }))
      .sort((a, b) => a.e.file.localeCompare(b.e.file) || a.e.line - b.e.line || a.i - b.i)
      .map((x) => x.e);
    if (sorted.length === 1) return sorted[0]!;
    const first = sorted[0]!;
    return new ConfigError(first.file, first.line, first.field, first.reason, sorted);
  }
}

/** `file:line: field: reason`; the line is left out when 0 and the field when empty. */
export function formatLocation(file: string, line: number, field: string, reason: string): string {
  return `${file}${line > 0 ? `:${line}` : ""}: ${field ? `${field}: ` : ""}${reason}`;
}

/** Lists choices for messages: `a, b, c`. */
export function choices(list: readonly string[]): string {
  return list.join(", ");
}

/** The closest candidate within edit distance 2 (for "did you mean"), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  // Optimal string alignment distance: a transposition counts as one edit (memroy -> memory).
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
