// The device side of a virtio-mmio v2 register window (virtio.md §4): what a VMM or a Xen
// device model answers when a guest access to the window traps. It holds the register state,
// enforces the device rules (status handshake, feature acceptance, queue programming) and
// calls the backend through hooks; it counts nothing (each transport counts its traps).
// Misbehaviour of the driver is never a host error: the access is ignored (reads give 0) and
// recorded in `faults` with its row of virtio.md §8 (E23 features, E24 phase, E25 access).
import * as L from "../wasm/layout.ts";
import type { VirtioDevice } from "../devices/types.ts";
import type { RingAddrs } from "../virtio/rings.ts";
import { dmaCanon } from "../virtio/dma-addr.ts";

export interface MmioRegsHooks {
  /** QueueReady = 1 with the ring the driver programmed: VQ_OK, or a VQ_E* code (the queue is
   *  then broken and the device needs a reset). */
  queueReady(q: number, ring: RingAddrs, features: bigint): number;
  /** QueueReady = 0 on a ready queue. */
  queueStop(q: number): void;
  /** QueueNotify reached the register file (not consumed on the way, e.g. by an ioeventfd). */
  notify(q: number, value: number): void;
  /** DRIVER_OK was accepted. */
  driverOk(features: bigint): void;
  /** Status 0 was written (after the register file and the device were reset). */
  reset(): void;
  /** The interrupt line (InterruptStatus != 0) changed. */
  irqLevel(high: boolean): void;
}

export type MmioFaultCode = "E4" | "E23" | "E24" | "E25";

export interface MmioFault {
  code: MmioFaultCode;
  off: number;
  what: string;
}

interface QueueRegs {
  num: number;
  ready: boolean;
  desc: bigint;
  avail: bigint;
  used: bigint;
}

const S = {
  ACK: L.VIRTIO_CONFIG_S_ACKNOWLEDGE,
  DRIVER: L.VIRTIO_CONFIG_S_DRIVER,
  FEATURES_OK: L.VIRTIO_CONFIG_S_FEATURES_OK,
  DRIVER_OK: L.VIRTIO_CONFIG_S_DRIVER_OK,
  NEEDS_RESET: L.VIRTIO_CONFIG_S_NEEDS_RESET,
  FAILED: L.VIRTIO_CONFIG_S_FAILED,
};
const MAX_FAULTS = 256;
const MAX_FEATURE_WORDS = 4; // feature bits 0..127
const U32 = 0xffffffffn;
/** "VXSM" read as a little-endian u32. */
export const VXSIM_VENDOR_ID = 0x4d535856;

function newQueue(): QueueRegs {
  return { num: 0, ready: false, desc: 0n, avail: 0n, used: 0n };
}

function setHalf(v: bigint, value: number, high: boolean): bigint {
  const x = BigInt(value >>> 0);
  return high ? (v & U32) | (x << 32n) : (v & ~U32) | x;
}

export class MmioRegs {
  readonly device: VirtioDevice;
  /** Device features plus the ring features the transport supports and VERSION_1. */
  readonly offered: bigint;
  private readonly hooks: MmioRegsHooks;
  status = 0;
  interruptStatus = 0;
  configGeneration = 0;
  private devSel = 0;
  private drvSel = 0;
  /** Features the driver wrote (accepted once FEATURES_OK sticks). */
  driverFeatures = 0n;
  queueSel = 0;
  private queues: QueueRegs[];
  readonly faults: MmioFault[] = [];
  faultCount = 0;

  constructor(device: VirtioDevice, ringFeatures: bigint, hooks: MmioRegsHooks) {
    this.device = device;
    this.offered = device.features | ringFeatures | (1n << BigInt(L.VIRTIO_F_VERSION_1));
    this.hooks = hooks;
    this.queues = Array.from({ length: device.numQueues }, newQueue);
  }

  /** Negotiated features (meaningful once FEATURES_OK is set). */
  get features(): bigint {
    return this.driverFeatures;
  }

  queue(q: number): Readonly<QueueRegs> | undefined {
    return this.queues[q];
  }

  private fault(code: MmioFaultCode, off: number, what: string): void {
    this.faultCount++;
    if (this.faults.length < MAX_FAULTS) this.faults.push({ code, off, what });
  }

  // ---- guest accesses ------------------------------------------------------------------

