// LOGIC TESTS for C1..C4. The real job runner is not wired yet, so nothing here simulates a
// transport: the rows and JobResults below are HAND-MADE numbers that exercise the verdict,
// crossover and plumbing code only. They say nothing about any transport's real cost.
import { describe, expect, it } from "vitest";
import { C1, c1Rows, c1Verdict, type C1Row } from "../src/experiments/c1-arm-grants.ts";
import { C2, C2_PAIRS, c2Verdict, findCrossover, type C2Row } from "../src/experiments/c2-x86-crossover.ts";
import { C3, C3_LARGE_WIN, c3Verdict, type C3Row } from "../src/experiments/c3-flush-elision.ts";
import { C4, c4Verdict, type C4Row } from "../src/experiments/c4-argo-copies.ts";
import { EXPERIMENTS, experimentByName } from "../src/experiments/index.ts";
import { ExperimentError } from "../src/experiments/types.ts";
import { COUNTER_SLOTS } from "../src/cost/counter-names.ts";
import { RESULT_FORMAT, type JobResult, type JobSpec, type PerIo } from "../src/run/result.ts";
import * as L from "../src/wasm/layout.ts";

const PER_IO_ZERO: PerIo = {
  copies: 0, copiesGuest: 0, copiesHv: 0, copiesBackend: 0, copyBytes: 0, grantOps: 0, maps: 0, unmaps: 0, tlbFlushes: 0, tlbFlushesElided: 0,
  traps: 0, ioreqs: 0, hypercalls: 0, notifications: 0, notificationsSuppressed: 0, interrupts: 0, evtchnSends: 0, atomics: 0,
};

/** A hand-made JobResult (logic tests only): the fields the experiments read, the rest zero. */
function fakeResult(spec: JobSpec, cyclesPerIo: number, perIo: Partial<PerIo> = {}, counters: Record<number, number> = {}): JobResult {
  const c = new Array<number>(COUNTER_SLOTS).fill(0);
  for (const [id, v] of Object.entries(counters)) c[Number(id)] = v;
  const zeroComp = { guest: 0, hypervisor: 0, backend: 0 };
  return {
    format: RESULT_FORMAT, spec, profile: spec.profile, arch: spec.profile, ios: spec.ios, bytes: 0, bytesVerified: 0,
    elapsedNs: 0, iops: 0, throughputMBps: 0, latency: { count: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, max: 0 },
    perIo: { ...PER_IO_ZERO, ...perIo },
    price: { profile: spec.profile, clockGHz: 2, cycles: cyclesPerIo * spec.ios, ns: (cyclesPerIo * spec.ios) / 2, byComponent: zeroComp,
      byPrimitive: {}, byComponentPrimitive: { guest: {}, hypervisor: {}, backend: {} }, byCounter: {}, unpriced: [] },
    cyclesPerIo, cpu: [], cpuByDomain: {}, exposure: { reachable: 0, mapped: 0, mappedPeak: 0 }, counters: c,
  };
}

describe("registry", () => {
  it("finds experiments by name or slug, case-insensitively, and lists the valid ones otherwise", () => {
    expect(EXPERIMENTS.map((e) => e.name)).toEqual(["c1", "c2", "c3", "c4", "c5", "c6", "c7"]);
    expect(experimentByName("C5").slug).toBe("llsc-starvation");
    expect(experimentByName("riscv-subword").name).toBe("c6");
    expect(() => experimentByName("c9")).toThrow(/unknown experiment 'c9'; valid: c1 \(arm-grants-vs-memcpy\), c2 \(x86-shared-crossover\), .*c6 \(riscv-subword\)/);
  });

  it.each([C1, C2, C3, C4])("$name refuses to run without a job runner", (e) => {
    expect(() => e.run({ seed: 1 })).toThrow(ExperimentError);
    expect(() => e.run({ seed: 1, quick: true })).toThrow(new RegExp(`^${e.name} simulates transports and needs a job runner`));
  });
});

