// Typed wrappers over the packed virtqueue kernels (assembly/virtq/packed-*.ts): the device
// side (pop with validation, push, interrupt decision, kick suppression) and the driver side
// (add, kick decision, reclaim, re-arm). Records cross through the IO window.
import type { Machine } from "./machine.ts";
import * as L from "./layout.ts";
import { dmaHi, dmaLo, getDma, isDmaAddr, setDma, type DmaAddr } from "../virtio/dma-addr.ts";
import { ringHalves } from "./split.ts";

interface PackedExports {
  vqp_dev_config(q: number, ringDomid: number, bufDomid: number, aux: number, flags: number, maxSegs: number): void;
  vqp_dev_enable(q: number, size: number, descHi: number, descLo: number, drvHi: number, drvLo: number, devHi: number, devLo: number): number;
  vqp_dev_driver_ok(q: number): void;
  vqp_dev_pop(q: number, out: number, outLen: number, max: number): number;
  vqp_dev_push(q: number, src: number, n: number): number;
  vqp_dev_pop_push(q: number, out: number, outLen: number, max: number): number;
  vqp_dev_need_irq(q: number): number;
  vqp_dev_notify_enable(q: number): number;
  vqp_dev_notify_disable(q: number): void;
  vqp_drv_config(q: number, ringDomid: number, aux: number, flags: number): void;
  vqp_drv_init(q: number, size: number, descHi: number, descLo: number, drvHi: number, drvLo: number, devHi: number, devLo: number): number;
  vqp_drv_add(q: number, segs: number, nsegs: number, indirect: number, tableHi: number, tableLo: number): number;
  vqp_drv_kick_prepare(q: number): number;
  vqp_drv_get_used(q: number, out: number, max: number): number;
  vqp_drv_enable_cb(q: number): number;
  vqp_drv_disable_cb(q: number): void;
}

/** Negotiated features that change ring behaviour. */
export interface PackedFeatures {
  indirect?: boolean; // VIRTIO_F_INDIRECT_DESC
  eventIdx?: boolean; // VIRTIO_F_EVENT_IDX (DESC event mode)
  inOrder?: boolean; // VIRTIO_F_IN_ORDER
}

/** Device policies for what the spec leaves open (virtio.md 8, E14/E16/E19). */
export interface PackedStrictness {
  indirectWithNext?: boolean; // E14: INDIRECT with NEXT is an error (else NEXT is ignored)
  zeroLength?: boolean; // E16: a zero-length element is an error
  segments?: boolean; // E19: more than maxSegs elements is an error
}

export interface PackedDeviceConfig {
  queue: number;
  /** Domain through whose p2m the device reaches the ring (itself, or a mapping of the guest). */
  ringDomid: number;
  /** Domain whose memory every buffer must lie in (E17); omitted: only the 2^64 wrap is checked. */
  bufDomid?: number;
  features?: PackedFeatures;
  strict?: PackedStrictness;
  /** Segment limit for E19 (0 or omitted: the queue size). */
  maxSegs?: number;
}

export interface PackedDriverConfig {
  queue: number;
  /** The guest itself: the domain whose memory holds the ring. */
  ringDomid: number;
  features?: PackedFeatures;
}

/** One element of a buffer; `addr` is the descriptor's u64 address, exact (dma-addr.ts). */
export interface PackedSeg {
  addr: DmaAddr;
  len: number;
  write: boolean;
}

/** A buffer as the device popped it. */
export interface PackedChain {
  id: number;
  slots: number;
  indirect: boolean;
  readable: number;
  writable: number;
  segs: PackedSeg[];
}

export interface UsedRec {
  id: number;
  len: number;
}

/** Cursor state of one side, for tests and traces. */
export interface PackedCursors {
  flags: number;
  error: number;
  size: number;
  nextAvail: number;
  availWrap: number;
  nextUsed: number;
  usedWrap: number;
  numAdded: number;
  inFlight: number;
  slotsInFlight: number;
  numFree: number;
}

export function packedQueueFlags(f: PackedFeatures = {}, s: PackedStrictness = {}): number {
  return L.QF_PACKED | (f.indirect ? L.QF_INDIRECT : 0) | (f.eventIdx ? L.QF_EVENT_IDX : 0) |
    (f.inOrder ? L.QF_IN_ORDER : 0) | (s.indirectWithNext ? L.QF_STRICT_E14 : 0) |
    (s.zeroLength ? L.QF_STRICT_E16 : 0) | (s.segments ? L.QF_STRICT_E19 : 0);
}

