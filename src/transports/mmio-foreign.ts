// mmio-foreign (VirtIO-EPAM): a stock virtio-mmio driver in the guest; a device model in a
// privileged domain (dom0, or a domain whose device-model target is the guest) serves the
// window through an IOREQ server, as xen-troops' virtio-disk does. Every guest access to the
// window is an ioreq round trip (trap, emulator notified, answer, vCPU woken). QueueNotify is
// the kick. Completion raises the device's wired line with a dm_op (Arm SPI: set_irq_level;
// x86 ISA IRQ: set_isa_irq_level; riscv64 modelled as Arm, mmio-irq.ts); the guest's handler
// reads InterruptStatus and writes InterruptACK (two more round trips), and the ACK lowers the
// line (a second dm_op). Rings are foreign-mapped when a queue becomes ready, buffers
// per request or through a map cache (foreign-map.ts), or the whole of guest RAM is mapped
// once at set-up ("all-ram"). The backend may map ALL guest RAM.
import * as L from "../wasm/layout.ts";
import type { VirtioDevice } from "../devices/types.ts";
import type { FrontendPort } from "../virtio/port.ts";
import { IoreqEmulator } from "../xen/ioreq-emulator.ts";
import { Privcmd } from "../xen/privcmd.ts";
import { errnoName } from "../xen/errno.ts";
import { VirtioBackend } from "./backend.ts";
import { SegmentChainIo } from "./chain-io.ts";
import { ForeignBufferMap, type ForeignMapPolicy } from "./foreign-map.ts";
import { DeviceIrq, mmioIrqLine, mmioWindowBase } from "./mmio-irq.ts";
import { takeBackendGfns, UpcallRouter, type XenEnv } from "./xen-env.ts";
import { TransportSetupError, type Exposure, type Transport } from "./types.ts";

export interface MmioForeignOptions {
  env: XenEnv;
  guest: number;
  backend: number;
  device: VirtioDevice;
  /** Window base and interrupt line; the defaults per architecture are mmio-irq.ts's (Arm:
   *  GUEST_VIRTIO_MMIO_BASE + 0x200 * index and SPI GUEST_VIRTIO_MMIO_SPI_FIRST + index, as libxl
   *  hands them out; x86: an ISA IRQ). */
  index?: number;
  base?: number;
  irq?: number;
  /** Buffer mapping (default per request, as xen-troops' virtio-disk; "all-ram" maps all of
   *  guest RAM at set-up). */
  mapping?: ForeignMapPolicy;
  /** Backend RAM page for hypercall arguments (default 0). */
  scratchGfn?: number;
  /** Backend gfns for buffer and ring mappings (default 512). */
  windowPages?: number;
  /** Offer VIRTIO_RING_F_EVENT_IDX (default true). */
  eventIdx?: boolean;
  /** Offer VIRTIO_F_RING_PACKED (default false): the driver may then choose packed rings. */
  packed?: boolean;
  irqPerChain?: boolean;
  /** The guest vCPU that makes the register accesses (default 0). */
  vcpu?: number;
}

const bit = (n: number) => 1n << BigInt(n);

export class MmioForeignTransport implements Transport {
  readonly id = "mmio-foreign" as const;
  readonly guest: number;
  readonly backendDomid: number;
  readonly device: VirtioDevice;
  readonly env: XenEnv;
  readonly base: number;
  /** The device's interrupt line (SPI on arm64 and riscv64, ISA IRQ on x86-64). */
  readonly irq: DeviceIrq;
  readonly emulator: IoreqEmulator;
  readonly privcmd: Privcmd;
  readonly maps: ForeignBufferMap;
  readonly backend: VirtioBackend;
  readonly frontend: FrontendPort;
  private readonly router: UpcallRouter;
  private readonly detach: () => void;
  private readonly vcpu: number;
  private readonly ramPages: number;
  private closed = false;

