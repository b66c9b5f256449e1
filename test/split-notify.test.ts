// Split virtqueue notification decisions, both directions, with and without EVENT_IDX,
// including free-running index wrap-around.
import { describe, expect, it } from "vitest";
import { Machine } from "../src/wasm/machine.ts";
import { SplitDevice, SplitDriver, type SplitFeatures } from "../src/wasm/split.ts";
import * as L from "../src/wasm/layout.ts";
import { MockSplitQueue } from "./helpers/mock-split.ts";

const GUEST = 1;
const BUF = 0x40000;

/** A device over a mock ring whose descriptors 0..size-1 are each a one-segment chain and whose
 *  avail slot i holds head i, so advancing avail.idx republishes chains. */
function resident(build: "release" | "debug", size: number, features: SplitFeatures) {
  const m = new Machine({ build });
  m.createDomain(GUEST, 256);
  const mq = new MockSplitQueue(m, GUEST, size, 0x10000);
  for (let i = 0; i < size; i++) {
    mq.writeDesc(i, { addr: BUF, len: 64, flags: L.VRING_DESC_F_WRITE });
    mq.setAvailSlot(i, i);
  }
  const dev = new SplitDevice(m, 0, GUEST, size);
  expect(dev.enable(mq.ring, features)).toBe(L.VQ_OK);
  dev.setDriverOk(true);
  /** Makes `n` chains available, pops and completes them (no notification decision). */
  const cycle = (n: number) => {
    mq.availIdx = mq.availIdx + n;
    expect(dev.popRaw(n)).toBe(n);
    expect(dev.pushChainsRaw(L.IO_BASE, n)).toBe(n);
  };
  return { m, mq, dev, cycle };
}

