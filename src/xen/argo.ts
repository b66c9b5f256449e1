// Argo (xen/common/argo.c): hypervisor-mediated exchange. A receiver registers a ring made of
// its own RAM frames; senders call sendv and Xen copies their buffers straight into the ring;
// VIRQ_ARGO tells the receiver (after a send) and waiting senders (after the receiver frees
// space and calls notify). Every argument structure is read from and written to the caller's
// guest memory; handles are guest-physical addresses in this model, 0 being NULL. Check order
// and errno values follow do_argo_op() and its helpers.
import type { Machine } from "../wasm/machine.ts";
import * as L from "../wasm/layout.ts";
import { WasmArgoCopier, allocRingTable, freeRingTable, type ArgoIov, type ArgoRingCopier } from "../wasm/argo.ts";
import { XenConfigError, type HypercallHandler, type Hypervisor, type Subsystem } from "./hypervisor.ts";
import type { Domain } from "./domain.ts";
import type { XsmOp } from "./xsm.ts";
import { ArgoRing, ringKey, ringPages, slotUp } from "./argo-ring.ts";
import { EACCES, EAGAIN, EBUSY, ECONNREFUSED, EEXIST, EFAULT, EINVAL, EMSGSIZE, ENODEV, ENOENT, ENOSPC, EOPNOTSUPP, EPERM, ESRCH } from "./errno.ts";

export interface ArgoOptions {
  /** Xen's `argo` boot option (off by default: every op returns -EOPNOTSUPP). */
  enabled?: boolean;
  /** `argo=...,mac-permissive=1`: allow wildcard (any-sender) rings. */
  macPermissive?: boolean;
}

const XSM_DENIAL_COUNTER: Partial<Record<XsmOp, number>> = {
  argo_enable: L.CNT_XSM_DENIED_ARGO_ENABLE,
  argo_register_single_source: L.CNT_XSM_DENIED_ARGO_REGISTER_SINGLE,
  argo_register_any_source: L.CNT_XSM_DENIED_ARGO_REGISTER_ANY,
  argo_send: L.CNT_XSM_DENIED_ARGO_SEND,
};

const OP_COUNTER: Record<number, number> = {
  [L.XEN_ARGO_OP_REGISTER_RING]: L.CNT_ARGO_OP_REGISTER,
  [L.XEN_ARGO_OP_UNREGISTER_RING]: L.CNT_ARGO_OP_UNREGISTER,
  [L.XEN_ARGO_OP_SENDV]: L.CNT_ARGO_OP_SENDV,
  [L.XEN_ARGO_OP_NOTIFY]: L.CNT_ARGO_OP_NOTIFY,
};

/** Parses the value of Xen's `argo=` boot option ("1", "on,mac-permissive=1", "no-mac-permissive"). */
export function parseArgoBootOption(value: string): Required<ArgoOptions> {
  const bool = (s: string): boolean | undefined =>
    ["1", "yes", "on", "true", "enable"].includes(s) ? true : ["0", "no", "off", "false", "disable"].includes(s) ? false : undefined;
  const out = { enabled: false, macPermissive: false };
  for (const item of value.split(",")) {
    const b = bool(item);
    if (b !== undefined) out.enabled = b;
    else if (item === "mac-permissive") out.macPermissive = true;
    else if (item === "no-mac-permissive") out.macPermissive = false;
    else if (item.startsWith("mac-permissive=") && bool(item.slice(15)) !== undefined) out.macPermissive = bool(item.slice(15))!;
    else throw new XenConfigError(`argo=${value}: unknown item '${item}'`);
  }
  return out;
}

/** A domain's Argo state (struct argo_domain): only domains Argo was enabled for have one. */
interface ArgoDomainState {
  readonly rings: Map<number, ArgoRing>;
}

const isGpa = (v: number) => Number.isSafeInteger(v) && v >= 0;
const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

