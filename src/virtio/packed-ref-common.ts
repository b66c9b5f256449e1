// Plain-TS reference of the packed virtqueue kernels: what both sides share (mirrors
// assembly/virtq/packed.ts and the parts of common.ts the packed ring uses). Same algorithm,
// same error codes, same counter effects; counts go to a HostCounters array.
import type { Machine } from "../wasm/machine.ts";
import type { HostCounters, TsGuestMemory } from "../wasm/ts-guest-memory.ts";
import * as L from "../wasm/layout.ts";

export const DESC_SIZE = 16;
export const D_ADDR = 0;
export const D_LEN = 8;
export const D_ID = 12;
export const D_FLAGS = 14;
const GPA_LIMIT = L.P2M_MAX_GFNS * L.PAGE_SIZE; // 2^32
const TWO32 = 2 ** 32;

/** One side's ring state (what the Wasm keeps in its queue state block). */
export interface RefRing {
  flags: number;
  error: number;
  ringDomid: number;
  size: number;
  desc: number;
  driverArea: number;
  deviceArea: number;
  nextAvail: number;
  availWrap: number;
  nextUsed: number;
  usedWrap: number;
  numAdded: number;
  inFlight: number;
}

export function newRing(flags: number, ringDomid: number): RefRing {
  return {
    flags: (flags | L.QF_PACKED) & ~(L.QF_READY | L.QF_BROKEN | L.QF_DRIVER_OK), error: 0, ringDomid,
    size: 0, desc: 0, driverArea: 0, deviceArea: 0, nextAvail: 0, availWrap: 0, nextUsed: 0, usedWrap: 0,
    numAdded: 0, inFlight: 0,
  };
}

export function isAvail(flags: number, wrap: number): boolean {
  return ((flags >>> 7) & 1) === wrap && ((flags >>> 15) & 1) !== wrap;
}

export function isUsed(flags: number, wrap: number): boolean {
  return ((flags >>> 7) & 1) === wrap && ((flags >>> 15) & 1) === wrap;
}

/** fail() of common.ts: the first error sticks and breaks the queue; every call is counted. */
export function fail(r: RefRing, c: HostCounters, code: number): number {
  if ((r.flags & L.QF_BROKEN) === 0) {
    r.flags |= L.QF_BROKEN;
    r.error = code;
  }
  c[L.CNT_VQ_ERRORS]!++;
  c[L.CNT_VIRTQ_ERR_BASE + code]!++;
  return code;
}

function refuse(c: HostCounters, status: number): boolean {
  c[L.CNT_ACCESS_REFUSED]!++;
  if (status === L.MST_NOT_MAPPED) c[L.CNT_REFUSED_NOT_MAPPED]!++;
  else if (status === L.MST_READ_ONLY) c[L.CNT_REFUSED_READ_ONLY]!++;
  else if (status === L.MST_NOT_OWNER) c[L.CNT_REFUSED_NOT_OWNER]!++;
  else if (status === L.MST_NO_DOMAIN) c[L.CNT_REFUSED_NO_DOMAIN]!++;
  else c[L.CNT_REFUSED_RANGE]!++;
  return false;
}

/** translate(domid, gfn, write, probe = true) of access.ts: would the access be allowed?
 *  Nothing is populated or marked; a refusal is counted. */
export function probe(m: Machine, c: HostCounters, domid: number, gfn: number, write: boolean): boolean {
  const dv = m.dv;
  if (domid < 0 || domid >= L.MAX_DOMAINS) return refuse(c, L.MST_NO_DOMAIN);
  const d = L.DOMAINS_BASE + domid * L.DOMAIN_ENTRY_SIZE;
  if ((dv.getUint32(d + L.DOM_FLAGS, true) & L.DOMF_EXISTS) === 0) return refuse(c, L.MST_NO_DOMAIN);
  if (gfn >= dv.getUint32(d + L.DOM_MAX_GFN, true)) return refuse(c, L.MST_NOT_MAPPED);
  const top = L.POOL_BASE + dv.getUint32(d + L.DOM_P2M_TOP, true) * L.PAGE_SIZE;
  const leaf = dv.getUint32(top + (gfn >>> L.P2M_LEVEL_BITS) * 4, true);
  const ent = leaf === 0 ? 0 : dv.getUint32(L.POOL_BASE + leaf * L.PAGE_SIZE + (gfn & ((1 << L.P2M_LEVEL_BITS) - 1)) * 4, true);
  if (ent === 0) {
    if (gfn >= dv.getUint32(d + L.DOM_RAM_PAGES, true)) return refuse(c, L.MST_NOT_MAPPED);
    return true;
  }
  if (write && (ent & L.P2MF_RO) !== 0) return refuse(c, L.MST_READ_ONLY);
  if ((ent & L.P2M_TYPE_MASK) === L.P2M_RAM) {
    const mfn = ent >>> L.P2M_MFN_SHIFT;
    if (dv.getUint16(L.FRAME_TABLE_BASE + mfn * L.FRAME_ENTRY_SIZE + L.FRAME_OWNER, true) !== domid) return refuse(c, L.MST_NOT_OWNER);
  }
  return true;
}

