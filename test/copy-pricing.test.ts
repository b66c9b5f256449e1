// Issue #4/#5: every transport's copies are priced exactly once, on the component that makes
// them, and by their size. For every transport x device the run's counters delta is priced and,
// per component, the cycles charged to copies must be what the copies that component made cost
// at their sizes (copyCycles of each copy, read from the size histograms the kernels keep):
//   hypervisor = every Xen copy (grant copy element, Argo ring copy) at its size; their bytes
//                are CNT_TR_COPY_BYTES_HV + argo's 16-byte transport header per message
//   guest      = every gpa_copy at its size, less those a backend made (argo's staging and
//                copy-out: CNT_BE_COPIES_*, the same copies by the same sizes), which move to it
//   backend    = its own gpa_copy copies at their sizes, plus (CNT_TR_DEV_READ_BYTES +
//                CNT_TR_DEV_WRITE_BYTES) at a page copy's per-byte price (the device consumes or
//                produces every payload byte once)
// Every gpa_copy is a transport copy of the guest or of the backend. Stepping the run as the
// timed runner does, each step's price must be the same split, and no component of a step may
// be negative. The size rule itself is checked on copies of known sizes.
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { copyBucketCycles, copyCycles, loadShippedProfile, type Profile } from "../src/cost/profile.ts";
import { COPY_BUCKET_MAX, copyBucket } from "../src/wasm/copy-buckets.ts";
import { Machine } from "../src/wasm/machine.ts";
import { price, type Price } from "../src/cost/price.ts";
import { COMPONENTS, type Component } from "../src/cost/primitives.ts";
import { DEFAULT_COPY_SIZE } from "../src/cost/pricing-table.ts";
import { buildWorld, type World } from "../src/run/world.ts";
import { buildJob, runJobRounds, settle, type Job } from "../src/run/job.ts";
import type { JobSpec } from "../src/run/result.ts";
import { splitStep, type Side } from "../src/run/step-charge.ts";
import { runJob } from "../src/run/run-job.ts";
import { ARGO_TR_HDR_BYTES } from "../src/transports/argo.ts";
import { TRANSPORTS } from "./helpers/matrix-model.ts";
import { GUEST_PAGES, argoWorld } from "./helpers/transport-world.ts";

const ARCH = "arm64-v8.0"; // the virtio-mmio transports raise their SPI with an Arm-only dm_op
const profile = loadShippedProfile(ARCH);
const PER_BYTE = copyCycles(profile, DEFAULT_COPY_SIZE) / DEFAULT_COPY_SIZE;

type Device = "blk" | "net" | "rng";
const WORKLOADS: Record<Device, Pick<JobSpec, "workload" | "ios" | "seed">> = {
  blk: { workload: { kind: "fio", rw: "randrw", bs: 4096, iodepth: 4 }, ios: 24, seed: 7 },
  net: { workload: { kind: "netperf", test: "rr", messageSize: 300, responseSize: 1200 }, ios: 6, seed: 5 },
  rng: { workload: { kind: "rng", readSize: 700 }, ios: 10, seed: 3 },
};

/** Which components copy payload bytes on the transport's behalf (the rest copy none). */
const COPIERS: Record<(typeof TRANSPORTS)[number], Component[]> = {
  "kvm-ioeventfd": [], "mmio-foreign": [], "grant-map": [], "pv-p2m": [],
  "grant-copy": ["hypervisor"], "grant-persistent": ["guest"], "fat-virtqueue": ["guest"], "preshared-bounce": ["guest"],
  "argo:buffered": ["guest", "hypervisor", "backend"], "argo:sg": ["guest", "hypervisor"],
};

/** Bytes each component copied, by the transport counters of `d`. */
function copiedBytes(d: ArrayLike<number>): Record<Component, number> {
  const argoHeaders = (d[L.CNT_AR_REQUESTS_SENT]! + d[L.CNT_AR_COMPLETIONS_SENT]!) * ARGO_TR_HDR_BYTES;
  return {
    guest: d[L.CNT_TR_COPY_BYTES_GUEST]!,
    hypervisor: d[L.CNT_TR_COPY_BYTES_HV]! + argoHeaders,
    backend: d[L.CNT_TR_DEV_READ_BYTES]! + d[L.CNT_TR_DEV_WRITE_BYTES]!,
  };
}

const copyCharged = (p: Price, c: Component) => p.byComponentPrimitive[c].copy ?? 0;
const BUCKETS = [...Array(L.COPY_SIZE_BUCKETS).keys()];
const sumBuckets = (d: ArrayLike<number>, base: number) => BUCKETS.reduce((s, k) => s + d[base + k]!, 0);

