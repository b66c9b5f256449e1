// Typed wrappers over the split-virtqueue kernels (assembly/virtq/split*.ts): one object per
// queue side, owning its queue state block (by queue id) and its aux frames. Batches cross
// through the IO window; results are read through the machine's views.
import type { Machine } from "./machine.ts";
import * as L from "./layout.ts";
import { dmaHi, dmaLo, getDma, isDmaAddr, setDma, type DmaAddr } from "../virtio/dma-addr.ts";

interface SplitExports {
  vqs_dev_reset(q: number, ringDomid: number, maxSize: number, aux: number): void;
  vqs_dev_enable(q: number, size: number, descHi: number, descLo: number, availHi: number, availLo: number,
    usedHi: number, usedLo: number, features: number, bufDomid: number, maxSegs: number, maxIndirect: number): number;
  vqs_dev_restore(q: number, nextAvail: number, nextUsed: number): void;
  vqs_set_flags(q: number, set: number, clear: number): void;
  vqs_dev_pop(q: number, out: number, cap: number, max: number): number;
  vqs_dev_push(q: number, inp: number, n: number): number;
  vqs_dev_push_chains(q: number, chains: number, n: number): number;
  vqs_dev_need_irq(q: number): number;
  vqs_dev_notify(q: number, enable: number): number;
  vqs_drv_init(q: number, ringDomid: number, size: number, descHi: number, descLo: number, availHi: number, availLo: number,
    usedHi: number, usedLo: number, features: number, aux: number): number;
  vqs_drv_add(q: number, inp: number, n: number): number;
  vqs_drv_kick(q: number): number;
  vqs_drv_reclaim(q: number, out: number, max: number): number;
  vqs_drv_enable_cb(q: number, enable: number): number;
}

/** Addresses of the three split-ring areas in the ring domain's space (u64, exact). */
export interface SplitRing {
  size: number;
  desc: DmaAddr;
  avail: DmaAddr;
  used: DmaAddr;
}

/** The ring's areas as the (hi, lo) argument pairs the kernels take; throws on a non-u64. */
export function ringHalves(desc: DmaAddr, driver: DmaAddr, device: DmaAddr): number[] {
  const out: number[] = [];
  for (const [name, a] of [["descriptor area", desc], ["driver area", driver], ["device area", device]] as const) {
    if (!isDmaAddr(a)) throw new RangeError(`${name} ${a} is not a 64-bit address`);
    out.push(dmaHi(a), dmaLo(a));
  }
  return out;
}

export interface SplitFeatures {
  eventIdx?: boolean;
  indirect?: boolean;
  inOrder?: boolean;
}

/** Device policy for the checks the spec leaves open (virtio.md §8 E14, E16, E17, E19, E12). */
export interface SplitDevicePolicy {
  strictE14?: boolean;
  strictE16?: boolean;
  strictE19?: boolean;
  /** Domain whose memory buffers must lie in (E17); default: only the 2^64 wrap is checked. */
  bufDomid?: number;
  /** Segment limit for E19 (0 = queue size). */
  maxSegs?: number;
  /** Indirect table entry limit for E12 (0 = 65535). */
  maxIndirect?: number;
}

export interface Segment {
  /** The descriptor's address (u64, exact: see dma-addr.ts). */
  addr: DmaAddr;
  len: number;
  write: boolean;
}

export interface Chain {
  head: number;
  segs: Segment[];
  readable: number;
  writable: number;
  /** Descriptor-table entries the chain occupies (the indirect referrer included). */
  slots: number;
  indirect: boolean;
}

export interface UsedElem {
  id: number;
  len: number;
}

export function featureFlags(f: SplitFeatures): number {
  return (f.eventIdx ? L.QF_EVENT_IDX : 0) | (f.indirect ? L.QF_INDIRECT : 0) | (f.inOrder ? L.QF_IN_ORDER : 0);
}

export function policyFlags(p: SplitDevicePolicy): number {
  return (p.strictE14 ? L.QF_STRICT_E14 : 0) | (p.strictE16 ? L.QF_STRICT_E16 : 0) | (p.strictE19 ? L.QF_STRICT_E19 : 0);
}

const CODE_NAMES: Record<number, string> = {
  [L.VQ_E21_BAD_USED_ID]: "used id is not an outstanding head (E21)",
  [L.VQ_E22_USED_LEN_TOO_BIG]: "used len exceeds the chain's writable bytes (E22)",
  [L.VQ_SPLIT_BAD_ADD]: "malformed add request (no segments, readable after writable, > 2^32-1 bytes, or indirect table not writable)",
};

