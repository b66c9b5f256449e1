// Issue 5.5: "a blocked vCPU (waiting on ... a pending unmap) waits". In the timed model the
// backend completes a grant-map request only after unmapping its pages, and the unmap's TLB
// shootdown is on that path: the guest's completion waits for it. With the dma data path the
// data pages' unmap has an unaccessed batch, so the elision skips exactly one shootdown per
// I/O; at iodepth 1 every I/O's latency then drops by exactly one priced flush, no more and no
// less, on every architecture.
import { describe, expect, it } from "vitest";
import { ARCHES } from "../src/experiments/common.ts";
import { loadShippedProfile, primitiveCycles } from "../src/cost/profile.ts";
import { runJob } from "../src/run/run-job.ts";
import type { JobSpec } from "../src/run/result.ts";

describe.each(ARCHES)("grant-map on %s: the guest waits for the backend's unmap flush", (arch) => {
  const p = loadShippedProfile(arch);
  const flushCycles = primitiveCycles(p, "tlb_flush_remote");
  const flushNs = flushCycles / p.clockGHz;

  it.each(["randread", "randwrite"] as const)("%s: latency with the flush - with it elided = one tlb_flush_remote, at every percentile", (rw) => {
    const spec: JobSpec = {
      transport: "grant-map", profile: arch, device: "blk", workload: { kind: "fio", rw, bs: 4096, iodepth: 1 }, ios: 16, seed: 2,
      options: { backendDataPath: "dma" },
    };
    const flushed = runJob(spec);
    const elided = runJob({ ...spec, options: { ...spec.options, tlbFlushElision: true } });
    // one shootdown per I/O less, and nothing else changed in price
    expect(flushed.perIo.tlbFlushes - elided.perIo.tlbFlushes).toBe(1);
    expect(elided.perIo.tlbFlushesElided).toBe(1);
    expect(flushed.cyclesPerIo - elided.cyclesPerIo).toBeCloseTo(flushCycles, 6);
    // the guest's latency carries it whole: the completion comes after the unmap
    for (const k of ["min", "p50", "p90", "p99", "max", "mean"] as const) {
      expect(flushed.latency[k] - elided.latency[k], k).toBeCloseTo(flushNs, 6);
    }
    expect(flushed.elapsedNs - elided.elapsedNs).toBeCloseTo(spec.ios * flushNs, 3);
  });
});
