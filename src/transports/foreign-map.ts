// How a Xen device model reaches guest memory with foreign mappings (xenforeignmemory_map):
// ring pages are mapped once when a queue becomes ready; buffer pages are mapped per request
// (one batch call, one remove_from_physmap per page afterwards) or, for small segments in
// "cache" mode, kept in an LRU map cache as virtio-disk does for request headers and status
// bytes. All mappings go in a window of gfns above the backend's RAM. In "all-ram" mode the
// device model maps the guest's whole RAM once at set-up instead (as a vhost-user style
// backend maps the guest's memory regions), at consecutive gfns of its own: rings and buffers
// are then reached by translation, with no map or unmap per request.
import { dmaGpa } from "../virtio/dma-addr.ts";
import * as L from "../wasm/layout.ts";
import type { Machine } from "../wasm/machine.ts";
import { FOREIGN_MAP_BATCH, type Privcmd } from "../xen/privcmd.ts";
import { errnoName } from "../xen/errno.ts";
import type { Chain } from "../devices/types.ts";
import { gpaRing, ringAreaBytes, type RingAddrs } from "../virtio/rings.ts";
import { GuestPages } from "../virtio/guest-pages.ts";
import type { Reach } from "./chain-io.ts";

export type ForeignMapMode = "per-request" | "cache" | "all-ram";

export interface ForeignMapPolicy {
  /** "per-request" maps every buffer page for the request; "cache" keeps pages of segments of
   *  at most `smallMax` bytes mapped (LRU, `cachePages`), the rest per request; "all-ram" maps
   *  every RAM page of the guest once (mapAllRam) and never maps per request. */
  mode: ForeignMapMode;
  smallMax?: number;
  cachePages?: number;
}

const MAP_BATCH = FOREIGN_MAP_BATCH; // entries per xenforeignmemory_map call (one scratch page of arguments)

export class ForeignBufferMap {
  readonly machine: Machine;
  readonly privcmd: Privcmd;
  readonly guest: number;
  readonly backend: number;
  readonly policy: Required<ForeignMapPolicy>;
  private readonly window: GuestPages;
  /** Cached guest gfn -> backend gfn, in LRU order (oldest first). */
  private readonly cache = new Map<number, number>();
  private ringSlots: { gfn: number; n: number }[] = [];
  /** all-ram: the backend gfn guest gfn 0 is mapped at (-1: not mapped), and how many pages. */
  private allBase = -1;
  private allPages = 0;
  mapped = 0;
  mappedPeak = 0;

  constructor(privcmd: Privcmd, guest: number, windowGfn: number, windowPages: number, policy: ForeignMapPolicy) {
    this.privcmd = privcmd;
    this.machine = privcmd.hv.machine;
    this.guest = guest;
    this.backend = privcmd.domid;
    this.window = new GuestPages(privcmd.domid, windowGfn, windowPages);
    this.policy = { mode: policy.mode, smallMax: policy.smallMax ?? 0x30, cachePages: policy.cachePages ?? 64 };
  }

  private gauge(delta: number): void {
    this.mapped += delta;
    this.mappedPeak = Math.max(this.mappedPeak, this.mapped);
    this.machine.bump(L.CNT_TR_EXPOSED_MAPPED, delta);
  }

  /** Maps guest gfns at backend gfns; returns per-entry errors (0 = mapped). */
  private map(gfns: number[], at: number[]): number[] {
    const { errs } = this.privcmd.mapForeignBatched(this.guest, gfns, at);
    this.gauge(errs.filter((e) => e === 0).length);
    return errs;
  }

  private unmap(bgfn: number): void {
    this.privcmd.unmapGfn(bgfn);
    this.window.release(bgfn);
    this.gauge(-1);
  }

  // ---- all RAM ---------------------------------------------------------------------------

  /** Maps guest gfns [0, pages) at backend gfns [baseGfn, baseGfn + pages) in batches of
   *  MAP_BATCH; 0, or the first error (everything mapped so far is unmapped again). Every RAM
   *  gfn of a Xen guest is populated when it is built; the model populates on first use, and
   *  a foreign map of a gfn not used yet populates it, so this gives the guest all its frames. */
  mapAllRam(baseGfn: number, pages: number): number {
    const gfns = Array.from({ length: pages }, (_, i) => i);
    const errs = this.map(gfns, gfns.map((g) => baseGfn + g));
    this.machine.bump(L.CNT_MF_MAP_CALLS, Math.ceil(pages / MAP_BATCH));
    this.machine.bump(L.CNT_MF_PAGES_MAPPED, errs.filter((e) => e === 0).length);
    this.allBase = baseGfn;
    this.allPages = pages;
    const bad = errs.find((e) => e !== 0);
    if (bad === undefined) return 0;
    errs.forEach((e, i) => {
      if (e !== 0) return;
      this.privcmd.unmapGfn(baseGfn + i);
      this.gauge(-1);
    });
    this.allBase = -1;
    return bad;
  }

