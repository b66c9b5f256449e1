// fat-virtqueue (Linaro's proposal): the virtqueue is enlarged with one payload slot per
// descriptor, and descriptors point inside the ring's own slot area. Only the ring is shared,
// once at set-up: the guest grants the enlarged ring's pages to the backend and the backend
// maps those grants, once; it never maps anything else and needs no foreign-mapping right, so
// a driver domain can serve it (shared-region.ts does the region, the channel and the backend;
// region-share.ts the grants). The frontend copies each
// device-readable buffer into a slot before adding it and each device-written slot back out
// after use. The backend reads and writes the slots in place (0 backend copies). A buffer
// larger than a slot is refused before anything is added (the driver's submit throws, leaving
// the ring unchanged): large payloads do not suit this design.
import * as L from "../wasm/layout.ts";
import type { GrantTables } from "../xen/grant-table.ts";
import { setupFail, SharedRegionTransport, type SharedRegionOptions } from "./shared-region.ts";

const PAGE = 4096;

export interface FatVirtqueueOptions extends SharedRegionOptions {
  /** The grant tables (required: the ring is granted). */
  gt: GrantTables;
  /** Payload slots after the rings (default 32) and the bytes of each (default 4096). The
   *  region defaults to the guest's top `ringPages` + slot pages. */
  slots?: number;
  slotBytes?: number;
}

export class FatVirtqueueTransport extends SharedRegionTransport {
  readonly id = "fat-virtqueue" as const;
  readonly slotBytes: number;
  readonly slotsBytes: number;
  /** Free slot indices (a stack: the lowest is taken first). */
  private free: number[];

  constructor(o: FatVirtqueueOptions) {
    const fail = setupFail("fat-virtqueue");
    const slots = o.slots ?? 32;
    const slotBytes = o.slotBytes ?? 4096;
    if (!Number.isInteger(slots) || slots < 1) fail(`slots must be a positive integer, got ${o.slots}`);
    if (!Number.isInteger(slotBytes) || slotBytes < 16 || slotBytes % 16 !== 0) fail(`slotBytes must be a positive multiple of 16, got ${o.slotBytes}`);
    super(o, {
      id: "fat-virtqueue", dataPages: Math.ceil((slots * slotBytes) / PAGE), dataName: "ring's slots", share: "grant",
      counters: {
        regionMapped: L.CNT_FV_RING_PAGES_MAPPED, irqs: L.CNT_FV_IRQS, kicks: L.CNT_FV_KICKS,
        copiesIn: L.CNT_FV_SLOT_COPIES_IN, copiesOut: L.CNT_FV_SLOT_COPIES_OUT, bytesIn: L.CNT_FV_SLOT_BYTES_IN, bytesOut: L.CNT_FV_SLOT_BYTES_OUT,
      },
    });
    this.slotBytes = slotBytes;
    this.slotsBytes = slots * slotBytes;
    this.free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  get slotsGpa(): number { return this.dataGpa; }

  /** Slots not in use. */
  get slotsFree(): number {
    return this.free.length;
  }

  protected allocData(len: number): number {
    const m = this.env.hv.machine;
    if (len > this.slotBytes) {
      m.bump(L.CNT_FV_OVERSIZE);
      throw new RangeError(`fat-virtqueue: a ${len}-byte buffer does not fit a ${this.slotBytes}-byte ring slot`);
    }
    const i = this.free.pop();
    if (i === undefined) {
      m.bump(L.CNT_FV_SLOTS_EXHAUSTED);
      throw new RangeError(`fat-virtqueue: all ${this.slotsBytes / this.slotBytes} ring slots are in use`);
    }
    return i * this.slotBytes;
  }

  protected freeData(off: number): void {
    this.free.push(off / this.slotBytes);
    this.free.sort((x, y) => y - x);
  }

  /** A descriptor may not run past its slot into the next one. */
  protected runEnd(gpa: number): number {
    return this.slotsGpa + (Math.floor((gpa - this.slotsGpa) / this.slotBytes) + 1) * this.slotBytes;
  }
}
