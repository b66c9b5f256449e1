// Which results a chart may put side by side: results of the same job (device, workload,
// I/O count, seed, options) that differ only in transport and profile. Per-I/O figures of
// different jobs mean different things (a 4 KiB read is not a 1400-byte message), so every
// chart is drawn per group and never adds two groups together.
import type { JobResult, JobSpec } from "../run/result.ts";
import { DEFAULT_MTU, maxPayload } from "../workloads/net-flow.ts";

export interface JobGroup {
  /** Stable id for data attributes: the device, suffixed `-2`, `-3`... when a device has several groups. */
  id: string;
  /** What the job is, for headings: "virtio-blk: 4 KiB random reads, iodepth 1". */
  title: string;
  /** What one I/O of the job is, for "per ..." axis titles: "4 KiB read". */
  unit: string;
  /** The same, short enough for an axis title: "4 KiB read", "message". */
  short: string;
  /** One sentence saying what an I/O is, for captions. */
  ioMeaning: string;
  results: JobResult[];
  /** Transports and profiles in the order the results name them. */
  transports: string[];
  profiles: string[];
}

const RW: Record<string, [what: string, one: string]> = {
  read: ["sequential reads", "read"],
  write: ["sequential writes", "write"],
  randread: ["random reads", "read"],
  randwrite: ["random writes", "write"],
  randrw: ["random reads and writes", "read or write"],
};

/** 4096 -> "4 KiB", 1400 -> "1400 B". */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Headline, per-I/O unit and meaning of one I/O for a job's device and workload. */
export function describeJob(spec: JobSpec): Pick<JobGroup, "title" | "unit" | "short" | "ioMeaning"> {
  const w = spec.workload;
  switch (w.kind) {
    case "fio": {
      const [what, one] = RW[w.rw] ?? [w.rw, "request"];
      const mix = w.rw === "randrw" && w.rwmixread !== undefined ? ` (${w.rwmixread} % reads)` : "";
      return {
        title: `virtio-${spec.device}: ${sizeText(w.bs)} ${what}${mix}, iodepth ${w.iodepth}`,
        unit: `${sizeText(w.bs)} ${one}`,
        short: `${sizeText(w.bs)} ${one}`,
        ioMeaning: `An I/O is one ${sizeText(w.bs)} block ${one} request, submitted by the guest and completed by the backend.`,
      };
    }
    case "netperf": {
      const frames = Math.ceil(w.messageSize / maxPayload(DEFAULT_MTU));
      if (w.test === "stream") {
        return {
          title: `virtio-${spec.device}: stream of ${sizeText(w.messageSize)} messages, guest to peer guest`,
          unit: `message (${sizeText(w.messageSize)}, ${plural(frames, "frame")})`,
          short: "message",
          ioMeaning: `An I/O is one ${sizeText(w.messageSize)} message sent by the guest and received by its peer guest: ${plural(frames, "packet")} at the ${DEFAULT_MTU}-byte MTU, the work of both guests and everything between them.`,
        };
      }
      const resp = w.responseSize ?? w.messageSize;
      return {
        title: `virtio-${spec.device}: request/response, ${sizeText(w.messageSize)} request, ${sizeText(resp)} response`,
        unit: "transaction (request + response)",
        short: "transaction",
        ioMeaning: `An I/O is one transaction: a ${sizeText(w.messageSize)} request to the peer guest and its ${sizeText(resp)} response.`,
      };
    }
    case "rng":
      return {
        title: `virtio-${spec.device}: ${sizeText(w.readSize)} reads`,
        unit: `${sizeText(w.readSize)} read`,
        short: `${sizeText(w.readSize)} read`,
        ioMeaning: `An I/O is one ${sizeText(w.readSize)} read of random bytes.`,
      };
  }
}

/** The job a result belongs to, without the transport and profile it ran on. */
function jobKey(spec: JobSpec): string {
  const { transport: _t, profile: _p, ...job } = spec;
  return canonical(job);
}

/** JSON with every object's keys sorted, at every depth (so key order never splits a group
 *  and nested fields such as workload.bs always count). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

function distinguishing(spec: JobSpec): string {
  const parts = [`${spec.ios} I/Os`, `seed ${spec.seed}`];
  for (const [k, v] of Object.entries(spec.options ?? {})) parts.push(`${k} ${String(v)}`);
  return parts.join(", ");
}

/** Results grouped by job, in the order they first appear. Two results of one job on the same
 *  transport and profile are an error: a chart would have to draw two bars in one place. */
export function jobGroups(results: readonly JobResult[]): JobGroup[] {
  const byKey = new Map<string, JobResult[]>();
  for (const r of results) {
    const k = jobKey(r.spec);
    const list = byKey.get(k) ?? [];
    const twin = list.find((o) => o.spec.transport === r.spec.transport && o.profile === r.profile);
    if (twin) throw new RangeError(`report: two results of the same ${r.spec.device} job on ${r.spec.transport} and ${r.profile}`);
    list.push(r);
    byKey.set(k, list);
  }
  const groups: JobGroup[] = [];
  const perDevice = new Map<string, number>();
  for (const list of byKey.values()) {
    const spec = list[0]!.spec;
    const n = (perDevice.get(spec.device) ?? 0) + 1;
    perDevice.set(spec.device, n);
    groups.push({
      id: n === 1 ? spec.device : `${spec.device}-${n}`,
      ...describeJob(spec),
      results: list,
      transports: [...new Set(list.map((r) => r.spec.transport))],
      profiles: [...new Set(list.map((r) => r.profile))],
    });
  }
  // Two jobs with the same headline (another seed, I/O count or option) say what tells them apart.
  const titles = groups.map((g) => g.title);
  groups.forEach((g, i) => {
    if (titles.some((t, j) => j !== i && t === titles[i])) g.title += ` (${distinguishing(g.results[0]!.spec)})`;
  });
  return groups;
}