function checkQueueId(q: number): void {
  if (!Number.isInteger(q) || q < 0 || q >= L.MAX_QUEUES) throw new RangeError(`queue id must be an integer in [0, ${L.MAX_QUEUES}), got ${q}`);
}

function checkSize(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > L.VIRTQ_MAX_SIZE || (n & (n - 1)) !== 0) {
    throw new RangeError(`${what} must be a power of two in [1, ${L.VIRTQ_MAX_SIZE}], got ${n}`);
  }
}

/** Reads CHAIN records (as written by a pop) from linear memory. */
export function readChains(dv: DataView, at: number, n: number): Chain[] {
  const chains: Chain[] = [];
  let p = at;
  for (let i = 0; i < n; i++) {
    const nsegs = dv.getUint16(p + L.CHAIN_NSEGS, true);
    const segs: Segment[] = [];
    for (let s = 0; s < nsegs; s++) {
      const a = p + L.CHAIN_HDR_SIZE + s * L.SEG_SIZE;
      segs.push({
        addr: getDma(dv, a + L.SEG_ADDR),
        len: dv.getUint32(a + L.SEG_LEN, true),
        write: (dv.getUint16(a + L.SEG_FLAGS, true) & L.VRING_DESC_F_WRITE) !== 0,
      });
    }
    chains.push({
      head: dv.getUint16(p + L.CHAIN_ID, true),
      segs,
      readable: dv.getUint32(p + L.CHAIN_READABLE, true),
      writable: dv.getUint32(p + L.CHAIN_WRITABLE, true),
      slots: dv.getUint16(p + L.CHAIN_SLOTS, true),
      indirect: (dv.getUint16(p + L.CHAIN_FLAGS, true) & L.CHAINF_INDIRECT) !== 0,
    });
    p += L.CHAIN_HDR_SIZE + nsegs * L.SEG_SIZE;
  }
  return chains;
}

/** Fields of a queue state block that both sides expose. */
class SplitSide {
  readonly machine: Machine;
  readonly q: number;
  protected readonly x: SplitExports;
  protected readonly qb: number;
  /** Linear address of this side's aux frames. */
  readonly aux: number;

  constructor(machine: Machine, q: number, maxSize: number) {
    checkQueueId(q);
    checkSize("maxSize", maxSize);
    this.machine = machine;
    this.q = q;
    this.x = machine.raw<SplitExports>();
    this.qb = L.QUEUES_BASE + q * L.QUEUE_STATE_SIZE;
    const frames = Math.ceil((maxSize * L.QS_AUX_BYTES_PER_SLOT) / L.PAGE_SIZE);
    this.aux = machine.frameAddr(machine.allocXenFrames(frames));
  }

  protected u16(off: number): number {
    return this.machine.dv.getUint16(this.qb + off, true);
  }
  protected u32(off: number): number {
    return this.machine.dv.getUint32(this.qb + off, true);
  }

  get flags(): number { return this.u32(L.Q_FLAGS); }
  get broken(): boolean { return (this.flags & L.QF_BROKEN) !== 0; }
  /** First ring-level error (VQ_E*), sticky until reset; 0 if none. */
  get error(): number { return this.u32(L.Q_ERROR); }
  /** Outcome of the last call (VQ_OK, a refused or failing code, VQ_ENOSPC). */
  get status(): number { return this.u32(L.QS_STATUS); }
  get size(): number { return this.u32(L.Q_SIZE); }
  get inFlight(): number { return this.u32(L.Q_IN_FLIGHT); }
  get numAdded(): number { return this.u16(L.Q_NUM_ADDED); }
}

/** The device side of one split virtqueue (the back-end's view of the ring). */
export class SplitDevice extends SplitSide {
  readonly ringDomid: number;
  readonly maxSize: number;

  /** `ringDomid` is the domain through whose p2m this side reaches the ring; `maxSize` is the
   *  transport's QueueNumMax. */
  constructor(machine: Machine, q: number, ringDomid: number, maxSize = 1024) {
    super(machine, q, maxSize);
    this.ringDomid = ringDomid;
    this.maxSize = maxSize;
    this.reset();
  }

  /** Queue reset: state cleared, not ready, error forgotten. */
  reset(): void {
    this.x.vqs_dev_reset(this.q, this.ringDomid, this.maxSize, this.aux);
  }

