import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { Machine } from "../src/wasm/machine.ts";
import { loadShippedProfile } from "../src/cost/profile.ts";
import { price } from "../src/cost/price.ts";
import { recordRun, repriceRun } from "../src/cost/run.ts";
import { COMPONENTS } from "../src/cost/primitives.ts";
import { runTimed, TimedRunner } from "../src/run/timed.ts";
import { perIoFrom } from "../src/run/per-io.ts";
import type { TimelineSpan } from "../src/run/result.ts";
import type { TimedResult } from "../src/run/timed-result.ts";
import { makeXenEnv } from "../src/transports/xen-env.ts";
import { GuestPages } from "../src/virtio/guest-pages.ts";
import { BlkPattern } from "./helpers/blk-pattern.ts";
import { DISK_BYTES, DOM0, foreignWorld, GUEST } from "./helpers/transport-world.ts";
import { timedWorld, type WorldKind } from "./helpers/timed-worlds.ts";

const WRITES = 16;
const IOS = 2 * WRITES; // every write is read back
const SLOT = 4096;

const close = (a: number, b: number, rel = 1e-9) => expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(Math.abs(a), Math.abs(b), 1));
const end = (s: TimelineSpan) => s.startNs + s.durNs;
const overlaps = (a: TimelineSpan, b: TimelineSpan) => a.startNs < end(b) && b.startNs < end(a) && a.durNs > 0 && b.durNs > 0;

function run(kind: WorldKind, o: { iodepth?: number; each?: boolean; profile?: string; seed?: number } = {}) {
  const w = timedWorld(kind, { writes: WRITES, iodepth: o.iodepth, profile: o.profile, seed: o.seed });
  w.target.lanes[0]!.kickEachSubmit = o.each;
  const start = w.target.machine.counters();
  const r = runTimed(w.target, { trace: true });
  const now = w.target.machine.counters();
  return { w, r, delta: Array.from(now, (v, i) => v - start[i]!) };
}

/** Every cycle priced from the counters is on some CPU, and no CPU time comes from elsewhere. */
function expectFullyCharged(r: TimedResult, ghz: number): void {
  close(r.chargedCycles, r.price.cycles, 1e-12);
  for (const k of COMPONENTS) close(r.cpu.reduce((s, c) => s + c.byComponent[k], 0) * ghz, r.price.byComponent[k]);
  close(r.cpu.reduce((s, c) => s + c.busyNs, 0), r.price.ns);
  close(r.cyclesPerIo * r.ios, r.price.cycles);
}

describe("timed runner: one lane at iodepth 1", () => {
  it.each(["kvm", "mmio-foreign", "grant-map", "grant-copy", "argo-sg"] as WorldKind[])("%s: the critical path is the priced work, every byte verified", (kind) => {
    const { w, r, delta } = run(kind);
    const x86 = loadShippedProfile("x86-64");
    expect(r.ios).toBe(IOS);
    expect(r.latency.count).toBe(IOS);
    expect(w.pattern.bytesVerified).toBe(WRITES * SLOT);
    expect(w.verifyDisk()).toBe(WRITES * SLOT);
    // One request at a time: guest and backend spans never overlap and leave no idle gap.
    const spans = [...r.timeline!].sort((a, b) => a.startNs - b.startNs);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.startNs).toBeGreaterThanOrEqual(end(spans[i - 1]!) - 1e-6);
    close(spans.reduce((s, x) => s + x.durNs, 0), r.elapsedNs);
    close(r.latency.mean * r.ios, r.elapsedNs);
    // The counters delta is the machine's, the price is price() of it, and all of it is charged.
    expect(r.counters).toEqual(delta);
    expect(r.price).toEqual(price(r.counters, x86));
    expectFullyCharged(r, x86.clockGHz);
    close(r.iops, (r.ios * 1e9) / r.elapsedNs);
    close(r.throughputMBps, (r.bytes * 1e3) / r.elapsedNs); // MB = 10^6 bytes
    expect(r.bytes).toBe(delta[L.CNT_TR_DEV_READ_BYTES]! + delta[L.CNT_TR_DEV_WRITE_BYTES]!);
  });

  it("maps each step's mechanism per I/O (perIo)", () => {
    expect(run("kvm").r.perIo).toMatchObject({ traps: 3, notifications: 1, interrupts: 1, hypercalls: 0, maps: 0, copies: 0 });
    expect(run("grant-map").r.perIo).toMatchObject({ traps: 3, maps: 3, unmaps: 3, grantOps: 6, tlbFlushes: 1, interrupts: 1, copies: 0 });
    expect(run("argo-sg").r.perIo).toMatchObject({ traps: 0, copies: 3, notifications: 1, interrupts: 1, maps: 0 });
  });

  it("a trapped access answered by a device model runs on the backend vCPU while the guest waits", () => {
    for (const [kind, cpu, label] of [["mmio-foreign", "d0v0", "kick"], ["kvm", "vmm-io", "interrupt"]] as const) {
      const spans = run(kind).r.timeline!;
      const answered = spans.filter((s) => s.cpu === cpu && s.label === label);
      expect(answered.length).toBeGreaterThan(0);
      expect(answered.every((a) => !spans.some((g) => g.cpu === "d1v0" && overlaps(a, g)))).toBe(true);
    }
    // Argo's sendv does not wait for the backend: nothing of a guest step runs on dom0.
    expect(run("argo-sg").r.timeline!.filter((s) => s.cpu === "d0v0").map((s) => s.label)).not.toContain("kick");
  });
});

