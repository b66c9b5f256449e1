// Wrapper over the ring-arithmetic exports (assembly/virtq/ring-api.ts).
import type { Machine } from "./machine.ts";
import { IO_BASE, IO_SIZE } from "./layout.ts";

interface RingExports {
  vring_need_event(event: number, newIdx: number, oldIdx: number): number;
  vring_size(num: number, align: number): number;
  vring_need_event_batch(src: number, n: number, dst: number): number;
}

function checkIndex(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${name} must be a u16 ring index, got ${v}`);
}

/** Triples per batch call: 6 input bytes and 1 result byte each must fit the IO window. */
const BATCH = Math.floor(IO_SIZE / 7);

export class WasmRingMath {
  private readonly machine: Machine;
  private readonly x: RingExports;
  constructor(machine: Machine) {
    this.machine = machine;
    this.x = machine.raw<RingExports>();
  }

  needEvent(event: number, newIdx: number, oldIdx: number): boolean {
    checkIndex("event", event);
    checkIndex("newIdx", newIdx);
    checkIndex("oldIdx", oldIdx);
    return this.x.vring_need_event(event, newIdx, oldIdx) !== 0;
  }

  vringSize(num: number, align: number): number {
    if (!Number.isInteger(num) || num < 1 || num > 32768) throw new RangeError(`num must be an integer in [1, 32768], got ${num}`);
    if (!Number.isInteger(align) || align < 1 || align > 2 ** 31 || (align & (align - 1)) !== 0) {
      throw new RangeError(`align must be a power of two in [1, 2^31], got ${align}`);
    }
    return this.x.vring_size(num, align) >>> 0;
  }

  /** vring_need_event over (event, new, old) triples laid out flat; one 0/1 byte per triple.
   *  Crosses the boundary once per IO window's worth of triples. */
  needEventBatch(triples: Uint16Array): Uint8Array {
    if (triples.length % 3 !== 0) throw new RangeError(`triples must hold a multiple of 3 indexes, got ${triples.length}`);
    const n = triples.length / 3;
    const out = new Uint8Array(n);
    for (let first = 0; first < n; first += BATCH) {
      const count = Math.min(BATCH, n - first);
      const dst = IO_BASE + count * 6;
      const dv = this.machine.dv;
      for (let i = 0; i < count * 3; i++) dv.setUint16(IO_BASE + i * 2, triples[first * 3 + i]!, true);
      const hits = this.x.vring_need_event_batch(IO_BASE, count, dst) >>> 0;
      if (hits === 0xffffffff) throw new Error(`vring_need_event_batch refused ${count} triples (outside the IO window)`);
      out.set(this.machine.u8.subarray(dst, dst + count), first);
    }
    return out;
  }
}
