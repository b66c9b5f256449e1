// What preshared-bounce and fat-virtqueue share: one region of guest RAM per device, shared
// once at set-up and never changed — the rings at its start, a data area (a bounce pool, or
// the fat ring's payload slots) after them. The backend maps the whole region once and never
// maps anything else: by foreign mapping (preshared-bounce: it must be allowed to map the
// guest) or through grants the guest made of it (fat-virtqueue), region-share.ts. The frontend copies a device-readable buffer into the data area before adding
// it and a device-written one back out after use (guest copies); the backend touches the data
// area in place. Kicks and interrupts are sends on one event channel; the register block is
// plain shared memory (no trap), so its accesses are not counted. A subclass says how the data
// area is carved (allocData/freeData/runEnd) and which counters it bumps.
import { dmaGpa, type DmaAddr } from "../virtio/dma-addr.ts";
import * as L from "../wasm/layout.ts";
import type { VirtioDevice } from "../devices/types.ts";
import type { FrontendPort, GuestBuf } from "../virtio/port.ts";
import { GuestPages } from "../virtio/guest-pages.ts";
import type { GrantTables } from "../xen/grant-table.ts";
import { VirtioBackend } from "./backend.ts";
import { SegmentChainIo } from "./chain-io.ts";
import { EvtchnLink, linkFrontend, placeRingInRegion } from "./evtchn-link.ts";
import { foreignShare, grantShare, type RegionShare } from "./region-share.ts";
import type { XenEnv } from "./xen-env.ts";
import { TransportSetupError, type Exposure, type Transport, type TransportId } from "./types.ts";

const PAGE = 4096;

export interface SharedRegionOptions {
  env: XenEnv;
  guest: number;
  backend: number;
  device: VirtioDevice;
  /** First gfn of the region (default: the guest's top pages). */
  regionGfn?: number;
  /** Pages reserved for rings at the region's start (default 3: one split ring of 256). */
  ringPages?: number;
  /** Backend RAM page for hypercall arguments (default 0). */
  scratchGfn?: number;
  eventIdx?: boolean;
  /** The grant tables, for a transport whose region is granted (fat-virtqueue). */
  gt?: GrantTables;
}

/** The subclass's part: its id, the data area's size and the counters it keeps. */
export interface RegionSpec {
  id: "preshared-bounce" | "fat-virtqueue";
  dataPages: number;
  /** Where a buffer outside the data area is said to be (in a refusal). */
  dataName: string;
  /** The region is foreign-mapped by the backend, or granted by the guest and grant-mapped. */
  share: "foreign" | "grant";
  counters: { regionMapped: number; irqs: number; kicks: number; copiesIn: number; copiesOut: number; bytesIn: number; bytesOut: number };
}

/** A TransportSetupError thrower for transport `id`. */
export const setupFail = (id: TransportId) => (msg: string): never => {
  throw new TransportSetupError(id, msg);
};

export abstract class SharedRegionTransport implements Transport {
  abstract readonly id: RegionSpec["id"];
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
  /** The data area: pool or slots. */
  protected readonly dataGpa: number;
  protected readonly dataBytes: number;
  private readonly spec: RegionSpec;
  private readonly beBase: number; // backend gfn where the region is mapped
  /** How the region reaches the backend: foreign-mapped, or granted and grant-mapped. */
  readonly share: RegionShare;
  private readonly link: EvtchnLink;
  private closed = false;

