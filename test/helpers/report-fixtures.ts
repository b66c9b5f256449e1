// JobResults for the report, trace and profile tests, made from real simulation: a verifying
// blk workload runs over a real transport one I/O at a time, each I/O's counters delta is
// priced with the real price() under each shipped profile, and the I/O's spans, latency and
// CPU use follow from those prices (iodepth 1: guest submit, hypervisor, backend, guest
// completion, one after the other). Internally consistent by construction: spans sum to the
// priced ns, per-CPU busy time to the spans, latencies to each I/O's spans. Until the real
// runner lands this stands in for it; the mechanism-to-PerIo mapping below is this file's own.
import * as L from "../../src/wasm/layout.ts";
import { COMPONENTS, type Component } from "../../src/cost/primitives.ts";
import { loadShippedProfile, SHIPPED_PROFILES } from "../../src/cost/profile.ts";
import { price, type Price } from "../../src/cost/price.ts";
import { LatencyRecorder, throughput } from "../../src/sim/stats.ts";
import { runHarness, type GuestWorkload } from "../../src/transports/harness.ts";
import type { Completion } from "../../src/virtio/driver.ts";
import { RESULT_FORMAT, type CpuUse, type JobResult, type PerIo, type TimelineSpan } from "../../src/run/result.ts";
import type { Exposure } from "../../src/transports/types.ts";
import { BlkPattern } from "./blk-pattern.ts";
import { DISK_BYTES, foreignWorld, grantMapWorld, kvmWorld, type BlkWorld } from "./transport-world.ts";

/** Lets `inner` submit only while it has budget, so the harness runs one I/O per call. */
class OneAtATime<T> implements GuestWorkload<T> {
  budget = 0;
  readonly inner: GuestWorkload<T>;
  constructor(inner: GuestWorkload<T>) {
    this.inner = inner;
  }
  submit(room: number): number {
    const n = this.inner.submit(Math.min(room, this.budget));
    this.budget -= n;
    return n;
  }
  complete(c: Completion<T>): void {
    this.inner.complete(c);
  }
  get finished(): boolean {
    return this.budget <= 0 || this.inner.finished;
  }
}

export interface SimulatedJob {
  transport: string;
  /** One counters delta per I/O, in order. */
  perIoCounters: number[][];
  bytes: number;
  bytesVerified: number;
  exposure: Exposure;
}

const WORLDS: Record<string, () => BlkWorld> = {
  "kvm-ioeventfd": () => kvmWorld(),
  "grant-map": () => grantMapWorld(),
  "mmio-foreign": () => foreignWorld(),
};
export const FIXTURE_TRANSPORTS = Object.keys(WORLDS);

/** Runs `writes` 4 KiB-or-smaller writes and as many verifying reads over a transport. */
export function simulate(transport: string, writes = 12, seed = 7): SimulatedJob {
  const w = WORLDS[transport]!();
  const wl = new BlkPattern(w.guest, DISK_BYTES, writes, seed, true);
  const step = new OneAtATime(wl);
  const perIoCounters: number[][] = [];
  let before = w.m.counters();
  while (!wl.finished) {
    step.budget = 1;
    const r = runHarness({ driver: w.driver, transport: w.t, workload: step, iodepth: 1 });
    if (r.completed !== 1) throw new Error(`fixture: a step completed ${r.completed} I/Os`);
    const after = w.m.counters();
    perIoCounters.push(Array.from(after, (v, i) => v - before[i]!));
    before = after;
  }
  const bytes = wl.ops.reduce((s, op) => s + op.bytes, 0);
  return { transport, perIoCounters, bytes, bytesVerified: wl.bytesVerified + wl.bytesWritten, exposure: w.t.exposure() };
}

const sum = (xs: number[][]): number[] => xs[0]!.map((_, i) => xs.reduce((s, x) => s + x[i]!, 0));

function perIoOf(c: number[], ios: number): PerIo {
  const at = (...ids: number[]) => ids.reduce((s, id) => s + c[id]!, 0) / ios;
  return {
    copies: at(L.CNT_COPIES, L.CNT_GNT_COPIES), copiesGuest: at(L.CNT_COPIES), copiesHv: at(L.CNT_GNT_COPIES), copiesBackend: 0, copyBytes: at(L.CNT_COPY_BYTES, L.CNT_GNT_COPY_BYTES),
    grantOps: at(L.CNT_GNT_MAPS, L.CNT_GNT_UNMAPS, L.CNT_GNT_COPIES), maps: at(L.CNT_GNT_MAPS, L.CNT_FOREIGN_MAPS),
    unmaps: at(L.CNT_GNT_UNMAPS, L.CNT_FOREIGN_UNMAPS), tlbFlushes: at(L.CNT_GNT_TLB_FLUSHES),
    tlbFlushesElided: at(L.CNT_GNT_TLB_FLUSHES_ELIDED), traps: at(L.CNT_TR_REG_TRAPS), ioreqs: at(L.CNT_IOREQ_SENT), hypercalls: at(L.CNT_HYPERCALLS),
    notifications: at(L.CNT_VQ_NOTIFY_SENT), notificationsSuppressed: at(L.CNT_VQ_NOTIFY_SUPPRESSED),
    interrupts: at(L.CNT_VQ_IRQ_SENT), evtchnSends: at(L.CNT_EVTCHN_SENDS), atomics: at(L.CNT_ATOMIC_OPS),
  };
}