  read(off: number, size: number): number {
    if (off >= L.VIRTIO_MMIO_CONFIG) return this.readConfig(off - L.VIRTIO_MMIO_CONFIG, size);
    if (size !== 4 || (off & 3) !== 0) {
      this.fault("E25", off, `${size}-byte read of a control register`);
      return 0;
    }
    const q = this.queues[this.queueSel];
    switch (off) {
      case L.VIRTIO_MMIO_MAGIC_VALUE: return L.VIRTIO_MMIO_MAGIC;
      case L.VIRTIO_MMIO_VERSION: return L.VIRTIO_MMIO_VERSION_2;
      case L.VIRTIO_MMIO_DEVICE_ID: return this.device.deviceId;
      case L.VIRTIO_MMIO_VENDOR_ID: return VXSIM_VENDOR_ID;
      case L.VIRTIO_MMIO_DEVICE_FEATURES: return this.devSel < MAX_FEATURE_WORDS ? Number((this.offered >> BigInt(32 * this.devSel)) & U32) : 0;
      case L.VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? this.device.queueMax : 0;
      case L.VIRTIO_MMIO_QUEUE_READY: return q?.ready ? 1 : 0;
      case L.VIRTIO_MMIO_INTERRUPT_STATUS: return this.interruptStatus;
      case L.VIRTIO_MMIO_STATUS: return this.status;
      case L.VIRTIO_MMIO_SHM_LEN_LOW: case L.VIRTIO_MMIO_SHM_LEN_HIGH:
      case L.VIRTIO_MMIO_SHM_BASE_LOW: case L.VIRTIO_MMIO_SHM_BASE_HIGH:
        return 0xffffffff; // no shared memory regions
      case L.VIRTIO_MMIO_QUEUE_RESET: return 0; // RING_RESET is not offered
      case L.VIRTIO_MMIO_CONFIG_GENERATION: return this.configGeneration;
      default:
        this.fault("E25", off, "read of a write-only or unknown register");
        return 0;
    }
  }

  write(off: number, size: number, value: number): void {
    if (off >= L.VIRTIO_MMIO_CONFIG) {
      this.fault("E24", off, "config write: the device's configuration is read-only");
      return;
    }
    if (size !== 4 || (off & 3) !== 0) {
      this.fault("E25", off, `${size}-byte write of a control register`);
      return;
    }
    const v = value >>> 0;
    switch (off) {
      case L.VIRTIO_MMIO_DEVICE_FEATURES_SEL: this.devSel = v; return;
      case L.VIRTIO_MMIO_DRIVER_FEATURES_SEL: this.drvSel = v; return;
      case L.VIRTIO_MMIO_DRIVER_FEATURES: return this.writeDriverFeatures(v);
      case L.VIRTIO_MMIO_QUEUE_SEL: this.queueSel = v; return;
      case L.VIRTIO_MMIO_QUEUE_NUM: return this.writeQueueField(off, (q) => (q.num = v));
      case L.VIRTIO_MMIO_QUEUE_DESC_LOW: case L.VIRTIO_MMIO_QUEUE_DESC_HIGH:
        return this.writeQueueField(off, (q) => (q.desc = setHalf(q.desc, v, off === L.VIRTIO_MMIO_QUEUE_DESC_HIGH)));
      case L.VIRTIO_MMIO_QUEUE_AVAIL_LOW: case L.VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
        return this.writeQueueField(off, (q) => (q.avail = setHalf(q.avail, v, off === L.VIRTIO_MMIO_QUEUE_AVAIL_HIGH)));
      case L.VIRTIO_MMIO_QUEUE_USED_LOW: case L.VIRTIO_MMIO_QUEUE_USED_HIGH:
        return this.writeQueueField(off, (q) => (q.used = setHalf(q.used, v, off === L.VIRTIO_MMIO_QUEUE_USED_HIGH)));
      case L.VIRTIO_MMIO_QUEUE_READY: return this.writeQueueReady(v);
      case L.VIRTIO_MMIO_QUEUE_NOTIFY: return this.writeNotify(v);
      case L.VIRTIO_MMIO_INTERRUPT_ACK: return this.writeAck(v);
      case L.VIRTIO_MMIO_STATUS: return this.writeStatus(v);
      case L.VIRTIO_MMIO_SHM_SEL: return;
      default:
        this.fault("E25", off, "write of a read-only, legacy or unknown register");
    }
  }

  private readConfig(off: number, size: number): number {
    const cfg = this.device.config;
    if (size !== 1 && size !== 2 && size !== 4) {
      this.fault("E25", L.VIRTIO_MMIO_CONFIG + off, `${size}-byte config read`);
      return 0;
    }
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (cfg[off + i] ?? 0);
    return v;
  }

  private writeDriverFeatures(v: number): void {
    if ((this.status & S.DRIVER) === 0 || (this.status & (S.FEATURES_OK | S.FAILED)) !== 0) {
      this.fault("E24", L.VIRTIO_MMIO_DRIVER_FEATURES, "DriverFeatures written outside the negotiation phase");
      return;
    }
    if (this.drvSel >= MAX_FEATURE_WORDS) {
      if (v !== 0) this.fault("E23", L.VIRTIO_MMIO_DRIVER_FEATURES, `feature bits in word ${this.drvSel}, beyond the 128 the spec defines`);
      return;
    }
    const shift = BigInt(32 * this.drvSel);
    this.driverFeatures = (this.driverFeatures & ~(U32 << shift)) | (BigInt(v) << shift);
  }

  private writeQueueField(off: number, set: (q: QueueRegs) => void): void {
    const q = this.queues[this.queueSel];
    if (!q) return this.fault("E24", off, `queue ${this.queueSel} does not exist`);
    if (q.ready) return this.fault("E24", off, `queue ${this.queueSel} reprogrammed while ready`);
    set(q);
  }

