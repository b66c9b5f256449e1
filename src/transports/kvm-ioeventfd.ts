// kvm-ioeventfd: the baseline users compare with. A VMM in the host serves the device through
// a virtio-mmio window: every register access exits to it, except QueueNotify, which an
// ioeventfd completes in the kernel (one exit, one eventfd signal that wakes the VMM's I/O
// thread). The VMM maps all guest RAM, so rings and buffers are read and written in place
// (exposure: all RAM, always). Completion goes through an irqfd (one injection); with a wired
// virtio-mmio interrupt the guest's handler then reads InterruptStatus and writes InterruptACK
// (two exits to the VMM), with `msi` (per-queue vectors, as virtio-pci MSI-X) it does not.
import { dmaGpa } from "../virtio/dma-addr.ts";
import * as L from "../wasm/layout.ts";
import type { VirtioDevice } from "../devices/types.ts";
import type { FrontendPort, GuestBuf } from "../virtio/port.ts";
import { Eventfd, type KvmVm } from "../kvm/kvm.ts";
import { VirtioBackend } from "./backend.ts";
import { SegmentChainIo } from "./chain-io.ts";
import { TransportSetupError, type Exposure, type Transport } from "./types.ts";

export interface KvmIoeventfdOptions {
  vm: KvmVm;
  device: VirtioDevice;
  /** Guest-physical base of the register window (default 0x0a000000, QEMU's Arm virt board). */
  base?: number;
  /** Interrupt line (default 48). */
  gsi?: number;
  /** Per-queue message-signalled vectors: the handler touches no register. */
  msi?: boolean;
  /** Offer VIRTIO_RING_F_EVENT_IDX (default true). */
  eventIdx?: boolean;
  /** Offer VIRTIO_F_RING_PACKED (default false): the driver may then choose packed rings. */
  packed?: boolean;
  /** The backend decides on an interrupt after every chain (default: once per pass). */
  irqPerChain?: boolean;
}

const bit = (n: number) => 1n << BigInt(n);

export class KvmIoeventfdTransport implements Transport {
  readonly id = "kvm-ioeventfd" as const;
  readonly guest: number;
  readonly backendDomid = undefined;
  readonly device: VirtioDevice;
  readonly vm: KvmVm;
  readonly base: number;
  readonly gsi: number;
  readonly backend: VirtioBackend;
  readonly frontend: FrontendPort;
  private readonly kicks: Eventfd[];
  private readonly irqfd = new Eventfd();
  private readonly ramPages: number;
  private closed = false;

  constructor(o: KvmIoeventfdOptions) {
    const m = o.vm.machine;
    this.vm = o.vm;
    this.guest = o.vm.domid;
    this.device = o.device;
    this.base = o.base ?? 0x0a00_0000;
    this.gsi = o.gsi ?? 48;
    if (!Number.isSafeInteger(this.base) || this.base < 0 || this.base % L.PAGE_SIZE !== 0) {
      throw new TransportSetupError(this.id, `window base must be a page-aligned address, got ${o.base}`);
    }
    this.ramPages = m.domainInfo(this.guest).ramPages;
    if (this.base < this.ramPages * L.PAGE_SIZE) {
      throw new TransportSetupError(this.id, `window base 0x${this.base.toString(16)} lies inside the guest's RAM`);
    }
    const guest = this.guest;
    this.backend = new VirtioBackend({
      machine: m,
      device: o.device,
      ringFeatures: ((o.eventIdx ?? true) ? bit(L.VIRTIO_RING_F_EVENT_IDX) : 0n) | (o.packed ? bit(L.VIRTIO_F_RING_PACKED) : 0n),
      bufDomid: guest,
      irqPerChain: o.irqPerChain,
      hooks: {
        placeRing: (_q, ring) => ({ ringDomid: guest, ring }),
        releaseRings: () => this.stopIoeventfds(),
        driverOk: () => this.startIoeventfds(),
        openChain: (_q, chain) => ({
          io: new SegmentChainIo(m, chain, (addr, len) => ({ domid: guest, gpa: dmaGpa(addr), len })),
          close: () => {},
        }),
        interrupt: () => this.interrupt(),
        irqLevel: (high) => {
          if (high) this.signalIrq(); // the line rose (used buffer, or a configuration change)
        },
      },
    });
    this.kicks = Array.from({ length: o.device.numQueues }, () => new Eventfd());
    o.vm.addMmioRegion(this.base, L.VIRTIO_MMIO_WINDOW_SIZE, (off, size, dir, value) => {
      if (dir === "read") return this.backend.regs.read(off, size);
      this.backend.regs.write(off, size, value);
      return 0;
    });
    o.vm.addIrqfd(this.irqfd, this.gsi);
    m.bump(L.CNT_TR_EXPOSED_REACHABLE, this.ramPages);
    m.bump(L.CNT_TR_EXPOSED_MAPPED, this.ramPages);
    this.frontend = this.makeFrontend(!o.msi);
  }

