// fat-virtqueue (Linaro's proposal): the virtqueue is enlarged with one payload slot per
// descriptor, and descriptors point inside the ring's own slot area. Only the ring is shared,
// once at set-up: here the backend foreign-maps it (dom0 or the guest's device-model target),
// standing in for the one-time grant of the proposal; it never maps anything else. The
// frontend copies each device-readable buffer into a slot before adding it and each
// device-written slot back out after use. The backend reads and writes the slots in place
// (0 backend copies). A buffer larger than a slot is refused before anything is added (the
// driver's submit throws, leaving the ring unchanged): large payloads do not suit this design.
// Kicks and interrupts are event-channel sends; the register block is plain shared memory.
import { dmaGpa } from "../virtio/dma-addr.ts";
import * as L from "../wasm/layout.ts";
import type { VirtioDevice } from "../devices/types.ts";
import type { FrontendPort, GuestBuf } from "../virtio/port.ts";
import { GuestPages } from "../virtio/guest-pages.ts";
import { ringAreaBytes, gpaRing } from "../virtio/rings.ts";
import { Privcmd } from "../xen/privcmd.ts";
import { errnoName } from "../xen/errno.ts";
import { VirtioBackend } from "./backend.ts";
import { SegmentChainIo } from "./chain-io.ts";
import { takeBackendGfns, UpcallRouter, type XenEnv } from "./xen-env.ts";
import { TransportSetupError, type Exposure, type Transport } from "./types.ts";

const PAGE = 4096;
const SLOT_ALIGN = 16;
const MAP_CHUNK = 128;

export interface FatVirtqueueOptions {
  env: XenEnv;
  guest: number;
  backend: number;
  device: VirtioDevice;
  /** First gfn of the region (default: the guest's top `ringPages` + slot pages). */
  regionGfn?: number;
  /** Pages reserved for rings at the region's start (default 3: one split ring of 256). */
  ringPages?: number;
  /** Payload slots after the rings (default 32) and the bytes of each (default 4096). */
  slots?: number;
  slotBytes?: number;
  /** Backend RAM page for hypercall arguments (default 0). */
  scratchGfn?: number;
  eventIdx?: boolean;
}

export class FatVirtqueueTransport implements Transport {
  readonly id = "fat-virtqueue" as const;
  readonly guest: number;
  readonly backendDomid: number;
  readonly device: VirtioDevice;
  readonly env: XenEnv;
  readonly backend: VirtioBackend;
  readonly frontend: FrontendPort;
  /** Where the guest driver must allocate its rings (the region's ring part). */
  readonly ringPages: GuestPages;
  readonly regionGpa: number;
  readonly regionPages: number;
  readonly slotsGpa: number;
  readonly slotsBytes: number;
  /** Event-channel ports: the guest's and the backend's end. */
  readonly guestPort: number;
  readonly backendPort: number;
  private readonly beBase: number; // backend gfn where the region is mapped
  private readonly privcmd: Privcmd;
  private readonly router: UpcallRouter;
  private readonly detach: () => void;
  private readonly readyQueues = new Set<number>();
  readonly slotBytes: number;
  /** Free slot indices (a stack: the lowest is taken first). */
  private free: number[];
  private closed = false;
  private irqPending = false;