  protected constructor(o: SharedRegionOptions, spec: RegionSpec) {
    const { hv } = o.env;
    const fail = setupFail(spec.id);
    this.spec = spec;
    this.env = o.env;
    this.guest = o.guest;
    this.backendDomid = o.backend;
    this.device = o.device;
    const g = hv.live(o.guest) ?? fail(`guest domain ${o.guest} does not exist`);
    const be = hv.live(o.backend) ?? fail(`backend domain ${o.backend} does not exist`);
    if (g === be) fail("the guest cannot be its own backend");
    const ringPages = o.ringPages ?? 3;
    if (!Number.isInteger(ringPages) || ringPages < 1) fail(`ringPages must be a positive integer, got ${o.ringPages}`);
    this.regionPages = ringPages + spec.dataPages;
    const regionGfn = o.regionGfn ?? g.ramPages - this.regionPages;
    if (!Number.isInteger(regionGfn) || regionGfn < 0 || regionGfn + this.regionPages > g.ramPages) {
      fail(`region gfns [${regionGfn}, ${regionGfn + this.regionPages}) are not inside guest d${g.domid}'s ${g.ramPages} pages of RAM`);
    }
    this.regionGpa = regionGfn * PAGE;
    this.dataGpa = (regionGfn + ringPages) * PAGE;
    this.dataBytes = spec.dataPages * PAGE;
    this.ringPages = new GuestPages(g.domid, regionGfn, ringPages);

    // The one sharing of the transport's life: the whole region, at set-up.
    const site = { env: o.env, guest: g, backend: be, regionGfn, pages: this.regionPages, scratchGfn: o.scratchGfn ?? 0, fail };
    if (spec.share === "grant") this.share = grantShare({ ...site, gt: o.gt ?? fail("the world has no grant tables for it") });
    else this.share = foreignShare(site);
    this.beBase = this.share.beBase;
    const m = hv.machine;
    m.bump(spec.counters.regionMapped, this.regionPages);

    const region = { gpa: this.regionGpa, ringEnd: this.regionGpa + ringPages * PAGE, beBase: this.beBase };
    const link = EvtchnLink.connect(o.env, spec.id, g.domid, be.domid, { undo: () => this.share.release() });
    this.link = link;
    this.backend = new VirtioBackend({
      machine: m,
      device: o.device,
      ringFeatures: (o.eventIdx ?? true) ? 1n << BigInt(L.VIRTIO_RING_F_EVENT_IDX) : 0n,
      bufDomid: g.domid,
      hooks: {
        placeRing: (q, ring, packed) => placeRingInRegion(link, be.domid, o.device.queueMax, region, q, ring, packed),
        releaseRings: () => link.readyQueues.clear(),
        openChain: (_q, chain) => ({ io: new SegmentChainIo(m, chain, (dma, len) => this.reachData(dma, len)), close: () => {} }),
        interrupt: () => {
          m.bump(L.CNT_TR_INTERRUPTS);
          m.bump(spec.counters.irqs);
          link.interrupt();
        },
      },
    });
    link.onKick = (q) => this.backend.notify(q);
    m.bump(L.CNT_TR_EXPOSED_REACHABLE, this.regionPages);
    m.bump(L.CNT_TR_EXPOSED_MAPPED, this.regionPages);
    this.frontend = this.makeFrontend();
  }

  /** Guest port and backend port of the event channel. */
  get guestPort(): number { return this.link.guestPort; }
  get backendPort(): number { return this.link.backendPort; }

  /** Takes `len` bytes of the data area; its offset there (throws when there is no room). */
  protected abstract allocData(len: number): number;
  protected abstract freeData(off: number, len: number): void;
  /** End (gpa) of the run of the data area that `gpa` lies in: one descriptor may not leave it. */
  protected abstract runEnd(gpa: number): number;

  /** In place, in the data area: any other address is a buffer the frontend did not copy in. */
  private reachData(dma: DmaAddr, len: number) {
    const addr = dmaGpa(dma);
    if (addr < this.dataGpa || addr >= this.dataGpa + this.dataBytes) return `outside the ${this.spec.dataName}`;
    return { domid: this.backendDomid, gpa: addr - this.regionGpa + this.beBase * PAGE, len: Math.min(len, this.runEnd(addr) - addr) };
  }

  /** A frontend copy within the guest's RAM, into or out of the data area. */
  private guestCopy(src: number, dst: number, len: number, into: boolean): void {
    const m = this.env.hv.machine;
    const c = this.spec.counters;
    const st = m.tryCopy(this.guest, src, this.guest, dst, len);
    if (st < 0) throw new Error(`${this.spec.id}: guest copy of ${len} bytes 0x${src.toString(16)} -> 0x${dst.toString(16)} failed (${st})`);
    m.bump(L.CNT_TR_COPIES_GUEST);
    m.bump(L.CNT_TR_COPY_BYTES_GUEST, len);
    m.bump(into ? c.copiesIn : c.copiesOut);
    m.bump(into ? c.bytesIn : c.bytesOut, len);
  }

  private makeFrontend(): FrontendPort {
    return linkFrontend(this.link, () => this.backend, this.env.hv.machine, this.spec.counters.kicks, {
      expose: (buf: GuestBuf) => {
        const addr = this.dataGpa + this.allocData(buf.len);
        if (!buf.write) this.guestCopy(buf.gpa, addr, buf.len, true);
        return addr;
      },
      unexpose: (buf: GuestBuf, dma: DmaAddr) => {
        const addr = dmaGpa(dma);
        if (buf.write) this.guestCopy(addr, buf.gpa, buf.len, false);
        this.freeData(addr - this.dataGpa, buf.len);
      },
    });
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
    this.link.detach();
    this.share.release();
    this.link.close();
    const m = this.env.hv.machine;
    m.bump(L.CNT_TR_EXPOSED_REACHABLE, -this.regionPages);
    m.bump(L.CNT_TR_EXPOSED_MAPPED, -this.regionPages);
  }
}