  /** QueueReady = 1 with the given ring; returns VQ_OK or the E1-E3 code (queue broken). */
  enable(ring: SplitRing, features: SplitFeatures = {}, policy: SplitDevicePolicy = {}): number {
    const [dh, dl, ah, al, uh, ul] = ringHalves(ring.desc, ring.avail, ring.used);
    return this.x.vqs_dev_enable(this.q, ring.size, dh!, dl!, ah!, al!, uh!, ul!,
      featureFlags(features) | policyFlags(policy), policy.bufDomid ?? L.DOMID_INVALID, policy.maxSegs ?? 0, policy.maxIndirect ?? 0);
  }

  /** Restores the ring indices of an enabled, idle queue (migration); the next notification
   *  decision is unconditional. */
  restore(nextAvail: number, nextUsed: number): void {
    if (this.inFlight !== 0) throw new Error(`split queue ${this.q}: restore with ${this.inFlight} chains in flight`);
    this.x.vqs_dev_restore(this.q, nextAvail & 0xffff, nextUsed & 0xffff);
  }

  /** Mirrors the device status bit DRIVER_OK; the ring is not touched without it (E4). */
  setDriverOk(on: boolean): void {
    this.x.vqs_set_flags(this.q, on ? L.QF_DRIVER_OK : 0, on ? 0 : L.QF_DRIVER_OK);
  }

  get nextAvail(): number { return this.u16(L.Q_NEXT_AVAIL); }
  get nextUsed(): number { return this.u16(L.Q_NEXT_USED); }
  /** used.idx at the last notification decision, and whether it is meaningful (QEMU's signalled_used). */
  get signalled(): number { return this.u16(L.Q_SIGNALLED); }
  get signalledValid(): boolean { return this.machine.dv.getUint8(this.qb + L.Q_SIGNALLED_VALID) !== 0; }
  get notificationsOn(): boolean { return this.u32(L.QS_NOTIFY_ON) !== 0; }

  /** Pops up to `max` chains into [out, out+cap) of linear memory; returns how many. */
  popRaw(max: number, out: number = L.IO_BASE, cap: number = L.IO_SIZE): number {
    return this.x.vqs_dev_pop(this.q, out, cap, max);
  }

  /** Pops up to `max` chains. A ring error breaks the queue (see `error`); the chains before
   *  it are returned. */
  pop(max = 64): Chain[] {
    const n = this.popRaw(max);
    return readChains(this.machine.dv, L.IO_BASE, n);
  }

  /** Completes used records {id, len} already in linear memory at `inp`; returns how many were taken. */
  pushRaw(inp: number, n: number): number {
    return this.x.vqs_dev_push(this.q, inp, n);
  }

  /** Completes CHAIN records (from a pop) at `chains`, each with its CHAIN_WRITABLE as len. */
  pushChainsRaw(chains: number, n: number): number {
    return this.x.vqs_dev_push_chains(this.q, chains, n);
  }

  /** Completes a batch and publishes used.idx once. Refusing an element (E21, E22) is a bug in
   *  the device model: the elements before it are published, then this throws. */
  push(elems: UsedElem[]): void {
    const dv = this.machine.dv;
    elems.forEach((e, i) => {
      dv.setUint32(L.IO_BASE + i * L.QS_USED_REC_SIZE + L.QS_USED_ID, e.id, true);
      dv.setUint32(L.IO_BASE + i * L.QS_USED_REC_SIZE + L.QS_USED_LEN, e.len, true);
    });
    const k = this.pushRaw(L.IO_BASE, elems.length);
    const st = this.status;
    if (k < elems.length && (st === L.VQ_E21_BAD_USED_ID || st === L.VQ_E22_USED_LEN_TOO_BIG)) {
      const e = elems[k]!;
      throw new Error(`split queue ${this.q}: push of {id ${e.id}, len ${e.len}} refused: ${CODE_NAMES[st]}`);
    }
  }

  /** Used-buffer notification decision after pushes. */
  needInterrupt(): boolean {
    return this.x.vqs_dev_need_irq(this.q) !== 0;
  }

  /** Re-enables kicks; true when buffers arrived meanwhile (keep polling). */
  enableNotifications(): boolean {
    return this.x.vqs_dev_notify(this.q, 1) !== 0;
  }

  disableNotifications(): void {
    this.x.vqs_dev_notify(this.q, 0);
  }
}

export interface AddRequest {
  /** Readable segments first, then writable ones. */
  segs: Segment[];
  /** Address of the indirect table (used with the indirect feature and > 1 segment). */
  table?: DmaAddr;
}