/** rangeOk() of packed.ts for a range below 2^53 (`gpa` a plain number). */
export function rangeOk(m: Machine, c: HostCounters, domid: number, gpa: number, len: number, write: boolean): boolean {
  if (len === 0) return true;
  const last = gpa + len - 1;
  if (last >= GPA_LIMIT) return false;
  const end = Math.floor(last / L.PAGE_SIZE);
  for (let g = Math.floor(gpa / L.PAGE_SIZE); g <= end; g++) {
    if (!probe(m, c, domid, g, write)) return false;
  }
  return true;
}

/** The kernels' fast path for the E17 check (packed-access.ts): the buffer domain's p2m looked
 *  up once per pop; a page the fast test is not sure about goes through probe(), which decides
 *  and counts. Same outcome as probe() on every page. Anything with a high address half is
 *  beyond 2^32 and refused without a translation (and so without a count). */
export class BufferCheck {
  readonly m: Machine;
  readonly c: HostCounters;
  readonly domid: number;
  private top = 0;
  private maxGfn = 0;

  constructor(m: Machine, c: HostCounters, domid: number) {
    this.m = m;
    this.c = c;
    this.domid = domid;
  }

  /** Looks the domain up again (at the start of every pop). */
  refresh(): void {
    const dv = this.m.dv;
    this.top = 0;
    this.maxGfn = 0;
    if (this.domid < 0 || this.domid >= L.MAX_DOMAINS) return;
    const d = L.DOMAINS_BASE + this.domid * L.DOMAIN_ENTRY_SIZE;
    if ((dv.getUint32(d + L.DOM_FLAGS, true) & L.DOMF_EXISTS) === 0) return;
    this.maxGfn = dv.getUint32(d + L.DOM_MAX_GFN, true);
    this.top = L.POOL_BASE + dv.getUint32(d + L.DOM_P2M_TOP, true) * L.PAGE_SIZE;
  }

  private pageFast(dv: DataView, gfn: number, write: boolean): boolean {
    if (this.top === 0 || gfn >= this.maxGfn) return false;
    const leaf = dv.getUint32(this.top + (gfn >>> L.P2M_LEVEL_BITS) * 4, true);
    if (leaf === 0) return false;
    const ent = dv.getUint32(L.POOL_BASE + leaf * L.PAGE_SIZE + (gfn & ((1 << L.P2M_LEVEL_BITS) - 1)) * 4, true);
    if (ent === 0 || (write && (ent & L.P2MF_RO) !== 0)) return false;
    return (ent & L.P2M_TYPE_MASK) !== L.P2M_RAM ||
      dv.getUint16(L.FRAME_TABLE_BASE + (ent >>> L.P2M_MFN_SHIFT) * L.FRAME_ENTRY_SIZE + L.FRAME_OWNER, true) === this.domid;
  }

  rangeOk64(lo: number, hi: number, len: number, write: boolean): boolean {
    if (len === 0) return true;
    if (hi !== 0) return false;
    const last = lo + len - 1;
    if (last >= GPA_LIMIT) return false;
    const dv = this.m.dv;
    const end = Math.floor(last / L.PAGE_SIZE);
    for (let g = Math.floor(lo / L.PAGE_SIZE); g <= end; g++) {
      if (!this.pageFast(dv, g, write) && !probe(this.m, this.c, this.domid, g, write)) return false;
    }
    return true;
  }
}

/** True when [lo + hi * 2^32, + len) runs past 2^64. */
export function wraps64(lo: number, hi: number, len: number): boolean {
  return len !== 0 && hi === 0xffffffff && lo + (len - 1) >= TWO32;
}

