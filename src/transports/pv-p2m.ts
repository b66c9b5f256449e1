// pv-p2m (the 2011 GSoC virtio-on-Xen port): a PV-style device. The frontend and backend meet
// through xenbus (xenstore): the guest publishes its ring pages as machine frame numbers in
// ring-ref and its event channel; the backend maps those frames and binds the channel, both
// go Connected. Descriptors carry MACHINE addresses: the guest translates each buffer's pfn
// to its mfn (its own p2m) before adding it. The backend must be the privileged domain (dom0):
// it reads the machine-to-phys table to find the guest frame behind each mfn and foreign-maps
// it for the request (one map per page, unmapped when the chain is done). Notifications both
// ways are event-channel sends. The virtio configuration registers are modelled as plain
// shared memory (no trap, not counted), as in the other event-channel transports here.
// Exposure: dom0 may map any frame of the guest, so all guest RAM is reachable.
import { dmaGpa, type DmaAddr } from "../virtio/dma-addr.ts";
import * as L from "../wasm/layout.ts";
import type { Chain, VirtioDevice } from "../devices/types.ts";
import type { FrontendPort, GuestBuf } from "../virtio/port.ts";
import { GuestPages } from "../virtio/guest-pages.ts";
import { Privcmd } from "../xen/privcmd.ts";
import { errnoName } from "../xen/errno.ts";
import type { Xenstore } from "../xen/xenstore.ts";
import { runXenbus, toolstackAddDevice, XenbusState, type XenbusDevice } from "../xen/xenbus.ts";
import { XenbusBackend, XenbusFrontend, type FrontendRing } from "../xen/xenbus-drivers.ts";
import { VirtioBackend } from "./backend.ts";
import { SegmentChainIo } from "./chain-io.ts";
import { takeBackendGfns, type XenEnv } from "./xen-env.ts";
import { EvtchnLink, linkFrontend, placeRingInRegion } from "./evtchn-link.ts";
import { TransportSetupError, type Exposure, type Transport } from "./types.ts";

const PAGE = 4096;
/** Default ring-page-order 2 (4 pages): the descriptor, avail and used areas of one 256-entry
 *  split ring fit; a device with two queues (virtio-net) needs order 3. */
const RING_PAGE_ORDER = 2;

export interface PvP2mOptions {
  env: XenEnv;
  xenstore: Xenstore;
  guest: number;
  backend: number;
  device: VirtioDevice;
  /** xenbus device id (default 0). */
  devid?: number;
  /** First gfn of the guest's ring pages (default its top 2^ringPageOrder pages). */
  ringGfn?: number;
  /** Ring pages = 2^order, published as ring-page-order (default 2; the backend's max is 3). */
  ringPageOrder?: number;
  /** Backend gfns for one chain's buffer mappings (default 64). */
  windowPages?: number;
  /** Pages of the guest's swiotlb pool (machine-contiguous, below the ring; default 64): a
   *  buffer whose pages are not machine-contiguous is bounced through it, as swiotlb-xen does. */
  swiotlbPages?: number;
  scratchGfn?: number;
  eventIdx?: boolean;
}

export class PvP2mTransport implements Transport {
  readonly id = "pv-p2m" as const;
  readonly guest: number;
  readonly backendDomid: number;
  readonly device: VirtioDevice;
  readonly env: XenEnv;
  readonly backend: VirtioBackend;
  readonly frontend: FrontendPort;
  readonly ringPages: GuestPages;
  readonly ringMfns: number[];
  readonly xbFront: XenbusFrontend;
  private readonly swiotlb: { gfn: number; mfn: number; free: Uint8Array };
  private readonly bounced = new Map<number, { at: number; n: number }>();
  readonly xbBack: XenbusBackend;
  readonly dev: XenbusDevice;
  private readonly ringGpa: number;
  private readonly ringCount: number;
  private readonly ringBase: number; // backend gfns of the mapped ring
  private readonly window: GuestPages; // backend gfns for chains' buffer mappings
  private readonly windowPages: number;
  private readonly privcmd: Privcmd;
  private readonly link: EvtchnLink;
  /** Event-channel ports: the guest's, and the backend's once xenbus connected it (else -1). */
  get guestPort(): number { return this.link.guestPort; }
  get backendPort(): number { return this.link.backendPort; }
  private readonly m2p = new Map<number, number>();
  private readonly ramPages: number;
  private inflight = 0;
  private peak = 0;
  private ringMapped = 0;
  private closed = false;