/** Decodes `n` chain records (CHAIN_* header, SEG_* segments) starting at `off`. */
export function decodeChains(dv: DataView, off: number, n: number): PackedChain[] {
  const out: PackedChain[] = [];
  for (let i = 0; i < n; i++) {
    const nsegs = dv.getUint16(off + L.CHAIN_NSEGS, true);
    const segs: PackedSeg[] = [];
    for (let k = 0; k < nsegs; k++) {
      const s = off + L.CHAIN_HDR_SIZE + k * L.SEG_SIZE;
      segs.push({
        addr: getDma(dv, s + L.SEG_ADDR),
        len: dv.getUint32(s + L.SEG_LEN, true),
        write: (dv.getUint16(s + L.SEG_FLAGS, true) & L.VRING_DESC_F_WRITE) !== 0,
      });
    }
    out.push({
      id: dv.getUint16(off + L.CHAIN_ID, true),
      slots: dv.getUint16(off + L.CHAIN_SLOTS, true),
      indirect: (dv.getUint16(off + L.CHAIN_FLAGS, true) & L.CHAINF_INDIRECT) !== 0,
      readable: dv.getUint32(off + L.CHAIN_READABLE, true),
      writable: dv.getUint32(off + L.CHAIN_WRITABLE, true),
      segs,
    });
    off += L.CHAIN_HDR_SIZE + nsegs * L.SEG_SIZE;
  }
  return out;
}

export function encodeUsed(dv: DataView, off: number, used: readonly UsedRec[]): void {
  for (let i = 0; i < used.length; i++) {
    const { id, len } = used[i]!;
    if (!isU32(id) || !isU32(len)) throw new RangeError(`push: record ${i} needs a u32 id and len, got ${id}, ${len}`);
  }
  for (let i = 0; i < used.length; i++) {
    const r = off + i * L.PK_USED_REC_SIZE;
    dv.setUint32(r + L.PK_USED_REC_ID, used[i]!.id >>> 0, true);
    dv.setUint32(r + L.PK_USED_REC_LEN, used[i]!.len >>> 0, true);
  }
}

export function decodeUsed(dv: DataView, off: number, n: number): UsedRec[] {
  const out: UsedRec[] = [];
  for (let i = 0; i < n; i++) {
    const r = off + i * L.PK_USED_REC_SIZE;
    out.push({ id: dv.getUint32(r + L.PK_USED_REC_ID, true), len: dv.getUint32(r + L.PK_USED_REC_LEN, true) });
  }
  return out;
}

/** Writes SEG records for a driver add; throws on a malformed buffer (user input). */
export function encodeSegs(dv: DataView, off: number, segs: readonly PackedSeg[]): void {
  if (segs.length === 0) throw new Error("packed add: a buffer needs at least one element");
  let seenWrite = false;
  segs.forEach((s, i) => {
    if (!isDmaAddr(s.addr)) throw new Error(`packed add: element ${i} addr ${s.addr} is not a 64-bit address`);
    if (!Number.isInteger(s.len) || s.len < 0 || s.len > 0xffffffff) throw new Error(`packed add: element ${i} len ${s.len} is not a u32`);
    if (!s.write && seenWrite) throw new Error(`packed add: element ${i} is readable after a writable one`);
    seenWrite ||= s.write;
    const r = off + i * L.SEG_SIZE;
    setDma(dv, r + L.SEG_ADDR, s.addr);
    dv.setUint32(r + L.SEG_LEN, s.len, true);
    dv.setUint32(r + L.SEG_FLAGS, s.write ? L.VRING_DESC_F_WRITE : 0, true);
  });
}

const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** Rejects ring parameters that are not numbers a guest could write (user input); a size of 0 or
 *  above 32768 and misaligned or unmapped areas are guest-visible errors (E1..E3), not thrown. */
export function checkRingArgs(size: number, desc: DmaAddr, driverArea: DmaAddr, deviceArea: DmaAddr): number[] {
  if (!isU32(size)) throw new RangeError(`queue size must be a u32, got ${size}`);
  return ringHalves(desc, driverArea, deviceArea);
}

/** Rejects an indirect table the driver could not name (user input). */
export function checkIndirectTable(cfg: PackedDriverConfig, table: DmaAddr | undefined): void {
  if (table === undefined) return;
  if (!cfg.features?.indirect) throw new Error("packed add: an indirect table needs the indirect feature");
  if (!isDmaAddr(table)) throw new Error(`packed add: indirect table ${table} is not a 64-bit address`);
}

