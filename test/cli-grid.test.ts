import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/scenario/config-error.ts";
import { TRANSPORT_SPELLINGS } from "../src/scenario/vocabulary.ts";
import { loadGrid, parseGrid, MAX_POINTS } from "../src/cli/grid.ts";
import { parseShard, shardPoints } from "../src/cli/sweep.ts";
import { parseJobRef } from "../src/cli/job-ref.ts";
import { UserError } from "../src/cli/user-error.ts";
import gridSchema from "../src/cli/grid.schema.json" with { type: "json" };
import scenarioSchema from "../src/scenario/scenario.schema.json" with { type: "json" };

const lines = (...l: string[]) => l.join("\n") + "\n";
const BASE = lines(
  "base:",
  "  profile: x86-64",
  "  device: blk",
  "  workload: { kind: fio, rw: randread, bs: 4096, iodepth: 16 }",
  "  ios: 100",
  "  seed: 1",
);

function gridError(text: string): string {
  try {
    parseGrid(text, "g.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error("expected a ConfigError");
}

describe("sweep grid", () => {
  it("is the cartesian product of the axes in file order, first axis slowest", () => {
    const g = parseGrid(BASE + lines("axes:", "  transport: [grant-map, argo:sg, kvm-ioeventfd]", "  workload.bs: [512, 4096]"), "dir/blk.yaml");
    expect(g.name).toBe("blk");
    expect(g.axes).toEqual([{ path: "transport", values: ["grant-map", "argo:sg", "kvm-ioeventfd"] }, { path: "workload.bs", values: [512, 4096] }]);
    expect(g.points.map((p) => [p.index, p.values.transport, p.values["workload.bs"]])).toEqual([
      [0, "grant-map", 512], [1, "grant-map", 4096], [2, "argo:sg", 512], [3, "argo:sg", 4096], [4, "kvm-ioeventfd", 512], [5, "kvm-ioeventfd", 4096],
    ]);
    expect(g.points[3]!.spec).toEqual({
      profile: "x86-64", device: "blk", workload: { kind: "fio", rw: "randread", iodepth: 16, bs: 4096 }, ios: 100, seed: 1, transport: "argo:sg",
    });
  });

  it("an axis may replace a whole object, and a JSON file is a grid too", () => {
    const g = parseGrid(JSON.stringify({
      name: "mixed",
      base: { transport: "grant-copy", profile: "riscv64", device: "net", ios: 10, seed: 3 },
      axes: { workload: [{ kind: "netperf", test: "stream", messageSize: 1500 }, { kind: "netperf", test: "rr", messageSize: 64, responseSize: 1024 }], "options.tlbFlushElision": [false, true] },
    }), "g.json");
    expect(g.name).toBe("mixed");
    expect(g.points).toHaveLength(4);
    expect(g.points[3]!.spec.workload).toEqual({ kind: "netperf", test: "rr", messageSize: 64, responseSize: 1024 });
    expect(g.points[3]!.spec.options).toEqual({ tlbFlushElision: true });
  });

  it("hashes the base and axes: key order does not matter, axis order and values do", () => {
    const h = (t: string) => parseGrid(t, "x.yaml").hash;
    const a = h(BASE + lines("axes:", "  transport: [grant-map, grant-copy]", "  seed: [1, 2]"));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    const reordered = lines("axes:", "  transport: [grant-map, grant-copy]", "  seed: [1, 2]", "base:", "  seed: 1", "  ios: 100",
      "  workload: { iodepth: 16, bs: 4096, rw: randread, kind: fio }", "  device: blk", "  profile: x86-64", "name: other");
    expect(h(reordered)).toBe(a);
    expect(h(BASE + lines("axes:", "  seed: [1, 2]", "  transport: [grant-map, grant-copy]"))).not.toBe(a);
    expect(h(BASE + lines("axes:", "  transport: [grant-map, grant-copy]", "  seed: [1, 3]"))).not.toBe(a);
  });

  it("--seed sets every point's seed and the hash; a seed axis refuses it at its line", () => {
    const text = BASE + lines("axes:", "  transport: [grant-map, argo:sg]");
    const g = parseGrid(text, "g.yaml", { seed: 9 });
    expect(g.points.map((p) => p.spec.seed)).toEqual([9, 9]);
    expect(g.hash).not.toBe(parseGrid(text, "g.yaml").hash);
    expect(g.hash).toBe(parseGrid(text.replace("seed: 1", "seed: 9"), "g.yaml").hash);
    expect(parseGrid(text.replace("  seed: 1\n", ""), "g.yaml", { seed: 3 }).points[0]!.spec.seed).toBe(3);
    expect(() => parseGrid(text + "  seed: [1, 2]\n", "g.yaml", { seed: 9 })).toThrow(new ConfigError("g.yaml", 9, "axes.seed", "is an axis, so --seed 9 cannot set every point's seed"));
  });

  it("reads its transports from the scenario schema's list", () => {
    expect([...scenarioSchema.definitions.transport.enum].sort()).toEqual([...TRANSPORT_SPELLINGS]);
    expect(gridSchema.definitions.job.properties.transport.$ref).toBe("urn:vxsim:scenario#/definitions/transport");
  });

  it.each([
    ["an unknown transport value, at the axis value", BASE + lines("axes:", "  transport: [grant-map, grant-mop]"),
      "g.yaml:8: axes.transport[1]: unknown value 'grant-mop' (expected one of: argo, argo:buffered, argo:sg, fat-virtqueue, grant-copy, grant-map, grant-persistent, kvm-ioeventfd, mmio-foreign, preshared-bounce, pv-p2m)"],
    ["an unknown axis path, with a guess", BASE + lines("axes:", "  transport: [grant-map]", "  workload.bsz: [512]"),
      "g.yaml:9: axes.workload.bsz: unknown job path 'workload.bsz' (did you mean 'workload.bs'? expected one of: workload.kind, workload.rw, workload.bs, workload.iodepth, workload.rwmixread, workload.test, workload.messageSize, workload.responseSize, workload.readSize)"],
    ["an unknown top-level axis", BASE + lines("axes:", "  transprot: [grant-map]"),
      "g.yaml:8: axes.transprot: unknown job path 'transprot' (did you mean 'transport'? expected one of: transport, profile, device, workload, ios, seed, options, blk)"],
    ["a path below a value", BASE + lines("axes:", "  workload.bs.x: [1]"),
      "g.yaml:8: axes.workload.bs.x: unknown job path 'workload.bs.x' ('workload.bs' has no keys)"],
    ["a value of the wrong type", BASE + lines("axes:", "  transport: [grant-map]", "  workload.bs: [512, '4k']"),
      "g.yaml:9: axes.workload.bs[1]: expected an integer, got '4k'"],
    ["a value out of range", BASE + lines("axes:", "  transport: [grant-map]", "  workload.bs: [5]"),
      "g.yaml:9: axes.workload.bs[0]: must be at least 512, got 5"],
    ["a key the base's workload kind does not have", BASE + lines("axes:", "  transport: [grant-map]", "  workload.bs: [512]", "  workload.readSize: [64]"),
      "g.yaml:10: axes.workload.readSize: a fio workload has no 'readSize' (expected one of: kind, rw, bs, iodepth, rwmixread)"],
    ["a device that does not fit the workload, at the axis value", BASE + lines("axes:", "  transport: [grant-map]", "  workload.bs: [512]", "  device: [blk, net]"),
      "g.yaml:10: axes.device[1]: a fio workload needs device blk, got 'net'"],
    ["an unknown profile, at the base key", BASE.replace("x86-64", "x86") + lines("axes:", "  transport: [grant-map]", "  workload.bs: [512]"),
      "g.yaml:2: base.profile: unknown profile 'x86' (expected one of: x86-64, arm64-v8.0, arm64-v8.1-lse, riscv64, or the path of a profile file)"],
    ["an empty axis", BASE + lines("axes:", "  transport: []"), "g.yaml:8: axes.transport: needs at least 1 entry"],
    ["a disk image that does not exist, at its line", BASE + lines("  blk: { image: no/such/disk.img }", "axes:", "  transport: [grant-map]"),
      "g.yaml:7: base.blk.image: no raw image file 'no/such/disk.img' (the path is taken from where vxsim runs)"],
    ["a Flask policy that does not parse, at its line", BASE + lines("  options: { xsm: { module: flask, file: p.xsm, policy: 'allow a_t b_t frobnicate' } }", "axes:", "  transport: [grant-map]"),
      "g.yaml:7: base.options.xsm.policy: the Flask policy (from p.xsm) does not parse: p.xsm:1: unknown operation 'frobnicate'"],
    ["an unknown foreign-map mode", BASE + lines("axes:", "  transport: [mmio-foreign]", "  options.foreignMap: [all-ram, some-ram]"),
      "g.yaml:9: axes.options.foreignMap[1]: unknown value 'some-ram' (expected one of: per-request, cache, all-ram)"],
    ["no axes", BASE + lines("axes: {}"), "g.yaml:7: axes: needs at least one axis (a job path and its values, e.g. transport: [grant-map, grant-copy])"],
    ["an axis that is not a list", BASE + lines("axes:", "  transport: grant-map"), "g.yaml:8: axes.transport: expected a list, got 'grant-map'"],
    ["an unknown top-level key", BASE + lines("axes: { transport: [grant-map] }", "axis: {}"),
      "g.yaml:8: axis: unknown key 'axis' (did you mean 'axes'? expected one of: name, description, base, axes)"],
    ["a YAML syntax error", "base: [\n", "g.yaml:2: YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]"],
  ])("refuses %s", (_what, text, message) => {
    expect(gridError(text)).toBe(message);
  });

  it("sweeps the mapping mode, the data path and a read-only memory disk", () => {
    const g = parseGrid(BASE + lines("  blk: { sizeBytes: 2097152, readOnly: false }", "axes:", "  transport: [mmio-foreign]", "  options.foreignMap: [per-request, all-ram]", "  options.backendDataPath: [cpu, dma]"), "g.yaml");
    expect(g.points.map((p) => [p.spec.options, p.spec.blk])).toEqual([
      [{ foreignMap: "per-request", backendDataPath: "cpu" }, { sizeBytes: 2097152, readOnly: false }],
      [{ foreignMap: "per-request", backendDataPath: "dma" }, { sizeBytes: 2097152, readOnly: false }],
      [{ foreignMap: "all-ram", backendDataPath: "cpu" }, { sizeBytes: 2097152, readOnly: false }],
      [{ foreignMap: "all-ram", backendDataPath: "dma" }, { sizeBytes: 2097152, readOnly: false }],
    ]);
  });

  it("reports every missing base key once, not once per point", () => {
    expect(gridError(lines("base: { device: rng }", "axes:", "  transport: [grant-map, grant-copy]", "  seed: [1, 2, 3]"))).toBe([
      "g.yaml:1: base.profile: missing (a required key)",
      "g.yaml:1: base.workload: missing (a required key)",
      "g.yaml:1: base.ios: missing (a required key)",
    ].join("\n"));
  });

  it("refuses more than MAX_POINTS points before building them", () => {
    const axis = `[${Array.from({ length: 400 }, (_, i) => i + 1).join(", ")}]`;
    expect(gridError(BASE + lines("axes:", `  seed: ${axis}`, `  ios: ${axis}`))).toBe(`g.yaml:7: axes: the grid has 160000 points (at most ${MAX_POINTS})`);
  });

  it("names an unreadable file", () => {
    expect(() => loadGrid("no/such/grid.yaml")).toThrow("no/such/grid.yaml: cannot read the grid file (ENOENT)");
    expect(loadGrid("test/fixtures/ring-grid.yaml").points).toHaveLength(8);
  });
});

describe("--shard i/n", () => {
  const grid = loadGrid("test/fixtures/ring-grid.yaml");

  it("partitions the points: disjoint shards whose union is every point", () => {
    for (const n of [1, 2, 3, 5, 8, 11]) {
      const shards = Array.from({ length: n }, (_, i) => shardPoints(grid.points, { index: i, count: n }).map((p) => p.index));
      shards.forEach((s, i) => expect(s.every((x) => x % n === i)).toBe(true));
      const all = shards.flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    }
    expect(shardPoints(grid.points, { index: 1, count: 3 }).map((p) => p.index)).toEqual([1, 4, 7]);
  });

  it("parses i/n and refuses anything else", () => {
    expect(parseShard("2/5")).toEqual({ index: 2, count: 5 });
    expect(parseShard("0/1")).toEqual({ index: 0, count: 1 });
    for (const bad of ["5/5", "1/0", "0/0", "-1/2", "1", "a/b", "1/2/3", ""]) {
      expect(() => parseShard(bad)).toThrow(new UserError(`--shard must be i/n with n >= 1 and 0 <= i < n, got '${bad}'`));
    }
  });

  it("--job is a module and an export", () => {
    expect(parseJobRef("x/job.ts#runIt")).toMatchObject({ exportName: "runIt", label: "x/job.ts#runIt" });
    expect(parseJobRef("x/job.ts").exportName).toBe("job");
    expect(parseJobRef("x/job.ts").module).toMatch(/^file:\/\/.*\/x\/job\.ts$/);
    expect(() => parseJobRef("x.ts#1bad")).toThrow("--job must be <module file>[#<export name>], got 'x.ts#1bad'");
    expect(() => parseJobRef("#job")).toThrow("--job must be <module file>[#<export name>], got '#job'");
  });
});

describe("scenarios/sweep-blk.yaml (the README's grid)", () => {
  it("is every architecture x eight Xen transports x two queue depths", () => {
    const g = loadGrid("scenarios/sweep-blk.yaml");
    expect(g.points).toHaveLength(4 * 8 * 2);
    expect(g.points[0]!.spec).toEqual({
      device: "blk", workload: { kind: "fio", rw: "randread", bs: 4096, iodepth: 1 }, ios: 2000, seed: 1, profile: "x86-64", transport: "mmio-foreign",
    });
    expect(new Set(g.points.map((p) => `${p.spec.profile} ${p.spec.transport} ${p.spec.workload.kind === "fio" && p.spec.workload.iodepth}`)).size).toBe(64);
  });
});
