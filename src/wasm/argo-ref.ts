// Plain-TS reference of the Argo ring-insert kernel (assembly/xen/argo.ts): the same checks,
// the same header and wrap handling, the same counts (into a host-side counters array), over
// the same linear memory. Used by differential tests and benchmarks.
import type { Machine } from "./machine.ts";
import * as L from "./layout.ts";
import { countCopy } from "./copy-buckets.ts";
import { TsGuestMemory, newHostCounters, type HostCounters } from "./ts-guest-memory.ts";
import type { ArgoInsert, ArgoRingCopier } from "./argo.ts";

const slotUp = (v: number) => (v + L.XEN_ARGO_MSG_SLOT_SIZE - 1) & ~(L.XEN_ARGO_MSG_SLOT_SIZE - 1);
const GPA_LIMIT = L.P2M_MAX_GFNS * L.PAGE_SIZE;

export class TsArgoCopier implements ArgoRingCopier {
  readonly machine: Machine;
  readonly counters: HostCounters;

  constructor(machine: Machine, counters: HostCounters = newHostCounters()) {
    this.machine = machine;
    this.counters = counters;
  }

  private refuse(status: number): number {
    const c = this.counters;
    c[L.CNT_ACCESS_REFUSED]!++;
    if (status === L.MST_NOT_MAPPED) c[L.CNT_REFUSED_NOT_MAPPED]!++;
    else if (status === L.MST_NOT_OWNER) c[L.CNT_REFUSED_NOT_OWNER]!++;
    else if (status === L.MST_NO_DOMAIN) c[L.CNT_REFUSED_NO_DOMAIN]!++;
    else c[L.CNT_REFUSED_RANGE]!++;
    return status;
  }

  /** access.ts translate(domid, gfn, read, probe): may `domid` read `gfn`? (nothing marked) */
  private probeRead(domid: number, gfn: number): number {
    const dv = this.machine.dv;
    if (domid >= L.MAX_DOMAINS) return this.refuse(L.MST_NO_DOMAIN);
    const d = L.DOMAINS_BASE + domid * L.DOMAIN_ENTRY_SIZE;
    if ((dv.getUint32(d + L.DOM_FLAGS, true) & L.DOMF_EXISTS) === 0) return this.refuse(L.MST_NO_DOMAIN);
    if (gfn >= dv.getUint32(d + L.DOM_MAX_GFN, true)) return this.refuse(L.MST_NOT_MAPPED);
    const top = L.POOL_BASE + dv.getUint32(d + L.DOM_P2M_TOP, true) * L.PAGE_SIZE;
    const leaf = dv.getUint32(top + (gfn >>> L.P2M_LEVEL_BITS) * 4, true);
    const ent = leaf === 0 ? 0 : dv.getUint32(L.POOL_BASE + leaf * L.PAGE_SIZE + (gfn & ((1 << L.P2M_LEVEL_BITS) - 1)) * 4, true);
    if (ent === 0) return gfn >= dv.getUint32(d + L.DOM_RAM_PAGES, true) ? this.refuse(L.MST_NOT_MAPPED) : L.MST_OK;
    const mfn = ent >>> L.P2M_MFN_SHIFT;
    if ((ent & L.P2M_TYPE_MASK) === L.P2M_RAM && this.frameOwner(mfn) !== domid) return this.refuse(L.MST_NOT_OWNER);
    return L.MST_OK;
  }

  private checkRange(domid: number, gpa: number, len: number): number {
    if (gpa + len > GPA_LIMIT) return this.refuse(L.MST_RANGE);
    const last = Math.floor((gpa + len - 1) / L.PAGE_SIZE);
    for (let g = Math.floor(gpa / L.PAGE_SIZE); g <= last; g++) {
      const st = this.probeRead(domid, g);
      if (st !== L.MST_OK) return st;
    }
    return L.MST_OK;
  }

  private frameOwner(mfn: number): number {
    return this.machine.dv.getUint16(L.FRAME_TABLE_BASE + mfn * L.FRAME_ENTRY_SIZE + L.FRAME_OWNER, true);
  }

  private frameLive(mfn: number): boolean {
    const dv = this.machine.dv;
    if (mfn === 0 || mfn >= dv.getUint32(L.MACHINE_BASE + L.MACHINE_NEXT_MFN, true)) return false;
    return dv.getUint8(L.FRAME_TABLE_BASE + mfn * L.FRAME_ENTRY_SIZE + L.FRAME_KIND) !== L.FRAME_FREE;
  }

  private ringMfn(table: number, off: number): number {
    return this.machine.dv.getUint32(table + (off >>> L.PAGE_SHIFT) * 4, true);
  }

  private ringSpanOk(table: number, owner: number, off: number, n: number): boolean {
    if (n === 0) return true;
    for (let p = off >>> L.PAGE_SHIFT; p <= (off + n - 1) >>> L.PAGE_SHIFT; p++) {
      const mfn = this.machine.dv.getUint32(table + p * 4, true);
      if (!this.frameLive(mfn) || this.frameOwner(mfn) !== owner) return false;
    }
    return true;
  }

