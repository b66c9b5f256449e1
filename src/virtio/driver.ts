// The generic guest virtio driver over split rings (what Linux's virtio_mmio + virtio_ring do
// for any device type). The transport plugs in through a FrontendPort: register accesses,
// buffer exposure (which address a descriptor carries), kicks and interrupts. Rings live in
// the guest's own RAM and are driven by the Wasm split-ring kernels.
import * as L from "../wasm/layout.ts";
import type { Machine } from "../wasm/machine.ts";
import { dmaHi, dmaLo, type DmaAddr } from "./dma-addr.ts";
import { openDriverRing, ringAreaBytes, type DriverRing, type RingAddrs } from "./rings.ts";
import type { FrontendPort, GuestBuf } from "./port.ts";
import type { GuestPages } from "./guest-pages.ts";
import { allocQueueId } from "./queue-ids.ts";
import { addStatus, DriverError, probeDevice, type ConfigField, type ProbeResult } from "./driver-probe.ts";

export interface VirtioDriverOptions {
  machine: Machine;
  /** The guest. */
  domid: number;
  port: FrontendPort;
  /** Where rings are allocated. */
  pages: GuestPages;
  /** Device-specific features the device-type driver supports. */
  deviceFeatures: bigint;
  /** Accept EVENT_IDX when offered (default true). */
  eventIdx?: boolean;
  /** Accept VIRTIO_F_RING_PACKED when offered (default false: split rings). */
  packed?: boolean;
  /** Queues to set up (default 1). */
  numQueues?: number;
  /** Largest ring the driver allocates (default 256; the device's QueueNumMax bounds it). */
  queueSize?: number;
  configReads?: ConfigField[];
}

export interface Completion<T = unknown> {
  q: number;
  tag: T;
  head: number;
  /** The used element's len: bytes the device wrote. */
  written: number;
  bufs: GuestBuf[];
}

interface Outstanding<T> {
  tag: T;
  bufs: GuestBuf[];
  addrs: DmaAddr[];
}

interface DriverQueue<T> {
  ring: DriverRing;
  layout: RingAddrs;
  outstanding: Map<number, Outstanding<T>>;
}

const pagesFor = (bytes: number) => Math.ceil(bytes / L.PAGE_SIZE);

export class VirtioDriver<T = unknown> {
  readonly opts: VirtioDriverOptions;
  readonly port: FrontendPort;
  probe: ProbeResult | undefined;
  private readonly queues: DriverQueue<T>[] = [];
  /** Interrupts whose InterruptStatus had the configuration bit (NEEDS_RESET, config change). */
  configInterrupts = 0;

  constructor(opts: VirtioDriverOptions) {
    this.opts = opts;
    this.port = opts.port;
  }

  get features(): bigint {
    if (!this.probe) throw new DriverError("driver not initialised");
    return this.probe.features;
  }

  has(feature: number): boolean {
    return ((this.features >> BigInt(feature)) & 1n) === 1n;
  }

  /** Probe, negotiate, read config, set up the queues, DRIVER_OK. */
  init(): ProbeResult {
    const o = this.opts;
    const p = probeDevice(this.port, {
      deviceFeatures: o.deviceFeatures | (o.packed ? 1n << BigInt(L.VIRTIO_F_RING_PACKED) : 0n), eventIdx: o.eventIdx, configReads: o.configReads,
    });
    this.probe = p;
    const eventIdx = this.has(L.VIRTIO_RING_F_EVENT_IDX);
    const packed = this.has(L.VIRTIO_F_RING_PACKED);
    for (let q = 0; q < (o.numQueues ?? 1); q++) this.queues.push(this.setupQueue(q, eventIdx, packed));
    addStatus(this.port, L.VIRTIO_CONFIG_S_DRIVER_OK);
    return p;
  }

