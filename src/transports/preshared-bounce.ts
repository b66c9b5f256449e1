// preshared-bounce (the Wind River / OpenAMP kvmtool approach): one region of guest RAM per
// device is shared once, at set-up, and never changes; the rings sit at its start, a buffer
// pool fills the rest (shared-region.ts does the region, the channel and the backend). The
// guest driver bounces: a device-readable buffer is copied into a pool slot before it is
// added, a device-writable one is copied out of its slot after use (both are guest copies,
// as swiotlb does). The backend reads and writes the slots in place. The register block is
// plain shared memory (no trap), as in OpenAMP's virtio-mmio over shared memory.
import * as L from "../wasm/layout.ts";
import { setupFail, SharedRegionTransport, type SharedRegionOptions } from "./shared-region.ts";

const SLOT_ALIGN = 16;

export interface PresharedBounceOptions extends SharedRegionOptions {
  /** Pages of bounce pool after the rings (default 32). The region defaults to the guest's
   *  top `ringPages + poolPages` pages. */
  poolPages?: number;
}

const rounded = (len: number) => Math.ceil(Math.max(len, 1) / SLOT_ALIGN) * SLOT_ALIGN;

export class PresharedBounceTransport extends SharedRegionTransport {
  readonly id = "preshared-bounce" as const;
  /** Free pool runs [offset, len), sorted by offset. */
  private free: [number, number][];

  constructor(o: PresharedBounceOptions) {
    const poolPages = o.poolPages ?? 32;
    if (!Number.isInteger(poolPages) || poolPages < 1) setupFail("preshared-bounce")(`poolPages must be a positive integer, got ${o.poolPages}`);
    super(o, {
      id: "preshared-bounce", dataPages: poolPages, dataName: "shared pool", share: "foreign",
      counters: {
        regionMapped: L.CNT_PB_REGION_PAGES_MAPPED, irqs: L.CNT_PB_IRQS, kicks: L.CNT_PB_KICKS,
        copiesIn: L.CNT_PB_BOUNCE_IN_COPIES, copiesOut: L.CNT_PB_BOUNCE_OUT_COPIES, bytesIn: L.CNT_PB_BOUNCE_IN_BYTES, bytesOut: L.CNT_PB_BOUNCE_OUT_BYTES,
      },
    });
    this.free = [[0, this.dataBytes]];
  }

  get poolGpa(): number { return this.dataGpa; }
  get poolBytes(): number { return this.dataBytes; }

  /** Pool bytes not handed out. */
  get poolFree(): number {
    return this.free.reduce((s, [, n]) => s + n, 0);
  }

  protected allocData(len: number): number {
    const want = rounded(len);
    const i = this.free.findIndex(([, n]) => n >= want);
    if (i < 0) {
      this.env.hv.machine.bump(L.CNT_PB_POOL_EXHAUSTED);
      throw new Error(`preshared-bounce: the ${this.poolBytes}-byte pool has no room for a ${len}-byte buffer (${this.poolFree} bytes free)`);
    }
    const [off, n] = this.free[i]!;
    if (n === want) this.free.splice(i, 1);
    else this.free[i] = [off + want, n - want];
    return off;
  }

  protected freeData(off: number, len: number): void {
    this.free.push([off, rounded(len)]);
    this.free.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const r of this.free) {
      const last = merged[merged.length - 1];
      if (last && last[0] + last[1] === r[0]) last[1] += r[1];
      else merged.push([r[0], r[1]]);
    }
    this.free = merged;
  }

  /** A descriptor may run to the pool's end. */
  protected runEnd(): number {
    return this.poolGpa + this.poolBytes;
  }
}
