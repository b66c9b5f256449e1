// What a guest's Argo driver does, for tests and transports: build the argument structures in
// a scratch area of its own RAM and make the hypercalls; and on the receiving side, walk its
// ring from rx_ptr to tx_ptr, copy each payload out, publish rx_ptr, then notify so that Xen
// can wake senders waiting for space.
import * as L from "../wasm/layout.ts";
import type { ArgoIov } from "../wasm/argo.ts";
import type { Argo } from "./argo.ts";
import { ringPages, slotUp } from "./argo-ring.ts";

export interface ArgoAddr {
  domid: number;
  aport: number;
}

export interface ArgoMessage {
  source: ArgoAddr;
  messageType: number;
  payload: Uint8Array;
}

/** One notify query (xen_argo_ring_data_ent_t) and what Xen answered. */
export interface ArgoRingQuery {
  ring: ArgoAddr;
  spaceRequired: number;
}
export interface ArgoRingAnswer {
  flags: number;
  maxMessageSize: number;
}

export interface SendOptions {
  /** Source port label (src.aport); 0 by default. */
  srcAport?: number;
  /** src.domain_id as written; XEN_ARGO_DOMID_ANY (Xen fills in the caller) by default. */
  srcDomid?: number;
  messageType?: number;
}

function le(n: number): DataView {
  return new DataView(new ArrayBuffer(n));
}

export class ArgoGuest {
  readonly argo: Argo;
  readonly domid: number;
  /** Guest-physical scratch area for argument structures (not used for payloads). */
  readonly scratch: number;
  readonly scratchLen: number;

  constructor(argo: Argo, domid: number, scratchGpa: number, scratchLen = 8 * L.PAGE_SIZE) {
    this.argo = argo;
    this.domid = domid;
    this.scratch = scratchGpa;
    this.scratchLen = scratchLen;
  }

  private put(off: number, v: DataView): number {
    if (off + v.byteLength > this.scratchLen) throw new RangeError(`argo guest d${this.domid}: scratch area too small (${off + v.byteLength} > ${this.scratchLen})`);
    this.argo.machine.write(this.domid, this.scratch + off, new Uint8Array(v.buffer));
    return this.scratch + off;
  }

  private op(cmd: number, a1: number, a2: number, a3: number, a4: number): number {
    return this.argo.op(this.domid, cmd, a1, a2, a3, a4);
  }

  /** XEN_ARGO_OP_register_ring with the ring's gfn list. */
  register(ring: ArgoGuestRing, flags = 0): number {
    const reg = le(L.ARGO_REGISTER_RING_SIZE);
    reg.setUint32(L.ARGO_REGISTER_RING_APORT, ring.aport, true);
    reg.setUint16(L.ARGO_REGISTER_RING_PARTNER_ID, ring.partner, true);
    reg.setUint32(L.ARGO_REGISTER_RING_LEN, ring.len, true);
    const gfns = le(ring.gfns.length * L.ARGO_GFN_SIZE);
    ring.gfns.forEach((g, i) => gfns.setUint32(i * L.ARGO_GFN_SIZE, g, true));
    const a1 = this.put(0, reg);
    const a2 = this.put(16, gfns);
    return this.op(L.XEN_ARGO_OP_REGISTER_RING, a1, a2, ring.gfns.length, flags);
  }

  unregister(aport: number, partner: number): number {
    const u = le(L.ARGO_UNREGISTER_RING_SIZE);
    u.setUint32(L.ARGO_REGISTER_RING_APORT, aport, true);
    u.setUint16(L.ARGO_REGISTER_RING_PARTNER_ID, partner, true);
    return this.op(L.XEN_ARGO_OP_UNREGISTER_RING, this.put(0, u), 0, 0, 0);
  }