  constructor(o: PvP2mOptions) {
    const { hv, evtchn, ioreq, foreign } = o.env;
    const fail = (msg: string): never => {
      throw new TransportSetupError("pv-p2m", msg);
    };
    this.env = o.env;
    this.guest = o.guest;
    this.backendDomid = o.backend;
    this.device = o.device;
    const g = hv.live(o.guest) ?? fail(`guest domain ${o.guest} does not exist`);
    const be = hv.live(o.backend) ?? fail(`backend domain ${o.backend} does not exist`);
    if (g === be) fail("the guest cannot be its own backend");
    // Machine addresses in descriptors: only a domain that may map any machine frame of the
    // guest, the control domain, can serve them.
    if (!be.isControl) fail(`backend d${be.domid} (${be.name}) is not the control domain: only dom0 may map the guest's machine frames`);
    const m = hv.machine;
    this.ramPages = g.ramPages;
    const order = o.ringPageOrder ?? RING_PAGE_ORDER;
    if (!Number.isInteger(order) || order < 0 || order > 3) fail(`ringPageOrder must be an integer 0..3 (the backend's max-ring-page-order), got ${o.ringPageOrder}`);
    const RING_PAGES = (this.ringCount = 2 ** order);
    const ringGfn = o.ringGfn ?? g.ramPages - RING_PAGES;
    if (!Number.isInteger(ringGfn) || ringGfn < 0 || ringGfn + RING_PAGES > g.ramPages) fail(`ring gfns [${ringGfn}, ${ringGfn + RING_PAGES}) are not inside guest d${g.domid}'s RAM`);
    this.ringGpa = ringGfn * PAGE;
    this.ringPages = new GuestPages(g.domid, ringGfn, RING_PAGES);
    this.ringMfns = Array.from({ length: RING_PAGES }, (_, i) => m.populate(g.domid, ringGfn + i));
    this.privcmd = new Privcmd({ ioreq, foreign, domid: be.domid, scratchGfn: o.scratchGfn ?? 0 });
    this.ringBase = takeBackendGfns(hv, be.domid, RING_PAGES);
    this.windowPages = o.windowPages ?? 64;
    this.swiotlb = this.setupSwiotlb(g.domid, ringGfn, o.swiotlbPages ?? 64);
    this.window = new GuestPages(be.domid, takeBackendGfns(hv, be.domid, this.windowPages), this.windowPages);
    // The guest offers the channel now; the backend binds it when xenbus connects it.
    this.link = new EvtchnLink(o.env, "pv-p2m", g.domid, be.domid);
    const gp = this.link.offer();
    if (gp < 0) fail(`alloc_unbound returned ${errnoName(gp)}`);

    // xenbus: toolstack directories, then the two ends' state machines to Connected.
    this.dev = { type: "virtio", devid: o.devid ?? 0, frontend: g.domid, backend: be.domid };
    const added = toolstackAddDevice(o.xenstore.toolstack, this.dev);
    if (!added.ok) fail(`toolstack could not create the xenbus directories: ${added.error}`);
    this.xbFront = new XenbusFrontend(o.xenstore.client(g.domid), this.dev, { ringRefs: this.ringMfns, eventChannel: gp });
    this.xbBack = new XenbusBackend(o.xenstore.client(be.domid), this.dev, {
      features: { "max-ring-page-order": "3" },
      connectRing: (ring) => this.connectRing(ring),
      disconnectRing: () => this.unmapRing(),
    });
    for (const end of [this.xbBack, this.xbFront]) {
      const r = end.probe();
      if (!r.ok) fail(r.error);
    }
    runXenbus([this.xbBack, this.xbFront]);
    if (this.xbFront.state !== XenbusState.Connected || this.xbBack.state !== XenbusState.Connected) {
      this.close();
      fail(`xenbus handshake ended with frontend state ${this.xbFront.state}, backend state ${this.xbBack.state}`);
    }
    this.link.settle();

    const ringEnd = this.ringGpa + RING_PAGES * PAGE;
    this.backend = new VirtioBackend({
      machine: m,
      device: o.device,
      ringFeatures: (o.eventIdx ?? true) ? 1n << BigInt(L.VIRTIO_RING_F_EVENT_IDX) : 0n,
      bufDomid: L.DOMID_INVALID, // descriptor addresses are machine addresses
      hooks: {
        placeRing: (q, ring, packed) => placeRingInRegion(this.link, be.domid, o.device.queueMax, { gpa: this.ringGpa, ringEnd, beBase: this.ringBase }, q, ring, packed),
        releaseRings: () => this.link.readyQueues.clear(),
        openChain: (_q, chain) => this.openChain(chain),
        interrupt: () => {
          m.bump(L.CNT_TR_INTERRUPTS);
          m.bump(L.CNT_PP_IRQS);
          this.link.interrupt();
        },
      },
    });
    this.link.onKick = (q) => this.backend.notify(q);
    m.bump(L.CNT_TR_EXPOSED_REACHABLE, this.ramPages);
    this.frontend = this.makeFrontend();
  }