export function checkQueueIndex(q: number): void {
  if (!Number.isInteger(q) || q < 0 || q >= L.MAX_QUEUES) throw new RangeError(`queue index must be in [0, ${L.MAX_QUEUES}), got ${q}`);
}

export function readCursors(dv: DataView, q: number): PackedCursors {
  const b = L.QUEUES_BASE + q * L.QUEUE_STATE_SIZE;
  return {
    flags: dv.getUint32(b + L.Q_FLAGS, true),
    error: dv.getUint32(b + L.Q_ERROR, true),
    size: dv.getUint32(b + L.Q_SIZE, true),
    nextAvail: dv.getUint16(b + L.Q_NEXT_AVAIL, true),
    availWrap: dv.getUint8(b + L.Q_AVAIL_WRAP),
    nextUsed: dv.getUint16(b + L.Q_NEXT_USED, true),
    usedWrap: dv.getUint8(b + L.Q_USED_WRAP),
    numAdded: dv.getUint16(b + L.Q_NUM_ADDED, true),
    inFlight: dv.getUint32(b + L.Q_IN_FLIGHT, true),
    slotsInFlight: dv.getUint32(b + L.Q_PK_SLOTS_IN_FLIGHT, true),
    numFree: dv.getUint16(b + L.Q_NUM_FREE, true),
  };
}

// The IO window: chain records first, used records (push input) after them.
const OUT = L.IO_BASE;
const OUT_BYTES = 2 * 1024 * 1024;
const USED_IN = L.IO_BASE + OUT_BYTES;
const USED_MAX = (L.IO_SIZE - OUT_BYTES) / L.PK_USED_REC_SIZE;

/** What both sides of a packed queue in Wasm have: the queue state block and its cursors. */
class WasmPackedSide {
  readonly machine: Machine;
  readonly queue: number;
  protected readonly x: PackedExports;

  constructor(machine: Machine, queue: number) {
    checkQueueIndex(queue);
    this.machine = machine;
    this.queue = queue;
    this.x = machine.raw<PackedExports>();
  }

  get cursors(): PackedCursors {
    return readCursors(this.machine.dv, this.queue);
  }

  /** The first ring-level error (VQ_E*), 0 while the queue is healthy. */
  get error(): number {
    return this.cursors.error;
  }

  get broken(): boolean {
    return (this.cursors.flags & L.QF_BROKEN) !== 0;
  }
}

/** Device side of one packed virtqueue in Wasm. */
export class WasmPackedDevice extends WasmPackedSide {
  private auxMfn: number;

  constructor(machine: Machine, cfg: PackedDeviceConfig) {
    super(machine, cfg.queue);
    this.auxMfn = machine.allocXenFrames(L.PK_DEV_AUX_BYTES / L.PAGE_SIZE);
    const maxSegs = cfg.maxSegs ?? 0;
    if (!Number.isInteger(maxSegs) || maxSegs < 0 || maxSegs > 0xffffffff) throw new RangeError(`maxSegs must be a u32, got ${maxSegs}`);
    this.x.vqp_dev_config(cfg.queue, cfg.ringDomid, cfg.bufDomid ?? L.DOMID_INVALID, machine.frameAddr(this.auxMfn),
      packedQueueFlags(cfg.features, cfg.strict), maxSegs);
  }

  /** QueueReady = 1. Returns VQ_OK or the VQ_E* code (E1, E2, E3) that failed the queue. */
  enable(size: number, desc: DmaAddr, driverArea: DmaAddr, deviceArea: DmaAddr): number {
    const [dh, dl, rh, rl, vh, vl] = checkRingArgs(size, desc, driverArea, deviceArea);
    return this.x.vqp_dev_enable(this.queue, size, dh!, dl!, rh!, rl!, vh!, vl!);
  }

  /** The device status gained DRIVER_OK. */
  driverOk(): void {
    this.x.vqp_dev_driver_ok(this.queue);
  }

  /** Pops up to `max` buffers; the records stay in the IO window (decode with chainsAt). */
  popRaw(max = 64): number {
    return this.x.vqp_dev_pop(this.queue, OUT, OUT_BYTES, max);
  }

  pop(max = 64): PackedChain[] {
    const n = this.popRaw(max);
    return decodeChains(this.machine.dv, OUT, n);
  }

  /** Completes buffers; returns how many were published before any error. */
  push(used: readonly UsedRec[]): number {
    if (used.length > USED_MAX) throw new RangeError(`push: at most ${USED_MAX} records per call`);
    encodeUsed(this.machine.dv, USED_IN, used);
    return this.x.vqp_dev_push(this.queue, USED_IN, used.length);
  }

