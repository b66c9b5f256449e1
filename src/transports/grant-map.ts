// grant-map (VirtIO-SuSE): the control path is mmio-foreign's (virtio-mmio window served by an
// IOREQ server, its wired interrupt driven with a dm_op per architecture: mmio-irq.ts), but the backend never maps guest RAM at
// will. Linux's grant DMA ops grant each buffer page (consecutive grefs per buffer, read-only
// for device-readable buffers) and put grant DMA addresses in descriptors; the rings are
// granted too. The backend maps a chain's grefs in one map_grant_ref batch, touches the
// bytes, unmaps them in one unmap_grant_ref call (Xen: batches of 32, one TLB flush each),
// and the frontend ends access after completion. Exposure: only granted pages, only during I/O.
//
// Address encoding: Linux's, XEN_GRANT_DMA_ADDR_OFF (bit 63) | gref << 12 | offset. Descriptor
// and ring addresses cross the host/Wasm boundary as u32 halves and are bigints in TS above
// 2^53 (src/virtio/dma-addr.ts), so the value the guest writes is exactly Linux's.
import * as L from "../wasm/layout.ts";
import { dmaFromHalves, dmaGpa, dmaHi, dmaLo, type DmaAddr } from "../virtio/dma-addr.ts";
import { XEN_GRANT_DMA_ADDR_OFF } from "../xen/grant-abi.ts";
import type { VirtioDevice } from "../devices/types.ts";
import type { FrontendPort, GuestBuf } from "../virtio/port.ts";
import { DriverError } from "../virtio/driver-probe.ts";
import { ringAreaBytes, type RingAddrs } from "../virtio/rings.ts";
import { IoreqEmulator } from "../xen/ioreq-emulator.ts";
import { Privcmd } from "../xen/privcmd.ts";
import { errnoName } from "../xen/errno.ts";
import type { GrantTables } from "../xen/grant-table.ts";
import { GuestGrants } from "../xen/grant-guest.ts";
import { VirtioBackend } from "./backend.ts";
import { SegmentChainIo } from "./chain-io.ts";
import { DeviceIrq, mmioIrqLine, mmioWindowBase } from "./mmio-irq.ts";
import { takeBackendGfns, UpcallRouter, type XenEnv } from "./xen-env.ts";
import { TransportSetupError, type Exposure, type Transport } from "./types.ts";
import { GrantCopyChainIo } from "./grant-copy-io.ts";

const PAGE = L.PAGE_SIZE;

/** Linux's grant_to_dma(): XEN_GRANT_DMA_ADDR_OFF | gref << XEN_PAGE_SHIFT, plus the offset. */
export const grantDmaAddr = (gref: number, offset: number): bigint =>
  XEN_GRANT_DMA_ADDR_OFF | (BigInt(gref) << BigInt(L.PAGE_SHIFT)) | BigInt(offset);

/** gref and offset of a grant DMA address (bit 63 set, a u32 gref above the page offset);
 *  undefined for anything else. */
export function decodeGrantDma(addr: DmaAddr): { gref: number; offset: number } | undefined {
  if (typeof addr === "number" || (addr & XEN_GRANT_DMA_ADDR_OFF) === 0n) return undefined;
  const gref = (addr & ~XEN_GRANT_DMA_ADDR_OFF) >> BigInt(L.PAGE_SHIFT);
  if (gref > 0xffffffffn) return undefined; // grant_ref_t is 32 bits: no gref has these bits
  return { gref: Number(gref), offset: Number(addr & BigInt(PAGE - 1)) };
}

const pagesSpanned = (gpa: number, len: number) => Math.floor((gpa + Math.max(len, 1) - 1) / PAGE) - Math.floor(gpa / PAGE) + 1;