describe("C2 crossover logic (hand-made points)", () => {
  const pts = (xs: [number, number, number][]) => xs.map(([bs, shared, copy]) => ({ bs, shared, copy }));

  it("interpolates in log2(size) between the last losing and the first winning size", () => {
    // d = +100 at 2048, -100 at 8192: the zero is half way in log2, at 4096.
    expect(findCrossover(pts([[512, 900, 500], [2048, 1100, 1000], [8192, 1900, 2000], [65536, 3000, 9000]])))
      .toEqual({ kind: "at", firstWin: 8192, interpolated: 4096, earlierWins: [] });
    // d = +300 at 1024, -100 at 2048: three quarters of the way.
    const x = findCrossover(pts([[2048, 900, 1000], [1024, 1300, 1000]]));
    expect(x.kind === "at" && x.interpolated).toBeCloseTo(2 ** 10.75, 9);
  });

  it("always, none, ties and a win that does not last", () => {
    expect(findCrossover(pts([[512, 1, 2], [4096, 1, 2]]))).toEqual({ kind: "always" });
    expect(findCrossover(pts([[512, 3, 2], [4096, 3, 2]]))).toEqual({ kind: "none", earlierWins: [] });
    expect(findCrossover(pts([[512, 2, 2], [4096, 1, 2]]))).toMatchObject({ kind: "at", firstWin: 4096, interpolated: 512 });
    expect(findCrossover(pts([[512, 1, 2], [4096, 3, 2], [65536, 1, 2]]))).toMatchObject({ kind: "at", firstWin: 65536, earlierWins: [512] });
    expect(findCrossover(pts([[512, 1, 2], [4096, 3, 2]]))).toEqual({ kind: "none", earlierWins: [512] });
    expect(findCrossover([])).toEqual({ kind: "none", earlierWins: [] });
  });

  const split = (cycles: number) => ({ copy: 0, map: 0, flush: 0, device: 0, control: cycles, total: cycles });
  const side = (cycles: number | null) => (cycles === null ? null : { cycles, split: split(cycles) });
  const c2row = (pair: string, rw: "randread" | "randwrite", bs: number, shared: number | null, copy: number | null): C2Row => ({
    pair, rw, bs, sharing: side(shared), copying: side(copy),
  });
  const [MAP, PERSISTENT, PV] = C2_PAIRS.map((p) => p.name) as [string, string, string];

  it("the verdict reports the crossover per pair and workload; it holds iff each workload has a pair where sharing wins for good", () => {
    // d = +400 at 512, -7000 at 65536: zero at 2^(9 + 7 * 400 / 7400), about 666 B.
    const rows = [
      c2row(MAP, "randread", 512, 900, 500), c2row(MAP, "randread", 65536, 2000, 9000),
      c2row(PV, "randread", 512, 900, 500), c2row(PV, "randread", 65536, 9000, 2000),
      c2row(MAP, "randwrite", 512, 100, 500), c2row(MAP, "randwrite", 65536, 200, 9000),
    ];
    expect(c2Verdict(rows)).toEqual({
      holds: true,
      text: `randread ${MAP} (virtio-mmio/IOREQ): sharing wins from 65536 B on (crossover about 666 B); randread ${PV} (event channels): no crossover up to 65536 B: copying is still cheaper there; randread: sharing wins for good in ${MAP}; ` +
        `randwrite ${MAP} (virtio-mmio/IOREQ): sharing is cheaper at every size measured; randwrite: sharing wins for good in ${MAP}`,
    });
    const never = [c2row(MAP, "randread", 512, 900, 500), c2row(MAP, "randread", 65536, 9000, 2000)];
    expect(c2Verdict(never)).toEqual({ holds: false, text: `randread ${MAP} (virtio-mmio/IOREQ): no crossover up to 65536 B: copying is still cheaper there; randread: sharing wins for good in no pair` });
    // a failed side: that size is left out of the pair's comparison, and said so
    const gap = [c2row(PERSISTENT, "randread", 512, 100, 500), c2row(PERSISTENT, "randread", 65536, null, 9000)];
    expect(c2Verdict(gap)).toEqual({ holds: true, text: `randread ${PERSISTENT} (virtio-mmio/IOREQ): sharing is cheaper at every size measured; not compared at 65536 B (a job failed); randread: sharing wins for good in ${PERSISTENT}` });
    expect(c2Verdict([c2row(MAP, "randread", 512, null, 5)])).toMatchObject({ holds: false, text: `randread ${MAP}: cannot compare (every size had a failed job); randread: sharing wins for good in no pair` });
    expect(c2Verdict([])).toMatchObject({ holds: false });
  });
});