  /** Unmaps the whole-RAM mapping (close). */
  unmapAllRam(): void {
    if (this.allBase < 0) return;
    for (let i = 0; i < this.allPages; i++) this.privcmd.unmapGfn(this.allBase + i);
    this.machine.bump(L.CNT_MF_PAGES_UNMAPPED, this.allPages);
    this.gauge(-this.allPages);
    this.allBase = -1;
  }

  /** all-ram: where `len` bytes at guest `gpa` are in the backend (RAM is contiguous there). */
  private reachAll(gpa: number, len: number): { domid: number; gpa: number; len: number } | string {
    if (gpa >= this.allPages * L.PAGE_SIZE) return `guest gfn ${Math.floor(gpa / L.PAGE_SIZE)} is not RAM`;
    return { domid: this.backend, gpa: this.allBase * L.PAGE_SIZE + gpa, len: Math.min(len, this.allPages * L.PAGE_SIZE - gpa) };
  }

  // ---- rings ---------------------------------------------------------------------------

  /** Maps the three ring areas (each area's pages contiguous in the backend's space); the
   *  ring as the backend sees it, or VQ_E3 when a page could not be mapped (or the size is
   *  absurd: the device refuses it as E1 without mapping anything). */
  mapRing(dmaRing: RingAddrs, packed: boolean): RingAddrs | number {
    const ring = gpaRing(dmaRing);
    const bytes = ringAreaBytes(ring.size, packed);
    if (this.allBase >= 0) {
      const at = [ring.desc, ring.driver, ring.device].map((a, i) => this.reachAll(a, bytes[i]!));
      if (at.some((r, i) => typeof r === "string" || r.len < bytes[i]!)) return L.VQ_E3_RING_OUTSIDE_RAM;
      const [desc, driver, device] = at.map((r) => (r as { gpa: number }).gpa) as [number, number, number];
      return { size: ring.size, desc, driver, device };
    }
    const areas = [[ring.desc, bytes[0]], [ring.driver, bytes[1]], [ring.device, bytes[2]]] as const;
    const mine: { gfn: number; n: number }[] = [];
    const placed: number[] = [];
    const gfns: number[] = [];
    const at: number[] = [];
    for (const [addr, len] of areas) {
      const first = Math.floor(addr / L.PAGE_SIZE);
      const n = Math.floor((addr + len - 1) / L.PAGE_SIZE) - first + 1;
      const slot = this.window.tryAlloc(n);
      if (slot < 0) {
        this.releaseSlots(mine); // nothing of this ring is mapped yet: only the slots go back
        return L.VQ_E3_RING_OUTSIDE_RAM;
      }
      mine.push({ gfn: slot, n });
      for (let k = 0; k < n; k++) {
        gfns.push(first + k);
        at.push(slot + k);
      }
      placed.push(slot * L.PAGE_SIZE + (addr % L.PAGE_SIZE));
    }
    const errs = this.map(gfns, at);
    this.machine.bump(L.CNT_MF_RING_PAGES_MAPPED, errs.filter((e) => e === 0).length);
    if (errs.some((e) => e !== 0)) {
      this.releaseSlots(mine);
      return L.VQ_E3_RING_OUTSIDE_RAM;
    }
    this.ringSlots.push(...mine);
    return { size: ring.size, desc: placed[0]!, driver: placed[1]!, device: placed[2]! };
  }

  /** Unmaps every ring (device reset, close). */
  releaseRings(): void {
    this.releaseSlots(this.ringSlots);
    this.ringSlots = [];
  }

  private releaseSlots(slots: { gfn: number; n: number }[]): void {
    for (const s of slots) {
      for (let k = 0; k < s.n; k++) {
        if (this.machine.p2mLookup(this.backend, s.gfn + k) > 0) {
          this.privcmd.unmapGfn(s.gfn + k);
          this.gauge(-1);
        }
      }
      this.window.release(s.gfn, s.n);
    }
  }

  // ---- buffers -------------------------------------------------------------------------