  private makeFrontend(isrRegisters: boolean): FrontendPort {
    const m = this.vm.machine;
    const trap = (off: number) => {
      m.bump(L.CNT_TR_REG_TRAPS);
      if (off === L.VIRTIO_MMIO_QUEUE_NOTIFY) m.bump(L.CNT_TR_REG_TRAPS_NOTIFY);
      if (off === L.VIRTIO_MMIO_INTERRUPT_STATUS || off === L.VIRTIO_MMIO_INTERRUPT_ACK) m.bump(L.CNT_TR_REG_TRAPS_ISR);
    };
    return {
      isrRegisters,
      readReg: (off, size) => {
        trap(off);
        return this.vm.mmio(this.base + off, size, "read");
      },
      writeReg: (off, size, value) => {
        trap(off);
        this.vm.mmio(this.base + off, size, "write", value);
      },
      expose: (buf: GuestBuf) => buf.gpa, // the VMM sees guest-physical addresses
      unexpose: () => {},
      notify: (q) => this.frontend.writeReg(L.VIRTIO_MMIO_QUEUE_NOTIFY, 4, q),
      takeInterrupt: () => this.vm.takeIrq(this.gsi),
    };
  }

  /** QEMU starts a queue's ioeventfd when the driver is ready (virtio_mmio start_ioeventfd). */
  private startIoeventfds(): void {
    this.kicks.forEach((fd, q) => this.vm.addIoeventfd(this.base + L.VIRTIO_MMIO_QUEUE_NOTIFY, 4, fd, q));
  }

  private stopIoeventfds(): void {
    for (const fd of this.kicks) {
      this.vm.removeIoeventfds(fd);
      fd.read();
    }
  }

  /** A used-buffer interrupt. With the wired interrupt the line follows InterruptStatus: only
   *  a rise signals the irqfd (irqLevel below); with MSI every decision does. */
  private interrupt(): void {
    if (!this.frontend.isrRegisters) return this.signalIrq();
    if (!this.backend.regs.raise(L.VIRTIO_MMIO_INT_VRING)) this.vm.machine.bump(L.CNT_TR_INTERRUPTS_MERGED);
  }

  private signalIrq(): void {
    const m = this.vm.machine;
    const wasPending = this.vm.irqPending(this.gsi);
    m.bump(L.CNT_KVM_IRQFD_SIGNALS);
    this.irqfd.signal();
    m.bump(wasPending ? L.CNT_TR_INTERRUPTS_MERGED : L.CNT_TR_INTERRUPTS);
  }

  service(): number {
    if (this.closed) throw new TransportSetupError(this.id, "service() after close()");
    this.kicks.forEach((fd, q) => {
      if (fd.read() > 0) {
        this.vm.machine.bump(L.CNT_KVM_BACKEND_WAKEUPS);
        this.backend.notify(q);
      }
    });
    return this.backend.service();
  }

  exposure(): Exposure {
    const n = this.closed ? 0 : this.ramPages;
    return { reachable: n, mapped: n, mappedPeak: this.ramPages };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopIoeventfds();
    this.vm.removeMmioRegion(this.base);
    const m = this.vm.machine;
    m.bump(L.CNT_TR_EXPOSED_REACHABLE, -this.ramPages);
    m.bump(L.CNT_TR_EXPOSED_MAPPED, -this.ramPages);
  }
}
