// TS reference of assembly/virtq/split-check.ts: probing whether ranges are accessible
// (assembly/machine/access.ts translate() with probe = true: nothing populated or marked,
// refusals counted) and the E17 buffer test. 64-bit guest addresses are two u32 halves.
import type { Machine } from "../wasm/machine.ts";
import type { HostCounters } from "../wasm/ts-guest-memory.ts";
import * as L from "../wasm/layout.ts";

export const GPA_LIMIT = L.P2M_MAX_GFNS * L.PAGE_SIZE; // 2^32

function refuse(c: HostCounters, status: number): false {
  c[L.CNT_ACCESS_REFUSED]!++;
  if (status === L.MST_NOT_MAPPED) c[L.CNT_REFUSED_NOT_MAPPED]!++;
  else if (status === L.MST_READ_ONLY) c[L.CNT_REFUSED_READ_ONLY]!++;
  else if (status === L.MST_NOT_OWNER) c[L.CNT_REFUSED_NOT_OWNER]!++;
  else if (status === L.MST_NO_DOMAIN) c[L.CNT_REFUSED_NO_DOMAIN]!++;
  else c[L.CNT_REFUSED_RANGE]!++;
  return false;
}

function domEntry(domid: number): number {
  return L.DOMAINS_BASE + domid * L.DOMAIN_ENTRY_SIZE;
}

export function domExists(dv: DataView, domid: number): boolean {
  return domid < L.MAX_DOMAINS && (dv.getUint32(domEntry(domid) + L.DOM_FLAGS, true) & L.DOMF_EXISTS) !== 0;
}

/** Would `domid` be allowed this access to `gfn`? Counts a refusal as translate() does. */
export function probe(machine: Machine, c: HostCounters, domid: number, gfn: number, write: boolean): boolean {
  const dv = machine.dv;
  if (!domExists(dv, domid)) return refuse(c, L.MST_NO_DOMAIN);
  const d = domEntry(domid);
  if (gfn >= dv.getUint32(d + L.DOM_MAX_GFN, true)) return refuse(c, L.MST_NOT_MAPPED);
  const top = L.POOL_BASE + dv.getUint32(d + L.DOM_P2M_TOP, true) * L.PAGE_SIZE;
  const leaf = dv.getUint32(top + (gfn >>> L.P2M_LEVEL_BITS) * 4, true);
  const ent = leaf === 0 ? 0 : dv.getUint32(L.POOL_BASE + leaf * L.PAGE_SIZE + (gfn & ((1 << L.P2M_LEVEL_BITS) - 1)) * 4, true);
  if (ent === 0) return gfn < dv.getUint32(d + L.DOM_RAM_PAGES, true) ? true : refuse(c, L.MST_NOT_MAPPED);
  const mfn = ent >>> L.P2M_MFN_SHIFT;
  if (write && (ent & L.P2MF_RO) !== 0) return refuse(c, L.MST_READ_ONLY);
  if ((ent & L.P2M_TYPE_MASK) === L.P2M_RAM) {
    if (dv.getUint16(L.FRAME_TABLE_BASE + mfn * L.FRAME_ENTRY_SIZE + L.FRAME_OWNER, true) !== domid) {
      return refuse(c, L.MST_NOT_OWNER);
    }
  }
  return true;
}

/** Every page of [gpa, gpa+len) allows the access (len > 0; gpa a number below 2^53). */
export function rangeAccessible(machine: Machine, c: HostCounters, domid: number, gpa: number, len: number, write: boolean): boolean {
  if (gpa >= GPA_LIMIT || len > GPA_LIMIT - gpa) return false;
  const last = Math.floor((gpa + len - 1) / L.PAGE_SIZE);
  for (let g = Math.floor(gpa / L.PAGE_SIZE); g <= last; g++) {
    if (!probe(machine, c, domid, g, write)) return false;
  }
  return true;
}

/** E17 for a buffer at (lo, hi) of `len` bytes; see bufferOk() in split-check.ts. */
export function bufferOk(machine: Machine, c: HostCounters, dom: number, lo: number, hi: number, len: number, write: boolean): boolean {
  if (len === 0) return true;
  if (hi === 0xffffffff && lo + (len - 1) > 0xffffffff) return false; // last byte past 2^64 - 1
  if (dom === L.DOMID_INVALID) return true;
  if (hi !== 0 || len > GPA_LIMIT - lo) return false;
  const first = lo >>> L.PAGE_SHIFT;
  const last = Math.floor((lo + len - 1) / L.PAGE_SIZE);
  const dv = machine.dv;
  if (domExists(dv, dom) && last < dv.getUint32(domEntry(dom) + L.DOM_RAM_PAGES, true)) return true;
  for (let g = first; g <= last; g++) {
    if (!probe(machine, c, dom, g, write)) return false;
  }
  return true;
}