  constructor(o: FatVirtqueueOptions) {
    const { hv, evtchn, ioreq, foreign } = o.env;
    const fail = (msg: string): never => {
      throw new TransportSetupError("fat-virtqueue", msg);
    };
    this.env = o.env;
    this.guest = o.guest;
    this.backendDomid = o.backend;
    this.device = o.device;
    const g = hv.live(o.guest) ?? fail(`guest domain ${o.guest} does not exist`);
    const be = hv.live(o.backend) ?? fail(`backend domain ${o.backend} does not exist`);
    if (g === be) fail("the guest cannot be its own backend");
    const ringPages = o.ringPages ?? 3;
    const slots = o.slots ?? 32;
    const slotBytes = o.slotBytes ?? 4096;
    if (!Number.isInteger(ringPages) || ringPages < 1) fail(`ringPages must be a positive integer, got ${o.ringPages}`);
    if (!Number.isInteger(slots) || slots < 1) fail(`slots must be a positive integer, got ${o.slots}`);
    if (!Number.isInteger(slotBytes) || slotBytes < 16 || slotBytes % 16 !== 0) fail(`slotBytes must be a positive multiple of 16, got ${o.slotBytes}`);
    const slotPages = Math.ceil((slots * slotBytes) / PAGE);
    this.regionPages = ringPages + slotPages;
    const regionGfn = o.regionGfn ?? g.ramPages - this.regionPages;
    if (!Number.isInteger(regionGfn) || regionGfn < 0 || regionGfn + this.regionPages > g.ramPages) {
      fail(`region gfns [${regionGfn}, ${regionGfn + this.regionPages}) are not inside guest d${g.domid}'s ${g.ramPages} pages of RAM`);
    }
    if (foreign.exposure(be.domid, g.domid).reachable === 0) {
      fail(`backend d${be.domid} (${be.name}) may not map guest d${g.domid}'s memory (XSM map_gmfn_foreign denied); ` +
        "it must be the control domain or the guest's device-model target");
    }
    this.regionGpa = regionGfn * PAGE;
    this.slotsGpa = (regionGfn + ringPages) * PAGE;
    this.slotsBytes = slots * slotBytes;
    this.slotBytes = slotBytes;
    this.free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
    this.ringPages = new GuestPages(g.domid, regionGfn, ringPages);

    // The one mapping of the transport's life: the whole region, at set-up.
    this.privcmd = new Privcmd({ ioreq, foreign, domid: be.domid, scratchGfn: o.scratchGfn ?? 0 });
    this.beBase = takeBackendGfns(hv, be.domid, this.regionPages);
    for (let i = 0; i < this.regionPages; i += MAP_CHUNK) {
      const n = Math.min(MAP_CHUNK, this.regionPages - i);
      const own = Array.from({ length: n }, (_, k) => regionGfn + i + k);
      const at = Array.from({ length: n }, (_, k) => this.beBase + i + k);
      const r = this.privcmd.mapForeign(g.domid, own, at);
      const bad = typeof r === "number" ? r : r.find((e) => e !== 0);
      if (bad !== undefined) {
        this.unmapRegion(i + (typeof r === "number" ? 0 : r.findIndex((e) => e !== 0)));
        fail(`mapping the region returned ${errnoName(bad)}`);
      }
    }
    const m = hv.machine;
    m.bump(L.CNT_FV_RING_PAGES_MAPPED, this.regionPages);

    // One event channel, both directions: the guest offers it, the backend binds. Each side's
    // kernel scans its channels on an upcall (the router); the backend's handler marks the
    // ready queues notified, the guest's records the interrupt for the driver's handler.
    this.router = UpcallRouter.for(evtchn);
    this.guestPort = evtchn.allocUnbound(g.domid, g.domid, be.domid);
    if (this.guestPort < 0) { this.unmapRegion(this.regionPages); fail(`alloc_unbound returned ${errnoName(this.guestPort)}`); }
    const detachGuest = this.router.attach(g.domid, [this.guestPort], (ports) => {
      if (!ports.includes(this.guestPort)) return ports;
      this.irqPending = true;
      return ports.filter((p) => p !== this.guestPort);
    });
    this.backendPort = evtchn.bindInterdomain(be.domid, g.domid, this.guestPort);
    if (this.backendPort < 0) { detachGuest(); this.unmapRegion(this.regionPages); fail(`bind_interdomain returned ${errnoName(this.backendPort)}`); }
    const detachBackend = this.router.attach(be.domid, [this.backendPort], (ports) => {
      if (!ports.includes(this.backendPort)) return ports;
      for (const q of [...this.readyQueues].sort((a, b) => a - b)) this.backend.notify(q);
      return ports.filter((p) => p !== this.backendPort);
    });
    this.detach = () => { detachBackend(); detachGuest(); };
    this.router.dispatch(); // the pending flags bind_interdomain leaves
    this.irqPending = false;

    const ringEnd = this.regionGpa + ringPages * PAGE;
    this.backend = new VirtioBackend({
      machine: m,
      device: o.device,
      ringFeatures: (o.eventIdx ?? true) ? 1n << BigInt(L.VIRTIO_RING_F_EVENT_IDX) : 0n,
      bufDomid: g.domid,
      hooks: {
        placeRing: (q, ring, packed) => {
          if (ring.size < 1 || ring.size > o.device.queueMax) return L.VQ_E1_BAD_SIZE;
          const sizes = ringAreaBytes(ring.size, packed);
          const r = gpaRing(ring);
          const areas = [r.desc, r.driver, r.device];
          // Only the region is shared: a ring anywhere else is out of the backend's reach.
          if (areas.some((a, i) => a < this.regionGpa || a + sizes[i]! > ringEnd)) return L.VQ_E3_RING_OUTSIDE_RAM;
          const tr = (a: number) => a - this.regionGpa + this.beBase * PAGE;
          this.readyQueues.add(q);
          return { ringDomid: be.domid, ring: { size: ring.size, desc: tr(r.desc), driver: tr(r.driver), device: tr(r.device) } };
        },
        releaseRings: () => this.readyQueues.clear(),
        openChain: (_q, chain) => ({
          io: new SegmentChainIo(m, chain, (dma, len) => {
            const addr = dmaGpa(dma);
            // In place, in a slot: any other address is a buffer the frontend did not copy in.
            if (addr < this.slotsGpa || addr >= this.slotsGpa + this.slotsBytes) return "outside the ring's slots";
            // A descriptor may not run past its slot into the next one.
            const slotEnd = this.slotsGpa + (Math.floor((addr - this.slotsGpa) / this.slotBytes) + 1) * this.slotBytes;
            return { domid: be.domid, gpa: addr - this.regionGpa + this.beBase * PAGE, len: Math.min(len, slotEnd - addr) };
          }),
          close: () => {},
        }),
        interrupt: () => {
          m.bump(L.CNT_TR_INTERRUPTS);
          m.bump(L.CNT_FV_IRQS);
          const rc = evtchn.send(be.domid, this.backendPort);
          if (rc < 0) throw new TransportSetupError(this.id, `evtchn send by the backend returned ${errnoName(rc)}`);
          this.router.dispatch(); // the guest's kernel takes the upcall
        },
      },
    });
    m.bump(L.CNT_TR_EXPOSED_REACHABLE, this.regionPages);
    m.bump(L.CNT_TR_EXPOSED_MAPPED, this.regionPages);
    this.frontend = this.makeFrontend();
  }

