// A minimal KVM model for the baseline transport: a VM over one machine domain, eventfds,
// ioeventfds (a guest write that matches completes in the kernel and signals an eventfd),
// irqfds (a write to an eventfd injects an interrupt) and MMIO exits to the VMM in user space
// for every other access to an emulated region. The VMM maps all guest RAM, so the backend
// reads and writes the guest's memory directly.
import type { Machine } from "../wasm/machine.ts";
import * as L from "../wasm/layout.ts";

/** An eventfd: a counter a writer adds to and a reader takes. An in-kernel consumer (irqfd)
 *  takes each signal at once. */
export class Eventfd {
  count = 0;
  consumer: (() => void) | undefined;

  /** Adds one; true when the counter was 0 (the reader must be woken). */
  signal(): boolean {
    if (this.consumer) {
      this.consumer();
      return true;
    }
    this.count++;
    return this.count === 1;
  }

  /** Takes the counter (0 when nothing was signalled). */
  read(): number {
    const n = this.count;
    this.count = 0;
    return n;
  }
}

export type MmioExitHandler = (off: number, size: number, dir: "read" | "write", value: number) => number;

interface Ioeventfd {
  addr: number;
  size: number;
  datamatch: number | undefined;
  fd: Eventfd;
}

interface Region {
  base: number;
  size: number;
  handler: MmioExitHandler;
}

export class KvmVm {
  readonly machine: Machine;
  /** The machine domain holding the guest's RAM. */
  readonly domid: number;
  private readonly ioeventfds: Ioeventfd[] = [];
  private readonly regions: Region[] = [];
  private readonly pendingIrqs = new Set<number>();

  constructor(machine: Machine, domid: number) {
    if (!machine.domainExists(domid)) throw new Error(`KVM: no machine domain ${domid} for the guest`);
    this.machine = machine;
    this.domid = domid;
  }

  /** KVM_IOEVENTFD: a guest write of `size` bytes at `addr` (of value `datamatch`, if given)
   *  signals `fd` without leaving the kernel. */
  addIoeventfd(addr: number, size: number, fd: Eventfd, datamatch?: number): void {
    if (this.ioeventfds.some((e) => e.addr === addr && e.datamatch === datamatch)) {
      throw new Error(`KVM: ioeventfd at 0x${addr.toString(16)} (datamatch ${datamatch}) already registered`);
    }
    this.ioeventfds.push({ addr, size, datamatch, fd });
  }

  removeIoeventfds(fd: Eventfd): void {
    for (let i = this.ioeventfds.length - 1; i >= 0; i--) if (this.ioeventfds[i]!.fd === fd) this.ioeventfds.splice(i, 1);
  }

  /** KVM_IRQFD: a signal on `fd` injects interrupt `gsi`. */
  addIrqfd(fd: Eventfd, gsi: number): void {
    fd.consumer = () => this.inject(gsi);
  }

  /** The VMM emulates [base, base+size): accesses that no ioeventfd takes exit to it. */
  addMmioRegion(base: number, size: number, handler: MmioExitHandler): void {
    if (this.regions.some((r) => base < r.base + r.size && r.base < base + size)) {
      throw new Error(`KVM: MMIO region 0x${base.toString(16)}+0x${size.toString(16)} overlaps another`);
    }
    this.regions.push({ base, size, handler });
  }

  removeMmioRegion(base: number): void {
    const i = this.regions.findIndex((r) => r.base === base);
    if (i >= 0) this.regions.splice(i, 1);
  }

  /** A guest vCPU's load or store to an address without RAM behind it. */
  mmio(addr: number, size: number, dir: "read" | "write", value = 0): number {
    const m = this.machine;
    if (dir === "write") {
      const e = this.ioeventfds.find((x) => x.addr === addr && x.size === size && (x.datamatch === undefined || x.datamatch === value));
      if (e) {
        m.bump(L.CNT_KVM_EXITS_IOEVENTFD);
        m.bump(e.fd.signal() ? L.CNT_KVM_EVENTFD_SIGNALS : L.CNT_KVM_EVENTFD_MERGED);
        return 0;
      }
    }
    m.bump(L.CNT_KVM_EXITS_USER);
    const r = this.regions.find((x) => addr >= x.base && addr + size <= x.base + x.size);
    if (!r) return 0; // nothing emulated there: reads as 0, writes dropped
    return r.handler(addr - r.base, size, dir, value);
  }

  /** Injects `gsi`; false when it was still pending (the guest has not taken it). */
  inject(gsi: number): boolean {
    if (this.pendingIrqs.has(gsi)) return false;
    this.pendingIrqs.add(gsi);
    this.machine.bump(L.CNT_KVM_IRQ_INJECTIONS);
    return true;
  }

  irqPending(gsi: number): boolean {
    return this.pendingIrqs.has(gsi);
  }

  /** The guest takes interrupt `gsi`; true when it was pending. */
  takeIrq(gsi: number): boolean {
    return this.pendingIrqs.delete(gsi);
  }
}