export interface GrantMapOptions {
  env: XenEnv;
  /** The grant tables registered with env.hv. */
  gt: GrantTables;
  guest: number;
  backend: number;
  device: VirtioDevice;
  index?: number;
  /** Offer VIRTIO_F_ACCESS_PLATFORM (default true; false models a backend the driver refuses). */
  accessPlatform?: boolean;
  eventIdx?: boolean;
  /** Grant-table frames the guest sets up (default 4: 2048 refs). */
  guestFrames?: number;
  /** Backend gfns for buffer and ring mappings (default 512). */
  windowPages?: number;
  vcpu?: number;
  /** How the backend reaches buffers (default "map"): map per request, GNTTABOP_copy per
   *  segment piece, or a persistent pool the frontend copies through. */
  mode?: GrantMode;
  /** Pool pages for "persistent" (default 64, blkback's max_persistent_grants is 1056). */
  poolPages?: number;
  /** "dma": the device's data goes to a disk by DMA, so the backend unmaps the pages its CPU
   *  touched (header, status) in one call and the DMA-only pages in another (default "cpu"). */
  dataPath?: "cpu" | "dma";
}

export type GrantMode = "map" | "copy" | "persistent";
const MODE_ID = { map: "grant-map", copy: "grant-copy", persistent: "grant-persistent" } as const;
/** Backend RAM pages used as bounce pages by grant-copy (gfns 16..47). */
const BOUNCE_GFN = 16;
const BOUNCE_PAGES = 32;

const bit = (n: number) => 1n << BigInt(n);

/** gref -> backend gpa of a chain's mappings, with the handles to unmap them by (absent for
 *  mappings that outlive the chain: the persistent pool's). */
type MapWithHandles = Map<number, number> & { handles?: { gref: number; gfn: number; handle: number }[] };

export class GrantMapTransport implements Transport {
  readonly id: (typeof MODE_ID)[GrantMode];
  readonly mode: GrantMode;
  readonly dataPath: "cpu" | "dma";
  readonly guest: number;
  readonly backendDomid: number;
  readonly device: VirtioDevice;
  readonly env: XenEnv;
  readonly base: number;
  /** The device's interrupt line (SPI on arm64 and riscv64, ISA IRQ on x86-64). */
  readonly irq: DeviceIrq;
  readonly emulator: IoreqEmulator;
  readonly privcmd: Privcmd;
  readonly backend: VirtioBackend;
  readonly frontend: FrontendPort;
  /** The guest's and the backend's grant-table use. */
  readonly guestGrants: GuestGrants;
  readonly backendGrants: GuestGrants;
  /** Set when a revocation was refused (the backend still held a page): later I/O fails. */
  broken = false;
  /** The status of the last failed map op (GNTST_*), 0 if none failed. */
  lastMapStatus = 0;
  private readonly router: UpcallRouter;
  private readonly detach: () => void;
  private readonly vcpu: number;
  private readonly freeGfns: number[] = [];
  private ringMaps: { handle: number; hostAddr: number }[] = [];
  private ringGrefs: { first: number; n: number }[] = [];
  private pendingRing = new Map<number, number>(); // register offset -> value, until QueueReady
  private driverFeatures = [0, 0];
  private featSel = 0;
  private queueNum = 0;
  private granted = 0;
  private mapped = 0;
  private mappedPeak = 0;
  private closed = false;

