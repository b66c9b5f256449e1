// Plain-TS reference of guest-physical access (assembly/machine/access.ts translate()): the same
// p2m walk and rights checks over the same linear memory, used by the TS reference virtqueues
// in differential tests and benchmarks. Counts go into a host-side Float64Array laid out like
// the Wasm counters block, so both can be compared slot by slot.
import type { Machine } from "./machine.ts";
import * as L from "./layout.ts";

export type HostCounters = Float64Array;

export function newHostCounters(): HostCounters {
  return new Float64Array(L.COUNTERS_SLOTS);
}

const TLB = 4;

export class TsGuestMemory {
  readonly machine: Machine;
  readonly domid: number;
  readonly counters: HostCounters;
  // Direct-mapped translation cache, as the kernels keep per queue.
  private readonly tag = new Int32Array(TLB).fill(-1);
  private readonly base = new Float64Array(TLB);
  private readonly gen = new Uint32Array(TLB);
  private readonly writable = new Uint8Array(TLB);

  constructor(machine: Machine, domid: number, counters: HostCounters = newHostCounters()) {
    this.machine = machine;
    this.domid = domid;
    this.counters = counters;
  }

  get dv(): DataView {
    return this.machine.dv;
  }

  private refuse(status: number): number {
    const c = this.counters;
    c[L.CNT_ACCESS_REFUSED]!++;
    if (status === L.MST_NOT_MAPPED) c[L.CNT_REFUSED_NOT_MAPPED]!++;
    else if (status === L.MST_READ_ONLY) c[L.CNT_REFUSED_READ_ONLY]!++;
    else if (status === L.MST_NOT_OWNER) c[L.CNT_REFUSED_NOT_OWNER]!++;
    else if (status === L.MST_NO_DOMAIN) c[L.CNT_REFUSED_NO_DOMAIN]!++;
    else c[L.CNT_REFUSED_RANGE]!++;
    return -1;
  }

  /** Linear address of frame `gfn` for the access, or -1 when refused (counted). */
  translate(gfn: number, write: boolean): number {
    const dv = this.machine.dv;
    const domid = this.domid;
    if (domid < 0 || domid >= L.MAX_DOMAINS) return this.refuse(L.MST_NO_DOMAIN);
    const d = L.DOMAINS_BASE + domid * L.DOMAIN_ENTRY_SIZE;
    if ((dv.getUint32(d + L.DOM_FLAGS, true) & L.DOMF_EXISTS) === 0) return this.refuse(L.MST_NO_DOMAIN);
    if (gfn >= dv.getUint32(d + L.DOM_MAX_GFN, true)) return this.refuse(L.MST_NOT_MAPPED);
    const top = L.POOL_BASE + dv.getUint32(d + L.DOM_P2M_TOP, true) * L.PAGE_SIZE;
    const leaf = dv.getUint32(top + (gfn >>> L.P2M_LEVEL_BITS) * 4, true);
    const slot = leaf === 0 ? 0 : L.POOL_BASE + leaf * L.PAGE_SIZE + (gfn & ((1 << L.P2M_LEVEL_BITS) - 1)) * 4;
    const ent = slot === 0 ? 0 : dv.getUint32(slot, true);
    if (ent === 0) {
      if (gfn >= dv.getUint32(d + L.DOM_RAM_PAGES, true)) return this.refuse(L.MST_NOT_MAPPED);
      if (!write) return L.POOL_BASE;
      const mfn = this.machine.exports.gfn_populate(domid, gfn);
      if (mfn < 0) return this.refuse(mfn);
      return L.POOL_BASE + mfn * L.PAGE_SIZE;
    }
    const mfn = ent >>> L.P2M_MFN_SHIFT;
    if (write && (ent & L.P2MF_RO) !== 0) return this.refuse(L.MST_READ_ONLY);
    if ((ent & L.P2M_TYPE_MASK) === L.P2M_RAM) {
      const owner = dv.getUint16(L.FRAME_TABLE_BASE + mfn * L.FRAME_ENTRY_SIZE + L.FRAME_OWNER, true);
      if (owner !== domid) return this.refuse(L.MST_NOT_OWNER);
    }
    const want = write ? L.P2MF_ACCESSED | L.P2MF_DIRTY : L.P2MF_ACCESSED;
    if ((ent & want) !== want) dv.setUint32(slot, (ent | want) >>> 0, true);
    return L.POOL_BASE + mfn * L.PAGE_SIZE;
  }

  /** Linear address of byte `gpa` for an access that stays inside one page, or -1 (counted). */
  addr(gpa: number, write: boolean): number {
    const gfn = Math.floor(gpa / L.PAGE_SIZE);
    const i = gfn & (TLB - 1);
    const gen = this.machine.dv.getUint32(L.MACHINE_BASE + L.MACHINE_P2M_GEN, true);
    if (this.tag[i] === gfn && this.gen[i] === gen && (!write || this.writable[i] === 1)) {
      return this.base[i]! + (gpa % L.PAGE_SIZE);
    }
    if (gpa >= 2 ** 32) return this.refuse(L.MST_RANGE);
    const b = this.translate(gfn, write);
    if (b < 0) return -1;
    this.tag[i] = gfn;
    this.base[i] = b;
    this.gen[i] = this.machine.dv.getUint32(L.MACHINE_BASE + L.MACHINE_P2M_GEN, true);
    this.writable[i] = write ? 1 : 0;
    return b + (gpa % L.PAGE_SIZE);
  }

  // Field access for reference code (little-endian, naturally aligned, inside one page).
  // Reads return -1 when refused (counted); writes return false.
  r8(gpa: number): number {
    const a = this.addr(gpa, false);
    return a < 0 ? -1 : this.machine.dv.getUint8(a);
  }
  r16(gpa: number): number {
    const a = this.addr(gpa, false);
    return a < 0 ? -1 : this.machine.dv.getUint16(a, true);
  }
  r32(gpa: number): number {
    const a = this.addr(gpa, false);
    return a < 0 ? -1 : this.machine.dv.getUint32(a, true);
  }
  w8(gpa: number, v: number): boolean {
    const a = this.addr(gpa, true);
    if (a < 0) return false;
    this.machine.dv.setUint8(a, v);
    return true;
  }
  w16(gpa: number, v: number): boolean {
    const a = this.addr(gpa, true);
    if (a < 0) return false;
    this.machine.dv.setUint16(a, v, true);
    return true;
  }
  w32(gpa: number, v: number): boolean {
    const a = this.addr(gpa, true);
    if (a < 0) return false;
    this.machine.dv.setUint32(a, v >>> 0, true);
    return true;
  }

  /** Forget cached translations (a new ring, a reset). */
  flush(): void {
    this.tag.fill(-1);
  }
}