export class Argo implements Subsystem {
  readonly name = "argo";
  readonly hv: Hypervisor;
  readonly machine: Machine;
  readonly enabled: boolean;
  readonly macPermissive: boolean;
  /** Told of every VIRQ_ARGO raised (tests, tracing). Delivery itself goes through the
   *  hypervisor to the event-channel subsystem (the domain's bind_virq port). */
  onVirq: ((domid: number, virq: number) => void) | undefined;
  private readonly copier: ArgoRingCopier;
  private readonly doms = new Map<number, ArgoDomainState>();
  private readonly virqs = new Map<number, number>();

  constructor(hv: Hypervisor, opts: ArgoOptions = {}) {
    this.hv = hv;
    this.machine = hv.machine;
    this.enabled = opts.enabled ?? false;
    this.macPermissive = opts.macPermissive ?? false;
    this.copier = new WasmArgoCopier(hv.machine);
  }

  /** HYPERVISOR_argo_op (hv.hypercall, once registered). */
  hypercalls(): Record<number, HypercallHandler> {
    return { [L.HYPERVISOR_ARGO_OP]: (c, cmd, a1, a2, a3, a4) => this.op(c, cmd, a1, a2, a3, a4) };
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /** argo_init: a domain gets Argo state only if Argo is on and XSM argo_enable allows it. */
  domainCreated(d: Domain): void {
    if (!this.enabled || this.xsm("argo_enable", d) !== 0) return;
    this.doms.set(d.domid, { rings: new Map() });
  }

  /** argo_destroy: the domain's rings, rings others registered for it as the only sender,
   *  and its waits on others' wildcard rings all go. */
  domainDestroyed(d: Domain): void {
    const st = this.doms.get(d.domid);
    if (st) for (const ring of [...st.rings.values()]) this.removeRing(st, ring);
    this.doms.delete(d.domid);
    for (const other of this.doms.values()) {
      for (const ring of [...other.rings.values()]) {
        if (ring.partner === d.domid) this.removeRing(other, ring);
        else if (ring.pending.delete(d.domid)) this.machine.bump(L.CNT_ARGO_WAITERS_DROPPED);
      }
    }
    this.virqs.delete(d.domid);
  }

  // ---- VIRQ_ARGO ------------------------------------------------------------------------

  /** VIRQ_ARGO raised and not yet acknowledged for a domain (0 = none). */
  virqPending(domid: number): number {
    return this.virqs.get(domid) ?? 0;
  }

  /** The guest's handler takes the pending VIRQ; returns how many were raised since. */
  ackVirq(domid: number): number {
    const n = this.virqs.get(domid) ?? 0;
    this.virqs.delete(domid);
    return n;
  }

  private signal(domid: number): void {
    if (!this.hv.live(domid)) return;
    this.virqs.set(domid, (this.virqs.get(domid) ?? 0) + 1);
    this.machine.bump(L.CNT_ARGO_VIRQ_RAISED);
    // send_guest_global_virq(): pending on the port the domain bound VIRQ_ARGO to, if any
    // (a domain that bound none misses the signal; the count above still records it).
    this.hv.raiseVirq(domid, L.VIRQ_ARGO);
    this.onVirq?.(domid, L.VIRQ_ARGO);
  }

  // ---- inspection (tests, transports) ---------------------------------------------------

  hasState(domid: number): boolean {
    return this.doms.has(domid);
  }

  ring(owner: number, aport: number, partner: number): Readonly<ArgoRing> | undefined {
    return this.doms.get(owner)?.rings.get(ringKey(aport, partner));
  }

  rings(owner: number): Readonly<ArgoRing>[] {
    return [...(this.doms.get(owner)?.rings.values() ?? [])];
  }

  // ---- the hypercall --------------------------------------------------------------------

  /** HYPERVISOR_argo_op(cmd, arg1, arg2, arg3, arg4) made by domain `caller`. */
  op(caller: number, cmd: number, arg1: number, arg2: number, arg3: number, arg4: number): number {
    const d = this.hv.live(caller);
    if (!d) throw new XenConfigError(`argo_op: no live domain ${caller}`);
    this.hv.countHypercall();
    this.machine.bump(L.CNT_ARGO_OPS);
    this.machine.bump(OP_COUNTER[cmd] ?? L.CNT_ARGO_OP_UNKNOWN);
    const rc = this.dispatch(d, cmd, arg1, arg2, arg3, arg4);
    if (rc < 0) this.machine.bump(L.CNT_ARGO_OP_ERRORS);
    if (rc === -EFAULT) this.machine.bump(L.CNT_ARGO_EFAULT);
    return rc;
  }

  private dispatch(d: Domain, cmd: number, arg1: number, arg2: number, arg3: number, arg4: number): number {
    if (!isU32(arg3) || !isU32(arg4)) return -EINVAL;
    if (!this.enabled) return -EOPNOTSUPP;
    const rc = this.xsm("argo_enable", d);
    if (rc) return rc;
    switch (cmd) {
      case L.XEN_ARGO_OP_REGISTER_RING:
        if (arg3 > L.XEN_ARGO_MAX_RING_SIZE / L.PAGE_SIZE) return -EINVAL;
      {
        // guest_handle_okay on the gfn array comes before any other check.
        const gfns = this.read(d, arg2, arg3 * L.ARGO_GFN_SIZE);
        if (!gfns) return -EFAULT;
        return this.registerRing(d, arg1, gfns, arg3, arg4);
      }
      case L.XEN_ARGO_OP_UNREGISTER_RING:
        if (arg2 !== 0 || arg3 !== 0 || arg4 !== 0) return -EINVAL;
        return this.unregisterRing(d, arg1);
      case L.XEN_ARGO_OP_SENDV:
        return this.sendvOp(d, arg1, arg2, arg3, arg4);
      case L.XEN_ARGO_OP_NOTIFY:
        if (arg2 !== 0 || arg3 !== 0 || arg4 !== 0) return -EINVAL;
        return this.notify(d, arg1);
      default:
        return -EOPNOTSUPP;
    }
  }

  // ---- register / unregister ------------------------------------------------------------

  private registerRing(d: Domain, regGpa: number, gfns: DataView, npages: number, flags: number): number {
    if ((flags & ~L.XEN_ARGO_REGISTER_FLAG_FAIL_EXIST) !== 0) return -EINVAL;
    const reg = this.read(d, regGpa, L.ARGO_REGISTER_RING_SIZE);
    if (!reg) return -EFAULT;
    const aport = reg.getUint32(L.ARGO_REGISTER_RING_APORT, true);
    const partner = reg.getUint16(L.ARGO_REGISTER_RING_PARTNER_ID, true);
    const len = reg.getUint32(L.ARGO_REGISTER_RING_LEN, true);
    if (len < L.ARGO_MIN_RING_LEN || len > L.XEN_ARGO_MAX_RING_SIZE || len % L.XEN_ARGO_MSG_SLOT_SIZE !== 0 ||
      ringPages(len) !== npages || reg.getUint16(L.ARGO_REGISTER_RING_PAD, true) !== 0) return -EINVAL;

    let partnerDom: Domain | undefined;
    if (partner === L.XEN_ARGO_DOMID_ANY) {
      if (!this.macPermissive) return -EPERM;
      const rc = this.xsm("argo_register_any_source", d);
      if (rc) return rc;
    } else {
      partnerDom = this.hv.live(partner);
      if (!partnerDom) return -ESRCH;
      const rc = this.xsm("argo_register_single_source", d, partnerDom);
      if (rc) return rc;
    }
    const st = this.doms.get(d.domid);
    if (!st) return -ENODEV;
    if (partnerDom && !this.doms.has(partner)) return -ECONNREFUSED;
    // As in Xen, the limit is checked before looking for the ring, re-registration included.
    if (st.rings.size >= L.ARGO_MAX_RINGS_PER_DOMAIN) return -ENOSPC;
    const existing = st.rings.get(ringKey(aport, partner));
    if (existing) {
      if ((flags & L.XEN_ARGO_REGISTER_FLAG_FAIL_EXIST) !== 0 || existing.len !== len) return -EEXIST;
    }

    // find_ring_mfns: every gfn must be writable RAM of the caller. A failure drops the ring,
    // an existing one included (its old frames were released first).
    const mfns: number[] = [];
    for (let i = 0; i < npages; i++) {
      const mfn = this.ringFrame(d, gfns.getUint32(i * L.ARGO_GFN_SIZE, true), gfns.getUint32(i * L.ARGO_GFN_SIZE + 4, true));
      if (mfn < 0) break;
      mfns.push(mfn);
    }
    if (mfns.length !== npages) {
      if (existing) this.removeRing(st, existing);
      return -EINVAL;
    }

    // A valid tx_ptr found in the ring header is kept; otherwise restart at the next slot
    // after rx_ptr (the ring's old content is abandoned).
    let tx = this.loadPtr(d.domid, mfns[0]!, L.ARGO_RING_TX_PTR);
    if (tx >= len || slotUp(tx) !== tx) {
      tx = slotUp(this.loadPtr(d.domid, mfns[0]!, L.ARGO_RING_RX_PTR));
      if (tx >= len) tx = 0;
      this.storePtr(d.domid, mfns[0]!, L.ARGO_RING_TX_PTR, tx);
    }
    const table = allocRingTable(this.machine, mfns);
    if (existing) {
      freeRingTable(this.machine, existing.tableMfn, existing.mfns.length);
      existing.mfns = mfns;
      existing.tableMfn = table;
      existing.tx = tx;
      this.machine.bump(L.CNT_ARGO_RINGS_REREGISTERED);
    } else {
      st.rings.set(ringKey(aport, partner), new ArgoRing(d.domid, aport, partner, len, tx, mfns, table));
      this.machine.bump(L.CNT_ARGO_RINGS_REGISTERED);
    }
    return 0;
  }

  /** find_ring_mfn: the mfn behind a ring gfn, or -1 if it is not the caller's writable RAM. */
  private ringFrame(d: Domain, lo: number, hi: number): number {
    if (hi !== 0 || lo >= L.P2M_MAX_GFNS) return -1;
    const ent = this.machine.p2mLookup(d.domid, lo);
    if (ent < 0) return -1;
    if (ent === 0) return lo < d.ramPages ? this.machine.populate(d.domid, lo) : -1;
    if ((ent & L.P2M_TYPE_MASK) !== L.P2M_RAM || (ent & L.P2MF_RO) !== 0) return -1;
    const mfn = ent >>> L.P2M_MFN_SHIFT;
    return this.machine.frameOwner(mfn) === d.domid ? mfn : -1;
  }

  private unregisterRing(d: Domain, unregGpa: number): number {
    const u = this.read(d, unregGpa, L.ARGO_UNREGISTER_RING_SIZE);
    if (!u) return -EFAULT;
    if (u.getUint16(L.ARGO_REGISTER_RING_PAD, true) !== 0) return -EINVAL;
    const st = this.doms.get(d.domid);
    if (!st) return -ENODEV;
    const ring = st.rings.get(ringKey(u.getUint32(L.ARGO_REGISTER_RING_APORT, true), u.getUint16(L.ARGO_REGISTER_RING_PARTNER_ID, true)));
    if (!ring) return -ENOENT;
    this.removeRing(st, ring);
    return 0;
  }

  private removeRing(st: ArgoDomainState, ring: ArgoRing): void {
    this.machine.bump(L.CNT_ARGO_WAITERS_DROPPED, ring.pending.size);
    ring.pending.clear();
    freeRingTable(this.machine, ring.tableMfn, ring.mfns.length);
    st.rings.delete(ringKey(ring.aport, ring.partner));
    this.machine.bump(L.CNT_ARGO_RINGS_REMOVED);
  }

  // ---- sendv ----------------------------------------------------------------------------

  private sendvOp(d: Domain, addrGpa: number, iovGpa: number, niov: number, msgType: number): number {
    const sa = this.read(d, addrGpa, L.ARGO_SEND_ADDR_SIZE);
    if (!sa) return -EFAULT;
    if (niov > L.XEN_ARGO_MAXIOV) return -EINVAL;
    const iovs = this.read(d, iovGpa, niov * L.ARGO_IOV_SIZE);
    if (!iovs) return -EFAULT;
    const src = L.ARGO_SEND_ADDR_SRC;
    const dst = L.ARGO_SEND_ADDR_DST;
    if (sa.getUint16(src + L.ARGO_ADDR_PAD, true) !== 0 || sa.getUint16(dst + L.ARGO_ADDR_PAD, true) !== 0) return -EINVAL;
    let srcDomid = sa.getUint16(src + L.ARGO_ADDR_DOMAIN_ID, true);
    if (srcDomid === L.XEN_ARGO_DOMID_ANY) srcDomid = d.domid;
    if (srcDomid !== d.domid) return -EPERM; // nobody may send on behalf of another domain
    const srcAport = sa.getUint32(src + L.ARGO_ADDR_APORT, true);
    const dstAport = sa.getUint32(dst + L.ARGO_ADDR_APORT, true);
    const dstDom = this.hv.live(sa.getUint16(dst + L.ARGO_ADDR_DOMAIN_ID, true));
    if (!dstDom) return -ESRCH;
    const rc = this.xsm("argo_send", d, dstDom);
    if (rc) return rc;
    if (!this.doms.has(d.domid)) return -ENODEV;
    const dstSt = this.doms.get(dstDom.domid);
    if (!dstSt) return -ECONNREFUSED;
    const ring = this.findRing(dstSt, dstAport, d.domid);
    if (!ring) return -ECONNREFUSED;

    // iov_count
    const list: ArgoIov[] = [];
    let total = 0;
    for (let i = 0; i < niov; i++) {
      const e = i * L.ARGO_IOV_SIZE;
      if (iovs.getUint32(e + L.ARGO_IOV_PAD, true) !== 0) return -EINVAL;
      const len = iovs.getUint32(e + L.ARGO_IOV_IOV_LEN, true);
      if (len > L.ARGO_MAX_MESSAGE_SIZE) return -EINVAL;
      total += len;
      if (total > L.ARGO_MAX_MESSAGE_SIZE) return -EMSGSIZE;
      list.push({ gpa: iovs.getUint32(e + L.ARGO_IOV_IOV_HND + 4, true) * 2 ** 32 + iovs.getUint32(e + L.ARGO_IOV_IOV_HND, true), len });
    }

    let ret = this.ringbufInsert(ring, d.domid, srcAport, msgType, list, total);
    if (ret === -EAGAIN) {
      this.machine.bump(L.CNT_ARGO_EAGAIN);
      const q = this.requeue(ring, d.domid, total);
      if (q) ret = q;
    }
    if (ret >= 0) this.signal(dstDom.domid);
    return ret < 0 ? ret : total;
  }

  /** find_ring_info_by_match: the ring for this sender, else the wildcard ring on the port. */
  private findRing(st: ArgoDomainState, aport: number, sender: number): ArgoRing | undefined {
    return st.rings.get(ringKey(aport, sender)) ?? st.rings.get(ringKey(aport, L.XEN_ARGO_DOMID_ANY));
  }

  private ringbufInsert(ring: ArgoRing, srcDom: number, srcAport: number, msgType: number, iovs: ArgoIov[], len: number): number {
    if (ring.len <= L.ARGO_RING_MESSAGE_HEADER_SIZE + slotUp(len)) return -EMSGSIZE;
    const rx = this.sanitizedRx(ring);
    const sp = rx === ring.tx ? ring.len : (rx - ring.tx + ring.len) % ring.len;
    // Never fill the ring completely: rx == tx must keep meaning "empty".
    if (slotUp(len) + L.ARGO_RING_MESSAGE_HEADER_SIZE >= sp) return -EAGAIN;
    const tx = this.copier.insert({
      tableMfn: ring.tableMfn, nmfns: ring.mfns.length, owner: ring.owner, ringLen: ring.len, tx: ring.tx,
      srcDom, srcAport, msgType, iovs,
    });
    if (tx < 0) return -EFAULT;
    ring.tx = tx;
    this.storePtr(ring.owner, ring.mfns[0]!, L.ARGO_RING_TX_PTR, tx);
    return 0;
  }

  // ---- space, waiters, notify -----------------------------------------------------------

  /** rx_ptr as the guest left it, rounded up to a slot and wrapped (get_sanitized_ring). */
  private sanitizedRx(ring: Readonly<ArgoRing>): number {
    const rx = slotUp(this.loadPtr(ring.owner, ring.mfns[0]!, L.ARGO_RING_RX_PTR));
    return rx >= ring.len ? 0 : rx;
  }

  /** ringbuf_payload_space: the largest payload a send could put in the ring right now. */
  payloadSpace(ring: Readonly<ArgoRing>): number {
    if (!ring.len) return 0;
    let sp = this.sanitizedRx(ring) - ring.tx;
    if (sp <= 0) sp += ring.len;
    return Math.max(0, sp - L.ARGO_RING_MESSAGE_HEADER_SIZE - L.XEN_ARGO_MSG_SLOT_SIZE);
  }

  /** pending_requeue: one wait per sender and ring, enlarged to the biggest size asked. */
  private requeue(ring: ArgoRing, domid: number, len: number): number {
    const cur = ring.pending.get(domid);
    if (cur !== undefined) {
      if (cur < len) ring.pending.set(domid, len);
      return 0;
    }
    if (ring.pending.size >= L.ARGO_MAX_PENDING_PER_RING) {
      this.machine.bump(L.CNT_ARGO_EBUSY);
      return -EBUSY;
    }
    ring.pending.set(domid, len);
    this.machine.bump(L.CNT_ARGO_WAITERS_QUEUED);
    return 0;
  }

  private notify(d: Domain, ringDataGpa: number): number {
    const st = this.doms.get(d.domid);
    if (!st) return -ENODEV;
    // notify_check_pending: Xen never watches rx_ptr; waiting senders learn of space only here.
    const wake: number[] = [];
    for (const ring of st.rings.values()) {
      const space = this.payloadSpace(ring);
      if (!space) continue;
      for (const [domid, want] of ring.pending) {
        if (space >= want) {
          ring.pending.delete(domid);
          wake.push(domid);
        }
      }
    }
    this.machine.bump(L.CNT_ARGO_WAITERS_WOKEN, wake.length);
    for (const domid of wake) this.signal(domid);

    if (ringDataGpa === 0) return 0;
    const hdr = this.read(d, ringDataGpa, L.ARGO_RING_DATA_SIZE);
    if (!hdr) return -EFAULT;
    const nent = hdr.getUint32(L.ARGO_RING_DATA_NENT, true);
    if (nent > L.ARGO_MAX_NOTIFY_COUNT) return -EACCES;
    const first = ringDataGpa + L.ARGO_RING_DATA_SIZE;
    if (!this.readable(d, first, nent * L.ARGO_RING_DATA_ENT_SIZE)) return -EFAULT;
    let ret = 0;
    for (let i = 0; ret === 0 && i < nent; i++) ret = this.fillRingData(d, first + i * L.ARGO_RING_DATA_ENT_SIZE);
    return ret;
  }

  /** Answers one xen_argo_ring_data_ent_t: may queue (or cancel) the caller's wait for space. */
  private fillRingData(d: Domain, entGpa: number): number {
    const ent = this.read(d, entGpa, L.ARGO_RING_DATA_ENT_SIZE);
    if (!ent) return -EFAULT;
    this.machine.bump(L.CNT_ARGO_NOTIFY_QUERIES);
    let flags = 0;
    let maxMessageSize = ent.getUint32(L.ARGO_RING_DATA_ENT_MAX_MESSAGE_SIZE, true);
    const spaceRequired = ent.getUint32(L.ARGO_RING_DATA_ENT_SPACE_REQUIRED, true);
    const dst = this.hv.live(ent.getUint16(L.ARGO_RING_DATA_ENT_RING + L.ARGO_ADDR_DOMAIN_ID, true));
    const dstSt = dst && this.doms.get(dst.domid);
    if (dst && dstSt) {
      // No information about rings the caller may not send to.
      const rc = this.xsm("argo_send", d, dst);
      if (rc) return rc;
      const ring = this.findRing(dstSt, ent.getUint32(L.ARGO_RING_DATA_ENT_RING + L.ARGO_ADDR_APORT, true), d.domid);
      if (ring) {
        flags |= L.XEN_ARGO_RING_EXISTS;
        maxMessageSize = ring.maxMessageSize;
        if (ring.wildcard) flags |= L.XEN_ARGO_RING_SHARED;
        const space = this.payloadSpace(ring);
        if (spaceRequired > maxMessageSize) flags |= L.XEN_ARGO_RING_EMSGSIZE;
        else if (space >= spaceRequired) {
          if (ring.pending.delete(d.domid)) this.machine.bump(L.CNT_ARGO_WAITERS_DROPPED);
          flags |= L.XEN_ARGO_RING_SUFFICIENT;
        } else if (this.requeue(ring, d.domid, spaceRequired) === -EBUSY) {
          flags |= L.XEN_ARGO_RING_EBUSY;
        }
        if (space === maxMessageSize) flags |= L.XEN_ARGO_RING_EMPTY;
      }
    }
    const f = new Uint8Array(2);
    new DataView(f.buffer).setUint16(0, flags, true);
    const m = new Uint8Array(4);
    new DataView(m.buffer).setUint32(0, maxMessageSize, true);
    if (this.machine.tryWrite(d.domid, entGpa + L.ARGO_RING_DATA_ENT_FLAGS, f) !== L.MST_OK ||
      this.machine.tryWrite(d.domid, entGpa + L.ARGO_RING_DATA_ENT_MAX_MESSAGE_SIZE, m) !== L.MST_OK) return -EFAULT;
    return 0;
  }

  // ---- helpers --------------------------------------------------------------------------

  /** Runs an Argo XSM hook: 0, or the policy's denial errno (negated), counted per hook. */
  private xsm(op: XsmOp, subject: Domain, object?: Domain): number {
    if (this.hv.xsmCheck(op, subject, object)) return 0;
    this.machine.bump(XSM_DENIAL_COUNTER[op]!);
    return -(this.hv.xsm.denyErrno ?? EPERM);
  }

  /** copy_from_guest of `len` bytes at `gpa` in the caller's space, or undefined (EFAULT). */
  private read(d: Domain, gpa: number, len: number): DataView | undefined {
    if (!isGpa(gpa)) return undefined;
    const buf = new Uint8Array(len);
    if (this.machine.tryRead(d.domid, gpa, buf) !== L.MST_OK) return undefined;
    return new DataView(buf.buffer);
  }

  private readable(d: Domain, gpa: number, len: number): boolean {
    return this.read(d, gpa, len) !== undefined;
  }

  /** read_atomic of a ring index in the ring's first frame. */
  private loadPtr(owner: number, mfn: number, off: number): number {
    this.machine.bump(L.CNT_ARGO_PTR_LOADS);
    return this.hv.atomics.load(owner, mfn, off);
  }

  /** write_atomic of tx_ptr (followed by a write barrier in Xen). */
  private storePtr(owner: number, mfn: number, off: number, v: number): void {
    this.machine.bump(L.CNT_ARGO_PTR_STORES);
    this.hv.atomics.store(owner, mfn, off, v);
  }
}
