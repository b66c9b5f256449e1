// preshared-bounce (the Wind River / OpenAMP kvmtool approach): one region of guest RAM per
// device is shared once, at set-up, and never changes. The rings sit at its start, a buffer
// pool fills the rest. The backend foreign-maps the whole region once (it must be allowed to
// map the guest: dom0 or the guest's device-model target) and never maps anything else. The
// guest driver bounces: a device-readable buffer is copied into a pool slot before it is
// added, a device-writable one is copied out of its slot after use (both are guest copies,
// as swiotlb does). The backend reads and writes the slots in place. Kicks and interrupts are
// event-channel sends. The register block is plain shared memory (no trap), as in OpenAMP's
// virtio-mmio over shared memory; its accesses are not counted.
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

export interface PresharedBounceOptions {
  env: XenEnv;
  guest: number;
  backend: number;
  device: VirtioDevice;
  /** First gfn of the region (default: the guest's top `ringPages + poolPages` pages). */
  regionGfn?: number;
  /** Pages reserved for rings at the region's start (default 3: one split ring of 256). */
  ringPages?: number;
  /** Pages of bounce pool after the rings (default 32). */
  poolPages?: number;
  /** Backend RAM page for hypercall arguments (default 0). */
  scratchGfn?: number;
  eventIdx?: boolean;
}

export class PresharedBounceTransport implements Transport {
  readonly id = "preshared-bounce" as const;
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
  readonly poolGpa: number;
  readonly poolBytes: number;
  /** Event-channel ports: the guest's and the backend's end. */
  readonly guestPort: number;
  readonly backendPort: number;
  private readonly beBase: number; // backend gfn where the region is mapped
  private readonly privcmd: Privcmd;
  private readonly router: UpcallRouter;
  private readonly detach: () => void;
  private readonly readyQueues = new Set<number>();
  /** Free pool runs [offset, len), sorted by offset. */
  private free: [number, number][];
  private closed = false;
  private irqPending = false;

  constructor(o: PresharedBounceOptions) {
    const { hv, evtchn, ioreq, foreign } = o.env;
    const fail = (msg: string): never => {
      throw new TransportSetupError("preshared-bounce", msg);
    };
    this.env = o.env;
    this.guest = o.guest;
    this.backendDomid = o.backend;
    this.device = o.device;
    const g = hv.live(o.guest) ?? fail(`guest domain ${o.guest} does not exist`);
    const be = hv.live(o.backend) ?? fail(`backend domain ${o.backend} does not exist`);
    if (g === be) fail("the guest cannot be its own backend");
    const ringPages = o.ringPages ?? 3;
    const poolPages = o.poolPages ?? 32;
    if (!Number.isInteger(ringPages) || ringPages < 1) fail(`ringPages must be a positive integer, got ${o.ringPages}`);
    if (!Number.isInteger(poolPages) || poolPages < 1) fail(`poolPages must be a positive integer, got ${o.poolPages}`);
    this.regionPages = ringPages + poolPages;
    const regionGfn = o.regionGfn ?? g.ramPages - this.regionPages;
    if (!Number.isInteger(regionGfn) || regionGfn < 0 || regionGfn + this.regionPages > g.ramPages) {
      fail(`region gfns [${regionGfn}, ${regionGfn + this.regionPages}) are not inside guest d${g.domid}'s ${g.ramPages} pages of RAM`);
    }
    if (foreign.exposure(be.domid, g.domid).reachable === 0) {
      fail(`backend d${be.domid} (${be.name}) may not map guest d${g.domid}'s memory (XSM map_gmfn_foreign denied); ` +
        "it must be the control domain or the guest's device-model target");
    }
    this.regionGpa = regionGfn * PAGE;
    this.poolGpa = (regionGfn + ringPages) * PAGE;
    this.poolBytes = poolPages * PAGE;
    this.free = [[0, this.poolBytes]];
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
    m.bump(L.CNT_PB_REGION_PAGES_MAPPED, this.regionPages);

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
            // In place, in the pool: any other address is a buffer the guest did not bounce.
            if (addr < this.poolGpa || addr >= this.poolGpa + this.poolBytes) return "outside the shared pool";
            return { domid: be.domid, gpa: addr - this.regionGpa + this.beBase * PAGE, len: Math.min(len, this.poolGpa + this.poolBytes - addr) };
          }),
          close: () => {},
        }),
        interrupt: () => {
          m.bump(L.CNT_TR_INTERRUPTS);
          m.bump(L.CNT_PB_IRQS);
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

  /** Pool bytes not handed out. */
  get poolFree(): number {
    return this.free.reduce((s, [, n]) => s + n, 0);
  }

  private allocSlot(len: number): number {
    const want = Math.ceil(Math.max(len, 1) / SLOT_ALIGN) * SLOT_ALIGN;
    const i = this.free.findIndex(([, n]) => n >= want);
    if (i < 0) {
      this.env.hv.machine.bump(L.CNT_PB_POOL_EXHAUSTED);
      throw new Error(`preshared-bounce: the ${this.poolBytes}-byte pool has no room for a ${len}-byte buffer (${this.poolFree} bytes free)`);
    }
    const [off, n] = this.free[i]!;
    if (n === want) this.free.splice(i, 1);
    else this.free[i] = [off + want, n - want];
    return off;
  }

  private freeSlot(off: number, len: number): void {
    const want = Math.ceil(Math.max(len, 1) / SLOT_ALIGN) * SLOT_ALIGN;
    this.free.push([off, want]);
    this.free.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const r of this.free) {
      const last = merged[merged.length - 1];
      if (last && last[0] + last[1] === r[0]) last[1] += r[1];
      else merged.push([r[0], r[1]]);
    }
    this.free = merged;
  }

  /** A guest copy within its own RAM (the bounce). */
  private bounce(src: number, dst: number, len: number, into: boolean): void {
    const m = this.env.hv.machine;
    const st = m.tryCopy(this.guest, src, this.guest, dst, len);
    if (st < 0) throw new Error(`preshared-bounce: guest bounce of ${len} bytes 0x${src.toString(16)} -> 0x${dst.toString(16)} failed (${st})`);
    m.bump(L.CNT_TR_COPIES_GUEST);
    m.bump(L.CNT_TR_COPY_BYTES_GUEST, len);
    m.bump(into ? L.CNT_PB_BOUNCE_IN_COPIES : L.CNT_PB_BOUNCE_OUT_COPIES);
    m.bump(into ? L.CNT_PB_BOUNCE_IN_BYTES : L.CNT_PB_BOUNCE_OUT_BYTES, len);
  }

  private makeFrontend(): FrontendPort {
    const { evtchn } = this.env;
    return {
      isrRegisters: false,
      readReg: (off, size) => this.backend.regs.read(off, size),
      writeReg: (off, size, value) => this.backend.regs.write(off, size, value),
      expose: (buf: GuestBuf) => {
        const addr = this.poolGpa + this.allocSlot(buf.len);
        if (!buf.write) this.bounce(buf.gpa, addr, buf.len, true);
        return addr;
      },
      unexpose: (buf: GuestBuf, addr: number) => {
        if (buf.write) this.bounce(addr, buf.gpa, buf.len, false);
        this.freeSlot(addr - this.poolGpa, buf.len);
      },
      notify: () => {
        const m = this.env.hv.machine;
        m.bump(L.CNT_PB_KICKS);
        const rc = evtchn.send(this.guest, this.guestPort);
        if (rc < 0) throw new Error(`preshared-bounce: evtchn send by guest d${this.guest} returned ${errnoName(rc)}`);
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
