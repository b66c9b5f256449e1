// C7: "copying transports are immune to double fetch, shared-memory ones expose the backend
// to it". Every transport carries blk writes with a hostile guest and a probe in the backend
// (src/run/double-fetch.ts): the device reads each request, the guest rewrites every byte its
// descriptors name, the device reads again. A transport exposes the backend when the second
// read differs. The verdict compares what was observed with the claim's split.
import { runDoubleFetch, type DoubleFetchResult } from "../run/double-fetch.ts";
import { TRANSPORT_VARIANT_NAMES, transportEntry } from "../transports/registry.ts";
import type { Arch } from "./common.ts";
import { round, runSeeds } from "./common.ts";
import { blkSpec, iosPerJob } from "./jobs.ts";
import type { Experiment, ExperimentTable, RunOptions, Verdict } from "./types.ts";

/** The claim's split: transports whose backend works on its own copy, and those whose backend
 *  reads the guest's memory in place (each transport's registry entry says which). */
export const COPYING: readonly string[] = TRANSPORT_VARIANT_NAMES.filter((n) => transportEntry(n)!.data === "copied");
export const SHARED: readonly string[] = TRANSPORT_VARIANT_NAMES.filter((n) => transportEntry(n)!.data === "shared");
/** Double fetch is about whose memory the backend reads, not the CPU: one architecture on
 *  which every transport runs. */
export const C7_ARCH: Arch = "arm64-v8.1-lse";

export function c7Sizes(quick: boolean | undefined): number[] {
  return quick ? [4096] : [512, 4096, 65536];
}

export interface C7Row {
  transport: string;
  bs: number;
  /** null when the job failed (with the reason). */
  result: DoubleFetchResult | null;
  error?: string;
}

export const exposed = (r: DoubleFetchResult) => r.observed.bytesChanged > 0;

/** Holds iff every copying transport saw no byte change under its device and every shared
 *  one saw some, with every request probed. */
export function c7Verdict(rows: readonly C7Row[]): Verdict {
  if (rows.length === 0) return { holds: false, text: "no rows: nothing was measured" };
  const misses: string[] = [];
  for (const r of rows) {
    const where = `${r.transport} ${r.bs} B`;
    if (!r.result) {
      misses.push(`${where}: the job failed (${r.error})`);
      continue;
    }
    const o = r.result.observed;
    const copying = COPYING.includes(r.transport);
    if (o.chains === 0) misses.push(`${where}: no request was probed`);
    else if (copying && exposed(r.result)) misses.push(`${where}: copying, yet ${o.bytesChanged} bytes changed under the device`);
    else if (!copying && !exposed(r.result)) misses.push(`${where}: shared memory, yet no byte changed under the device`);
  }
  if (misses.length > 0) return { holds: false, text: `${misses.length}/${rows.length} cases contradict the claim: ${misses.join("; ")}` };
  const shared = rows.filter((r) => !COPYING.includes(r.transport));
  const share = Math.min(...shared.map((r) => r.result!.observed.bytesChanged / r.result!.observed.bytesProbed));
  return {
    holds: true,
    text: `the device saw the guest's rewrite on ${SHARED.join(", ")} (at least ${round(share * 100)}% of the bytes it read) ` +
      `and never on ${COPYING.join(", ")}`,
  };
}

export function c7Table(rows: readonly C7Row[], notes: string[]): ExperimentTable {
  return {
    name: "c7",
    title: C7.title,
    claim: C7.claim,
    columns: ["transport", "bs", "requests probed", "requests changed", "bytes read", "bytes changed under the device", "pages reachable", "pages mapped (peak)", "verdict"],
    rows: rows.map((r) => {
      const x = r.result;
      if (!x) return [r.transport, r.bs, "failed", "failed", "failed", "failed", "n/a", "n/a", "n/a"];
      const o = x.observed;
      return [r.transport, r.bs, o.chains, o.chainsChanged, o.bytesProbed, o.bytesChanged, x.exposure.reachable, x.exposure.mappedPeak,
        exposed(x) ? "exposed" : "immune"];
    }),
    verdict: c7Verdict(rows),
    notes,
  };
}

export const C7: Experiment = {
  name: "c7",
  slug: "double-fetch",
  title: "Double fetch: does a hostile guest's rewrite reach the backend between two reads?",
  claim: "copying transports (grant-copy, argo buffered and sg) are immune to double fetch; shared-memory ones (kvm-ioeventfd, mmio-foreign, grant-map, grant-persistent, pv-p2m, fat-virtqueue, preshared-bounce) expose the backend to it",
  run(opts: RunOptions): ExperimentTable {
    const [seed] = runSeeds(opts.seed, "c7", 1);
    const ios = iosPerJob(opts.quick);
    const cases = [...SHARED, ...COPYING].flatMap((t) => c7Sizes(opts.quick).map((bs) => ({ t, bs })));
    const rows: C7Row[] = cases.map(({ t, bs }, k) => {
      let row: C7Row;
      try {
        row = { transport: t, bs, result: runDoubleFetch(blkSpec(t, C7_ARCH, "randwrite", bs, ios, seed!)) };
      } catch (e) {
        row = { transport: t, bs, result: null, error: (e as Error).message };
      }
      opts.onProgress?.(k + 1, cases.length);
      return row;
    });
    return c7Table(rows, [
      `blk randwrite (then read back), iodepth 1, ${ios} writes per job on ${C7_ARCH}; the device reads each request's readable bytes twice`,
      "between the reads the guest XORs every byte its in-flight descriptors name (its buffers, and the slot or pool copy a descriptor points at), then restores them so the job still verifies",
      "pages reachable / mapped: the backend's exposure at the end of the run; grant-copy reaches granted pages yet copies before it reads, so reach alone does not decide",
      ...rows.filter((r) => !r.result).map((r) => `failed: ${r.transport} ${r.bs} B: ${r.error}`),
    ]);
  },
};
