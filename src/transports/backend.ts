// The backend half every register-window transport shares: the device-side virtio-mmio
// register file, one split-ring device side per queue, and the service loop (pop, let the
// device handle each chain through the transport's ChainIo, push used, decide the interrupt).
// What differs per transport comes in through BackendHooks: where the ring is reached, how a
// chain's buffers are reached, and how an interrupt is delivered.
import * as L from "../wasm/layout.ts";
import type { Machine } from "../wasm/machine.ts";
import { SplitDevice, type Chain as RingChain, type SplitRing, type UsedElem } from "../wasm/split.ts";
import { DeviceIoError, type Chain, type ChainIo, type VirtioDevice } from "../devices/types.ts";
import { allocQueueId } from "../virtio/queue-ids.ts";
import { MmioRegs, type MmioRegsHooks } from "./mmio-regs.ts";

export interface RingPlacement {
  /** The domain through whose p2m the backend reaches the ring. */
  ringDomid: number;
  /** The ring's addresses in that domain's space. */
  ring: SplitRing;
}

export interface OpenChain {
  io: ChainIo;
  /** The device is done with the chain (unmap what was mapped for it). */
  close(): void;
}

export interface BackendHooks {
  /** Makes queue `q`'s ring reachable; a VQ_E* code when it cannot be. */
  placeRing(q: number, ring: SplitRing): RingPlacement | number;
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
  /** Ring features the transport's backend supports (offered on top of the device's). */
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
  private readonly rings: (SplitDevice | undefined)[] = [];
  private readonly pending = new Set<number>();
  private driverIsOk = false;

  constructor(o: BackendOptions) {
    this.o = o;
    this.device = o.device;
    this.regs = new MmioRegs(o.device, o.ringFeatures, this);
  }

  /** The device side of queue `q` once the driver made it ready. */
  ring(q: number): SplitDevice | undefined {
    return this.rings[q];
  }

  /** An available-buffer notification for queue `q` reached the backend. */
  notify(q: number): void {
    this.o.machine.bump(L.CNT_TR_NOTIFICATIONS);
    this.pending.add(q);
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  // ---- register-file hooks -------------------------------------------------------------

  queueReady(q: number, ring: SplitRing, features: bigint): number {
    const placed = this.o.hooks.placeRing(q, ring);
    if (typeof placed === "number") return placed;
    let dev = this.rings[q];
    if (!dev || dev.ringDomid !== placed.ringDomid) {
      dev = new SplitDevice(this.o.machine, allocQueueId(this.o.machine), placed.ringDomid, this.device.queueMax);
      this.rings[q] = dev;
    }
    dev.reset();
    const eventIdx = ((features >> BigInt(L.VIRTIO_RING_F_EVENT_IDX)) & 1n) === 1n;
    const rc = dev.enable(placed.ring, { eventIdx }, { bufDomid: this.o.bufDomid });
    if (this.driverIsOk) dev.setDriverOk(true);
    return rc;
  }

  queueStop(q: number): void {
    this.rings[q]?.reset();
    this.pending.delete(q);
  }

  driverOk(): void {
    this.driverIsOk = true;
    for (const r of this.rings) r?.setDriverOk(true);
    this.o.hooks.driverOk?.();
  }

  reset(): void {
    this.driverIsOk = false;
    for (const r of this.rings) {
      r?.reset();
      r?.setDriverOk(false);
    }
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
    for (const q of [...this.pending].sort((a, b) => a - b)) {
      this.pending.delete(q);
      const dev = this.rings[q];
      if (!dev || dev.broken) continue;
      const n = this.serveQueue(q, dev);
      if (n > 0) this.o.machine.bump(L.CNT_TR_BACKEND_PASSES);
      done += n;
    }
    return done;
  }

  /** QEMU's loop: notifications off, drain, notifications on, again if the driver added
   *  meanwhile; then one interrupt decision (or one per chain with irqPerChain). */
  private serveQueue(q: number, dev: SplitDevice): number {
    let done = 0;
    do {
      dev.disableNotifications();
      for (let chains = dev.pop(this.o.popBatch ?? 64); chains.length > 0; chains = dev.pop(this.o.popBatch ?? 64)) {
        const used = chains.map((c) => this.handle(q, c));
        if (this.o.irqPerChain) {
          for (const u of used) {
            dev.push([u]);
            if (dev.needInterrupt()) this.o.hooks.interrupt(q);
          }
        } else dev.push(used);
        done += used.length;
      }
      if (dev.broken) {
        this.regs.needsReset();
        return done;
      }
    } while (dev.enableNotifications());
    if (!this.o.irqPerChain && done > 0 && dev.needInterrupt()) this.o.hooks.interrupt(q);
    return done;
  }

  private handle(q: number, rc: RingChain): UsedElem {
    const chain: Chain = { id: rc.head, segs: rc.segs, readable: rc.readable, writable: rc.writable };
    const open = this.o.hooks.openChain(q, chain);
    try {
      return { id: rc.head, len: this.device.handle(q, chain, open.io).written };
    } catch (e) {
      if (e instanceof DeviceIoError) return { id: rc.head, len: 0 }; // the device dropped it
      throw e;
    } finally {
      open.close();
    }
  }
}