describe.each(["release", "debug"] as const)("split notifications (%s)", (build) => {
  describe("device -> driver (used buffers)", () => {
    it("without EVENT_IDX follows avail.flags NO_INTERRUPT", () => {
      const { m, mq, dev, cycle } = resident(build, 16, {});
      cycle(1);
      expect(dev.needInterrupt()).toBe(true);
      mq.availFlags = L.VRING_AVAIL_F_NO_INTERRUPT;
      cycle(1);
      expect(dev.needInterrupt()).toBe(false);
      expect(m.counter(L.CNT_VQ_IRQ_SENT)).toBe(1);
      expect(m.counter(L.CNT_VQ_IRQ_SUPPRESSED)).toBe(1);
      expect(dev.numAdded).toBe(0);
    });

    it("with EVENT_IDX: the first decision after reset notifies, then used_event decides", () => {
      const { m, mq, dev, cycle } = resident(build, 16, { eventIdx: true });
      mq.usedEvent = 100; // far away, but the first decision is unconditional (QEMU)
      mq.availFlags = L.VRING_AVAIL_F_NO_INTERRUPT; // ignored with EVENT_IDX
      cycle(2);
      expect(dev.needInterrupt()).toBe(true);
      cycle(3); // used idx 2 -> 5
      mq.usedEvent = 5;
      expect(dev.needInterrupt()).toBe(false); // 5 is not in [2, 5)
      cycle(1); // 5 -> 6
      expect(dev.needInterrupt()).toBe(true);
      cycle(4); // 6 -> 10, event 5 already passed
      expect(dev.needInterrupt()).toBe(false);
      mq.usedEvent = 10;
      expect(dev.needInterrupt()).toBe(false); // nothing added since the last decision
      cycle(1);
      expect(dev.needInterrupt()).toBe(true);
      expect(m.counter(L.CNT_VQ_IRQ_SENT)).toBe(3);
      expect(m.counter(L.CNT_VQ_IRQ_SUPPRESSED)).toBe(3);
    });

    it("with EVENT_IDX across the 16-bit wrap of used.idx", () => {
      const { mq, dev, cycle } = resident(build, 256, { eventIdx: true });
      for (let i = 0; i < 255; i++) cycle(256); // used idx 65280
      cycle(253); // 65533 = 0xfffd
      mq.usedEvent = 0;
      expect(dev.needInterrupt()).toBe(true); // first decision
      expect(dev.nextUsed).toBe(0xfffd);
      cycle(4); // 0xfffd -> 1
      mq.usedEvent = 0xffff;
      expect(dev.needInterrupt()).toBe(true);
      cycle(4); // 1 -> 5
      mq.usedEvent = 0; // behind: [1, 5) does not contain 0
      expect(dev.needInterrupt()).toBe(false);
      expect(dev.nextUsed).toBe(5);
    });

    it("an ambiguous jump of used.idx (over 2^15 since the last decision) forces the next notification", () => {
      const { mq, dev, cycle } = resident(build, 256, { eventIdx: true });
      cycle(1);
      expect(dev.needInterrupt()).toBe(true); // signalled = 1
      mq.usedEvent = 0; // stays behind
      for (let i = 0; i < 128; i++) cycle(256); // 1 -> 32769: 32768 past the last decision
      expect(dev.needInterrupt()).toBe(true);
      cycle(1);
      expect(dev.needInterrupt()).toBe(false);
    });
  });

  describe("driver -> device (kicks) and enable/disable on both sides", () => {
    it("device disable/enable without EVENT_IDX toggles used.flags and re-checks avail.idx", () => {
      const { mq, dev } = resident(build, 16, {});
      dev.disableNotifications();
      expect(mq.usedFlags).toBe(L.VRING_USED_F_NO_NOTIFY);
      expect(dev.enableNotifications()).toBe(false);
      expect(mq.usedFlags).toBe(0);
      mq.availIdx = 1; // a buffer raced the re-enable
      expect(dev.enableNotifications()).toBe(true);
    });

    it("device with EVENT_IDX publishes avail_event on pops only while notifications are on", () => {
      const { mq, dev } = resident(build, 16, { eventIdx: true });
      mq.availIdx = 3;
      dev.pop();
      expect(mq.availEvent).toBe(3);
      dev.disableNotifications();
      expect(mq.usedFlags).toBe(0); // flags are not used with EVENT_IDX
      mq.availIdx = 5;
      dev.pop();
      expect(mq.availEvent).toBe(3); // stale: suppresses kicks
      expect(dev.enableNotifications()).toBe(false);
      expect(mq.availEvent).toBe(5);
    });

    const driverPair = (features: SplitFeatures, size = 16) => {
      const m = new Machine({ build });
      m.createDomain(GUEST, 256);
      const ring = { size, desc: 0x10000, avail: 0x11000, used: 0x12000 };
      const drv = new SplitDriver(m, 1, GUEST, size);
      expect(drv.init(ring, features)).toBe(L.VQ_OK);
      const dev = new SplitDevice(m, 0, GUEST, size);
      expect(dev.enable(ring, features)).toBe(L.VQ_OK);
      dev.setDriverOk(true);
      const mq = new MockSplitQueue(m, GUEST, size, 0, ring);
      const req = { segs: [{ addr: BUF, len: 32, write: true }] };
      const round = (n: number) => {
        expect(drv.add(Array.from({ length: n }, () => req))).toHaveLength(n);
        const kicked = drv.kick();
        const chains = dev.pop(n);
        dev.push(chains.map((c) => ({ id: c.head, len: 0 })));
        expect(drv.reclaim()).toHaveLength(n);
        return kicked;
      };
      return { m, drv, dev, mq, ring, round };
    };

    it("driver kick without EVENT_IDX follows used.flags NO_NOTIFY", () => {
      const { m, drv, dev, round } = driverPair({});
      expect(round(2)).toBe(true);
      dev.disableNotifications();
      expect(round(1)).toBe(false);
      expect(m.counter(L.CNT_VQ_NOTIFY_SENT)).toBe(1);
      expect(m.counter(L.CNT_VQ_NOTIFY_SUPPRESSED)).toBe(1);
      expect(drv.numAdded).toBe(0);
    });

    it("driver kick with EVENT_IDX uses avail_event against the idx at the previous decision, across the wrap", () => {
      const { drv, mq, round } = driverPair({ eventIdx: true }, 16);
      expect(round(1)).toBe(true); // device's avail_event was 0: [0, 1) contains it
      for (let i = 0; i < 4095; i++) round(16); // avail idx 65521
      expect(drv.availIdx).toBe(65521);
      // The device keeps avail_event = next_avail after each pop (65521).
      expect(mq.availEvent).toBe(65521);
      expect(drv.add([{ segs: [{ addr: BUF, len: 8, write: false }] }])).toHaveLength(1);
      expect(drv.kick()).toBe(true); // 65521 in [65521, 65522)
      mq.availEvent = 0xffff;
      for (let i = 0; i < 15; i++) drv.add([{ segs: [{ addr: BUF, len: 8, write: false }] }]); // 65522 -> 1 (wrap), old = 65522
      expect(drv.availIdx).toBe(1);
      expect(drv.kick()).toBe(true); // 0xffff in [65522, 1) mod 2^16
      mq.availEvent = 0;
      expect(drv.kick()).toBe(false); // nothing added since the last decision
      expect(drv.add([{ segs: [{ addr: BUF, len: 8, write: false }] }])).toHaveLength(0); // 16 in flight: ring full
      expect(drv.status).toBe(L.VQ_ENOSPC);
    });

    it("driver kick with EVENT_IDX is suppressed while avail_event lies outside [old, new)", () => {
      const { m, drv, mq } = driverPair({ eventIdx: true });
      const one = { segs: [{ addr: BUF, len: 8, write: false }] };
      mq.availEvent = 10;
      drv.add([one, one]);
      expect(drv.kick()).toBe(false); // [0, 2)
      drv.add([one, one, one, one, one, one, one, one, one]);
      expect(drv.kick()).toBe(true); // [2, 11) holds 10
      drv.add([one]);
      expect(drv.kick()).toBe(false); // [11, 12)
      expect(m.counter(L.CNT_VQ_NOTIFY_SENT)).toBe(1);
      expect(m.counter(L.CNT_VQ_NOTIFY_SUPPRESSED)).toBe(2);
    });

    it("driver enable/disable callbacks: NO_INTERRUPT or used_event, with the re-check", () => {
      const plain = driverPair({});
      plain.drv.disableCallbacks();
      expect(plain.mq.availFlagsValue).toBe(L.VRING_AVAIL_F_NO_INTERRUPT);
      expect(plain.drv.enableCallbacks()).toBe(false);
      expect(plain.mq.availFlagsValue).toBe(0);

      const ev = driverPair({ eventIdx: true });
      ev.round(3);
      ev.drv.disableCallbacks();
      expect(ev.mq.usedEventValue).toBe(0); // Linux's value while disabled
      expect(ev.drv.enableCallbacks()).toBe(false);
      expect(ev.mq.usedEventValue).toBe(3);
      // A completion that races the re-arm is seen by the re-check.
      ev.drv.add([{ segs: [{ addr: BUF, len: 8, write: true }] }]);
      ev.drv.kick();
      const [c] = ev.dev.pop();
      ev.dev.push([{ id: c!.head, len: 8 }]);
      expect(ev.drv.enableCallbacks()).toBe(true);
    });
  });
});