  private unmapRegion(n: number): void {
    for (let i = 0; i < n; i++) this.privcmd.unmapGfn(this.beBase + i);
  }

  /** Slots not in use. */
  get slotsFree(): number {
    return this.free.length;
  }

  private allocSlot(len: number): number {
    const m = this.env.hv.machine;
    if (len > this.slotBytes) {
      m.bump(L.CNT_FV_OVERSIZE);
      throw new RangeError(`fat-virtqueue: a ${len}-byte buffer does not fit a ${this.slotBytes}-byte ring slot`);
    }
    const i = this.free.pop();
    if (i === undefined) {
      m.bump(L.CNT_FV_SLOTS_EXHAUSTED);
      throw new RangeError(`fat-virtqueue: all ${this.slotsBytes / this.slotBytes} ring slots are in use`);
    }
    return i * this.slotBytes;
  }

  private freeSlot(off: number): void {
    this.free.push(off / this.slotBytes);
    this.free.sort((x, y) => y - x);
  }

  /** A frontend copy within the guest's RAM, to or from a slot. */
  private slotCopy(src: number, dst: number, len: number, into: boolean): void {
    const m = this.env.hv.machine;
    const st = m.tryCopy(this.guest, src, this.guest, dst, len);
    if (st < 0) throw new Error(`fat-virtqueue: slot copy of ${len} bytes 0x${src.toString(16)} -> 0x${dst.toString(16)} failed (${st})`);
    m.bump(L.CNT_TR_COPIES_GUEST);
    m.bump(L.CNT_TR_COPY_BYTES_GUEST, len);
    m.bump(into ? L.CNT_FV_SLOT_COPIES_IN : L.CNT_FV_SLOT_COPIES_OUT);
    m.bump(into ? L.CNT_FV_SLOT_BYTES_IN : L.CNT_FV_SLOT_BYTES_OUT, len);
  }

  private makeFrontend(): FrontendPort {
    const { evtchn } = this.env;
    return {
      isrRegisters: false,
      readReg: (off, size) => this.backend.regs.read(off, size),
      writeReg: (off, size, value) => this.backend.regs.write(off, size, value),
      expose: (buf: GuestBuf) => {
        const addr = this.slotsGpa + this.allocSlot(buf.len);
        if (!buf.write) this.slotCopy(buf.gpa, addr, buf.len, true);
        return addr;
      },
      unexpose: (buf: GuestBuf, addr: number) => {
        if (buf.write) this.slotCopy(addr, buf.gpa, buf.len, false);
        this.freeSlot(addr - this.slotsGpa);
      },
      notify: () => {
        const m = this.env.hv.machine;
        m.bump(L.CNT_FV_KICKS);
        const rc = evtchn.send(this.guest, this.guestPort);
        if (rc < 0) throw new Error(`fat-virtqueue: evtchn send by guest d${this.guest} returned ${errnoName(rc)}`);
        this.router.dispatch(); // the backend's kernel takes the event
      },
      takeInterrupt: () => {
        const was = this.irqPending;
        this.irqPending = false;
        return was;
      },
    };
  }

  service(): number {
    if (this.closed) throw new TransportSetupError(this.id, "service() after close()");
    return this.backend.service();
  }

  exposure(): Exposure {
    // The backend could map more of the guest (it has the privilege), but this transport only
    // ever maps the region: that is what it exposes.
    const n = this.closed ? 0 : this.regionPages;
    return { reachable: n, mapped: n, mappedPeak: this.regionPages };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backend.reset();
    this.detach();
    this.unmapRegion(this.regionPages);
    this.env.evtchn.close(this.backendDomid, this.backendPort);
    this.env.evtchn.close(this.guest, this.guestPort);
    const m = this.env.hv.machine;
    m.bump(L.CNT_TR_EXPOSED_REACHABLE, -this.regionPages);
    m.bump(L.CNT_TR_EXPOSED_MAPPED, -this.regionPages);
  }
}
