// Random workloads over both transports (fixed fast-check seed): every byte lands and reads
// back, the counters obey the transport's model exactly, and a run is a pure function of its
// inputs (the same inputs give the same counters, slot by slot).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as L from "../src/wasm/layout.ts";
import { runHarness } from "../src/transports/harness.ts";
import { BlkPattern } from "./helpers/blk-pattern.ts";
import { DISK_BYTES, MemDisk, foreignWorld, kvmWorld } from "./helpers/transport-world.ts";

const params = fc.record({
  count: fc.integer({ min: 1, max: 16 }),
  seed: fc.integer({ min: 0, max: 1 << 30 }),
  iodepth: fc.integer({ min: 1, max: 12 }),
  mixed: fc.boolean(),
  eventIdx: fc.boolean(),
  packed: fc.boolean(),
  kickEachSubmit: fc.boolean(),
  irqPerChain: fc.boolean(),
  cache: fc.boolean(),
  msi: fc.boolean(),
});
type P = typeof params extends fc.Arbitrary<infer T> ? T : never;

function runForeign(p: P) {
  const w = foreignWorld({
    eventIdx: p.eventIdx, packed: p.packed,
    mf: { eventIdx: p.eventIdx, packed: p.packed, irqPerChain: p.irqPerChain, mapping: { mode: p.cache ? "cache" : "per-request" } },
  });
  const wl = new BlkPattern(w.guest, DISK_BYTES, p.count, p.seed, p.mixed);
  w.c.mark();
  const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: p.iodepth, kickEachSubmit: p.kickEachSubmit });
  return { w, wl, r };
}

function runKvm(p: P) {
  const w = kvmWorld({ eventIdx: p.eventIdx, packed: p.packed, kvm: { eventIdx: p.eventIdx, packed: p.packed, irqPerChain: p.irqPerChain, msi: p.msi } });
  const wl = new BlkPattern(w.guest, DISK_BYTES, p.count, p.seed, p.mixed);
  w.c.mark();
  const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: p.iodepth, kickEachSubmit: p.kickEachSubmit });
  return { w, wl, r };
}

describe("transport properties", () => {
  it("mmio-foreign: bytes land and read back; traps, hypercalls and mappings add up", () => {
    fc.assert(fc.property(params, (p) => {
      const { w, wl, r } = runForeign(p);
      const c = w.c;
      expect(wl.verifyImage((w.backing as MemDisk).bytes)).toBe(wl.bytesWritten);
      expect(wl.bytesVerified).toBe(wl.bytesWritten);
      expect(r.completed).toBe(2 * p.count);
      expect(c.get(L.CNT_TR_REG_TRAPS_NOTIFY)).toBe(r.kicks);
      expect(c.get(L.CNT_TR_REG_TRAPS_ISR)).toBe(2 * r.interrupts);
      expect(c.get(L.CNT_TR_REG_TRAPS)).toBe(r.kicks + 2 * r.interrupts);
      expect(c.get(L.CNT_IOREQ_SENT)).toBe(c.get(L.CNT_TR_REG_TRAPS));
      expect(c.get(L.CNT_MF_IRQ_LEVEL_OPS)).toBe(2 * r.interrupts); // raise, and the ACK lowers
      expect(c.get(L.CNT_HYPERCALLS)).toBe(c.get(L.CNT_EVTCHN_OPS) + c.get(L.CNT_IOREQ_DM_OPS) + c.get(L.CNT_FOREIGN_BATCHES) + c.get(L.CNT_FOREIGN_UNMAPS));
      expect(c.get(L.CNT_EVTCHN_OPS)).toBe(c.get(L.CNT_IOREQ_SENT)); // one emulator notify per answer
      const mapped = c.get(L.CNT_FOREIGN_MAPS) - c.get(L.CNT_FOREIGN_UNMAPS);
      expect(w.t.exposure().mapped).toBe(3 + mapped);
      expect(mapped).toBe(w.t.maps.cachedPages);
      expect(c.get(L.CNT_TR_IO_ERRORS) + c.get(L.CNT_COPY_BYTES)).toBe(0);
      expect(w.blk.stats.ok).toBe(2 * p.count);
    }), { seed: 20240611, numRuns: 40 });
  });

  it("kvm-ioeventfd: bytes land and read back; exits and injections add up", () => {
    fc.assert(fc.property(params, (p) => {
      const { w, wl, r } = runKvm(p);
      const c = w.c;
      expect(wl.verifyImage((w.backing as MemDisk).bytes)).toBe(wl.bytesWritten);
      expect(wl.bytesVerified).toBe(wl.bytesWritten);
      expect(c.get(L.CNT_KVM_EXITS_IOEVENTFD)).toBe(r.kicks);
      expect(c.get(L.CNT_KVM_EXITS_USER)).toBe(p.msi ? 0 : 2 * r.interrupts);
      expect(c.get(L.CNT_KVM_IRQ_INJECTIONS)).toBe(r.interrupts);
      expect(c.get(L.CNT_KVM_EVENTFD_SIGNALS) + c.get(L.CNT_KVM_EVENTFD_MERGED)).toBe(r.kicks);
      expect(c.get(L.CNT_KVM_BACKEND_WAKEUPS)).toBe(c.get(L.CNT_KVM_EVENTFD_SIGNALS));
      expect(c.get(L.CNT_HYPERCALLS) + c.get(L.CNT_COPY_BYTES) + c.get(L.CNT_TR_PAGES_EXPOSED_IO)).toBe(0);
    }), { seed: 20240612, numRuns: 40 });
  });

  it("is deterministic: the same inputs give the same counters in every slot", () => {
    fc.assert(fc.property(params, (p) => {
      const a = runForeign(p).w.m.counters();
      const b = runForeign(p).w.m.counters();
      expect(Array.from(a)).toEqual(Array.from(b));
    }), { seed: 20240613, numRuns: 10 });
  });
});