  private copyIn(src: TsGuestMemory, gpa: number, table: number, at: number, n: number): void {
    const u8 = this.machine.u8;
    let done = 0;
    while (done < n) {
      const s = gpa + done;
      const t = at + done;
      const so = s % L.PAGE_SIZE;
      const to = t & L.PAGE_MASK;
      const k = Math.min(L.PAGE_SIZE - Math.max(so, to), n - done);
      const from = src.translate(Math.floor(s / L.PAGE_SIZE), false) + so;
      const dst = L.POOL_BASE + this.ringMfn(table, t) * L.PAGE_SIZE + to;
      u8.copyWithin(dst, from, from + k);
      done += k;
    }
  }

  insert(a: ArgoInsert): number {
    const { ringLen, owner, nmfns } = a;
    let tx = a.tx;
    const dv = this.machine.dv;
    const tf = L.FRAME_TABLE_BASE + a.tableMfn * L.FRAME_ENTRY_SIZE;
    if (!this.frameLive(a.tableMfn) || dv.getUint8(tf + L.FRAME_KIND) !== L.FRAME_XEN) return L.MST_BAD_MFN;
    const table = L.POOL_BASE + a.tableMfn * L.PAGE_SIZE;
    if (a.iovs.length > L.XEN_ARGO_MAXIOV || ringLen < L.ARGO_MIN_RING_LEN || ringLen > L.XEN_ARGO_MAX_RING_SIZE) return L.MST_BAD_ARG;
    if (ringLen % L.XEN_ARGO_MSG_SLOT_SIZE !== 0 || tx >= ringLen || tx % L.XEN_ARGO_MSG_SLOT_SIZE !== 0) return L.MST_BAD_ARG;
    if (nmfns * L.PAGE_SIZE < ringLen + L.ARGO_RING_SIZE) return L.MST_BAD_ARG;

    let total = 0;
    for (const { gpa, len } of a.iovs) {
      if (len === 0) continue;
      total += len;
      const st = this.checkRange(a.srcDom, gpa, len);
      if (st !== L.MST_OK) return st;
    }
    if (total >= ringLen || slotUp(total) + L.ARGO_RING_MESSAGE_HEADER_SIZE >= ringLen) return L.MST_BAD_ARG;
    const msgBytes = L.ARGO_RING_MESSAGE_HEADER_SIZE + total;
    const head = Math.min(msgBytes, ringLen - tx);
    if (!this.ringSpanOk(table, owner, L.ARGO_RING_SIZE + tx, head)) return L.MST_BAD_MFN;
    if (!this.ringSpanOk(table, owner, L.ARGO_RING_SIZE, msgBytes - head)) return L.MST_BAD_MFN;

    const ho = L.ARGO_RING_SIZE + tx;
    const h = L.POOL_BASE + this.ringMfn(table, ho) * L.PAGE_SIZE + (ho & L.PAGE_MASK);
    dv.setUint32(h + L.ARGO_RING_MESSAGE_HEADER_LEN, msgBytes, true);
    dv.setUint32(h + L.ARGO_RING_MESSAGE_HEADER_SOURCE_APORT, a.srcAport >>> 0, true);
    dv.setUint16(h + L.ARGO_RING_MESSAGE_HEADER_SOURCE_DOMAIN_ID, a.srcDom, true);
    dv.setUint16(h + L.ARGO_RING_MESSAGE_HEADER_SOURCE_PAD, 0, true);
    dv.setUint32(h + L.ARGO_RING_MESSAGE_HEADER_MESSAGE_TYPE, a.msgType >>> 0, true);
    tx += L.ARGO_RING_MESSAGE_HEADER_SIZE;
    if (tx === ringLen) tx = 0;

    const src = new TsGuestMemory(this.machine, a.srcDom, this.counters);
    for (const iov of a.iovs) {
      let { gpa, len } = iov;
      if (len === 0) continue;
      const tail = ringLen - tx;
      if (len > tail) {
        this.copyIn(src, gpa, table, L.ARGO_RING_SIZE + tx, tail);
        tx = 0;
        gpa += tail;
        len -= tail;
      }
      this.copyIn(src, gpa, table, L.ARGO_RING_SIZE + tx, len);
      tx += len;
      if (tx === ringLen) tx = 0;
    }
    tx = slotUp(tx);
    if (tx >= ringLen) tx -= ringLen;

    const c = this.counters;
    c[L.CNT_ARGO_MESSAGES]!++;
    c[L.CNT_ARGO_BYTES_SENT]! += total;
    c[L.CNT_ARGO_RING_BYTES]! += msgBytes;
    if (total !== 0) {
      c[L.CNT_COPIES]!++;
      c[L.CNT_COPY_BYTES]! += total;
      countCopy(c, L.CNT_HV_COPIES_BASE, L.CNT_HV_COPY_BYTES_BASE, total);
    }
    return tx;
  }
}