  /** XEN_ARGO_OP_sendv from buffers already in this guest's memory. */
  sendv(dst: ArgoAddr, iovs: readonly ArgoIov[], opts: SendOptions = {}): number {
    const sa = le(L.ARGO_SEND_ADDR_SIZE);
    sa.setUint32(L.ARGO_SEND_ADDR_SRC + L.ARGO_ADDR_APORT, opts.srcAport ?? 0, true);
    sa.setUint16(L.ARGO_SEND_ADDR_SRC + L.ARGO_ADDR_DOMAIN_ID, opts.srcDomid ?? L.XEN_ARGO_DOMID_ANY, true);
    sa.setUint32(L.ARGO_SEND_ADDR_DST + L.ARGO_ADDR_APORT, dst.aport, true);
    sa.setUint16(L.ARGO_SEND_ADDR_DST + L.ARGO_ADDR_DOMAIN_ID, dst.domid, true);
    const v = le(Math.max(1, iovs.length) * L.ARGO_IOV_SIZE);
    iovs.forEach((iov, i) => {
      const e = i * L.ARGO_IOV_SIZE;
      v.setUint32(e + L.ARGO_IOV_IOV_HND, iov.gpa % 2 ** 32, true);
      v.setUint32(e + L.ARGO_IOV_IOV_HND + 4, Math.floor(iov.gpa / 2 ** 32), true);
      v.setUint32(e + L.ARGO_IOV_IOV_LEN, iov.len, true);
    });
    return this.op(L.XEN_ARGO_OP_SENDV, this.put(0, sa), this.put(16, v), iovs.length, opts.messageType ?? 0);
  }

  /** Writes `payload` at `bufGpa` in this guest, then sends it as one iov. */
  send(dst: ArgoAddr, payload: Uint8Array, bufGpa: number, opts: SendOptions = {}): number {
    this.argo.machine.write(this.domid, bufGpa, payload);
    return this.sendv(dst, [{ gpa: bufGpa, len: payload.length }], opts);
  }

  /** XEN_ARGO_OP_notify, with ring_data queries when given. */
  notify(queries?: readonly ArgoRingQuery[]): { rc: number; answers: ArgoRingAnswer[] } {
    if (!queries) return { rc: this.op(L.XEN_ARGO_OP_NOTIFY, 0, 0, 0, 0), answers: [] };
    const rd = le(L.ARGO_RING_DATA_SIZE + queries.length * L.ARGO_RING_DATA_ENT_SIZE);
    rd.setUint32(L.ARGO_RING_DATA_NENT, queries.length, true);
    queries.forEach((q, i) => {
      const e = L.ARGO_RING_DATA_SIZE + i * L.ARGO_RING_DATA_ENT_SIZE;
      rd.setUint32(e + L.ARGO_RING_DATA_ENT_RING + L.ARGO_ADDR_APORT, q.ring.aport, true);
      rd.setUint16(e + L.ARGO_RING_DATA_ENT_RING + L.ARGO_ADDR_DOMAIN_ID, q.ring.domid, true);
      rd.setUint32(e + L.ARGO_RING_DATA_ENT_SPACE_REQUIRED, q.spaceRequired, true);
    });
    const at = this.put(0, rd);
    const rc = this.op(L.XEN_ARGO_OP_NOTIFY, at, 0, 0, 0);
    const out = new DataView(this.argo.machine.read(this.domid, at, rd.byteLength).buffer);
    const answers = queries.map((_, i) => {
      const e = L.ARGO_RING_DATA_SIZE + i * L.ARGO_RING_DATA_ENT_SIZE;
      return { flags: out.getUint16(e + L.ARGO_RING_DATA_ENT_FLAGS, true), maxMessageSize: out.getUint32(e + L.ARGO_RING_DATA_ENT_MAX_MESSAGE_SIZE, true) };
    });
    return { rc, answers };
  }

  /** Receiver loop: take what is in the ring, publish rx_ptr, then notify. */
  consume(ring: ArgoGuestRing, max = Infinity): ArgoMessage[] {
    const msgs = ring.receive(max);
    this.notify();
    return msgs;
  }
}