describe("C1 verdict logic (hand-made rows)", () => {
  const r = (bs: number, grant: number[], memcpy: (number | null)[]): C1Row => ({
    arch: "arm64-v8.0", rw: "randread", bs,
    cycles: { "grant-map": grant[0]!, "grant-copy": grant[1]!, "grant-persistent": grant[2]!, "fat-virtqueue": memcpy[0]!, "preshared-bounce": memcpy[1]!, "argo:buffered": memcpy[2]! },
  });

  it("holds only when the cheapest grant transport costs more than the dearest memcpy one", () => {
    expect(c1Verdict([r(512, [300, 400, 250], [100, 200, 125]), r(4096, [900, 800, 700], [600, 650, 500])]))
      .toEqual({ holds: true, text: "in all 2 cases the cheapest grant transport costs more per I/O than the dearest memcpy one (at least x1.08)" });
    expect(c1Verdict([r(512, [300, 400, 250], [100, 260, 125])]))
      .toEqual({ holds: false, text: "a grant transport is not slower in 1/1 cases: arm64-v8.0 randread 512 B: grant-persistent 250 <= preshared-bounce 260 cycles/IO" });
    expect(c1Verdict([r(65536, [300, 400, 250], [null, 100, 125])]))
      .toEqual({ holds: false, text: "cannot compare (a job failed) at arm64-v8.0 randread 65536 B" });
  });

  it("runs the sweep through the injected runner (hand-made results) and records a refused job", () => {
    const asked: JobSpec[] = [];
    const table = C1.run({
      seed: 4, quick: true,
      runJob: (spec) => {
        asked.push(spec);
        const w = spec.workload;
        if (w.kind !== "fio") throw new Error("not fio");
        if (spec.transport === "fat-virtqueue" && w.bs === 65536) throw new Error("request larger than a ring slot");
        return fakeResult(spec, (spec.transport.startsWith("grant") ? 2000 : 1000) + w.bs / 100);
      },
    });
    expect(asked).toHaveLength(2 * 2 * 3 * 6);
    expect(new Set(asked.map((s) => s.profile))).toEqual(new Set(["arm64-v8.0", "arm64-v8.1-lse"]));
    expect(new Set(asked.map((s) => s.seed)).size).toBe(1);
    expect(asked[0]).toMatchObject({ transport: "grant-map", device: "blk", workload: { kind: "fio", rw: "randread", bs: 512, iodepth: 1 }, ios: 32 });
    expect(table.rows).toHaveLength(12);
    expect(table.verdict.holds).toBe(false);
    expect(table.verdict.text).toMatch(/^cannot compare \(a job failed\) at arm64-v8.0 randread 65536 B/);
    expect(table.notes).toContain("failed: fat-virtqueue on arm64-v8.0, randread bs=65536: request larger than a ring slot");
    expect(table.rows[2]).toEqual(["arm64-v8.0", "randread", 65536, 2655, 2655, 2655, "failed", 1655, 1655, "n/a"]);
    expect(c1Rows([])).toEqual([]);
  });

  it("a runner that returns no I/Os stops the sweep", () => {
    expect(() => C1.run({ seed: 1, quick: true, runJob: (spec) => ({ ...fakeResult(spec, 1), ios: 0 }) }))
      .toThrow(/the job runner returned no completed I\/Os for grant-map on arm64-v8.0, randread bs=512/);
  });
});

describe("C2 plumbing (hand-made results)", () => {
  it("asks for each pair's variants on x86-64 (grant-map with the elision AND the dma data path) and finds the crossover per pair", () => {
    const asked: JobSpec[] = [];
    const table = C2.run({
      seed: 1, quick: true,
      runJob: (spec) => {
        asked.push(spec);
        const bs = spec.workload.kind === "fio" ? spec.workload.bs : 0;
        const shared = ["grant-persistent", "grant-map", "pv-p2m"].includes(spec.transport);
        return fakeResult(spec, shared ? 3000 + bs * 0.05 : 1000 + bs * 0.5); // crosses at 4444 B
      },
    });
    const maps = asked.filter((s) => s.transport === "grant-map");
    expect(maps.length).toBeGreaterThan(0);
    expect(maps.every((s) => s.options?.tlbFlushElision === true && s.options?.backendDataPath === "dma")).toBe(true);
    expect(asked.every((s) => s.profile === "x86-64")).toBe(true);
    expect(new Set(asked.map((s) => s.workload.kind === "fio" ? s.workload.bs : 0))).toEqual(new Set([4096, 65536, 1 << 20]));
    // grant-copy serves two pairs but runs once per size and workload
    expect(asked.filter((s) => s.transport === "grant-copy")).toHaveLength(2 * 3);
    expect(table.rows).toHaveLength(C2_PAIRS.length * 2 * 3);
    expect(table.verdict.holds).toBe(true);
    expect(table.verdict.text).toMatch(/^randread map\+elision\/grant-copy \(virtio-mmio\/IOREQ\): sharing wins from 65536 B on \(crossover about \d+ B\)/);
    expect(table.rows.at(-1)!.at(-1)).toBe("sharing");
  });
});