/** Where each component runs in the fixture: a KVM host does both hypervisor and backend work
 *  on one host CPU; under Xen the backend is dom0's vCPU and Xen has its own track. */
function placement(transport: string): Record<Component, { cpu: string; domain: string }> {
  if (transport.startsWith("kvm")) {
    return { guest: { cpu: "d1v0", domain: "guest" }, hypervisor: { cpu: "host-cpu0", domain: "host" }, backend: { cpu: "host-cpu0", domain: "host" } };
  }
  return { guest: { cpu: "d1v0", domain: "guest" }, hypervisor: { cpu: "xen-pcpu0", domain: "xen" }, backend: { cpu: "d0v0", domain: "Domain-0" } };
}

const COMPLETION_PRIMITIVES = new Set(["upcall", "vq_reclaim"]);

/** The JobResult of a simulated job priced under one shipped profile. */
export function jobResult(job: SimulatedJob, profileName: string, seed = 7): JobResult {
  const profile = loadShippedProfile(profileName);
  const ghz = profile.clockGHz;
  const where = placement(job.transport);
  const timeline: TimelineSpan[] = [];
  const lat = new LatencyRecorder("io");
  let t = 0;
  for (const c of job.perIoCounters) {
    const p = price(c, profile);
    const guest = p.byComponentPrimitive.guest;
    let completion = 0;
    for (const [prim, cyc] of Object.entries(guest)) if (COMPLETION_PRIMITIVES.has(prim)) completion += cyc!;
    const steps: [Component, string, number][] = [
      ["guest", "submit+kick", p.byComponent.guest - completion],
      ["hypervisor", job.transport.startsWith("kvm") ? "exit+ioeventfd" : "trap+hypercalls", p.byComponent.hypervisor],
      ["backend", "service", p.byComponent.backend],
      ["guest", "interrupt+complete", completion],
    ];
    const start = t;
    for (const [component, label, cyc] of steps) {
      if (cyc <= 0) continue;
      const durNs = cyc / ghz;
      timeline.push({ ...where[component], component, label, startNs: t, durNs });
      t += durNs;
    }
    lat.record(t - start);
  }
  const total = sum(job.perIoCounters);
  const ios = job.perIoCounters.length;
  const priced: Price = price(total, profile);
  const zero = () => Object.fromEntries(COMPONENTS.map((k) => [k, 0])) as Record<Component, number>;
  const cpus = new Map<string, CpuUse>();
  const byDomain: JobResult["cpuByDomain"] = {};
  for (const s of timeline) {
    let u = cpus.get(s.cpu);
    if (!u) cpus.set(s.cpu, (u = { cpu: s.cpu, domain: s.domain, busyNs: 0, utilisation: 0, byComponent: zero() }));
    u.busyNs += s.durNs;
    u.byComponent[s.component] += s.durNs;
    const d = (byDomain[s.domain] ??= { ...zero(), total: 0 });
    d[s.component] += s.durNs;
    d.total += s.durNs;
  }
  for (const u of cpus.values()) u.utilisation = u.busyNs / t;
  return {
    format: RESULT_FORMAT,
    spec: { transport: job.transport, profile: profileName, device: "blk", workload: { kind: "fio", rw: "randrw", bs: 4096, iodepth: 1 }, ios, seed },
    profile: profile.name, arch: profile.arch, ios, bytes: job.bytes, bytesVerified: job.bytesVerified,
    elapsedNs: t, iops: throughput(ios, t), throughputMBps: job.bytes / 1e6 / (t / 1e9),
    latency: lat.summary(), perIo: perIoOf(total, ios), price: priced, cyclesPerIo: priced.cycles / ios,
    cpu: [...cpus.values()], cpuByDomain: byDomain, exposure: job.exposure, counters: total, timeline,
  };
}

let cache: JobResult[] | undefined;

/** Every fixture transport under every shipped profile (3 x 4 results), simulated once. */
export function fixtureResults(): JobResult[] {
  if (cache) return cache;
  const out: JobResult[] = [];
  for (const tr of FIXTURE_TRANSPORTS) {
    const job = simulate(tr);
    for (const p of SHIPPED_PROFILES) out.push(jobResult(job, p));
  }
  return (cache = out);
}