/** Cycles of the copies in a size histogram of `d`: each bucket's copies at their sizes. */
function histogramCycles(d: ArrayLike<number>, opsBase: number, bytesBase: number, p: Profile = profile): number {
  return BUCKETS.reduce((s, k) => {
    const b = copyBucketCycles(p, k);
    return s + d[opsBase + k]! * b.perOp + d[bytesBase + k]! * b.perByte;
  }, 0);
}

function expectCopiesPriced(p: Price, d: ArrayLike<number>, what: string): void {
  const bytes = copiedBytes(d);
  const moved = histogramCycles(d, L.CNT_BE_COPIES_BASE, L.CNT_BE_COPY_BYTES_BASE);
  const want: Record<Component, number> = {
    hypervisor: histogramCycles(d, L.CNT_HV_COPIES_BASE, L.CNT_HV_COPY_BYTES_BASE),
    guest: histogramCycles(d, L.CNT_CPU_COPIES_BASE, L.CNT_CPU_COPY_BYTES_BASE) - moved,
    backend: moved + bytes.backend * PER_BYTE,
  };
  expect(sumBuckets(d, L.CNT_HV_COPY_BYTES_BASE), `${what}: Xen's copies by size`).toBe(bytes.hypervisor);
  // The backend's histogram holds exactly the bytes its transport counter says it copied.
  expect(sumBuckets(d, L.CNT_BE_COPY_BYTES_BASE), `${what}: the backend's copies by size`).toBe(d[L.CNT_TR_COPY_BYTES_BACKEND]);
  for (const c of COMPONENTS) {
    const got = copyCharged(p, c);
    expect(Math.abs(got - want[c]), `${what}: ${c} copy cycles ${got}, its copies imply ${want[c]}`).toBeLessThan(1e-6 * Math.max(1, got));
  }
}

/** Every gpa_copy is a transport copy of the guest or of the backend, and in the histogram once. */
function expectMachineCopiesAttributed(d: ArrayLike<number>, what: string): void {
  const gpa = d[L.CNT_TR_COPY_BYTES_GUEST]! + d[L.CNT_TR_COPY_BYTES_BACKEND]!;
  expect(sumBuckets(d, L.CNT_CPU_COPY_BYTES_BASE), `${what}: gpa_copy bytes by size`).toBe(gpa);
  expect(d[L.CNT_COPY_BYTES], `${what}: CNT_COPY_BYTES`).toBe(gpa + d[L.CNT_ARGO_BYTES_SENT]!);
}

function world(transport: string, device: Device, spec = WORKLOADS[device]): { w: World; job: Job } {
  const w = buildWorld({ arch: ARCH, transport, device, seed: spec.seed });
  const job = buildJob(w, { transport, profile: ARCH, device, ...spec });
  job.prime();
  settle(w, job);
  return { w, job };
}

const diff = (a: Float64Array, b: Float64Array) => a.map((v, i) => v - b[i]!);

/** Runs the job in rounds as runJobRounds does, but one step at a time (each guest's submit,
 *  its kick, each transport's service pass, each guest's interrupt handler), pricing every
 *  step's counters delta. Returns the steps checked. */
function stepAndCheck(w: World, job: Job, what: string): number {
  const m = w.machine;
  let last = m.counters();
  let steps = 0;
  const step = <R>(actor: Side, label: string, fn: () => R): R => {
    const r = fn();
    const now = m.counters();
    const d = diff(now, last);
    last = now;
    steps++;
    const p = price(d, profile);
    for (const c of COMPONENTS) expect(p.byComponent[c], `${what} ${label} #${steps}: ${c}`).toBeGreaterThanOrEqual(-1e-6);
    splitStep(p, d, actor); // throws on a negative part
    expectCopiesPriced(p, d, `${what} ${label} #${steps}`);
    expectMachineCopiesAttributed(d, `${what} ${label} #${steps}`);
    return r;
  };
  const q = job.queue;
  const eps = w.endpoints;
  for (let round = 0; ; round++) {
    if (job.loads.every((l, i) => l.finished && eps[i]!.driver.inFlight(q) === 0)) break;
    if (round > 100_000) throw new Error(`${what}: no end`);
    let moved = 0;
    eps.forEach((e, i) => {
      const l = job.loads[i]!;
      const room = job.iodepth - e.driver.inFlight(q);
      if (room <= 0 || l.finished) return;
      const n = step("guest", "submit", () => l.submit(room));
      if (n > 0) step("guest", "kick", () => e.driver.kick(q));
      moved += n;
    });
    for (const e of eps) moved += step("backend", "service", () => e.transport.service());
    eps.forEach((e, i) => {
      const got = step("guest", "interrupt", () => e.driver.handleInterrupt());
      for (const c of got ?? []) job.loads[i]!.complete(c);
      moved += got?.length ?? 0;
    });
    if (moved === 0) throw new Error(`${what}: stalled`);
  }
  return steps;
}