describe("C3 verdict logic (hand-made rows)", () => {
  const r = (arch: string, plain: [number, number], elision: [number, number, number]): C3Row => ({
    arch, path: "dma", rw: "randread", bs: 4096,
    plain: { flushes: plain[0], elided: 0, cycles: plain[1], dataPath: plain[1] / 2 },
    elision: { flushes: elision[0], elided: elision[1], cycles: elision[2], dataPath: 0 },
  });

  it("holds when every architecture skips flushes and saves at least the stated share", () => {
    expect(C3_LARGE_WIN).toBe(0.1);
    expect(c3Verdict([r("x86-64", [2, 10000], [0, 2, 6000]), r("riscv64", [2, 10000], [0, 2, 9000])]))
      .toEqual({ holds: true, text: "in all 2 dma-path cases the elision skips flushes and saves 10% to 40% of grant-map's cycles per I/O (20% to 80% of its data path's)" });
    // the rule is the share of all cycles per I/O; the data-path share is reported beside it
    expect(c3Verdict([r("riscv64", [2, 10000], [0, 2, 9500])]))
      .toEqual({ holds: false, text: "1/1 cases miss (measured: 5% of cycles per I/O, 10% of the data path's): riscv64 dma randread 4096 B: saves 500 cycles/IO, 5% of cycles per I/O (10% of the data path's), below 10% of cycles per I/O" });
    expect(c3Verdict([r("x86-64", [2, 10000], [2, 0, 10000])]).text).toMatch(/no flush skipped \(2 -> 2 per I\/O, 0 elided\): the backend touched the mappings/);
    expect(c3Verdict([{ arch: "x86-64", path: "dma", rw: "randwrite", bs: 4096, plain: null, elision: null }]).text).toBe("1/1 cases miss: x86-64 dma randwrite 4096 B: a job failed");
    // cpu-path rows are not judged: with none on the dma path there is nothing to decide.
    expect(c3Verdict([{ ...r("x86-64", [2, 10000], [0, 2, 6000]), path: "cpu" }]).holds).toBe(false);
  });

  it("pairs the jobs with and without the option", () => {
    const table = C3.run({
      seed: 1, quick: true,
      runJob: (spec) => spec.options?.tlbFlushElision
        ? fakeResult(spec, 5000, { tlbFlushes: 0, tlbFlushesElided: 2 })
        : fakeResult(spec, 8000, { tlbFlushes: 2 }),
    });
    expect(table.rows).toHaveLength(4 * 2 * 2);
    expect(table.rows[0]).toEqual(["x86-64", "cpu", "randread", 4096, 2, 0, 2, 8000, 5000, 0, 3000, 37.5, 0]);
    expect(table.verdict.holds).toBe(true);
  });
});

describe("C4 verdict logic (hand-made rows)", () => {
  const r = (rw: "randread" | "randwrite", variant: "buffered" | "sg", guest: number, xen: number, backend: number, cycles: number): C4Row => ({
    arch: "arm64-v8.0", rw, bs: 4096, variant, copies: 0, data: { guest, xen, backend }, cycles, ns: cycles / 2,
  });

  it("buffered must copy 3 times, sg once on the sending side", () => {
    const good = [r("randwrite", "buffered", 1.004, 1.004, 1.004, 9000), r("randwrite", "sg", 0, 1.004, 0, 6000),
      r("randread", "buffered", 1, 1, 1, 9000), r("randread", "sg", 1, 1, 0, 7000)];
    expect(c4Verdict(good)).toEqual({ holds: true, text: "buffered copies the data 3 times per I/O and sg once on the source side in every case; an sg read still totals 2 (the guest copies out of its ring); sg saves arm64-v8.0 22.2%..33.3% of cycles per I/O" });
    const stagedSg = good.map((x) => (x.variant === "sg" && x.rw === "randwrite" ? { ...x, data: { guest: 1, xen: 1, backend: 0 } } : x));
    expect(c4Verdict(stagedSg)).toEqual({ holds: false, text: "arm64-v8.0 randwrite 4096 B sg: 2 source-side copies" });
    expect(c4Verdict(good, 1)).toMatchObject({ holds: false, text: "1 job(s) failed" });
  });

  it("reads copies per copier from the result's counters", () => {
    const table = C4.run({
      seed: 1, quick: true,
      runJob: (spec) => {
        const sg = spec.transport === "argo:sg";
        const write = spec.workload.kind === "fio" && spec.workload.rw === "randwrite";
        const per = (n: number) => n * 4096 * spec.ios;
        const counters = sg
          ? { [L.CNT_TR_COPY_BYTES_GUEST]: per(write ? 0 : 1), [L.CNT_TR_COPY_BYTES_HV]: per(1), [L.CNT_TR_COPY_BYTES_BACKEND]: 0 }
          : { [L.CNT_TR_COPY_BYTES_GUEST]: per(1), [L.CNT_TR_COPY_BYTES_HV]: per(1), [L.CNT_TR_COPY_BYTES_BACKEND]: per(1) };
        return fakeResult(spec, sg ? 4000 : 6000, { copies: sg ? 3 : 6 }, counters);
      },
    });
    expect(table.rows).toHaveLength(4 * 2 * 2);
    expect(table.rows[0]).toEqual(["x86-64", "randread", 4096, "buffered", 6, 1, 1, 1, 3, 6000, 3000]);
    expect(table.rows[1]).toEqual(["x86-64", "randread", 4096, "sg", 3, 1, 1, 0, 2, 4000, 2000]);
    expect(table.verdict.holds).toBe(true);
  });
});