  constructor(o: MmioForeignOptions) {
    const { hv, evtchn, ioreq, foreign } = o.env;
    const fail = (msg: string): never => {
      throw new TransportSetupError("mmio-foreign", msg);
    };
    this.env = o.env;
    this.guest = o.guest;
    this.backendDomid = o.backend;
    this.device = o.device;
    this.vcpu = o.vcpu ?? 0;
    const g = hv.live(o.guest) ?? fail(`guest domain ${o.guest} does not exist`);
    const be = hv.live(o.backend) ?? fail(`backend domain ${o.backend} does not exist`);
    if (g === be) fail("the guest cannot be its own backend");
    const index = o.index ?? 0;
    this.base = o.base ?? mmioWindowBase(hv.arch, index);
    const line = o.irq ?? mmioIrqLine(this.id, hv.arch, index);
    this.ramPages = g.ramPages;
    const scratchGfn = o.scratchGfn ?? 0;

    // demu's bring-up: ioreq server, its pages, ports, the window's range.
    const pageGfn = takeBackendGfns(hv, be.domid, 2);
    this.emulator = new IoreqEmulator({
      evtchn, ioreq, foreign, domid: be.domid, target: g.domid, scratchGfn, pageGfn,
      handler: (r) => {
        const off = Number(r.addr) - this.base;
        if (r.dir === "read") return this.backend.regs.read(off, r.size);
        this.backend.regs.write(off, r.size, Number(r.data));
      },
    });
    const rc = this.emulator.start();
    if (rc < 0) {
      fail(`backend d${be.domid} (${be.name}) cannot be the device model of guest d${g.domid}: create_ioreq_server ` +
        `and its set-up returned ${errnoName(rc)}; it must be the control domain or the guest's device-model target`);
    }
    this.emulator.take(); // the pending flags every bind_interdomain leaves
    evtchn.takeUpcalls();
    this.detach = UpcallRouter.for(evtchn).attach(be.domid, [...this.emulator.localPorts, this.emulator.bufLocalPort].filter((p) => p > 0),
      (ports) => this.emulator.poll(ports).others);
    this.router = UpcallRouter.for(evtchn);
    const undo = (msg: string): never => {
      this.detach();
      this.emulator.stop();
      return fail(msg);
    };
    const mr = this.emulator.mapRange(this.base, this.base + L.VIRTIO_MMIO_WINDOW_SIZE - 1);
    if (mr < 0) undo(`map_io_range_to_ioreq_server 0x${this.base.toString(16)} returned ${errnoName(mr)}`);
    if (foreign.exposure(be.domid, g.domid).reachable === 0) {
      undo(`backend d${be.domid} (${be.name}) may not map guest d${g.domid}'s memory (XSM map_gmfn_foreign denied); ` +
        "mmio-foreign reaches buffers by foreign mapping, so its device model must hold that right (a backend with " +
        "device-model rights alone can serve the grant transports)");
    }
    this.privcmd = new Privcmd({ ioreq, foreign, domid: be.domid, scratchGfn });
    this.irq = new DeviceIrq({
      transport: this.id, ioreq, privcmd: this.privcmd, guest: g.domid, line,
      counters: { irqLevelOps: L.CNT_MF_IRQ_LEVEL_OPS, isaIrqOps: L.CNT_MF_ISA_IRQ_OPS },
    });
    const windowPages = o.windowPages ?? 512;
    const mapping = o.mapping ?? { mode: "per-request" };
    this.maps = new ForeignBufferMap(this.privcmd, g.domid, takeBackendGfns(hv, be.domid, windowPages), windowPages, mapping);
    if (mapping.mode === "all-ram") {
      const rc = this.maps.mapAllRam(takeBackendGfns(hv, be.domid, g.ramPages), g.ramPages);
      if (rc !== 0) undo(`mapping guest d${g.domid}'s ${g.ramPages} RAM pages returned ${errnoName(rc)}`);
    }
    const m = hv.machine;
    this.backend = new VirtioBackend({
      machine: m,
      device: o.device,
      ringFeatures: ((o.eventIdx ?? true) ? bit(L.VIRTIO_RING_F_EVENT_IDX) : 0n) | (o.packed ? bit(L.VIRTIO_F_RING_PACKED) : 0n),
      bufDomid: g.domid,
      irqPerChain: o.irqPerChain,
      hooks: {
        placeRing: (_q, ring, packed) => {
          if (ring.size < 1 || ring.size > o.device.queueMax) return L.VQ_E1_BAD_SIZE;
          const r = this.maps.mapRing(ring, packed);
          return typeof r === "number" ? r : { ringDomid: be.domid, ring: r };
        },
        releaseRings: () => {
          this.maps.releaseRings();
          this.maps.dropCache();
        },
        openChain: (_q, chain) => {
          const { reach, close } = this.maps.openChain(chain);
          return { io: new SegmentChainIo(m, chain, reach), close };
        },
        interrupt: () => m.bump(this.backend.regs.raise(L.VIRTIO_MMIO_INT_VRING) ? L.CNT_TR_INTERRUPTS : L.CNT_TR_INTERRUPTS_MERGED),
        irqLevel: (high) => this.irq.set(high),
      },
    });
    m.bump(L.CNT_TR_EXPOSED_REACHABLE, this.ramPages);
    this.frontend = this.makeFrontend();
  }

