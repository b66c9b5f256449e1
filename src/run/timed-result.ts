// The timing parts of a JobResult from a finished timed run: virtual elapsed time and what it
// gives, latency, the price of the whole measured phase, CPU use, the counters delta.
import * as L from "../wasm/layout.ts";
import { price } from "../cost/price.ts";
import { PRICING } from "../cost/pricing-table.ts";
import { throughput, type LatencyRecorder } from "../sim/stats.ts";
import type { Sim } from "../sim/engine.ts";
import type { JobResult, TimelineSpan } from "./result.ts";
import { perIoFrom } from "./per-io.ts";
import type { TimedTarget } from "./timed-target.ts";

export type TimedResult = Pick<
  JobResult,
  "profile" | "arch" | "ios" | "bytes" | "elapsedNs" | "iops" | "throughputMBps" | "latency" | "perIo" | "price" | "cyclesPerIo" | "cpu" |
  "cpuByDomain" | "counters" | "timeline"
> & {
  /** Cycles the steps put on CPUs, summed step by step: price.cycles up to float rounding. */
  chargedCycles: number;
  /** Steps run (guest submits and interrupts, backend passes). */
  steps: number;
};

export interface Finished {
  target: TimedTarget;
  sim: Sim;
  latency: LatencyRecorder;
  total: Float64Array;
  charged: number;
  steps: number;
  ios: number;
  spans: TimelineSpan[] | undefined;
}

/** Throughput in MB/s (10^6 bytes per second of virtual time). */
export const mbps = (bytes: number, ns: number) => (ns > 0 ? bytes / 1e6 / (ns / 1e9) : 0);

export function summarise(f: Finished): TimedResult {
  const { target, sim, total, ios } = f;
  const r = sim.results();
  const elapsedNs = sim.now;
  const lanes = target.lanes;
  const bytes = lanes.every((l) => l.payloadBytes)
    ? lanes.reduce((s, l) => s + l.payloadBytes!(), 0)
    : total[L.CNT_TR_DEV_READ_BYTES]! + total[L.CNT_TR_DEV_WRITE_BYTES]!;
  const p = price(total, target.profile, target.table ?? PRICING);
  return {
    profile: target.profile.name,
    arch: target.profile.arch,
    ios,
    bytes,
    elapsedNs,
    iops: throughput(ios, elapsedNs),
    throughputMBps: mbps(bytes, elapsedNs),
    latency: f.latency.summary(),
    perIo: perIoFrom(total, Math.max(ios, 1)),
    price: p,
    cyclesPerIo: ios > 0 ? p.cycles / ios : 0,
    cpu: r.cpus.map((c) => ({ cpu: c.name, domain: c.domain, busyNs: c.busyNs, utilisation: c.utilisation, byComponent: c.byComponent })),
    cpuByDomain: r.byDomain,
    counters: Array.from(total),
    ...(f.spans ? { timeline: f.spans } : {}),
    chargedCycles: f.charged,
    steps: f.steps,
  };
}