  /** Maps what the chain needs; `reach` finds its bytes, `close` unmaps the per-request pages. */
  openChain(chain: Chain): { reach: Reach; close: () => void } {
    if (this.allBase >= 0) return { reach: (dma, len) => this.reachAll(dmaGpa(dma), len), close: () => {} };
    const where = new Map<number, number>(); // guest gfn -> backend gfn
    const failed = new Map<number, string>(); // guest gfn -> why it is not mapped
    const perRequest: number[] = [];
    const toMap: number[] = [];
    const toCache = new Set<number>();
    const m = this.machine;
    for (const seg of chain.segs) {
      if (seg.len === 0) continue;
      const cached = this.policy.mode === "cache" && seg.len <= this.policy.smallMax;
      const gpa = dmaGpa(seg.addr);
      const first = Math.floor(gpa / L.PAGE_SIZE);
      const last = Math.floor((gpa + seg.len - 1) / L.PAGE_SIZE);
      for (let g = first; g <= last; g++) {
        if (where.has(g)) continue;
        const hit = this.cache.get(g);
        if (hit !== undefined) {
          m.bump(L.CNT_MF_CACHE_HITS);
          this.cache.delete(g);
          this.cache.set(g, hit); // most recently used
          where.set(g, hit);
          continue;
        }
        if (cached) {
          m.bump(L.CNT_MF_CACHE_MISSES);
          toCache.add(g);
        }
        toMap.push(g);
        where.set(g, -1);
      }
    }
    const want: number[] = [];
    const at: number[] = [];
    let reserved = 0;
    for (const g of toMap) {
      if (toCache.has(g)) {
        if (this.makeCacheRoom(where, reserved)) reserved++;
        else toCache.delete(g); // every cached page is in use by this chain: map it per request
      }
      const slot = this.window.tryAlloc(1);
      if (slot < 0) {
        // A chain larger than the free window cannot be mapped whole: these pages fail.
        where.delete(g);
        toCache.delete(g);
        failed.set(g, `no free gfn in the backend's ${this.window.count}-page map window`);
        continue;
      }
      want.push(g);
      at.push(slot);
    }
    if (want.length > 0) {
      const errs = this.map(want, at);
      const ok = errs.filter((e) => e === 0).length;
      m.bump(L.CNT_MF_MAP_CALLS, Math.ceil(want.length / MAP_BATCH));
      m.bump(L.CNT_MF_PAGES_MAPPED, ok);
      m.bump(L.CNT_TR_PAGES_EXPOSED_IO, ok);
      want.forEach((g, i) => {
        if (errs[i] !== 0) {
          this.window.release(at[i]!);
          where.delete(g);
          failed.set(g, `foreign map refused: ${errnoName(errs[i]!)}`);
        } else {
          where.set(g, at[i]!);
          if (toCache.has(g)) this.cache.set(g, at[i]!);
          else perRequest.push(at[i]!);
        }
      });
    }
    const reach: Reach = (dma, len) => {
      const addr = dmaGpa(dma);
      const g = Math.floor(addr / L.PAGE_SIZE);
      const b = where.get(g);
      if (b === undefined) return `guest gfn ${g} is not mapped (${failed.get(g) ?? "not part of the chain"})`;
      const off = addr % L.PAGE_SIZE;
      return { domid: this.backend, gpa: b * L.PAGE_SIZE + off, len: Math.min(len, L.PAGE_SIZE - off) };
    };
    const close = () => {
      for (const b of perRequest) this.unmap(b);
      m.bump(L.CNT_MF_PAGES_UNMAPPED, perRequest.length);
      perRequest.length = 0;
    };
    return { reach, close };
  }

  /** Evicts least recently used pages the current chain does not use until one more fits
   *  beside the `reserved` ones this chain is adding; false when none can go. */
  private makeCacheRoom(inUse: Map<number, number>, reserved: number): boolean {
    while (this.cache.size + reserved >= this.policy.cachePages) {
      let victim: [number, number] | undefined;
      for (const e of this.cache) if (!inUse.has(e[0])) { victim = e; break; }
      if (!victim) return false;
      this.cache.delete(victim[0]);
      this.unmap(victim[1]);
      this.machine.bump(L.CNT_MF_CACHE_EVICTIONS);
      this.machine.bump(L.CNT_MF_PAGES_UNMAPPED);
    }
    return true;
  }

  /** Unmaps every cached page (device reset, close). */
  dropCache(): void {
    for (const b of this.cache.values()) {
      this.unmap(b);
      this.machine.bump(L.CNT_MF_PAGES_UNMAPPED);
    }
    this.cache.clear();
  }

  get cachedPages(): number {
    return this.cache.size;
  }
}