/** ringSetup() of packed.ts: E1, E2, E3 and the ready bit. */
export function ringSetup(m: Machine, c: HostCounters, r: RefRing, size: number, desc: number, driverArea: number, deviceArea: number, device: boolean): number {
  if (!(size > 0 && size <= L.VIRTQ_MAX_SIZE)) return fail(r, c, L.VQ_E1_BAD_SIZE);
  if (desc % 16 !== 0 || driverArea % 4 !== 0 || deviceArea % 4 !== 0) return fail(r, c, L.VQ_E2_MISALIGNED);
  if (!rangeOk(m, c, r.ringDomid, desc, size * DESC_SIZE, true) ||
      !rangeOk(m, c, r.ringDomid, driverArea, 4, !device) || !rangeOk(m, c, r.ringDomid, deviceArea, 4, device)) {
    return fail(r, c, L.VQ_E3_RING_OUTSIDE_RAM);
  }
  r.size = size;
  r.desc = desc;
  r.driverArea = driverArea;
  r.deviceArea = deviceArea;
  r.flags |= L.QF_READY;
  return L.VQ_OK;
}

export function deviceLive(r: RefRing, c: HostCounters): boolean {
  if ((r.flags & L.QF_BROKEN) !== 0) return false;
  if ((r.flags & (L.QF_READY | L.QF_DRIVER_OK)) !== (L.QF_READY | L.QF_DRIVER_OK)) {
    fail(r, c, L.VQ_E4_NOT_READY);
    return false;
  }
  return true;
}

export function driverLive(r: RefRing, c: HostCounters): boolean {
  if ((r.flags & L.QF_BROKEN) !== 0) return false;
  if ((r.flags & L.QF_READY) === 0) {
    fail(r, c, L.VQ_E4_NOT_READY);
    return false;
  }
  return true;
}

/** vring_need_event(): `event` in [old, new) modulo 2^16. */
export function needEvent(event: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - event - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}

/** wantsNotify() of packed.ts (virtio.md 2.4). */
export function wantsNotify(qflags: number, size: number, snap: number, cursor: number, wrap: number, added: number): boolean {
  const evFlags = (snap >>> 16) & 3;
  if ((qflags & L.QF_EVENT_IDX) === 0 || evFlags !== L.VRING_PACKED_EVENT_FLAG_DESC) {
    return evFlags !== L.VRING_PACKED_EVENT_FLAG_DISABLE;
  }
  if (added >= 0xffff) return true;
  let off = snap & 0x7fff;
  if (((snap >>> 15) & 1) !== wrap) off = (off - size) & 0xffff;
  return needEvent(off, cursor, (cursor - added) & 0xffff);
}

/** Arms or disarms the notifications a side receives, through its own event suppression
 *  structure at `area` (the device's for kicks, the driver's for interrupts): with EVENT_IDX,
 *  "notify me once slot `cursor` of lap `wrap` is done", else ENABLE. Re-checks the slot at
 *  the cursor: true when `ready` says work is already waiting. Ring access failure is E3. */
export function armEvents(mem: TsGuestMemory, r: RefRing, c: HostCounters, area: number, cursor: number, wrap: number,
  ready: (flags: number, wrap: number) => boolean): boolean {
  const p = mem.addr(area, true);
  if (p < 0) { fail(r, c, L.VQ_E3_RING_OUTSIDE_RAM); return false; }
  const dv = mem.dv;
  if ((r.flags & L.QF_EVENT_IDX) !== 0) {
    dv.setUint16(p, cursor | (wrap << 15), true);
    dv.setUint16(p + 2, L.VRING_PACKED_EVENT_FLAG_DESC, true);
  } else {
    dv.setUint16(p + 2, L.VRING_PACKED_EVENT_FLAG_ENABLE, true);
  }
  const d = mem.addr(r.desc + cursor * 16, false);
  if (d < 0) { fail(r, c, L.VQ_E3_RING_OUTSIDE_RAM); return false; }
  return ready(mem.dv.getUint16(d + D_FLAGS, true), wrap);
}

/** Turns a side's notifications off (flags = DISABLE). */
export function disarmEvents(mem: TsGuestMemory, r: RefRing, c: HostCounters, area: number): void {
  const p = mem.addr(area, true);
  if (p < 0) { fail(r, c, L.VQ_E3_RING_OUTSIDE_RAM); return; }
  mem.dv.setUint16(p + 2, L.VRING_PACKED_EVENT_FLAG_DISABLE, true);
}