describe("copies are priced by their size", () => {
  const SIZES = [1, 64, 65, 300, 512, 4096, 4097, 20000, 65536, 65537, 300000, 1 << 20, (1 << 20) + 1, 5 << 20];
  it("a copy of n bytes lands in the bucket whose limits hold n (limits are the profiles' copy points)", () => {
    for (const pr of ["x86-64", "arm64-v8.0", "arm64-v8.1-lse", "riscv64"]) {
      expect(loadShippedProfile(pr).copy.map((c) => c.bytes)).toEqual([...COPY_BUCKET_MAX]);
    }
    expect(SIZES.map(copyBucket)).toEqual([0, 0, 1, 1, 1, 2, 3, 3, 3, 4, 4, 4, 5, 5]);
    expect(copyBucket((16 << 20) + 1)).toBe(6);
  });

  it.each(["x86-64", "arm64-v8.0", "arm64-v8.1-lse", "riscv64"])("%s: each gpa_copy costs copyCycles of its length, not the 4 KiB per-byte price", (name) => {
    const p = loadShippedProfile(name);
    const m = new Machine();
    const dom = 1;
    m.createDomain(dom, 4096); // 16 MiB
    const before = m.counters();
    for (const n of SIZES) expect(m.tryCopy(dom, 0, dom, 6 << 20, n)).toBe(0);
    const d = diff(m.counters(), before);
    const want = SIZES.reduce((s, n) => s + copyCycles(p, n), 0);
    const got = price(d, p).byComponentPrimitive.guest.copy!;
    expect(Math.abs(got - want)).toBeLessThan(1e-6 * want);
    // The finding of issue 5: on x86-64 a 64 KiB copy runs at the profile's 29.8 GB/s.
    if (name === "x86-64") {
      const one = new Float64Array(d.length);
      one[L.CNT_CPU_COPIES_BASE + 3] = 1;
      one[L.CNT_CPU_COPY_BYTES_BASE + 3] = 65536;
      expect(price(one, p).cycles).toBeCloseTo((65536 / 29.8) * 2.0, 6);
    }
  });
});

describe.each(TRANSPORTS)("%s", (transport) => {
  describe.each(["blk", "net", "rng"] as const)("%s", (device) => {
    it("a run's copy cycles, per component, are exactly the bytes its copy counters name", () => {
      const { w, job } = world(transport, device);
      const before = w.machine.counters();
      runJobRounds(w, job);
      expect(job.failures()).toEqual([]);
      const d = diff(w.machine.counters(), before);
      const p = price(d, profile);
      expect(p.unpriced).toEqual([]);
      expectCopiesPriced(p, d, `${transport}/${device}`);
      expectMachineCopiesAttributed(d, `${transport}/${device}`);
      // The invariant is not 0 = 0: the components that copy for this transport did.
      const bytes = { guest: d[L.CNT_TR_COPY_BYTES_GUEST]!, hypervisor: d[L.CNT_TR_COPY_BYTES_HV]!, backend: d[L.CNT_TR_COPY_BYTES_BACKEND]! };
      for (const c of COMPONENTS) {
        if (COPIERS[transport].includes(c)) expect(bytes[c], c).toBeGreaterThan(0);
        else expect(bytes[c], c).toBe(0);
      }
      expect(copiedBytes(d).backend).toBeGreaterThan(0); // the device touched the payload
    });

    it("stepped one side at a time, every step's copies are priced on their component and no part is negative", () => {
      const { w, job } = world(transport, device);
      const steps = stepAndCheck(w, job, `${transport}/${device}`);
      expect(job.failures()).toEqual([]);
      expect(steps).toBeGreaterThan(WORKLOADS[device].ios); // at least a submit, a pass and a handler per round
    });
  });
});

