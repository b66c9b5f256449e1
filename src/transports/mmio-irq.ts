// Where a virtio-mmio device served through IOREQ (mmio-foreign and the grant transports) sits
// in the guest, and its interrupt: a level-triggered wired line the device model drives with a
// dm_op, raised while InterruptStatus != 0 and lowered when the guest's InterruptACK clears it.
//   arm64    window at GUEST_VIRTIO_MMIO_BASE, a vGIC SPI (GUEST_VIRTIO_MMIO_SPI_FIRST + index)
//            driven with dm_op set_irq_level, as libxl lays virtio-mmio devices out.
//   riscv64  MODELLED AS ARM. Xen 4.17 has no IOREQ or dm_op on RISC-V; vxsim assumes a future
//            port serves the window the same way and drives a (A)PLIC wired interrupt with
//            set_irq_level, numbered as on Arm, so that riscv64 runs can be priced.
//   x86-64   window at GUEST_X86_VIRTIO_MMIO_BASE (the PCI hole), an ISA IRQ driven with dm_op
//            set_isa_irq_level: virtio-mmio has no MSI, so a wired line it is, and hvmloader's
//            PCI ISA IRQs are the ones an HVM guest's MADT makes level-triggered.
import * as L from "../wasm/layout.ts";
import type { XenArch } from "../xen/hypervisor.ts";
import type { IoreqServers } from "../xen/ioreq.ts";
import type { Privcmd } from "../xen/privcmd.ts";
import { errnoName } from "../xen/errno.ts";
import { TransportSetupError, type TransportId } from "./types.ts";

/** The ISA IRQs of GUEST_X86_VIRTIO_MMIO_ISA_IRQ_MASK, lowest first (5, 10, 11). */
export const X86_VIRTIO_MMIO_ISA_IRQS: readonly number[] = Array.from({ length: 16 }, (_, i) => i)
  .filter((i) => ((L.GUEST_X86_VIRTIO_MMIO_ISA_IRQ_MASK >>> i) & 1) === 1);

/** The register window of device `index` on `arch`. */
export function mmioWindowBase(arch: XenArch, index: number): number {
  return (arch === "x86-64" ? L.GUEST_X86_VIRTIO_MMIO_BASE : L.GUEST_VIRTIO_MMIO_BASE) + index * L.VIRTIO_MMIO_WINDOW_SIZE;
}

/** The interrupt line of device `index` on `arch`: an SPI number (arm64, riscv64) or an ISA IRQ. */
export function mmioIrqLine(transport: TransportId, arch: XenArch, index: number): number {
  if (arch !== "x86-64") return L.GUEST_VIRTIO_MMIO_SPI_FIRST + index;
  const isa = X86_VIRTIO_MMIO_ISA_IRQS[index];
  if (isa === undefined) {
    throw new TransportSetupError(transport, `device index ${index} has no ISA IRQ: x86 guests give virtio-mmio the ` +
      `${X86_VIRTIO_MMIO_ISA_IRQS.length} level-triggered lines ${X86_VIRTIO_MMIO_ISA_IRQS.join(", ")}`);
  }
  return isa;
}

export interface DeviceIrqOptions {
  transport: TransportId;
  ioreq: IoreqServers;
  privcmd: Privcmd;
  guest: number;
  line: number;
  /** The transport's counters of the dm_ops it makes: set_irq_level and set_isa_irq_level. */
  counters: { irqLevelOps: number; isaIrqOps: number };
}

/** One device's interrupt line as its device model drives it and the guest sees it. */
export class DeviceIrq {
  /** "spi" on arm64 and riscv64 (set_irq_level), "isa" on x86-64 (set_isa_irq_level). */
  readonly kind: "spi" | "isa";
  readonly line: number;
  private readonly o: DeviceIrqOptions;

  constructor(o: DeviceIrqOptions) {
    this.o = o;
    this.kind = o.ioreq.hv.arch === "x86-64" ? "isa" : "spi";
    this.line = o.line;
  }

  /** The device model's dm_op: the line follows InterruptStatus != 0. */
  set(high: boolean): void {
    const { privcmd, guest, line } = this.o;
    const m = this.o.ioreq.hv.machine;
    const level = high ? 1 : 0;
    const isa = this.kind === "isa";
    m.bump(isa ? this.o.counters.isaIrqOps : this.o.counters.irqLevelOps);
    const rc = isa ? privcmd.setIsaIrqLevel(guest, line, level) : privcmd.setIrqLevel(guest, line, level);
    if (rc < 0) throw new TransportSetupError(this.o.transport, `${isa ? "set_isa_irq_level" : "set_irq_level"}(${line}, ${level}) returned ${errnoName(rc)}`);
  }

  /** Whether the guest's interrupt controller sees the line asserted. */
  asserted(): boolean {
    const { ioreq, guest, line } = this.o;
    return (this.kind === "isa" ? ioreq.isaIrq(guest, line) : ioreq.spi(guest, line)).level === 1;
  }
}