  constructor(o: GrantMapOptions) {
    const { hv, evtchn, ioreq, foreign } = o.env;
    this.mode = o.mode ?? "map";
    this.dataPath = o.dataPath ?? "cpu";
    const id = (this.id = MODE_ID[this.mode]);
    const fail = (msg: string): never => {
      throw new TransportSetupError(id, msg);
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
    this.base = mmioWindowBase(hv.arch, index);
    const line = mmioIrqLine(id, hv.arch, index);

    // Grant tables: the guest's frames above its RAM; both sides' hypercall arguments in a
    // RAM page of their own (guest gfn 8, backend gfns 1..8).
    const frames = o.guestFrames ?? 4;
    this.guestGrants = new GuestGrants(o.gt, g.domid, { baseGfn: takeBackendGfns(hv, g.domid, frames), scratchGpa: 8 * PAGE });
    const rc0 = this.guestGrants.setup(frames);
    if (rc0 !== 0) fail(`guest d${g.domid}: setup_table(${frames}) returned ${errnoName(rc0)}`);
    this.backendGrants = new GuestGrants(o.gt, be.domid, { baseGfn: 0, scratchGpa: PAGE, scratchBytes: 8 * PAGE });
    const windowPages = o.windowPages ?? 512;
    const win = takeBackendGfns(hv, be.domid, windowPages);
    for (let i = windowPages - 1; i >= 0; i--) this.freeGfns.push(win + i);

    const pageGfn = takeBackendGfns(hv, be.domid, 2);
    this.emulator = new IoreqEmulator({
      evtchn, ioreq, foreign, domid: be.domid, target: g.domid, scratchGfn: 0, pageGfn,
      handler: (r) => {
        const off = Number(r.addr) - this.base;
        if (r.dir === "read") return this.backend.regs.read(off, r.size);
        this.backend.regs.write(off, r.size, Number(r.data));
      },
    });
    const rc = this.emulator.start();
    if (rc < 0) {
      fail(`backend d${be.domid} (${be.name}) cannot serve guest d${g.domid}'s register window: create_ioreq_server ` +
        `and its set-up returned ${errnoName(rc)}`);
    }
    this.emulator.take();
    evtchn.takeUpcalls();
    this.router = UpcallRouter.for(evtchn);
    this.detach = this.router.attach(be.domid, [...this.emulator.localPorts, this.emulator.bufLocalPort].filter((p) => p > 0),
      (ports) => this.emulator.poll(ports).others);
    const mr = this.emulator.mapRange(this.base, this.base + L.VIRTIO_MMIO_WINDOW_SIZE - 1);
    if (mr < 0) {
      this.detach();
      this.emulator.stop();
      fail(`map_io_range_to_ioreq_server returned ${errnoName(mr)}`);
    }
    this.privcmd = new Privcmd({ ioreq, foreign, domid: be.domid, scratchGfn: 0 });
    this.irq = new DeviceIrq({
      transport: id, ioreq, privcmd: this.privcmd, guest: g.domid, line,
      counters: { irqLevelOps: L.CNT_GM_IRQ_LEVEL_OPS, isaIrqOps: L.CNT_GM_ISA_IRQ_OPS },
    });
    const m = hv.machine;
    this.backend = new VirtioBackend({
      machine: m,
      device: o.device,
      ringFeatures: ((o.eventIdx ?? true) ? bit(L.VIRTIO_RING_F_EVENT_IDX) : 0n) |
        ((o.accessPlatform ?? true) ? bit(L.VIRTIO_F_ACCESS_PLATFORM) : 0n),
      bufDomid: L.DOMID_INVALID, // descriptor addresses are grant addresses, not gpas
      hooks: {
        placeRing: (_q, ring, packed) => this.mapRing(ring, packed),
        releaseRings: () => this.unmapRings(),
        openChain: (_q, chain) => {
          if (this.mode === "copy") {
            const io = new GrantCopyChainIo({ machine: m, grants: this.backendGrants, guest: g.domid, chain, bounceGfn: BOUNCE_GFN, bouncePages: BOUNCE_PAGES });
            return { io, close: () => io.flush() };
          }
          const maps = this.mode === "persistent" ? this.persistentMaps(chain.segs) : this.mapChain(chain.segs);
          return {
            io: new SegmentChainIo(m, chain, (addr, len) => {
              const d = decodeGrantDma(addr);
              if (!d) return "not a grant DMA address";
              const at = maps.get(d.gref);
              if (at === undefined) return `gref ${d.gref} is not mapped`;
              return { domid: be.domid, gpa: at + d.offset, len: Math.min(len, PAGE - d.offset) };
            }),
            close: () => this.unmapChain(maps), // the pool's own mappings stay
          };
        },
        interrupt: () => m.bump(this.backend.regs.raise(L.VIRTIO_MMIO_INT_VRING) ? L.CNT_TR_INTERRUPTS : L.CNT_TR_INTERRUPTS_MERGED),
        irqLevel: (high) => this.irq.set(high),
      },
    });
    this.frontend = this.makeFrontend();
    if (this.mode === "persistent") this.setupPool(o.poolPages ?? 64, g.ramPages);
  }

  // ---- persistent pool -----------------------------------------------------------------

  private poolMaps = new Map<number, number>(); // gref -> backend gpa, mapped for good
  private poolFirstRef = 0;
  private poolGfn = 0;
  private poolUsed = new Uint8Array(0);
  private poolHandles: { gref: number; gfn: number; handle: number }[] = [];

  /** The frontend grants `n` pages at the top of its RAM (consecutive grefs), the backend maps
   *  them all once, as blkback keeps persistent grants mapped. */
  private setupPool(n: number, ramPages: number): void {
    if (n > this.freeGfns.length) {
      throw new TransportSetupError(this.id, `a persistent pool of ${n} pages does not fit the backend's grant-map window (${this.freeGfns.length} free gfns)`);
    }
    this.poolGfn = ramPages - n;
    const { first } = this.grantPages(this.poolGfn * PAGE, n * PAGE, false);
    this.poolFirstRef = first;
    this.m.bump(L.CNT_GP_POOL_GRANTS, n);
    this.poolUsed = new Uint8Array(n);
    const got = this.mapGrefs(Array.from({ length: n }, (_, k) => ({ gref: first + k, readonly: false })));
    if (!got) {
      this.close();
      throw new TransportSetupError(this.id, `backend d${this.backendDomid} could not map the persistent pool (status ${this.lastMapStatus})`);
    }
    this.m.bump(L.CNT_GP_POOL_PAGES_MAPPED, n);
    this.poolHandles = got;
    for (const r of got) this.poolMaps.set(r.gref, r.gfn * PAGE);
  }

  private inPool(gref: number): boolean {
    return gref >= this.poolFirstRef && gref < this.poolFirstRef + this.poolUsed.length;
  }

  /** The pool's mappings, plus the chain's overflow buffers (granted outside the pool because
   *  it was full) mapped for this request only, as blkback maps a request's grants when its
   *  persistent grants are used up: one map batch now, one unmap call (and its flush) at close. */
  private persistentMaps(segs: readonly { addr: DmaAddr; len: number; write: boolean }[]): Map<number, number> {
    const overflow = segs.filter((s) => {
      const d = decodeGrantDma(s.addr);
      return d !== undefined && !this.inPool(d.gref);
    });
    if (overflow.length === 0) return this.poolMaps;
    const own = this.mapChain(overflow);
    const all = new Map([...this.poolMaps, ...own]);
    (all as MapWithHandles).handles = (own as MapWithHandles).handles;
    return all;
  }

  /** A run of `n` free pool pages, or -1. */
  private poolTake(n: number): number {
    let run = 0;
    for (let i = 0; i < this.poolUsed.length; i++) {
      run = this.poolUsed[i] ? 0 : run + 1;
      if (run === n) {
        this.poolUsed.fill(1, i - n + 1, i + 1);
        return i - n + 1;
      }
    }
    return -1;
  }

  private get m() {
    return this.env.hv.machine;
  }

  // ---- backend: mapping ----------------------------------------------------------------

  private trackMapped(delta: number): void {
    this.mapped += delta;
    this.mappedPeak = Math.max(this.mappedPeak, this.mapped);
    this.m.bump(L.CNT_TR_EXPOSED_MAPPED, delta);
  }

  /** Maps grefs (one batch); returns the gfn per gref, or undefined after undoing a partial batch. */
  private mapGrefs(refs: { gref: number; readonly: boolean }[]): { gref: number; gfn: number; handle: number }[] | undefined {
    if (refs.length > this.freeGfns.length) return undefined;
    const gfns = refs.map(() => this.freeGfns.pop()!);
    const { results } = this.backendGrants.map(refs.map((r, i) => ({ dom: this.guest, ref: r.gref, hostAddr: gfns[i]! * PAGE, readonly: r.readonly })));
    const ok = results.map((r, i) => ({ gref: refs[i]!.gref, gfn: gfns[i]!, handle: r.handle, status: r.status }));
    const bad = ok.filter((r) => r.status !== L.GNTST_OKAY);
    if (bad.length > 0) {
      this.m.bump(L.CNT_GM_MAP_FAILS, bad.length);
      this.lastMapStatus = bad[0]!.status;
      const good = ok.filter((r) => r.status === L.GNTST_OKAY);
      if (good.length > 0) this.backendGrants.unmap(good.map((r) => ({ handle: r.handle, hostAddr: r.gfn * PAGE })));
      this.freeGfns.push(...gfns);
      return undefined;
    }
    this.trackMapped(refs.length);
    return ok;
  }

  private mapChain(segs: readonly { addr: DmaAddr; len: number; write: boolean }[]): Map<number, number> {
    const refs: { gref: number; readonly: boolean }[] = [];
    for (const s of segs) {
      const d = decodeGrantDma(s.addr);
      if (!d) continue; // reach() reports it
      for (let k = 0; k < pagesSpanned(d.offset, s.len); k++) refs.push({ gref: d.gref + k, readonly: !s.write });
    }
    const out = new Map<number, number>();
    if (refs.length === 0) return out;
    this.m.bump(L.CNT_GM_MAP_CALLS);
    const got = this.mapGrefs(refs);
    if (!got) return out; // every access then fails: the chain completes with an I/O error
    this.m.bump(L.CNT_GM_PAGES_MAPPED, got.length);
    for (const r of got) out.set(r.gref, r.gfn * PAGE);
    (out as MapWithHandles).handles = got;
    return out;
  }

  private unmapChain(maps: Map<number, number>): void {
    const got = (maps as MapWithHandles).handles;
    if (!got || got.length === 0) return;
    // DMA-only pages apart, so an eliding Xen can skip that call's flush (the backend knows
    // which pages its CPU touched; here it reads its own mappings' accessed bits).
    const touched = (r: { gfn: number }) => (this.m.p2mLookup(this.backendDomid, r.gfn) & L.P2MF_ACCESSED) !== 0;
    const calls = this.dataPath === "dma" ? [got.filter(touched), got.filter((r) => !touched(r))].filter((c) => c.length > 0) : [got];
    for (const c of calls) {
      this.m.bump(L.CNT_GM_UNMAP_CALLS);
      this.backendGrants.unmap(c.map((r) => ({ handle: r.handle, hostAddr: r.gfn * PAGE })));
    }
    this.m.bump(L.CNT_GM_PAGES_UNMAPPED, got.length);
    this.trackMapped(-got.length);
    for (const r of got) this.freeGfns.push(r.gfn);
  }

  /** Maps a queue's three ring areas (each its consecutive grefs) for as long as it runs. */
  private mapRing(ring: RingAddrs, packed: boolean): { ringDomid: number; ring: RingAddrs } | number {
    if (ring.size < 1 || ring.size > this.device.queueMax) return L.VQ_E1_BAD_SIZE;
    const bytes = ringAreaBytes(ring.size, packed);
    const placed: number[] = [];
    const areas = [ring.desc, ring.driver, ring.device];
    for (let i = 0; i < 3; i++) {
      const d = decodeGrantDma(areas[i]!);
      if (!d) return L.VQ_E3_RING_OUTSIDE_RAM;
      const n = pagesSpanned(d.offset, bytes[i]!);
      // A ring area must be contiguous in the backend's space: take n consecutive free gfns.
      const run = this.takeRun(n);
      if (run < 0) return L.VQ_E3_RING_OUTSIDE_RAM;
      const { results } = this.backendGrants.map(Array.from({ length: n }, (_, k) => ({ dom: this.guest, ref: d.gref + k, hostAddr: (run + k) * PAGE })));
      results.forEach((r, k) => {
        if (r.status === L.GNTST_OKAY) this.ringMaps.push({ handle: r.handle, hostAddr: (run + k) * PAGE });
      });
      const okN = results.filter((r) => r.status === L.GNTST_OKAY).length;
      this.m.bump(L.CNT_GM_RING_PAGES_MAPPED, okN);
      this.trackMapped(okN);
      if (okN < n) {
        const bad = results.find((r) => r.status !== L.GNTST_OKAY)!;
        this.m.bump(L.CNT_GM_MAP_FAILS, n - okN);
        this.lastMapStatus = bad.status;
        return L.VQ_E3_RING_OUTSIDE_RAM;
      }
      placed.push(run * PAGE + d.offset);
    }
    return { ringDomid: this.backendDomid, ring: { size: ring.size, desc: placed[0]!, driver: placed[1]!, device: placed[2]! } };
  }

  private takeRun(n: number): number {
    const sorted = [...this.freeGfns].sort((a, b) => a - b);
    for (let i = 0; i + n <= sorted.length; i++) {
      if (sorted[i + n - 1]! - sorted[i]! === n - 1) {
        const first = sorted[i]!;
        for (let k = 0; k < n; k++) this.freeGfns.splice(this.freeGfns.indexOf(first + k), 1);
        return first;
      }
    }
    return -1;
  }

  private unmapRings(): void {
    if (this.ringMaps.length === 0) return;
    this.backendGrants.unmap(this.ringMaps);
    this.trackMapped(-this.ringMaps.length);
    for (const r of this.ringMaps) this.freeGfns.push(r.hostAddr / PAGE);
    this.ringMaps = [];
  }

  // ---- frontend: grant DMA ops ---------------------------------------------------------

  /** Grants `n` pages from gpa's page on (consecutive grefs); returns the first gref. */
  private grantPages(gpa: number, len: number, readonly: boolean): { first: number; n: number } {
    const n = pagesSpanned(gpa % PAGE, len);
    const first = this.guestGrants.allocRefs(n);
    if (first < 0) throw new DriverError(`${this.id}: no run of ${n} free grant references`);
    const gfn = Math.floor(gpa / PAGE);
    for (let k = 0; k < n; k++) this.guestGrants.grantAccess(first + k, this.backendDomid, gfn + k, readonly);
    this.granted += n;
    this.m.bump(L.CNT_TR_EXPOSED_REACHABLE, n);
    return { first, n };
  }

  /** Ends access to `n` grefs; false (and the device broken) when the backend still holds one. */
  private revoke(first: number, n: number): boolean {
    let ok = true;
    for (let k = 0; k < n; k++) {
      if (this.guestGrants.endAccess(first + k)) {
        this.guestGrants.freeRefs(first + k);
        this.granted--;
        this.m.bump(L.CNT_TR_EXPOSED_REACHABLE, -1);
      } else {
        this.m.bump(L.CNT_GM_END_BUSY);
        ok = false; // the gref leaks, as Linux leaks it
      }
    }
    if (!ok) this.broken = true;
    return ok;
  }

  private expose(buf: GuestBuf): bigint {
    if (this.broken) throw new DriverError(`${this.id}: the device is broken (a grant could not be revoked)`);
    if (this.mode === "persistent") {
      // Copy into pool pages at the buffer's own in-page offset (the frontend's copy).
      const off = buf.gpa % PAGE;
      const n = pagesSpanned(off, buf.len);
      const at = this.poolTake(n);
      if (at >= 0) {
        this.m.bump(L.CNT_GP_POOL_TAKES, n);
        if (!buf.write) this.guestCopy(buf.gpa, (this.poolGfn + at) * PAGE + off, buf.len);
        return grantDmaAddr(this.poolFirstRef + at, off);
      }
      // No run of free pool pages: the buffer is granted as it is (no copy) and the backend
      // maps it for this request only (persistentMaps), blkback's fallback past its pool.
      this.m.bump(L.CNT_GP_POOL_EXHAUSTED);
    }
    const { first, n } = this.grantPages(buf.gpa, buf.len, !buf.write);
    this.m.bump(L.CNT_GM_GRANTS, n);
    this.m.bump(L.CNT_TR_PAGES_EXPOSED_IO, n);
    return grantDmaAddr(first, buf.gpa % PAGE);
  }

  private unexpose(buf: GuestBuf, addr: DmaAddr): void {
    const d = decodeGrantDma(addr)!;
    if (this.mode === "persistent" && this.inPool(d.gref)) {
      const at = d.gref - this.poolFirstRef;
      if (buf.write) this.guestCopy((this.poolGfn + at) * PAGE + d.offset, buf.gpa, buf.len);
      this.poolUsed.fill(0, at, at + pagesSpanned(d.offset, buf.len));
      return;
    }
    const n = pagesSpanned(d.offset, buf.len);
    if (this.revoke(d.gref, n)) this.m.bump(L.CNT_GM_END_ACCESS, n);
  }

  private guestCopy(src: number, dst: number, len: number): void {
    const st = this.m.tryCopy(this.guest, src, this.guest, dst, len);
    if (st < 0) throw new Error(`${this.id}: guest copy of ${len} bytes failed (status ${st})`);
    this.m.bump(L.CNT_TR_COPIES_GUEST);
    this.m.bump(L.CNT_TR_COPY_BYTES_GUEST, len);
  }

  /** Register writes as Linux's virtio-mmio driver makes them over grant DMA: ring addresses
   *  become grant addresses (the ring pages granted when the queue is made ready), features
   *  without ACCESS_PLATFORM are refused before FEATURES_OK. */
  private writeReg(off: number, size: number, value: number): void {
    const ringRegs = [L.VIRTIO_MMIO_QUEUE_DESC_LOW, L.VIRTIO_MMIO_QUEUE_DESC_LOW + 4, L.VIRTIO_MMIO_QUEUE_AVAIL_LOW,
      L.VIRTIO_MMIO_QUEUE_AVAIL_LOW + 4, L.VIRTIO_MMIO_QUEUE_USED_LOW, L.VIRTIO_MMIO_QUEUE_USED_LOW + 4];
    if (ringRegs.includes(off)) {
      this.pendingRing.set(off, value >>> 0);
      return;
    }
    if (off === L.VIRTIO_MMIO_DRIVER_FEATURES_SEL) this.featSel = value;
    if (off === L.VIRTIO_MMIO_DRIVER_FEATURES && this.featSel < 2) this.driverFeatures[this.featSel] = value >>> 0;
    if (off === L.VIRTIO_MMIO_QUEUE_NUM) this.queueNum = value;
    if (off === L.VIRTIO_MMIO_STATUS && (value & L.VIRTIO_CONFIG_S_FEATURES_OK) !== 0 &&
      ((this.driverFeatures[1]! >>> (L.VIRTIO_F_ACCESS_PLATFORM - 32)) & 1) === 0) {
      // virtio_features_ok(): on a restricted-memory-access platform (grant DMA) a device
      // without ACCESS_PLATFORM is refused before FEATURES_OK is ever written.
      throw new DriverError("virtio: device must provide VIRTIO_F_ACCESS_PLATFORM (grant DMA)");
    }
    if (off === L.VIRTIO_MMIO_QUEUE_READY && value === 1) this.grantRing();
    this.access(off, size, "write", value);
    if (off === L.VIRTIO_MMIO_STATUS && value === 0) this.revokeRings();
  }

  private grantRing(): void {
    const packed = ((this.driverFeatures[1]! >>> (L.VIRTIO_F_RING_PACKED - 32)) & 1) === 1;
    const bytes = ringAreaBytes(this.queueNum, packed);
    const lows = [L.VIRTIO_MMIO_QUEUE_DESC_LOW, L.VIRTIO_MMIO_QUEUE_AVAIL_LOW, L.VIRTIO_MMIO_QUEUE_USED_LOW];
    lows.forEach((lo, i) => {
      const gpa = dmaGpa(dmaFromHalves(this.pendingRing.get(lo + 4) ?? 0, this.pendingRing.get(lo) ?? 0));
      const g = this.grantPages(gpa, bytes[i]!, false);
      this.ringGrefs.push(g);
      this.m.bump(L.CNT_GM_RING_GRANTS, g.n);
      const a = grantDmaAddr(g.first, gpa % PAGE);
      this.access(lo, 4, "write", dmaLo(a));
      this.access(lo + 4, 4, "write", dmaHi(a));
    });
    this.pendingRing.clear();
  }

  private revokeRings(): void {
    for (const g of this.ringGrefs) this.revoke(g.first, g.n);
    this.ringGrefs = [];
  }

  /** One guest access to the window: trap, ioreq to the backend, its answer. */
  private access(off: number, size: number, dir: "read" | "write", value: number): number {
    const m = this.m;
    m.bump(L.CNT_TR_REG_TRAPS);
    if (off === L.VIRTIO_MMIO_QUEUE_NOTIFY) m.bump(L.CNT_TR_REG_TRAPS_NOTIFY);
    if (off === L.VIRTIO_MMIO_INTERRUPT_STATUS || off === L.VIRTIO_MMIO_INTERRUPT_ACK) m.bump(L.CNT_TR_REG_TRAPS_ISR);
    let got: bigint | undefined;
    const r = this.env.hv.mmioAccess(this.guest, this.vcpu, this.base + off, size, dir, value, (v) => (got = v));
    if (r.kind === "fault") throw new Error(`${this.id}: guest d${this.guest} took a data abort at 0x${(this.base + off).toString(16)}`);
    if (r.kind === "done") return Number(r.value);
    this.router.dispatch();
    if (got === undefined) throw new Error(`${this.id}: the backend did not answer the access at 0x${(this.base + off).toString(16)}`);
    return Number(got);
  }

  private makeFrontend(): FrontendPort {
    return {
      isrRegisters: true,
      readReg: (off, size) => this.access(off, size, "read", 0),
      writeReg: (off, size, value) => this.writeReg(off, size, value),
      expose: (buf) => this.expose(buf),
      unexpose: (buf, addr) => this.unexpose(buf, addr),
      notify: (q) => this.writeReg(L.VIRTIO_MMIO_QUEUE_NOTIFY, 4, q),
      takeInterrupt: () => this.irq.asserted(),
    };
  }

  service(): number {
    if (this.closed) throw new TransportSetupError(this.id, "service() after close()");
    return this.backend.service();
  }

  exposure(): Exposure {
    return { reachable: this.closed ? 0 : this.granted, mapped: this.mapped, mappedPeak: this.mappedPeak };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unmapRings();
    this.revokeRings();
    if (this.poolHandles.length > 0) {
      this.backendGrants.unmap(this.poolHandles.map((r) => ({ handle: r.handle, hostAddr: r.gfn * PAGE })));
      this.trackMapped(-this.poolHandles.length);
      this.revoke(this.poolFirstRef, this.poolHandles.length);
      this.poolHandles = [];
    }
    this.detach();
    this.emulator.stop();
  }
}