describe("timed runner: overlap, profiles, determinism", () => {
  it("same seed, same result, timeline included", () => {
    const a = run("grant-map", { iodepth: 4, each: true, seed: 5 }).r;
    const b = run("grant-map", { iodepth: 4, each: true, seed: 5 }).r;
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(a.timeline!.length).toBeGreaterThan(0);
  });

  it.each(["kvm", "grant-map", "argo-buffered"] as WorldKind[])("%s: with iodepth 4 guest and backend work overlap and throughput rises", (kind) => {
    const one = run(kind).r;
    const four = run(kind, { iodepth: 4, each: true }).r;
    const spans = four.timeline!;
    const guest = spans.filter((s) => s.cpu === "d1v0");
    const backend = spans.filter((s) => s.cpu !== "d1v0");
    expect(guest.some((g) => backend.some((b) => overlaps(g, b)))).toBe(true);
    expect(four.cpu.reduce((s, c) => s + c.busyNs, 0)).toBeGreaterThan(four.elapsedNs);
    expect(four.iops).toBeGreaterThan(one.iops);
    expect(four.ios).toBe(IOS);
    expectFullyCharged(four, loadShippedProfile("x86-64").clockGHz);
    const l = four.latency;
    expect(l.count).toBe(IOS);
    expect(l.min).toBeLessThanOrEqual(l.p50);
    expect(l.p50).toBeLessThanOrEqual(l.p90);
    expect(l.p90).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l.max);
    expect(l.mean).toBeGreaterThanOrEqual(l.min);
    expect(l.mean).toBeLessThanOrEqual(l.max);
    expect(l.max).toBeLessThanOrEqual(four.elapsedNs);
  });

  it.each(["kvm", "grant-map"] as WorldKind[])("%s: x86-64 and arm64 take different times for the same counts; pricing them under the other profile equals running", (kind) => {
    const x = run(kind, { iodepth: 2, each: true, profile: "x86-64" }).r;
    const a = run(kind, { iodepth: 2, each: true, profile: "arm64-v8.0" }).r;
    const arm = loadShippedProfile("arm64-v8.0");
    expect(a.counters).toEqual(x.counters);
    expect(a.elapsedNs).not.toBe(x.elapsedNs);
    expect(a.price.cycles).not.toBe(x.price.cycles);
    expect(a.price).toEqual(price(x.counters, arm));
    // This world is built by hand, the same for both profiles. A RecordedRun names the
    // architecture it was simulated as, and runJob builds that architecture's world, so
    // repriceRun refuses to move it across; price() of the counts is the tool here.
    expect(() => repriceRun(recordRun(x.counters, loadShippedProfile("x86-64")), arm)).toThrow(/cannot be re-priced under arm64-v8\.0/);
    expect(a.arch).toBe("arm64");
    expect(x.arch).toBe(loadShippedProfile("x86-64").arch);
    expect(a.profile).toBe(arm.name);
  });
});