describe("argo", () => {
  it("buffered: a staged message refused with EAGAIN is staged once, and priced once, however often sendv is retried", () => {
    const spec = { workload: { kind: "fio", rw: "write", bs: 16384, iodepth: 8 }, ios: 16, seed: 2 } as const;
    const { w, job } = world("argo:buffered", "blk", spec);
    const before = w.machine.counters();
    stepAndCheck(w, job, "argo:buffered/blk 16 KiB x 8");
    expect(job.failures()).toEqual([]);
    const d = diff(w.machine.counters(), before);
    expect(d[L.CNT_AR_SEND_EAGAIN]).toBeGreaterThan(0); // the ring did fill
    // 16 writes and 16 verify reads, one request and one completion each: each payload byte
    // staged once by its sender, once by Xen, copied out once by its receiver.
    const req = 32 * 16 + 16 * 16384;
    const done = 32 * 1 + 16 * 16384;
    expect([d[L.CNT_TR_COPY_BYTES_GUEST], d[L.CNT_TR_COPY_BYTES_HV], d[L.CNT_TR_COPY_BYTES_BACKEND]]).toEqual([req + done, req + done, req + done]);
    expect([d[L.CNT_TR_COPIES_GUEST], d[L.CNT_TR_COPIES_HV], d[L.CNT_TR_COPIES_BACKEND]]).toEqual([64, 64, 64]);
  });

  for (const transport of ["argo:buffered", "argo:sg"]) {
    // 16 requests in flight against a ring sized for 4 messages: the sender runs ahead of the
    // receiver whatever the two sides' copies cost, so sendv meets a full ring.
    const bs = 16384;
    it(`${transport}: runJob with ${bs / 1024} KiB I/Os 16 deep fills the rings (EAGAIN, waits for local buffers) and verifies every byte`, () => {
      const r = runJob({ transport, profile: ARCH, device: "blk", workload: { kind: "fio", rw: "randrw", bs, iodepth: 16 }, ios: 40, seed: 1 });
      expect(r.counters[L.CNT_AR_SEND_EAGAIN]).toBeGreaterThan(0);
      expect(r.counters[L.CNT_TR_IO_ERRORS]).toBe(0);
      // runJob throws on any byte that did not land as written; reads were checked and every
      // sector the writes left was read off the disk.
      expect(r.ios).toBe(40);
      expect(r.bytes).toBe(40 * bs);
      expect(r.bytesVerified).toBeGreaterThan(0);
    });
    for (const device of ["blk", "rng"] as const) {
      it(`${transport}/${device}: runJob runs in virtual time and verifies every byte`, () => {
        const workload = device === "blk" ? ({ kind: "fio", rw: "randrw", bs: 4096, iodepth: 1 } as const) : ({ kind: "rng", readSize: 512 } as const);
        const r = runJob({ transport, profile: ARCH, device, workload, ios: 50, seed: 1 });
        expect(r.ios).toBe(50);
        if (device === "rng") expect(r.bytesVerified).toBe(50 * 512);
        else expect(r.bytes).toBe(50 * 4096);
        expect(r.elapsedNs).toBeGreaterThan(0);
      });
    }
  }
});

describe.each(["buffered", "sg"] as const)("argo %s: a copy the machine refuses", (variant) => {
  const PAGE = L.PAGE_SIZE;
  // The ring's pop checks every buffer, so a buffer can only be refused if its mapping goes
  // away while the chain is in flight: a dom0 frame foreign-mapped above the guest's RAM,
  // unmapped after the kick.
  const GFN = GUEST_PAGES + 8;

  it("the driver's writable buffer is gone when the completion arrives: nothing is written, the chain comes back empty, one I/O error", () => {
    const w = argoWorld({ variant });
    expect(w.m.p2mMap(1, GFN, w.m.populate(0, 240), L.P2M_FOREIGN)).toBe(L.MST_OK);
    const hdr = w.pages.allocGpa(1);
    w.m.write(1, hdr, new Uint8Array(16)); // VIRTIO_BLK_T_IN (0), sector 0
    w.m.write(1, hdr + 16, new Uint8Array([0xee])); // status: not written by anyone yet
    const before = w.m.counters();
    const bufs = [{ gpa: hdr, len: 16, write: false }, { gpa: GFN * PAGE, len: PAGE, write: true }, { gpa: hdr + 16, len: 1, write: true }];
    expect(w.driver.submit(0, bufs, null as never)).toBe(true);
    expect(w.driver.kick(0)).toBe(true);
    expect(w.m.p2mUnmap(1, GFN)).toBeGreaterThan(0);
    for (let i = 0; i < 4 && w.m.counter(L.CNT_AR_COMPLETIONS_SENT) === before[L.CNT_AR_COMPLETIONS_SENT]; i++) w.t.service();
    const done = w.driver.handleInterrupt() ?? [];
    const d = diff(w.m.counters(), before);
    expect(done.map((c) => c.written)).toEqual([0]);
    expect(d[L.CNT_TR_IO_ERRORS]).toBe(1);
    expect(d[L.CNT_REFUSED_NOT_MAPPED]).toBe(1);
    // The device read the disk and Xen carried the completion; the guest's copy moved nothing.
    expect([d[L.CNT_TR_DEV_WRITE_BYTES], d[L.CNT_AR_COMPLETIONS_SENT]]).toEqual([PAGE + 1, 1]);
    // buffered: the guest's one copy is the request's 16-byte header it staged.
    expect([d[L.CNT_TR_COPIES_GUEST], d[L.CNT_TR_COPY_BYTES_GUEST]]).toEqual(variant === "buffered" ? [1, 16] : [0, 0]);
    expect(w.m.read(1, hdr + 16, 1)[0]).toBe(0xee); // the status byte after the refused piece was never written
    // What moved was counted and priced on its component, refusal or not.
    expectCopiesPriced(price(d, profile), d, `argo:${variant} refused`);
    expectMachineCopiesAttributed(d, `argo:${variant} refused`);
  });
});
