import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { parse } from "yaml";
import {
  ProfileError,
  SHIPPED_PROFILES,
  copyCycles,
  cyclesToNs,
  loadProfile,
  loadShippedProfile,
  parseProfile,
  primitiveCycles,
  shippedProfilePath,
} from "../src/cost/profile.ts";
import { PRIMITIVE_NAMES } from "../src/cost/primitives.ts";
import { COPY_LINE, PRIMITIVES_LINE, baseLines, lineOf, render, withPrimitive } from "./helpers/profile-text.ts";

const F = "t.yaml";

function errorOf(text: string): string {
  try {
    parseProfile(text, F);
  } catch (e) {
    expect(e).toBeInstanceOf(ProfileError);
    return (e as Error).message;
  }
  throw new Error("profile was accepted");
}

const prim = (name: string, body: string) => errorOf(withPrimitive(name as never, `  ${name}: ${body}`));

describe("profile loader", () => {
  it("reads a valid profile and converts every figure to cycles at the clock", () => {
    const p = parseProfile(render(baseLines()), F);
    expect(p.name).toBe("test");
    expect(p.arch).toBe("test-arch");
    expect(p.atomics).toBe("x86");
    expect(p.clockGHz).toBe(2);
    expect(p.clock).toMatchObject({ source: "s1", tag: "measured", estimate: false, line: 5 });
    expect(p.primitives.hypercall).toMatchObject({ cycles: 100, source: "s1", tag: "verified", estimate: false, line: lineOf("hypercall") });
    expect(p.primitives.vm_exit).toMatchObject({ cycles: 10, estimate: true, why: "test figure" });
    expect(p.primitives.llsc_retry).toMatchObject({ cycles: null, why: "no LL/SC here" });
    expect(p.copy.map((c) => [c.bytes, c.cycles])).toEqual([[64, 20], [4096, 200]]); // 10 ns; 4096 B at 40.96 GB/s = 100 ns
    expect(cyclesToNs(p, 100)).toBe(50);
  });

  it("converts ns figures at the profile clock", () => {
    const p = parseProfile(withPrimitive("vm_exit", '  vm_exit: { ns: 5, estimate: true, why: "w", based_on: s1 }'), F);
    expect(p.primitives.vm_exit).toMatchObject({ cycles: 10, basedOn: "s1" });
  });

  it("primitiveCycles refuses a primitive the architecture lacks", () => {
    const p = parseProfile(render(baseLines()), F);
    expect(primitiveCycles(p, "hypercall")).toBe(100);
    expect(() => primitiveCycles(p, "llsc_retry")).toThrow("profile test: primitive 'llsc_retry' does not apply to test-arch (no LL/SC here)");
  });

  it("copyCycles interpolates between points, floors below the first, extrapolates the last bandwidth", () => {
    const p = parseProfile(render(baseLines()), F);
    expect(copyCycles(p, 0)).toBe(0);
    expect(copyCycles(p, 1)).toBe(20);
    expect(copyCycles(p, 64)).toBe(20);
    expect(copyCycles(p, 2080)).toBe(110); // halfway between 64 and 4096
    expect(copyCycles(p, 4096)).toBe(200);
    expect(copyCycles(p, 8192)).toBe(400);
    expect(() => copyCycles(p, -1)).toThrow("copy size must be a finite number >= 0, got -1");
    expect(() => copyCycles(p, NaN)).toThrow("copy size must be a finite number >= 0, got NaN");
  });

  it("names an unreadable file and an unknown shipped profile", () => {
    expect(() => loadProfile("/nonexistent/p.yaml")).toThrow(/^cannot read profile \/nonexistent\/p\.yaml: ENOENT/);
    expect(() => loadShippedProfile("sparc")).toThrow("no shipped profile 'sparc' (shipped: x86-64, arm64-v8.0, arm64-v8.1-lse, riscv64)");
  });
});