  private setupQueue(q: number, eventIdx: boolean, packed: boolean): DriverQueue<T> {
    const port = this.port;
    port.writeReg(L.VIRTIO_MMIO_QUEUE_SEL, 4, q);
    if (port.readReg(L.VIRTIO_MMIO_QUEUE_READY, 4) !== 0) throw new DriverError(`virtio-mmio: queue ${q} is already set up`);
    const max = port.readReg(L.VIRTIO_MMIO_QUEUE_NUM_MAX, 4);
    if (max === 0) throw new DriverError(`virtio-mmio: queue ${q} does not exist`);
    let size = Math.min(max, this.opts.queueSize ?? 256);
    size = 2 ** Math.floor(Math.log2(size)); // split rings need a power of two (packed ones take it too)
    const pages = this.opts.pages;
    const [d, dr, dv] = ringAreaBytes(size, packed);
    const layout: RingAddrs = { size, desc: pages.allocGpa(pagesFor(d)), driver: pages.allocGpa(pagesFor(dr)), device: pages.allocGpa(pagesFor(dv)) };
    const m = this.opts.machine;
    const ring = openDriverRing({ machine: m, qid: allocQueueId(m), ringDomid: this.opts.domid, eventIdx, packed }, layout);
    if (typeof ring === "number") throw new DriverError(`queue ${q}: ring initialisation failed (code ${ring})`);
    port.writeReg(L.VIRTIO_MMIO_QUEUE_NUM, 4, size);
    const addr = (lo: number, a: DmaAddr) => {
      port.writeReg(lo, 4, dmaLo(a));
      port.writeReg(lo + 4, 4, dmaHi(a));
    };
    addr(L.VIRTIO_MMIO_QUEUE_DESC_LOW, layout.desc);
    addr(L.VIRTIO_MMIO_QUEUE_AVAIL_LOW, layout.driver);
    addr(L.VIRTIO_MMIO_QUEUE_USED_LOW, layout.device);
    port.writeReg(L.VIRTIO_MMIO_QUEUE_READY, 4, 1);
    return { ring, layout, outstanding: new Map() };
  }

  private queue(q: number): DriverQueue<T> {
    const dq = this.queues[q];
    if (!dq) throw new RangeError(`queue ${q} is not set up`);
    return dq;
  }

  ring(q: number): DriverRing {
    return this.queue(q).ring;
  }

  layout(q: number): RingAddrs {
    return this.queue(q).layout;
  }

  inFlight(q = 0): number {
    return this.queue(q).outstanding.size;
  }

  /** Chains outstanding on every queue (a net guest's posted rx buffers count). */
  inFlightAll(): number {
    return this.queues.reduce((n, dq) => n + dq.outstanding.size, 0);
  }

  /** Adds one chain (readable buffers first); false when the ring has no room. Not visible to
   *  the device before kick(). */
  submit(q: number, bufs: GuestBuf[], tag: T): boolean {
    const dq = this.queue(q);
    if (bufs.length === 0) throw new RangeError("submit: a chain needs at least one buffer");
    if (bufs.some((b, i) => i > 0 && !b.write && bufs[i - 1]!.write)) {
      throw new RangeError("submit: device-readable buffers must come before device-writable ones");
    }
    if (dq.ring.numFree < bufs.length) return false;
    // A transport may refuse a buffer (a slot too small, a pool full): undo the ones before it.
    const addrs: DmaAddr[] = [];
    try {
      for (const b of bufs) addrs.push(this.port.expose(b));
    } catch (e) {
      addrs.forEach((a, i) => this.port.unexpose({ ...bufs[i]!, write: false }, a));
      throw e;
    }
    const head = dq.ring.add(bufs.map((b, i) => ({ addr: addrs[i]!, len: b.len, write: b.write })));
    if (head === undefined) {
      bufs.forEach((b, i) => this.port.unexpose(b, addrs[i]!));
      return false;
    }
    dq.outstanding.set(head, { tag, bufs, addrs });
    return true;
  }

  /** Publishes what was added; notifies the device when the ring says so. */
  kick(q = 0): boolean {
    if (!this.queue(q).ring.kick()) return false;
    this.port.notify(q);
    return true;
  }

  /** The interrupt handler: null when no interrupt was pending, else the chains completed. */
  handleInterrupt(): Completion<T>[] | null {
    if (!this.port.takeInterrupt()) return null;
    let status = L.VIRTIO_MMIO_INT_VRING;
    if (this.port.isrRegisters) {
      status = this.port.readReg(L.VIRTIO_MMIO_INTERRUPT_STATUS, 4);
      this.port.writeReg(L.VIRTIO_MMIO_INTERRUPT_ACK, 4, status);
    }
    if (status & L.VIRTIO_MMIO_INT_CONFIG) this.configInterrupts++;
    const out: Completion<T>[] = [];
    if (status & L.VIRTIO_MMIO_INT_VRING) for (let q = 0; q < this.queues.length; q++) this.drain(q, out);
    return out;
  }

  /** Linux's vq callback loop: disable callbacks, take every used entry, re-enable; again if
   *  entries arrived meanwhile. */
  private drain(q: number, out: Completion<T>[]): void {
    const dq = this.queue(q);
    do {
      dq.ring.disableCallbacks();
      for (const u of dq.ring.reclaim()) {
        const o = dq.outstanding.get(u.id);
        if (!o) throw new Error(`queue ${q}: used id ${u.id} is not outstanding`);
        dq.outstanding.delete(u.id);
        o.bufs.forEach((b, i) => this.port.unexpose(b, o.addrs[i]!));
        out.push({ q, tag: o.tag, head: u.id, written: u.len, bufs: o.bufs });
      }
      if (dq.ring.broken) return;
    } while (dq.ring.enableCallbacks());
  }
}
