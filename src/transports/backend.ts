// The backend half every register-window transport shares: the device-side virtio-mmio
// register file, one split-ring device side per queue, and the service loop (pop, let the
// device handle each chain through the transport's ChainIo, push used, decide the interrupt).
// What differs per transport comes in through BackendHooks: where the ring is reached, how a
// chain's buffers are reached, and how an interrupt is delivered.
import * as L from "../wasm/layout.ts";
import type { Machine } from "../wasm/machine.ts";
import { DeviceIoError, type Chain, type ChainIo, type VirtioDevice } from "../devices/types.ts";
import { defersCompletions, isDeferred, type DeferringDevice } from "../devices/deferred.ts";
import { allocQueueId } from "../virtio/queue-ids.ts";
import { openDeviceRing, type DeviceRing, type RingAddrs, type Used } from "../virtio/rings.ts";
import { MmioRegs, type MmioRegsHooks } from "./mmio-regs.ts";

export interface RingPlacement {
  /** The domain through whose p2m the backend reaches the ring. */
  ringDomid: number;
  /** The ring's addresses in that domain's space. */
  ring: RingAddrs;
}

export interface OpenChain {
  io: ChainIo;
  /** The device is done with the chain (unmap what was mapped for it, copy out what it wrote).
   *  `false`: what the device wrote could not be delivered, and the chain is used with length 0. */
  close(): boolean | void;
}

export interface BackendHooks {
  /** Makes queue `q`'s ring reachable; a VQ_E* code when it cannot be. */
  placeRing(q: number, ring: RingAddrs, packed: boolean): RingPlacement | number;
  /** Undoes placeRing for every queue (device reset, close). */
  releaseRings(): void;
  /** The driver set DRIVER_OK (a VMM starts its ioeventfds here). */
  driverOk?(): void;
  openChain(q: number, chain: Chain): OpenChain;
  /** Delivers a used-buffer interrupt for queue `q` (the ring asked for one). */
  interrupt(q: number): void;
  /** The register file's interrupt line changed (InterruptStatus went non-zero or zero). */
  irqLevel?(high: boolean): void;
}

export interface BackendOptions {
  machine: Machine;
  device: VirtioDevice;
  hooks: BackendHooks;
  /** Ring features the transport's backend supports (offered on top of the device's):
   *  EVENT_IDX, RING_PACKED. */
  ringFeatures: bigint;
  /** The guest: descriptor addresses must lie in its RAM (E17), unless the transport's
   *  addresses are not guest-physical (DOMID_INVALID: wrap check only). */
  bufDomid: number;
  /** Decide on an interrupt after every chain instead of once per service pass. */
  irqPerChain?: boolean;
  /** Chains popped per kernel call (default 64). */
  popBatch?: number;
}

export class VirtioBackend implements MmioRegsHooks {
  readonly regs: MmioRegs;
  readonly device: VirtioDevice;
  private readonly o: BackendOptions;
  private readonly rings: (DeviceRing | undefined)[] = [];
  private readonly qids: number[] = [];
  private readonly pending = new Set<number>();
  /** Chains a deferring device kept (virtio-net rx buffers), by q * 0x10000 + id, with what
   *  the transport opened for them: held until the device completes them (deferred.ts). */
  private readonly parked = new Map<number, OpenChain>();
  private readonly deferring: DeferringDevice | undefined;
  /** The device signalled late completions from outside this backend's own handle(). */
  private woken = false;

  constructor(o: BackendOptions) {
    this.o = o;
    this.device = o.device;
    this.regs = new MmioRegs(o.device, o.ringFeatures, this);
    if (defersCompletions(o.device)) {
      this.deferring = o.device;
      // A wake-up only (rule 4): the next service() pass takes and pushes them.
      o.device.onCompletions = () => {
        this.woken = true;
      };
    }
  }

  /** Chains the device holds for a later completion. */
  get parkedChains(): number {
    return this.parked.size;
  }

  /** The device side of queue `q` once the driver made it ready. */
  ring(q: number): DeviceRing | undefined {
    return this.rings[q];
  }

  /** An available-buffer notification for queue `q` reached the backend. */
  notify(q: number): void {
    this.o.machine.bump(L.CNT_TR_NOTIFICATIONS);
    this.pending.add(q);
  }

  get hasPending(): boolean {
    return this.pending.size > 0 || this.woken;
  }

  // ---- register-file hooks -------------------------------------------------------------

  queueReady(q: number, ring: RingAddrs, features: bigint): number {
    const has = (f: number) => ((features >> BigInt(f)) & 1n) === 1n;
    const packed = has(L.VIRTIO_F_RING_PACKED);
    this.rings[q]?.stop();
    this.rings[q] = undefined;
    const placed = this.o.hooks.placeRing(q, ring, packed);
    if (typeof placed === "number") return placed;
    this.qids[q] ??= allocQueueId(this.o.machine);
    const r = openDeviceRing({
      machine: this.o.machine, qid: this.qids[q]!, ringDomid: placed.ringDomid, eventIdx: has(L.VIRTIO_RING_F_EVENT_IDX),
      bufDomid: this.o.bufDomid, queueMax: this.device.queueMax, packed,
    }, placed.ring);
    if (typeof r === "number") return r;
    this.rings[q] = r;
    return L.VQ_OK;
  }