  private writeQueueReady(v: number): void {
    const qi = this.queueSel;
    const q = this.queues[qi];
    if (!q) return this.fault("E24", L.VIRTIO_MMIO_QUEUE_READY, `queue ${qi} does not exist`);
    if (v === 1) {
      if (q.ready) return;
      if ((this.status & S.FEATURES_OK) === 0) {
        return this.fault("E24", L.VIRTIO_MMIO_QUEUE_READY, "QueueReady before FEATURES_OK");
      }
      q.ready = true;
      const ring = { size: q.num, desc: dmaCanon(q.desc), driver: dmaCanon(q.avail), device: dmaCanon(q.used) };
      if (this.hooks.queueReady(qi, ring, this.driverFeatures) !== L.VQ_OK) this.needsReset();
    } else if (q.ready) {
      q.ready = false;
      this.hooks.queueStop(qi);
    }
  }

  private writeNotify(v: number): void {
    const qi = v & 0xffff;
    if ((this.status & S.DRIVER_OK) === 0 || !this.queues[qi]?.ready) {
      return this.fault("E4", L.VIRTIO_MMIO_QUEUE_NOTIFY, `notify of queue ${qi} before DRIVER_OK or while not ready`);
    }
    this.hooks.notify(qi, v);
  }

  private writeAck(v: number): void {
    if ((this.status & S.DRIVER_OK) === 0) return this.fault("E24", L.VIRTIO_MMIO_INTERRUPT_ACK, "InterruptACK before DRIVER_OK");
    const before = this.interruptStatus;
    this.interruptStatus &= ~v & (L.VIRTIO_MMIO_INT_VRING | L.VIRTIO_MMIO_INT_CONFIG);
    if (before !== 0 && this.interruptStatus === 0) this.hooks.irqLevel(false);
  }

  /** The status handshake as rust-vmm's virtio-device accepts it (virtio.md §3.3). */
  private writeStatus(v: number): void {
    if (v === 0) return this.reset();
    const old = this.status;
    if (v & S.FAILED) {
      this.status |= S.FAILED;
      return;
    }
    const keep = old & S.NEEDS_RESET; // device-owned: the driver may or may not echo it
    const o = old & ~S.NEEDS_RESET;
    const n = v & ~S.NEEDS_RESET;
    const ok =
      (o === 0 && n === S.ACK) ||
      (o === S.ACK && n === (S.ACK | S.DRIVER)) ||
      (o === (S.ACK | S.DRIVER) && n === (o | S.FEATURES_OK)) ||
      (o === (S.ACK | S.DRIVER | S.FEATURES_OK) && n === (o | S.DRIVER_OK));
    if (!ok) return this.fault("E24", L.VIRTIO_MMIO_STATUS, `status 0x${old.toString(16)} -> 0x${v.toString(16)}`);
    if (n & ~o & S.FEATURES_OK) {
      const bad = this.driverFeatures & ~this.offered;
      if (bad !== 0n) return this.fault("E23", L.VIRTIO_MMIO_STATUS, `driver accepted unoffered features 0x${bad.toString(16)}`);
      if (((this.driverFeatures >> BigInt(L.VIRTIO_F_VERSION_1)) & 1n) === 0n) {
        return this.fault("E23", L.VIRTIO_MMIO_STATUS, "driver did not accept VERSION_1 (legacy drivers are not served)");
      }
      // The device hears the bits it offered itself; ring and platform bits are the transport's.
      this.device.negotiated(this.driverFeatures & (this.device.features | (1n << BigInt(L.VIRTIO_F_VERSION_1))));
    }
    this.status = n | keep;
    if (n & ~o & S.DRIVER_OK) this.hooks.driverOk(this.driverFeatures);
  }

  // ---- device side ---------------------------------------------------------------------

  /** Sets InterruptStatus bits; true when the line went from low to high. */
  raise(bits: number): boolean {
    const before = this.interruptStatus;
    this.interruptStatus |= bits;
    const rose = before === 0 && this.interruptStatus !== 0;
    if (rose) this.hooks.irqLevel(true);
    return rose;
  }

  /** DEVICE_NEEDS_RESET, with a configuration-change interrupt once the driver is live. */
  needsReset(): void {
    this.status |= S.NEEDS_RESET;
    if (this.status & S.DRIVER_OK) this.raise(L.VIRTIO_MMIO_INT_CONFIG);
  }

  reset(): void {
    const wasHigh = this.interruptStatus !== 0;
    this.status = 0;
    this.interruptStatus = 0;
    this.devSel = 0;
    this.drvSel = 0;
    this.driverFeatures = 0n;
    this.queueSel = 0;
    this.queues = Array.from({ length: this.device.numQueues }, newQueue);
    this.device.reset();
    if (wasHigh) this.hooks.irqLevel(false);
    this.hooks.reset();
  }
}