  /** The backend's connect step: map the ring-ref machine frames, bind the event channel. */
  private connectRing(ring: FrontendRing): string | undefined {
    const m = this.env.hv.machine;
    if (ring.ringRefs.length !== this.ringCount) return `expected ${this.ringCount} ring-refs, got ${ring.ringRefs.length}`;
    const gfns: number[] = [];
    for (const mfn of ring.ringRefs) {
      const gfn = this.gfnOf(mfn);
      if (gfn === undefined) return `ring-ref mfn ${mfn} is not a frame of guest d${this.guest}`;
      gfns.push(gfn);
    }
    const r = this.privcmd.mapForeign(this.guest, gfns, gfns.map((_, i) => this.ringBase + i));
    const bad = typeof r === "number" ? r : r.find((e) => e !== 0);
    if (bad !== undefined) return `mapping the ring returned ${errnoName(bad)}`;
    this.ringMapped = this.ringCount;
    m.bump(L.CNT_PP_RING_PAGES_MAPPED, this.ringCount);
    m.bump(L.CNT_TR_EXPOSED_MAPPED, this.ringCount);
    this.peak = Math.max(this.peak, this.ringCount);
    const port = this.link.bind(ring.eventChannel);
    if (port < 0) return `bind_interdomain returned ${errnoName(port)}`;
    return undefined;
  }

  private unmapRing(): void {
    for (let i = 0; i < this.ringMapped; i++) this.privcmd.unmapGfn(this.ringBase + i);
    this.env.hv.machine.bump(L.CNT_TR_EXPOSED_MAPPED, -this.ringMapped);
    this.ringMapped = 0;
  }

  /** The guest frame behind `mfn`, from the machine-to-phys view dom0 has (rebuilt on a miss,
   *  and checked against the guest's p2m so a stale entry never maps a frame it gave away). */
  private gfnOf(mfn: number): number | undefined {
    const m = this.env.hv.machine;
    const entryMfn = (gfn: number) => {
      const e = m.p2mLookup(this.guest, gfn);
      return e > 0 ? Math.floor(e / (1 << L.P2M_MFN_SHIFT)) : -1;
    };
    let gfn = this.m2p.get(mfn);
    if (gfn !== undefined && entryMfn(gfn) === mfn) return gfn;
    this.m2p.clear();
    for (let g = 0; g < this.ramPages; g++) {
      const f = entryMfn(g);
      if (f >= 0) this.m2p.set(f, g);
    }
    gfn = this.m2p.get(mfn);
    return gfn;
  }

