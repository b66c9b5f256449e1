// A minimal valid profile as text with known line numbers, for validation tests: each
// primitive sits on its own line (line of `name` = lineOf(name)), so a test edits one line.
import { PRIMITIVE_NAMES, type Primitive } from "../../src/cost/primitives.ts";

const HEAD = [
  "vxsim_profile: 1", // 1
  "name: test", // 2
  "arch: test-arch", // 3
  "atomics: x86", // 4
  "clock_ghz: { ghz: 2, source: s1, tag: measured }", // 5
  "sources:", // 6
  '  s1: { cite: "A test source", where: "nowhere" }', // 7
  "primitives:", // 8
];

export const PRIMITIVES_LINE = 8;

export function lineOf(p: Primitive): number {
  return HEAD.length + 1 + PRIMITIVE_NAMES.indexOf(p);
}

/** Line of `copy:`; the points follow at copyLine + 2 and + 3. */
export const COPY_LINE = HEAD.length + PRIMITIVE_NAMES.length + 1;

export interface ProfileLines {
  head: string[];
  primitives: Map<Primitive, string>;
  copy: string[];
}

export function baseLines(): ProfileLines {
  const primitives = new Map<Primitive, string>();
  for (const p of PRIMITIVE_NAMES) primitives.set(p, `  ${p}: { cycles: 10, estimate: true, why: "test figure" }`);
  primitives.set("hypercall", "  hypercall: { cycles: 100, source: s1, tag: verified }");
  primitives.set("llsc_retry", '  llsc_retry: { na: true, why: "no LL/SC here" }');
  return {
    head: [...HEAD],
    primitives,
    copy: ["copy:", "  points:", "    - { bytes: 64, ns: 10, source: s1 }", "    - { bytes: 4096, gb_per_s: 40.96, source: s1 }"],
  };
}

export function render(l: ProfileLines): string {
  return [...l.head, ...l.primitives.values(), ...l.copy].join("\n") + "\n";
}

/** The base profile with one primitive's line replaced. */
export function withPrimitive(p: Primitive, line: string): string {
  const l = baseLines();
  l.primitives.set(p, line);
  return render(l);
}
