// The part of a JobResult a sweep row or a `run` table keeps: rates, latency, cost per I/O and
// the mechanism counts, without the counters block, the spec (the row has the point) or spans.
import type { JobResult, PerIo } from "../run/result.ts";
import type { LatencySummary } from "../sim/stats.ts";

export interface JobSummary {
  profile: string;
  arch: string;
  ios: number;
  bytes: number;
  elapsedNs: number;
  iops: number;
  throughputMBps: number;
  cyclesPerIo: number;
  latency: LatencySummary;
  perIo: PerIo;
  /** Bytes the run checked where they landed (a run that lost or corrupted one failed instead). */
  bytesVerified: number;
  /** Busy ns by domain name. */
  cpuNs: Record<string, number>;
}

export function summarizeJob(r: JobResult): JobSummary {
  const cpuNs: Record<string, number> = {};
  for (const [domain, by] of Object.entries(r.cpuByDomain)) cpuNs[domain] = by.total;
  return {
    profile: r.profile, arch: r.arch, ios: r.ios, bytes: r.bytes, elapsedNs: r.elapsedNs,
    iops: r.iops, throughputMBps: r.throughputMBps, cyclesPerIo: r.cyclesPerIo,
    latency: r.latency, perIo: r.perIo, bytesVerified: r.bytesVerified, cpuNs,
  };
}