  /** Pop up to `max` and complete each with len = its writable bytes, in one call. */
  popPush(max = 64): number {
    return this.x.vqp_dev_pop_push(this.queue, OUT, L.IO_SIZE, max);
  }

  needIrq(): boolean {
    return this.x.vqp_dev_need_irq(this.queue) !== 0;
  }

  /** Re-enables kicks; true when a buffer is already waiting (process it instead of sleeping). */
  enableNotify(): boolean {
    return this.x.vqp_dev_notify_enable(this.queue) !== 0;
  }

  disableNotify(): void {
    this.x.vqp_dev_notify_disable(this.queue);
  }

  /** Releases the buffer-id table. The queue must not be used afterwards. */
  dispose(): void {
    if (this.auxMfn === 0) return;
    for (let i = 0; i < L.PK_DEV_AUX_BYTES / L.PAGE_SIZE; i++) this.machine.freeXenFrame(this.auxMfn + i);
    this.auxMfn = 0;
  }
}

/** Driver side of one packed virtqueue in Wasm. */
export class WasmPackedDriver extends WasmPackedSide {
  readonly cfg: PackedDriverConfig;
  private auxMfn = 0;
  private auxFrames = 0;

  constructor(machine: Machine, cfg: PackedDriverConfig) {
    super(machine, cfg.queue);
    this.cfg = cfg;
  }

  /** Zeroes and sets up the ring. Returns VQ_OK or the VQ_E* code (E1, E2, E3). */
  init(size: number, desc: DmaAddr, driverArea: DmaAddr, deviceArea: DmaAddr): number {
    const [dh, dl, rh, rl, vh, vl] = checkRingArgs(size, desc, driverArea, deviceArea);
    this.release();
    if (Number.isInteger(size) && size > 0 && size <= L.VIRTQ_MAX_SIZE) {
      this.auxFrames = Math.ceil((size * (L.PK_DRV_ENTRY_SIZE + 2)) / L.PAGE_SIZE);
      this.auxMfn = this.machine.allocXenFrames(this.auxFrames);
    }
    const aux = this.auxMfn === 0 ? 0 : this.machine.frameAddr(this.auxMfn);
    this.x.vqp_drv_config(this.queue, this.cfg.ringDomid, aux, packedQueueFlags(this.cfg.features));
    return this.x.vqp_drv_init(this.queue, size, dh!, dl!, rh!, rl!, vh!, vl!);
  }

  /** Makes a buffer available. With `indirectTable` (needs the indirect feature) the elements go
   *  into a table at that gpa. Returns the buffer id, or -VQ_ENOSPC / -VQ_E17 (table not
   *  writable) / -error when the queue is broken. */
  add(segs: readonly PackedSeg[], indirectTable?: DmaAddr): number {
    checkIndirectTable(this.cfg, indirectTable);
    if (segs.length * L.SEG_SIZE > L.IO_SIZE) throw new RangeError("packed add: too many elements");
    encodeSegs(this.machine.dv, L.IO_BASE, segs);
    const t = indirectTable ?? 0;
    return this.x.vqp_drv_add(this.queue, L.IO_BASE, segs.length, indirectTable === undefined ? 0 : 1, dmaHi(t), dmaLo(t));
  }

  kickPrepare(): boolean {
    return this.x.vqp_drv_kick_prepare(this.queue) !== 0;
  }

  /** Reclaims used buffers (at most `max`, default the queue size). */
  getUsed(max?: number): UsedRec[] {
    const limit = Math.min(max ?? Math.max(1, this.cursors.size), L.IO_SIZE / L.PK_USED_REC_SIZE);
    const n = this.x.vqp_drv_get_used(this.queue, L.IO_BASE, limit);
    return decodeUsed(this.machine.dv, L.IO_BASE, n);
  }

  /** Re-arms used-buffer notifications; true when used buffers are already waiting. */
  enableCb(): boolean {
    return this.x.vqp_drv_enable_cb(this.queue) !== 0;
  }

  disableCb(): void {
    this.x.vqp_drv_disable_cb(this.queue);
  }

  private release(): void {
    for (let i = 0; i < this.auxFrames; i++) this.machine.freeXenFrame(this.auxMfn + i);
    this.auxMfn = 0;
    this.auxFrames = 0;
  }

  dispose(): void {
    this.release();
  }
}
