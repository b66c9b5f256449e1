import { describe, expect, it } from "vitest";
import { buildTrace, domainsOf, traceToJson, type TraceEvent } from "../src/report/trace.ts";
import type { JobResult } from "../src/run/result.ts";
import { fixtureResults } from "./helpers/report-fixtures.ts";

type Ev = TraceEvent & Record<string, unknown>;

/** The fields the trace-event format requires for each phase we emit. */
const REQUIRED: Record<string, Record<string, string>> = {
  M: { name: "string", pid: "number", tid: "number", args: "object" },
  X: { name: "string", cat: "string", pid: "number", tid: "number", ts: "number", dur: "number", args: "object" },
  C: { name: "string", pid: "number", ts: "number", args: "object" },
};

function parse(r: JobResult | JobResult[]): { traceEvents: Ev[]; displayTimeUnit: string } {
  return JSON.parse(traceToJson(buildTrace(r)));
}

const byName = (evs: Ev[], name: string) => evs.filter((e) => e.ph === "M" && e.name === name);

describe("Chrome trace export", () => {
  const results = fixtureResults();

  it.each(results.map((r) => [`${r.spec.transport} ${r.profile}`, r] as const))("%s: valid trace events with a track per CPU and a process per domain", (_, r) => {
    const t = parse(r);
    expect(t.displayTimeUnit).toBe("ns");
    for (const e of t.traceEvents) {
      const need = REQUIRED[e.ph];
      expect(need, `phase ${e.ph}`).toBeDefined();
      for (const [f, type] of Object.entries(need!)) expect(typeof e[f], `${e.ph} ${e.name}: ${f}`).toBe(type);
      if (e.ph === "X") {
        expect(e.dur).toBeGreaterThanOrEqual(0);
        expect(Object.keys(e.args).sort()).toEqual(["component", "cpu", "label"]);
      }
    }
    // One process per domain (Xen named "Xen"), one thread per CPU, each in its domain.
    const procs = new Map(byName(t.traceEvents, "process_name").map((e) => [e.pid, (e.args as { name: string }).name]));
    const expectedDomains = domainsOf(r).map((d) => (d === "xen" ? "Xen" : d));
    expect([...procs.values()]).toEqual(expectedDomains);
    expect(expectedDomains.length).toBe(r.spec.transport.startsWith("kvm") ? 2 : 3);
    const threads = byName(t.traceEvents, "thread_name").map((e) => ({ proc: procs.get(e.pid), cpu: (e.args as { name: string }).name }));
    expect(threads.map((x) => x.cpu).sort()).toEqual(r.cpu.map((c) => c.cpu).sort());
    for (const c of r.cpu) expect(threads.find((x) => x.cpu === c.cpu)!.proc).toBe(c.domain === "xen" ? "Xen" : c.domain);
    expect(byName(t.traceEvents, "process_sort_index")).toHaveLength(procs.size);
    expect(byName(t.traceEvents, "thread_sort_index")).toHaveLength(threads.length);

    // Per track: ts monotone, no overlap; durations add up to the CPU's busy time.
    const spans = t.traceEvents.filter((e) => e.ph === "X") as Extract<TraceEvent, { ph: "X" }>[];
    expect(spans).toHaveLength(r.timeline!.length);
    const tracks = new Map<string, typeof spans>();
    for (const s of spans) tracks.set(`${s.pid}/${s.tid}`, [...(tracks.get(`${s.pid}/${s.tid}`) ?? []), s]);
    expect(tracks.size).toBe(r.cpu.length);
    for (const track of tracks.values()) {
      for (let i = 1; i < track.length; i++) {
        expect(track[i]!.ts).toBeGreaterThanOrEqual(track[i - 1]!.ts);
        expect(track[i]!.ts).toBeGreaterThanOrEqual(track[i - 1]!.ts + track[i - 1]!.dur - 1e-9);
      }
      const cpu = r.cpu.find((c) => c.cpu === track[0]!.args.cpu)!;
      const busyUs = track.reduce((s, e) => s + e.dur, 0);
      expect(busyUs * 1000).toBeCloseTo(cpu.busyNs, 3);
    }
    // All spans together are the job's priced CPU time.
    expect(spans.reduce((s, e) => s + e.dur, 0) * 1000).toBeCloseTo(r.price.ns, 3);

    // The busy-CPU counter starts at the first span, never exceeds the CPUs, ends at zero.
    const counter = t.traceEvents.filter((e) => e.ph === "C");
    expect(counter.length).toBeGreaterThan(0);
    for (const c of counter) expect((c.args as { busy: number }).busy).toBeLessThanOrEqual(r.cpu.length);
    expect((counter.at(-1)!.args as { busy: number }).busy).toBe(0);
    expect((counter[0]!.args as { busy: number }).busy).toBe(1);
  });

  it("several jobs get their own processes, named after the job", () => {
    const two = [results[0]!, results[4]!];
    const t = parse(two);
    const names = byName(t.traceEvents, "process_name").map((e) => (e.args as { name: string }).name);
    expect(names).toEqual([
      "kvm-ioeventfd x86-64 blk: guest", "kvm-ioeventfd x86-64 blk: host",
      "grant-map x86-64 blk: guest", "grant-map x86-64 blk: Domain-0", "grant-map x86-64 blk: Xen",
    ]);
    expect(new Set(byName(t.traceEvents, "process_name").map((e) => e.pid)).size).toBe(5);
  });

  it("refuses a job without a timeline, overlapping spans and a CPU claimed by two domains", () => {
    const r = results[4]!;
    expect(() => buildTrace({ ...r, timeline: undefined })).toThrow("trace: grant-map x86-64 blk has no timeline; run the job with tracing on");
    expect(() => buildTrace([])).toThrow("trace: no results");
    const [a, b] = r.timeline!.filter((s) => s.cpu === "d1v0");
    const overlap = { ...b!, startNs: a!.startNs + a!.durNs / 2 };
    expect(() => buildTrace({ ...r, timeline: [a!, overlap] })).toThrow(/^timeline: spans overlap on d1v0: 'submit\+kick' \[0, [\d.]+\) ns and 'interrupt\+complete' from [\d.]+ ns$/);
    expect(() => buildTrace({ ...r, timeline: [a!, { ...b!, domain: "Domain-0" }] })).toThrow("timeline: CPU d1v0 belongs to both guest and Domain-0");
    const relabelled = r.cpu.map((c) => (c.cpu === "d0v0" ? { ...c, domain: "guest" } : c));
    expect(() => buildTrace({ ...r, cpu: relabelled })).toThrow("timeline: CPU d0v0 is guest's in the CPU list but its spans say Domain-0");
    expect(() => buildTrace({ ...r, timeline: [{ ...a!, durNs: -1 }] })).toThrow("timeline: span 'submit+kick' on d1v0 has start 0 ns, duration -1 ns");
  });
});