/** The receiver's view of one of its rings: the frames (gfns) it registered and the indices. */
export class ArgoGuestRing {
  readonly argo: Argo;
  readonly domid: number;
  readonly aport: number;
  readonly partner: number;
  readonly len: number;
  readonly gfns: readonly number[];

  /** A ring over `ringPages(len)` consecutive gfns from `baseGfn` unless `gfns` is given. */
  constructor(argo: Argo, domid: number, r: { aport: number; partner: number; len: number; baseGfn?: number; gfns?: readonly number[] }) {
    this.argo = argo;
    this.domid = domid;
    this.aport = r.aport;
    this.partner = r.partner;
    this.len = r.len;
    this.gfns = r.gfns ?? Array.from({ length: ringPages(r.len) }, (_, i) => (r.baseGfn ?? 0) + i);
  }

  /** Guest-physical address of ring byte `off` (counted from the start of the header). */
  gpa(off: number): number {
    return this.gfns[Math.floor(off / L.PAGE_SIZE)]! * L.PAGE_SIZE + (off % L.PAGE_SIZE);
  }

  private headerMfn(): number {
    return this.argo.machine.populate(this.domid, this.gfns[0]!);
  }

  private loadIdx(off: number): number {
    return this.argo.hv.atomics.load(this.domid, this.headerMfn(), off);
  }

  get rxPtr(): number {
    return this.loadIdx(L.ARGO_RING_RX_PTR);
  }

  get txPtr(): number {
    return this.loadIdx(L.ARGO_RING_TX_PTR);
  }

  /** Publishes rx_ptr with an atomic store (the receiver's only write to the header). */
  set rxPtr(v: number) {
    this.argo.hv.atomics.store(this.domid, this.headerMfn(), L.ARGO_RING_RX_PTR, v);
  }

  /** Reads `n` data bytes from ring offset `at`, wrapping at the ring end, page by page. */
  private readData(at: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const pos = (at + done) % this.len;
      const off = L.ARGO_RING_SIZE + pos;
      const k = Math.min(n - done, this.len - pos, L.PAGE_SIZE - (off % L.PAGE_SIZE));
      out.set(this.argo.machine.read(this.domid, this.gpa(off), k), done);
      done += k;
    }
    return out;
  }

  /** Used bytes between rx_ptr and tx_ptr. */
  used(): number {
    return (this.txPtr - this.rxPtr + this.len) % this.len;
  }

  /** Takes up to `max` messages: copies each payload out and advances rx_ptr past it. */
  receive(max = Infinity): ArgoMessage[] {
    const msgs: ArgoMessage[] = [];
    let rx = this.rxPtr;
    const tx = this.txPtr;
    while (rx !== tx && msgs.length < max) {
      const h = new DataView(this.readData(rx, L.ARGO_RING_MESSAGE_HEADER_SIZE).buffer);
      const len = h.getUint32(L.ARGO_RING_MESSAGE_HEADER_LEN, true);
      if (len < L.ARGO_RING_MESSAGE_HEADER_SIZE || len > this.len) throw new Error(`argo ring d${this.domid}:${this.aport}: bad message length ${len} at rx ${rx}`);
      msgs.push({
        source: { aport: h.getUint32(L.ARGO_RING_MESSAGE_HEADER_SOURCE_APORT, true), domid: h.getUint16(L.ARGO_RING_MESSAGE_HEADER_SOURCE_DOMAIN_ID, true) },
        messageType: h.getUint32(L.ARGO_RING_MESSAGE_HEADER_MESSAGE_TYPE, true),
        payload: this.readData((rx + L.ARGO_RING_MESSAGE_HEADER_SIZE) % this.len, len - L.ARGO_RING_MESSAGE_HEADER_SIZE),
      });
      rx = (rx + slotUp(len)) % this.len;
      this.rxPtr = rx;
    }
    return msgs;
  }
}