describe("timed runner: several lanes, errors", () => {
  it("two lanes on two guest vCPUs share one backend vCPU", () => {
    const env = makeXenEnv({ machine: new Machine({ build: "release" }), arch: "arm64" });
    env.hv.createDomain({ domid: DOM0, name: "Domain-0", ramPages: 256, control: true });
    env.hv.createDomain({ domid: GUEST, name: "guest", ramPages: 4096, vcpus: 2 });
    const pages = new GuestPages(GUEST, 16, 2048);
    const ws = [0, 1].map((i) => foreignWorld({ env, pages, mf: { index: i, vcpu: i } }));
    const pats = ws.map((w, i) => new BlkPattern(w.guest, DISK_BYTES, WRITES, 10 + i));
    const profile = loadShippedProfile("arm64-v8.0");
    const r = runTimed({
      machine: env.hv.machine, profile,
      lanes: ws.map((w, i) => ({
        name: `blk${i}`, driver: w.driver, transport: w.t, workload: pats[i]!, iodepth: 2, kickEachSubmit: true,
        frontend: { name: "guest", domid: GUEST, vcpu: i }, backend: { name: "Domain-0", domid: DOM0 },
      })),
    });
    expect(r.ios).toBe(2 * IOS);
    expect(r.timeline).toBeUndefined();
    pats.forEach((p) => expect(p.bytesVerified).toBe(WRITES * SLOT));
    expect(r.cpu.map((c) => c.cpu).sort()).toEqual(["d0v0", "d1v0", "d1v1"]);
    const busy = Object.fromEntries(r.cpu.map((c) => [c.cpu, c.busyNs]));
    expect(busy.d0v0).toBeGreaterThan(busy.d1v0!);
    expect(busy.d0v0).toBeGreaterThan(busy.d1v1!);
    expect(Object.keys(r.cpuByDomain).sort()).toEqual(["Domain-0", "guest"]);
    close(r.cpuByDomain.guest!.total + r.cpuByDomain["Domain-0"]!.total, r.price.ns);
    expectFullyCharged(r, profile.clockGHz);
  });

  it("a lost interrupt is a clear error, not a hang", () => {
    const w = timedWorld("kvm", { writes: 2 });
    const lane = w.target.lanes[0]!;
    lane.transport = { ...lane.transport, service: () => 0 }; // a backend that never serves
    expect(() => runTimed(w.target)).toThrow(/stalled at \d+(\.\d+)? ns .*kvm: 1 in flight, workload not finished, guest blocked on 'kvm interrupt'/);
  });

  it("a workload that submits nothing with nothing in flight is a clear error", () => {
    const w = timedWorld("kvm", { writes: 2 });
    w.target.lanes[0]!.workload = { submit: () => 0, complete: () => {}, finished: false };
    expect(() => runTimed(w.target)).toThrow(/kvm stalled at 0 ns: the workload is not finished but submits nothing/);
  });

  it("refuses a livelock past maxEvents, bad lanes and a second run", () => {
    const w = timedWorld("grant-map", { writes: 4 });
    expect(() => runTimed(w.target, { maxEvents: 20 })).toThrow(/more than 20 events/);
    const v = timedWorld("kvm", { writes: 1 });
    expect(() => runTimed({ ...v.target, lanes: [] })).toThrow(/no lanes/);
    expect(() => runTimed({ ...v.target, lanes: [{ ...v.target.lanes[0]!, iodepth: 0 }] })).toThrow(/iodepth must be a positive integer/);
    const same = { name: "guest", domid: GUEST };
    expect(() => runTimed({ ...v.target, lanes: [{ ...v.target.lanes[0]!, backend: same }] })).toThrow(/cpu d1v0 is guest's guest vCPU, a lane also names it as guest's backend vCPU/);
    const runner = new TimedRunner(v.target);
    expect(runner.run().ios).toBe(2);
    expect(() => runner.run()).toThrow(/a runner runs once/);
  });
});

describe("perIoFrom", () => {
  it("sums the counters of each mechanism and divides by the I/Os", () => {
    const c = new Array<number>(L.COUNTERS_SLOTS).fill(0);
    c[L.CNT_TR_COPIES_GUEST] = 2;
    c[L.CNT_TR_COPIES_HV] = 4;
    c[L.CNT_TR_COPY_BYTES_BACKEND] = 8192;
    c[L.CNT_GNT_MAPS] = 6;
    c[L.CNT_FOREIGN_MAPS] = 2;
    c[L.CNT_GNT_UNMAPS] = 6;
    c[L.CNT_FOREIGN_UNMAPS] = 2;
    c[L.CNT_GNT_TLB_FLUSHES] = 1;
    c[L.CNT_GNT_COPIES] = 4;
    c[L.CNT_HYPERCALLS] = 10;
    c[L.CNT_VQ_NOTIFY_SUPPRESSED] = 1;
    c[L.CNT_IOREQ_SENT] = 6;
    expect(perIoFrom(c, 2)).toEqual({
      copies: 3, copiesGuest: 1, copiesHv: 2, copiesBackend: 0, copyBytes: 4096, grantOps: 8, maps: 4, unmaps: 4, tlbFlushes: 1.5, tlbFlushesElided: 0, traps: 0, ioreqs: 3, hypercalls: 5,
      notifications: 0, notificationsSuppressed: 0.5, interrupts: 0, evtchnSends: 0, atomics: 0,
    });
    expect(() => perIoFrom(c, 0)).toThrow(/ios must be a positive integer/);
    expect(() => perIoFrom(c.slice(1), 1)).toThrow(/must have 1024 slots/);
  });
});