describe("profile validation: every error names file, line and field", () => {
  const L = (p: string) => lineOf(p as never);

  it("unknown primitive", () => {
    const l = baseLines();
    l.primitives.set("vm_exit", "  vm_exit: { cycles: 1, source: s1 }\n  hypercal: { cycles: 1, source: s1 }");
    expect(errorOf(render(l))).toBe(`t.yaml:${L("vm_exit") + 1}: primitives.hypercal: unknown primitive 'hypercal' (see docs/profiles.md for the list)`);
  });

  it("missing primitive", () => {
    const l = baseLines();
    l.primitives.delete("vm_exit");
    expect(errorOf(render(l))).toBe(`t.yaml:${PRIMITIVES_LINE}: primitives.vm_exit: missing primitive`);
  });

  it("missing source", () => {
    const want = `t.yaml:${L("vm_exit")}: primitives.vm_exit: missing source (give source: <key>, or estimate: true with why)`;
    expect(prim("vm_exit", "{ cycles: 1 }")).toBe(want);
    expect(prim("vm_exit", "{ cycles: 1, estimate: false }")).toBe(want);
    expect(prim("vm_exit", '{ cycles: 1, why: "because" }')).toBe(want);
  });

  it("negative cost", () => {
    expect(prim("vm_exit", "{ cycles: -5, source: s1 }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.cycles: must be >= 0, got -5`);
    expect(prim("ipi", "{ ns: -0.5, source: s1 }")).toBe(`t.yaml:${L("ipi")}: primitives.ipi.ns: must be >= 0, got -0.5`);
  });

  it("wrong type", () => {
    expect(prim("vm_exit", '{ cycles: "lots", source: s1 }')).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.cycles: must be a number, got "lots"`);
    expect(prim("vm_exit", '{ cycles: 1, estimate: "yes", why: w }')).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.estimate: must be true or false, got "yes"`);
    expect(prim("vm_exit", "5")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit: must be a map, got 5`);
    expect(prim("vm_exit", "[1, 2]")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit: must be a map, got a list`);
    expect(prim("vm_exit", "{ cycles: .inf, source: s1 }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.cycles: must be a number, got Infinity`);
    expect(prim("vm_exit", "{ cycles: 1, source: 7 }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.source: must be a string, got 7`);
    expect(prim("vm_exit", "{ cycles: 1, source: s1, note: [a] }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.note: must be a string, got a list`);
  });

  it("unknown field in a figure and at the top level", () => {
    expect(prim("vm_exit", "{ cycles: 1, source: s1, colour: red }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.colour: unknown field`);
    const l = baseLines();
    l.head.splice(2, 0, "colour: red");
    expect(errorOf(render(l))).toBe("t.yaml:3: colour: unknown field");
  });

  it("unknown source and unknown based_on", () => {
    expect(prim("vm_exit", "{ cycles: 1, source: nope }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.source: unknown source 'nope' (known: s1)`);
    expect(prim("vm_exit", "{ cycles: 1, estimate: true, why: w, based_on: nope }")).toBe(
      `t.yaml:${L("vm_exit")}: primitives.vm_exit.based_on: unknown source 'nope' (known: s1)`,
    );
  });

  it("estimate rules", () => {
    expect(prim("vm_exit", "{ cycles: 1, estimate: true }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.why: an estimate needs a why`);
    expect(prim("vm_exit", '{ cycles: 1, estimate: true, why: "" }')).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.why: must not be empty`);
    expect(prim("vm_exit", "{ cycles: 1, source: s1, estimate: true, why: w }")).toBe(
      `t.yaml:${L("vm_exit")}: primitives.vm_exit.estimate: a figure has either a source or estimate: true, not both (an estimate names its basis in based_on)`,
    );
    expect(prim("vm_exit", "{ cycles: 1, source: s1, based_on: s1 }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.based_on: based_on is only for estimates`);
  });

  it("tag rules", () => {
    expect(prim("vm_exit", "{ cycles: 1, estimate: true, why: w, tag: measured }")).toBe(
      `t.yaml:${L("vm_exit")}: primitives.vm_exit.tag: a tag qualifies a source; this figure has none`,
    );
    expect(prim("vm_exit", "{ cycles: 1, source: s1, tag: guessed }")).toBe(
      `t.yaml:${L("vm_exit")}: primitives.vm_exit.tag: must be one of measured, verified, recalled; got "guessed"`,
    );
  });

  it("value rules: exactly one of cycles or ns", () => {
    expect(prim("vm_exit", "{ source: s1 }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit: needs one of cycles, ns`);
    expect(prim("vm_exit", "{ cycles: 1, ns: 1, source: s1 }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit: has cycles and ns; give exactly one`);
  });

  it("na rules", () => {
    expect(prim("vm_exit", "{ na: true, cycles: 3, why: w }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.cycles: a primitive marked na: true has no figure`);
    expect(prim("vm_exit", "{ na: true, source: s1, why: w }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.source: a primitive marked na: true has no figure`);
    expect(prim("vm_exit", "{ na: true }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.why: na: true needs a why`);
    expect(prim("vm_exit", "{ na: false, cycles: 1, source: s1 }")).toBe(`t.yaml:${L("vm_exit")}: primitives.vm_exit.na: na is either true or left out`);
  });

  it("clock", () => {
    const l = baseLines();
    l.head[4] = "clock_ghz: { ghz: 0, source: s1 }";
    expect(errorOf(render(l))).toBe("t.yaml:5: clock_ghz.ghz: must be > 0, got 0");
    l.head[4] = "clock_ghz: { ghz: 2 }";
    expect(errorOf(render(l))).toBe("t.yaml:5: clock_ghz: missing source (give source: <key>, or estimate: true with why)");
    l.head.splice(4, 1);
    expect(errorOf(render(l))).toBe("t.yaml:1: clock_ghz: missing");
  });

  it("header fields", () => {
    const l = baseLines();
    l.head[0] = "vxsim_profile: 2";
    expect(errorOf(render(l))).toBe("t.yaml:1: vxsim_profile: must be 1, got 2");
    const m = baseLines();
    m.head[3] = "atomics: sparc";
    expect(errorOf(render(m))).toBe('t.yaml:4: atomics: must be one of x86, arm-llsc, arm-lse, riscv; got "sparc"');
    const n = baseLines();
    n.head[1] = 'name: ""';
    expect(errorOf(render(n))).toBe("t.yaml:2: name: must not be empty");
    const s = baseLines();
    s.head[6] = "  s1: { cite: A test source }";
    expect(errorOf(render(s))).toBe("t.yaml:7: sources.s1.where: missing");
  });

  it("copy points", () => {
    const pt = (a: string, b: string) => {
      const l = baseLines();
      l.copy[2] = `    - ${a}`;
      l.copy[3] = `    - ${b}`;
      return errorOf(render(l));
    };
    const p0 = COPY_LINE + 2;
    const p1 = COPY_LINE + 3;
    expect(pt("{ bytes: 64, ns: 10, source: s1 }", "{ bytes: 64, ns: 20, source: s1 }")).toBe(`t.yaml:${p1}: copy.points[1].bytes: must be larger than the previous point's 64`);
    expect(pt("{ bytes: 64, ns: 10, source: s1 }", "{ bytes: 128, ns: 5, source: s1 }")).toBe(`t.yaml:${p1}: copy.points[1]: a larger copy cannot take less time than a smaller one`);
    expect(pt("{ bytes: 0, ns: 10, source: s1 }", "{ bytes: 128, ns: 20, source: s1 }")).toBe(`t.yaml:${p0}: copy.points[0].bytes: must be >= 1, got 0`);
    expect(pt("{ bytes: 1.5, ns: 10, source: s1 }", "{ bytes: 128, ns: 20, source: s1 }")).toBe(`t.yaml:${p0}: copy.points[0].bytes: must be an integer, got 1.5`);
    expect(pt("{ bytes: 64, source: s1 }", "{ bytes: 128, ns: 20, source: s1 }")).toBe(`t.yaml:${p0}: copy.points[0]: needs one of cycles, ns, gb_per_s`);
    expect(pt("{ bytes: 64, ns: 0, source: s1 }", "{ bytes: 128, ns: 20, source: s1 }")).toBe(`t.yaml:${p0}: copy.points[0].ns: must be > 0, got 0`);
    expect(pt("{ bytes: 64, ns: 1 }", "{ bytes: 128, ns: 20, source: s1 }")).toBe(
      `t.yaml:${p0}: copy.points[0]: missing source (give source: <key>, or estimate: true with why)`,
    );
    const l = baseLines();
    l.copy = ["copy:", "  points: []"];
    expect(errorOf(render(l))).toBe(`t.yaml:${COPY_LINE + 1}: copy.points: needs at least 1 entry`);
  });

  it("YAML syntax and a document that is not a map", () => {
    const l = baseLines();
    l.primitives.set("vm_exit", "  vm_exit: { cycles: 1, source: s1 }\n  vm_exit: { cycles: 2, source: s1 }");
    expect(errorOf(render(l))).toBe(`t.yaml:${L("vm_exit") + 1}: (yaml): Map keys must be unique`);
    expect(errorOf("just a string\n")).toBe('t.yaml:1: (document): must be a map, got "just a string"');
  });

  it("reports every issue, sorted by line, with structured issues", () => {
    const l = baseLines();
    l.primitives.set("ipi", "  ipi: { cycles: 1 }");
    l.primitives.set("vm_exit", "  vm_exit: { cycles: 1, source: nope }");
    try {
      parseProfile(render(l), F);
      throw new Error("accepted");
    } catch (e) {
      const err = e as ProfileError;
      expect(err.issues.map((i) => [i.line, i.field])).toEqual([
        [L("vm_exit"), "primitives.vm_exit.source"],
        [L("ipi"), "primitives.ipi"],
      ]);
      expect(err.issues[0]).toEqual({ file: F, line: L("vm_exit"), field: "primitives.vm_exit.source", message: "unknown source 'nope' (known: s1)" });
      expect(err.message.split("\n")).toHaveLength(2);
    }
  });
});

describe("shipped profiles", () => {
  // The project's reference notes sit beside the repository (../shared) on the development
  // machines and in CI; a clone elsewhere checks everything but the cross-references.
  const refDir = new URL("../../shared/reference/", import.meta.url);
  const haveRefs = existsSync(new URL("cost-figures.md", refDir));
  const costFigures = haveRefs ? readFileSync(new URL("cost-figures.md", refDir), "utf8") : "";
  const xenInterfaces = haveRefs ? readFileSync(new URL("xen-interfaces.md", refDir), "utf8") : "";

  it.each(SHIPPED_PROFILES)("%s loads; every figure has a source with a tag, or is an estimate with a why", (name) => {
    const p = loadShippedProfile(name);
    expect(p.name).toBe(name);
    const figures = [
      ["clock_ghz", p.clock],
      ...PRIMITIVE_NAMES.map((k) => [k, p.primitives[k]] as const),
      ...p.copy.map((c, i) => [`copy.points[${i}]`, c] as const),
    ] as const;
    const used = new Set<string>();
    for (const [field, f] of figures) {
      const what = `${name} ${field}`;
      if ("cycles" in f && f.cycles === null) {
        expect(f.why, what).toBeTruthy();
        continue;
      }
      if (f.estimate) {
        expect(f.source, what).toBeUndefined();
        expect(f.why!.length, what).toBeGreaterThan(10);
        if (f.basedOn) used.add(f.basedOn);
      } else {
        expect(f.source, what).toBeDefined();
        expect(f.tag, what).toBeDefined();
        used.add(f.source!);
      }
    }
    // Every listed source is cited by a figure (source, based_on, or [key] in a note or why),
    // and points at a section of the reference that exists.
    const text = figures.map(([, f]) => `${f.note ?? ""} ${f.why ?? ""}`).join(" ");
    for (const key of Object.keys(p.sources)) {
      expect(used.has(key) || text.includes(`[${key}]`), `${name}: source ${key} is cited`).toBe(true);
    }
    for (const [key, s] of Object.entries(p.sources)) {
      const m = /^(cost-figures|xen-interfaces)\.md (.+)$/.exec(s.where);
      expect(m, `${name} source ${key}: where`).not.toBeNull();
      if (!haveRefs) continue;
      const doc = m![1] === "cost-figures" ? costFigures : xenInterfaces;
      for (const sec of m![2]!.replace(/\(.*\)/, "").split(/,\s*/)) {
        const label = sec.trim().replace(/^Part /, "");
        const heading = new RegExp(`^#{2,3} (Part )?${label.replace(".", "\\.")}[ .:]`, "m");
        expect(heading.test(doc), `${name} source ${key}: section '${label}' in ${m![1]}.md`).toBe(true);
      }
    }
  });

  (haveRefs ? it : it.skip).each(SHIPPED_PROFILES)("%s: a sourced figure's number appears in the cited reference", (name) => {
    const raw = parse(readFileSync(shippedProfilePath(name), "utf8")) as Record<string, any>;
    // Figures derived by arithmetic from a cited number (the note gives the arithmetic).
    const derived = new Set(["tlb_flush_remote", "vq_chain_pop", "vq_indirect"]);
    const check = (field: string, f: Record<string, any>) => {
      if (f.source === undefined || derived.has(field)) return;
      const v = f.cycles ?? f.ns ?? f.gb_per_s ?? f.ghz;
      const forms = [String(v), v.toLocaleString("en-US"), Number(v).toFixed(1)];
      expect(forms.some((s) => costFigures.includes(s)), `${name} ${field} = ${v}`).toBe(true);
    };
    check("clock_ghz", raw.clock_ghz);
    for (const [k, f] of Object.entries(raw.primitives)) check(k, f as Record<string, any>);
    for (const f of raw.copy.points) check("copy", f);
  });

  it("the architectures differ where the sources say they do", () => {
    const x86 = loadShippedProfile("x86-64");
    const arm = loadShippedProfile("arm64-v8.0");
    const lse = loadShippedProfile("arm64-v8.1-lse");
    const rv = loadShippedProfile("riscv64");
    expect(arm.primitives.hypercall.cycles! * 3).toBeLessThan(x86.primitives.hypercall.cycles!); // "more than 3x"
    expect(x86.primitives.llsc_iteration.cycles).toBeNull();
    expect(arm.primitives.lse_op.cycles).toBeNull();
    expect(lse.primitives.lse_op_contended.cycles!).toBeLessThan(lse.primitives.llsc_iteration_contended.cycles!);
    expect(rv.primitives.masked_llsc_subword.cycles).not.toBeNull();
    expect(arm.primitives.masked_llsc_subword.cycles).toBeNull();
    expect([x86.atomics, arm.atomics, lse.atomics, rv.atomics]).toEqual(["x86", "arm-llsc", "arm-lse", "riscv"]);
  });
});