  /** One guest access to the window: trap, ioreq to the device model, its answer. */
  private access(off: number, size: number, dir: "read" | "write", value: number): number {
    const m = this.env.hv.machine;
    m.bump(L.CNT_TR_REG_TRAPS);
    if (off === L.VIRTIO_MMIO_QUEUE_NOTIFY) m.bump(L.CNT_TR_REG_TRAPS_NOTIFY);
    if (off === L.VIRTIO_MMIO_INTERRUPT_STATUS || off === L.VIRTIO_MMIO_INTERRUPT_ACK) m.bump(L.CNT_TR_REG_TRAPS_ISR);
    let got: bigint | undefined;
    const r = this.env.hv.mmioAccess(this.guest, this.vcpu, this.base + off, size, dir, value, (v) => (got = v));
    if (r.kind === "fault") throw new Error(`mmio-foreign: guest d${this.guest} took a data abort at 0x${(this.base + off).toString(16)}`);
    if (r.kind === "done") return Number(r.value);
    this.router.dispatch(); // the device model runs and answers
    if (got === undefined) throw new Error(`mmio-foreign: guest d${this.guest} vCPU ${this.vcpu} is still blocked on 0x${(this.base + off).toString(16)}: the device model did not answer`);
    return Number(got);
  }

  private makeFrontend(): FrontendPort {
    return {
      isrRegisters: true,
      readReg: (off, size) => this.access(off, size, "read", 0),
      writeReg: (off, size, value) => void this.access(off, size, "write", value),
      expose: (buf) => buf.gpa, // a stock driver: descriptors carry guest-physical addresses
      unexpose: () => {},
      notify: (q) => this.frontend.writeReg(L.VIRTIO_MMIO_QUEUE_NOTIFY, 4, q),
      takeInterrupt: () => this.irq.asserted(),
    };
  }

  service(): number {
    if (this.closed) throw new TransportSetupError(this.id, "service() after close()");
    return this.backend.service();
  }

  exposure(): Exposure {
    const reachable = this.closed ? 0 : this.env.foreign.exposure(this.backendDomid, this.guest).reachable;
    return { reachable, mapped: this.maps.mapped, mappedPeak: this.maps.mappedPeak };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.maps.releaseRings();
    this.maps.dropCache();
    this.maps.unmapAllRam();
    this.detach();
    this.emulator.stop();
    this.env.hv.machine.bump(L.CNT_TR_EXPOSED_REACHABLE, -this.ramPages);
  }
}
