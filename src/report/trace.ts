// Chrome trace-event JSON of a job's virtual time, the format the Perfetto UI and
// chrome://tracing open: a process per domain (plus one for Xen), a thread per CPU track,
// one complete ("X") event per busy span and a counter track of how many CPUs are busy.
// Timestamps are microseconds as the format requires (fractions keep the ns).
import type { JobResult, TimelineSpan } from "../run/result.ts";

export type TraceEvent =
  | { ph: "M"; name: "process_name" | "thread_name"; pid: number; tid: number; args: { name: string } }
  | { ph: "M"; name: "process_sort_index" | "thread_sort_index"; pid: number; tid: number; args: { sort_index: number } }
  | { ph: "X"; name: string; cat: string; pid: number; tid: number; ts: number; dur: number; args: { component: string; label: string; cpu: string } }
  | { ph: "C"; name: string; pid: number; tid: number; ts: number; args: Record<string, number> };

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: "ns";
  otherData: Record<string, string | number>;
}

/** The domain name the timeline uses for the hypervisor's own CPUs. */
export const XEN_DOMAIN = "xen";

/** A short name for a job: transport, profile and device. */
export function jobLabel(r: JobResult): string {
  return `${r.spec.transport} ${r.profile} ${r.spec.device}`;
}

/** Domains of a result in a stable order: as the CPU list names them, Xen last. */
export function domainsOf(r: JobResult): string[] {
  const seen = new Set<string>();
  for (const c of r.cpu) seen.add(c.domain);
  for (const s of r.timeline ?? []) seen.add(s.domain);
  const xen = seen.delete(XEN_DOMAIN);
  return xen ? [...seen, XEN_DOMAIN] : [...seen];
}

/** Spans grouped by CPU track, sorted by start; throws if a track's spans overlap, since a
 *  CPU runs one thing at a time and an overlap means the timeline is wrong. */
export function tracksOf(timeline: readonly TimelineSpan[]): Map<string, TimelineSpan[]> {
  const tracks = new Map<string, TimelineSpan[]>();
  for (const s of timeline) {
    if (!(s.startNs >= 0 && s.durNs >= 0 && Number.isFinite(s.startNs + s.durNs))) {
      throw new RangeError(`timeline: span '${s.label}' on ${s.cpu} has start ${s.startNs} ns, duration ${s.durNs} ns`);
    }
    let t = tracks.get(s.cpu);
    if (!t) tracks.set(s.cpu, (t = []));
    t.push(s);
  }
  for (const [cpu, spans] of tracks) {
    spans.sort((a, b) => a.startNs - b.startNs);
    for (let i = 1; i < spans.length; i++) {
      const prev = spans[i - 1]!;
      const cur = spans[i]!;
      if (cur.startNs < prev.startNs + prev.durNs) {
        throw new RangeError(
          `timeline: spans overlap on ${cpu}: '${prev.label}' [${prev.startNs}, ${prev.startNs + prev.durNs}) ns and '${cur.label}' from ${cur.startNs} ns`,
        );
      }
      if (cur.domain !== prev.domain) throw new RangeError(`timeline: CPU ${cpu} belongs to both ${prev.domain} and ${cur.domain}`);
    }
  }
  return tracks;
}

const US = 1000; // ns per microsecond

/** How many CPUs are busy over time: one counter sample at every change. */
function busyCpus(timeline: readonly TimelineSpan[]): { ns: number; n: number }[] {
  const edges: [number, number][] = [];
  for (const s of timeline) if (s.durNs > 0) edges.push([s.startNs, 1], [s.startNs + s.durNs, -1]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: { ns: number; n: number }[] = [];
  let n = 0;
  for (let i = 0; i < edges.length; i++) {
    n += edges[i]![1];
    if (i + 1 < edges.length && edges[i + 1]![0] === edges[i]![0]) continue;
    out.push({ ns: edges[i]![0], n });
  }
  return out;
}

/** Builds the trace of one or more traced jobs; each job gets its own processes, named after
 *  the job when there are several (`names[i]`, else its transport, profile and device).
 *  Throws for a job that ran without tracing. */
export function buildTrace(results: JobResult | readonly JobResult[], names?: readonly string[]): ChromeTrace {
  const jobs: readonly JobResult[] = Array.isArray(results) ? results : [results as JobResult];
  if (jobs.length === 0) throw new RangeError("trace: no results");
  const ev: TraceEvent[] = [];
  let pid = 0;
  for (const [i, r] of jobs.entries()) {
    if (!r.timeline) throw new Error(`trace: ${jobLabel(r)} has no timeline; run the job with tracing on`);
    const tracks = tracksOf(r.timeline);
    const prefix = jobs.length > 1 ? `${names?.[i] ?? jobLabel(r)}: ` : "";
    const pids = new Map<string, number>();
    for (const d of domainsOf(r)) {
      pids.set(d, ++pid);
      const name = d === XEN_DOMAIN ? "Xen" : d;
      ev.push({ ph: "M", name: "process_name", pid, tid: 0, args: { name: prefix + name } });
      ev.push({ ph: "M", name: "process_sort_index", pid, tid: 0, args: { sort_index: pid } });
    }
    // Every CPU the job reports gets a track, busy or not, so an idle CPU is visible.
    const cpus = new Map<string, string>(r.cpu.map((c) => [c.cpu, c.domain]));
    for (const [cpu, spans] of tracks) {
      const owner = cpus.get(cpu);
      if (owner !== undefined && owner !== spans[0]!.domain) {
        throw new RangeError(`timeline: CPU ${cpu} is ${owner}'s in the CPU list but its spans say ${spans[0]!.domain}`);
      }
      cpus.set(cpu, spans[0]!.domain);
    }
    const tids = new Map<string, number>();
    const perDomain = new Map<string, number>();
    for (const [cpu, domain] of cpus) {
      const p = pids.get(domain)!;
      const tid = (perDomain.get(domain) ?? 0) + 1;
      perDomain.set(domain, tid);
      tids.set(cpu, tid);
      ev.push({ ph: "M", name: "thread_name", pid: p, tid, args: { name: cpu } });
      ev.push({ ph: "M", name: "thread_sort_index", pid: p, tid, args: { sort_index: tid } });
    }
    for (const [cpu, spans] of tracks) {
      const p = pids.get(spans[0]!.domain)!;
      for (const s of spans) {
        ev.push({
          ph: "X", name: s.label, cat: s.component, pid: p, tid: tids.get(cpu)!, ts: s.startNs / US, dur: s.durNs / US,
          args: { component: s.component, label: s.label, cpu },
        });
      }
    }
    // The counter lives with the hypervisor (or the last domain when there is no Xen).
    const counterPid = pids.get(XEN_DOMAIN) ?? pid;
    for (const c of busyCpus(r.timeline)) ev.push({ ph: "C", name: "busy CPUs", pid: counterPid, tid: 0, ts: c.ns / US, args: { busy: c.n } });
  }
  const first = jobs[0]!;
  return {
    traceEvents: ev,
    displayTimeUnit: "ns",
    otherData: { producer: "vxsim", jobs: jobs.length, ...(jobs.length === 1 ? { job: jobLabel(first), seed: first.spec.seed } : {}) },
  };
}

export function traceToJson(t: ChromeTrace): string {
  return JSON.stringify(t);
}