  queueStop(q: number): void {
    this.rings[q]?.stop();
    this.rings[q] = undefined;
    this.pending.delete(q);
    this.dropParked(q);
  }

  /** The device forgot its parked chains (reset): release what was opened for them (rule 5). */
  private dropParked(q?: number): void {
    for (const [key, open] of [...this.parked]) {
      if (q !== undefined && Math.floor(key / 0x10000) !== q) continue;
      this.parked.delete(key);
      open.close();
    }
  }

  driverOk(): void {
    this.o.hooks.driverOk?.();
  }

  reset(): void {
    for (let q = 0; q < this.rings.length; q++) this.queueStop(q);
    this.dropParked();
    this.woken = false;
    this.pending.clear();
    this.o.hooks.releaseRings();
  }

  irqLevel(high: boolean): void {
    this.o.hooks.irqLevel?.(high);
  }

  // ---- service -------------------------------------------------------------------------

  /** Serves every notified queue; returns the chains completed. */
  service(): number {
    let done = 0;
    const late = new Set<number>();
    if (this.woken) {
      this.woken = false;
      done += this.pushLate(late);
    }
    for (const q of [...this.pending].sort((a, b) => a - b)) {
      this.pending.delete(q);
      const dev = this.rings[q];
      if (!dev || dev.broken) continue;
      const n = this.serveQueue(q, dev, late);
      if (n > 0) this.o.machine.bump(L.CNT_TR_BACKEND_PASSES);
      done += n;
    }
    // One interrupt decision per queue that got late used entries (a frame that arrived).
    for (const q of [...late].sort((a, b) => a - b)) {
      const dev = this.rings[q];
      if (dev && !dev.broken && dev.needInterrupt()) this.o.hooks.interrupt(q);
    }
    return done;
  }

  /** Pushes the chains the device finished late (rule 2: one push per take, per queue);
   *  records their queues in `late`. Returns how many. */
  private pushLate(late: Set<number>): number {
    const list = this.deferring?.takeCompletions() ?? [];
    const byQueue = new Map<number, Used[]>();
    for (const c of list) {
      const key = c.q * 0x10000 + c.chain.id;
      const open = this.parked.get(key);
      if (!open) throw new Error(`virtio backend: device completed chain ${c.chain.id} of queue ${c.q}, which it did not keep`);
      this.parked.delete(key);
      const delivered = open.close() !== false; // the transport lets go of the buffers before the driver sees them used
      let u = byQueue.get(c.q);
      if (!u) byQueue.set(c.q, (u = []));
      u.push({ id: c.chain.id, len: delivered ? c.written : 0 });
    }
    for (const [q, used] of byQueue) {
      const dev = this.rings[q];
      if (!dev || dev.broken) continue;
      dev.push(used);
      late.add(q);
    }
    return list.length;
  }

  /** QEMU's loop: notifications off, drain, notifications on, again if the driver added
   *  meanwhile; then one interrupt decision (or one per chain with irqPerChain). */
  private serveQueue(q: number, dev: DeviceRing, late: Set<number>): number {
    let done = 0;
    let own = 0;
    do {
      dev.disableNotifications();
      for (let chains = dev.pop(this.o.popBatch ?? 64); chains.length > 0; chains = dev.pop(this.o.popBatch ?? 64)) {
        const used: Used[] = [];
        for (const c of chains) {
          const u = this.handle(q, c);
          if (u) used.push(u);
          // Rule 3: handling any chain may finish parked ones (a loopback frame).
          if (this.deferring) done += this.pushLate(late);
        }
        if (this.o.irqPerChain) {
          for (const u of used) {
            dev.push([u]);
            if (dev.needInterrupt()) this.o.hooks.interrupt(q);
          }
        } else if (used.length > 0) dev.push(used);
        done += used.length;
        own += used.length;
      }
      if (dev.broken) {
        this.regs.needsReset();
        return done;
      }
    } while (dev.enableNotifications());
    // This queue's late entries (a backlogged frame placed in a buffer just posted) share
    // its decision.
    const decide = (!this.o.irqPerChain && own > 0) || late.has(q);
    late.delete(q);
    if (decide && dev.needInterrupt()) this.o.hooks.interrupt(q);
    return done;
  }

  /** Runs the device on one chain; undefined when the device keeps it for later. */
  private handle(q: number, chain: Chain): Used | undefined {
    const open = this.o.hooks.openChain(q, chain);
    let written: number;
    try {
      const c = this.device.handle(q, chain, open.io);
      if (isDeferred(c)) {
        this.parked.set(q * 0x10000 + chain.id, open);
        return undefined;
      }
      written = c.written;
    } catch (e) {
      open.close();
      if (e instanceof DeviceIoError) return { id: chain.id, len: 0 }; // the device dropped it
      throw e;
    }
    return { id: chain.id, len: open.close() === false ? 0 : written };
  }
}