/** The driver side of one split virtqueue (the guest's view; rings in its own memory). */
export class SplitDriver extends SplitSide {
  readonly ringDomid: number;

  constructor(machine: Machine, q: number, ringDomid: number, maxSize = 1024) {
    super(machine, q, maxSize);
    this.ringDomid = ringDomid;
  }

  /** Sets the queue up (zeroes the ring headers, builds the free list); VQ_OK or E1-E3. */
  init(ring: SplitRing, features: SplitFeatures = {}): number {
    const [dh, dl, ah, al, uh, ul] = ringHalves(ring.desc, ring.avail, ring.used);
    return this.x.vqs_drv_init(this.q, this.ringDomid, ring.size, dh!, dl!, ah!, al!, uh!, ul!, featureFlags(features), this.aux);
  }

  get numFree(): number { return this.u16(L.Q_NUM_FREE); }
  /** Next descriptor to hand out (free-list head, or the ring-order cursor with IN_ORDER). */
  get freeHead(): number { return this.u16(L.Q_FREE_HEAD); }
  /** The avail idx the next kick publishes. */
  get availIdx(): number { return this.u16(L.Q_NEXT_AVAIL); }
  get lastUsed(): number { return this.u16(L.Q_NEXT_USED); }

  /** Adds request records already in linear memory at `inp`; returns chains added. */
  addRaw(inp: number, n: number): number {
    return this.x.vqs_drv_add(this.q, inp, n);
  }

  /** Adds chains (not yet visible: kick() publishes). Returns the heads of those added; fewer
   *  than asked means no room (status VQ_ENOSPC) or a broken queue. A malformed request throws. */
  add(reqs: AddRequest[]): number[] {
    const dv = this.machine.dv;
    let p = L.IO_BASE;
    const at: number[] = [];
    for (const r of reqs) {
      if (p + L.QS_ADD_HDR_SIZE + r.segs.length * L.SEG_SIZE > L.IO_BASE + L.IO_SIZE) throw new RangeError("add batch larger than the IO window");
      at.push(p);
      dv.setUint16(p + L.QS_ADD_NSEGS, r.segs.length, true);
      dv.setUint16(p + L.QS_ADD_HEAD, 0, true);
      const t = r.table ?? 0;
      if (!isDmaAddr(t)) throw new RangeError(`add: indirect table ${t} is not a 64-bit address`);
      setDma(dv, p + L.QS_ADD_TABLE, t);
      p += L.QS_ADD_HDR_SIZE;
      for (const s of r.segs) {
        if (!isDmaAddr(s.addr)) throw new RangeError(`add: segment address ${s.addr} is not a 64-bit address`);
        setDma(dv, p + L.SEG_ADDR, s.addr);
        dv.setUint32(p + L.SEG_LEN, s.len, true);
        dv.setUint32(p + L.SEG_FLAGS, s.write ? L.VRING_DESC_F_WRITE : 0, true);
        p += L.SEG_SIZE;
      }
    }
    const k = this.addRaw(L.IO_BASE, reqs.length);
    if (k < reqs.length && this.status === L.VQ_SPLIT_BAD_ADD) {
      throw new Error(`split queue ${this.q}: add request ${k} refused: ${CODE_NAMES[L.VQ_SPLIT_BAD_ADD]}`);
    }
    const dv2 = this.machine.dv;
    return at.slice(0, k).map((a) => dv2.getUint16(a + L.QS_ADD_HEAD, true));
  }

  /** Publishes avail.idx; true when the device must be notified. */
  kick(): boolean {
    return this.x.vqs_drv_kick(this.q) !== 0;
  }

  /** Reclaims used entries (at most `max`, default the queue size). A bad id from the device
   *  breaks the queue (see `error`). */
  reclaim(max = Math.max(this.size, 1)): UsedElem[] {
    const n = this.x.vqs_drv_reclaim(this.q, L.IO_BASE, max);
    const dv = this.machine.dv;
    const out: UsedElem[] = [];
    for (let i = 0; i < n; i++) {
      const r = L.IO_BASE + i * L.QS_USED_REC_SIZE;
      out.push({ id: dv.getUint32(r + L.QS_USED_ID, true), len: dv.getUint32(r + L.QS_USED_LEN, true) });
    }
    return out;
  }

  /** Re-arms used-buffer notifications; true when entries arrived meanwhile. */
  enableCallbacks(): boolean {
    return this.x.vqs_drv_enable_cb(this.q, 1) !== 0;
  }

  disableCallbacks(): void {
    this.x.vqs_drv_enable_cb(this.q, 0);
  }
}