  /** Maps every machine frame the chain names, one batch; unmaps them when it is done. */
  private openChain(chain: Chain) {
    const m = this.env.hv.machine;
    const slots = new Map<number, number>(); // mfn -> window index
    let why: string | undefined;
    const gfns: number[] = [];
    for (const s of chain.segs) {
      const ma = dmaGpa(s.addr); // a machine address here
      for (let mfn = Math.floor(ma / PAGE); mfn <= Math.floor((ma + s.len - 1) / PAGE); mfn++) {
        if (slots.has(mfn) || why) continue;
        const gfn = this.gfnOf(mfn);
        if (gfn === undefined) {
          m.bump(L.CNT_PP_BAD_MFN);
          why = `mfn ${mfn} is not a frame of guest d${this.guest}`;
        } else if (gfns.length === this.windowPages) {
          why = `the chain needs more than the backend's ${this.windowPages}-page map window`;
        } else {
          slots.set(mfn, gfns.length);
          gfns.push(gfn);
        }
      }
    }
    let mapped = 0;
    // Each open chain has its own run of window gfns: a chain the device keeps (a posted rx
    // buffer) stays mapped while later chains come and go.
    const base = !why && gfns.length > 0 ? this.window.tryAlloc(gfns.length) : -1;
    if (!why && gfns.length > 0 && base < 0) why = `the backend's ${this.windowPages}-page map window is full`;
    if (base >= 0) {
      // One batch per call's worth of frames (a long request takes several, as in a device model).
      const { errs, calls } = this.privcmd.mapForeignBatched(this.guest, gfns, gfns.map((_, i) => base + i));
      m.bump(L.CNT_PP_MAP_CALLS, calls);
      const bad = errs.find((e) => e !== 0);
      mapped = errs.length; // entries that failed are unmapped no-ops below
      if (bad !== undefined) why = `foreign map returned ${errnoName(bad)}`;
      m.bump(L.CNT_PP_PAGES_MAPPED, gfns.length);
      m.bump(L.CNT_TR_PAGES_EXPOSED_IO, gfns.length);
      m.bump(L.CNT_TR_EXPOSED_MAPPED, gfns.length);
      this.inflight += gfns.length;
      this.peak = Math.max(this.peak, this.ringMapped + this.inflight);
    }
    const io = new SegmentChainIo(m, chain, (dma, len) => {
      if (why) return why;
      const addr = dmaGpa(dma);
      const i = slots.get(Math.floor(addr / PAGE))!;
      const off = addr % PAGE;
      return { domid: this.backendDomid, gpa: (base + i) * PAGE + off, len: Math.min(len, PAGE - off) };
    });
    return {
      io,
      close: () => {
        if (base < 0) return;
        for (let i = 0; i < mapped; i++) this.privcmd.unmapGfn(base + i);
        if (mapped > 0) {
          m.bump(L.CNT_PP_PAGES_UNMAPPED, mapped);
          m.bump(L.CNT_TR_EXPOSED_MAPPED, -mapped);
        }
        this.inflight -= gfns.length;
        this.window.release(base, gfns.length);
      },
    };
  }

  private makeFrontend(): FrontendPort {
    const m = this.env.hv.machine;
    return linkFrontend(this.link, () => this.backend, m, L.CNT_PP_KICKS, {
      expose: (buf: GuestBuf) => {
        // pfn -> mfn for every page the buffer covers; they must be machine-contiguous, since
        // one descriptor carries one machine address.
        const first = Math.floor(buf.gpa / PAGE);
        const last = Math.floor((buf.gpa + Math.max(buf.len, 1) - 1) / PAGE);
        const mfn0 = m.populate(this.guest, first);
        m.bump(L.CNT_PP_PFN_TO_MFN);
        let contiguous = true;
        for (let p = first + 1; p <= last; p++) {
          m.bump(L.CNT_PP_PFN_TO_MFN);
          if (m.populate(this.guest, p) !== mfn0 + (p - first)) contiguous = false;
        }
        return contiguous ? mfn0 * PAGE + (buf.gpa % PAGE) : this.bounceIn(buf);
      },
      unexpose: (buf: GuestBuf, addr: DmaAddr) => this.bounceOut(buf, addr),
    });
  }

