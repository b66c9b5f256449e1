import { describe, expect, it } from "vitest";
import { Ajv } from "ajv";
import { SPEEDSCOPE_FILE_SCHEMA as SCHEMA } from "./helpers/speedscope-schema.ts";
import { buildProfile, profileToJson, SPEEDSCOPE_SCHEMA, type SpeedscopeFile } from "../src/report/profile.ts";
import { fixtureResults } from "./helpers/report-fixtures.ts";

const validate = new Ajv({ allErrors: true, strict: true }).compile(SCHEMA);

const weight = (p: SpeedscopeFile["profiles"][number]) => p.weights.reduce((s, w) => s + w, 0);

describe("speedscope profile export", () => {
  const results = fixtureResults();

  it.each(results.map((r) => [`${r.spec.transport} ${r.profile}`, r] as const))("%s: valid, and weighs the priced cycles and busy time exactly", (_, r) => {
    const file = JSON.parse(profileToJson(buildProfile(r))) as SpeedscopeFile;
    expect(validate(file), JSON.stringify(validate.errors)).toBe(true);
    const { frames } = file.shared;
    expect(file.profiles.map((p) => [p.unit, p.samples.length === p.weights.length])).toEqual([["none", true], ["none", true], ["nanoseconds", true]]);
    for (const p of file.profiles) {
      for (const s of p.samples) for (const i of s) expect(i).toBeLessThan(frames.length);
      expect(p.endValue - p.startValue).toBeCloseTo(weight(p), 6);
    }
    const [prim, counter, time] = file.profiles;
    expect(weight(prim!) / r.price.cycles).toBeCloseTo(1, 12);
    expect(weight(counter!) / r.price.cycles).toBeCloseTo(1, 12);
    expect(weight(time!)).toBeCloseTo(r.cpu.reduce((s, c) => s + c.busyNs, 0), 3);

    // Stacks are domain -> component -> primitive; each component's cycles stay with it.
    for (const c of ["guest", "hypervisor", "backend"] as const) {
      let cyc = 0;
      prim!.samples.forEach((s, i) => {
        if (frames[s[1]!]!.name === c) cyc += prim!.weights[i]!;
      });
      expect(cyc).toBeCloseTo(r.price.byComponent[c], 3);
    }
    const stackNames = prim!.samples.map((s) => s.map((i) => `${frames[i]!.file}:${frames[i]!.name}`));
    expect(stackNames).toContainEqual(["domain:guest", "component:guest", "primitive:vq_desc_add"]);
    expect(stackNames.every((s) => s.length === 3 && s[0]!.startsWith("domain:") && s[2]!.startsWith("primitive:"))).toBe(true);
  });

  it("places Xen's cycles in Xen and the backend's in the backend domain", () => {
    const r = results.find((x) => x.spec.transport === "grant-map" && x.profile === "x86-64")!;
    const file = buildProfile(r);
    const [prim, counter] = file.profiles;
    const names = (s: number[]) => s.map((i) => file.shared.frames[i]!.name);
    const domainOf = new Map(prim!.samples.map((s) => [names(s)[1], names(s)[0]]));
    expect(Object.fromEntries(domainOf)).toEqual({ guest: "guest", hypervisor: "Xen", backend: "Domain-0" });
    // Counter view: a grant map is the hypervisor's; an upcall is charged to guest and Xen.
    const counters = Object.fromEntries(counter!.samples.map((s) => [names(s)[1], names(s)[0]]));
    expect(counters.CNT_GNT_MAPS).toBe("hypervisor");
    expect(counters.CNT_EVTCHN_UPCALLS).toBe("guest+hypervisor");
  });

  it("a job traced without a timeline gets the two cycle views only; no CPU data puts a component in its usual domain", () => {
    const r = results[0]!;
    const file = buildProfile({ ...r, timeline: undefined, cpuByDomain: {} });
    expect(file.profiles).toHaveLength(2);
    const prim = file.profiles[0]!;
    const top = new Set(prim.samples.map((s) => file.shared.frames[s[0]!]!.name));
    expect([...top].sort()).toEqual(["Xen", "backend", "guest"]);
    expect(weight(prim) / r.price.cycles).toBeCloseTo(1, 12);
  });

  it("the schema check rejects what speedscope would not load", () => {
    const good = buildProfile(results[0]!);
    expect(validate({ ...good, $schema: "x" })).toBe(false);
    expect(validate({ ...good, profiles: [{ ...good.profiles[0]!, weights: undefined }] })).toBe(false);
    expect(validate({ ...good, shared: { frames: [{ file: "a" }] } })).toBe(false);
  });
});