  // ---- swiotlb-xen: a PV guest's DMA layer bounces what is not machine-contiguous ---------

  /** Populates the pool's pages below the ring, one after the other, and checks that they are
   *  machine-contiguous (a run of pages is then one descriptor's machine address). */
  private setupSwiotlb(guest: number, ringGfn: number, pages: number): { gfn: number; mfn: number; free: Uint8Array } {
    const m = this.env.hv.machine;
    const gfn = ringGfn - pages;
    if (gfn < 0) throw new TransportSetupError(this.id, `a ${pages}-page swiotlb pool does not fit below the ring (gfn ${ringGfn})`);
    const mfn = m.populate(guest, gfn);
    for (let i = 1; i < pages; i++) {
      if (m.populate(guest, gfn + i) !== mfn + i) throw new TransportSetupError(this.id, `the swiotlb pool at gfn ${gfn} is not machine-contiguous`);
    }
    return { gfn, mfn, free: new Uint8Array(pages).fill(1) };
  }

  /** Takes a run of pool pages for `buf`, copies a device-readable buffer into it and returns the
   *  run's machine address (the buffer's in-page offset kept). */
  private bounceIn(buf: GuestBuf): DmaAddr {
    const m = this.env.hv.machine;
    const off = buf.gpa % PAGE;
    const n = Math.ceil((off + buf.len) / PAGE);
    const free = this.swiotlb.free;
    let at = -1;
    for (let i = 0, run = 0; i < free.length && at < 0; i++) {
      run = free[i] ? run + 1 : 0;
      if (run === n) at = i - n + 1;
    }
    if (at < 0) throw new Error(`pv-p2m: the ${free.length}-page swiotlb pool has no run of ${n} free pages for a ${buf.len}-byte buffer`);
    free.fill(0, at, at + n);
    const poolGpa = (this.swiotlb.gfn + at) * PAGE + off;
    this.bounced.set(poolGpa, { at, n });
    m.bump(L.CNT_PP_SWIOTLB_BOUNCES);
    if (!buf.write) this.guestCopy(buf.gpa, poolGpa, buf.len);
    return (this.swiotlb.mfn + at) * PAGE + off;
  }

  /** A bounced buffer: a device-written one is copied back, and its pool pages are freed. */
  private bounceOut(buf: GuestBuf, addr: DmaAddr): void {
    const mfn = Math.floor(Number(addr) / PAGE) - this.swiotlb.mfn;
    if (mfn < 0 || mfn >= this.swiotlb.free.length) return; // not bounced
    const poolGpa = (this.swiotlb.gfn + mfn) * PAGE + (Number(addr) % PAGE);
    const b = this.bounced.get(poolGpa);
    if (!b) return;
    this.bounced.delete(poolGpa);
    if (buf.write) this.guestCopy(poolGpa, buf.gpa, buf.len);
    this.swiotlb.free.fill(1, b.at, b.at + b.n);
  }

  private guestCopy(src: number, dst: number, len: number): void {
    const m = this.env.hv.machine;
    const st = m.tryCopy(this.guest, src, this.guest, dst, len);
    if (st < 0) throw new Error(`pv-p2m: swiotlb copy of ${len} bytes failed (${st})`);
    m.bump(L.CNT_PP_SWIOTLB_BYTES, len);
    m.bump(L.CNT_TR_COPIES_GUEST);
    m.bump(L.CNT_TR_COPY_BYTES_GUEST, len);
  }

  service(): number {
    if (this.closed) throw new TransportSetupError(this.id, "service() after close()");
    return this.backend.service();
  }

  exposure(): Exposure {
    const reachable = this.closed ? 0 : this.env.foreign.exposure(this.backendDomid, this.guest).reachable;
    return { reachable, mapped: this.ringMapped + this.inflight, mappedPeak: this.peak };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backend?.reset();
    this.unmapRing();
    this.link.detach();
    this.link.close();
    if (this.backend) this.env.hv.machine.bump(L.CNT_TR_EXPOSED_REACHABLE, -this.ramPages);
  }
}
