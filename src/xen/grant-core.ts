// What the grant operations share: the per-domain tables, Xen's bounded update of the shared
// {flags, domid} word, pin bookkeeping with the flag clears that follow it, gfn -> mfn
// resolution in a granter's p2m, and the counters (statuses, gauges).
import type { Hypervisor } from "./hypervisor.ts";
import type { Domain } from "./domain.ts";
import * as L from "../wasm/layout.ts";
import { GrantMemory } from "../wasm/grant.ts";
import { gntWord, gntWordDomid, gntWordFlags } from "./grant-abi.ts";
import { GNTPIN_write_mask, GrantTable, type ActiveEntry } from "./grant-state.ts";

/** Xen gives up updating a shared entry after this many cmpxchg attempts (the guest keeps changing it). */
export const GNT_CMPXCHG_ATTEMPTS = 5;

export interface GrantOptions {
  /** gnttab_max_frames for new domains (default 64). */
  maxFrames?: number;
  /** gnttab_max_maptrack_frames for new domains (default 1024, 256 handles each). */
  maxMaptrackFrames?: number;
  /** XenServer's patch: skip an unmap batch's TLB flush when no unmapped mapping was ever accessed. */
  elideUnaccessedFlush?: boolean;
}

export class GrantCore {
  readonly hv: Hypervisor;
  readonly mem: GrantMemory;
  /** Tables of live domains (tables of destroyed granters live on only through maptracks). */
  readonly tables = new Map<number, GrantTable>();
  elideUnaccessedFlush: boolean;
  private mtTotal = 0;
  private mappedTotal = 0;
  private framesTotal = 0;

  constructor(hv: Hypervisor, opts: GrantOptions) {
    this.hv = hv;
    this.mem = new GrantMemory(hv.machine);
    this.elideUnaccessedFlush = opts.elideUnaccessedFlush ?? false;
  }

  get machine() {
    return this.hv.machine;
  }

  bump(id: number, n = 1): void {
    this.hv.machine.bump(id, n);
  }

  /** Counts an op's outcome: every refusal is counted, in total and by status. */
  outcome(st: number): number {
    if (st !== L.GNTST_OKAY) {
      this.bump(L.CNT_GNT_FAILED);
      this.bump(L.CNT_GNT_ST_BASE - st);
    }
    return st;
  }

  // ---- gauges: absolute values kept here, written as deltas so a counters reset heals ------

  private gauge(id: number, v: number): void {
    const m = this.hv.machine;
    m.bump(id, v - m.counter(id));
  }
  adjustMaptrack(delta: number): void {
    this.mtTotal += delta;
    this.gauge(L.CNT_GNT_MAPTRACK_IN_USE, this.mtTotal);
  }
  adjustMapped(lt: GrantTable, delta: number): void {
    lt.grantMapped += delta;
    this.mappedTotal += delta;
    this.gauge(L.CNT_GNT_PAGES_MAPPED, this.mappedTotal);
  }
  adjustFrames(delta: number): void {
    this.framesTotal += delta;
    this.gauge(L.CNT_GNT_TABLE_FRAMES, this.framesTotal);
  }

  // ---- table frames ------------------------------------------------------------------------

  /** Grows `t` to `n` frames (Xen's gnttab_grow_table); false when the machine is out of frames. */
  grow(t: GrantTable, n: number): boolean {
    while (t.frames.length < n) {
      let mfn: number;
      try {
        mfn = this.hv.machine.allocXenFrame();
      } catch {
        return false;
      }
      t.frames.push(mfn);
      t.frameGfn.push(-1);
      this.adjustFrames(1);
    }
    return true;
  }

  /** Frees the shared frames of a table nobody references any more. */
  freeFrames(t: GrantTable): void {
    const m = this.hv.machine;
    // A Xen frame holds no reference for its mappings: take every one out before freeing, or a
    // reused frame would be reachable through a stale entry.
    for (const a of t.acquired) {
      const ent = m.domainExists(a.domid) ? m.p2mLookup(a.domid, a.gfn) : 0;
      if (ent > 0 && ent >>> L.P2M_MFN_SHIFT === a.mfn) m.p2mUnmap(a.domid, a.gfn);
    }
    t.acquired.length = 0;
    for (const mfn of t.frames) m.freeXenFrame(mfn);
    this.adjustFrames(-t.frames.length);
    t.frames.length = 0;
    t.frameGfn.length = 0;
  }

  // ---- the shared entry ----------------------------------------------------------------------

  /** Xen's _set_status_v1: marks entry `ref` of `rt` in use by `grantee` with a guest-safe
   *  32-bit cmpxchg of {flags, domid}, re-validating on every attempt and giving up after
   *  GNT_CMPXCHG_ATTEMPTS. Type and domid are only checked for the first pin. */
  setStatus(rt: GrantTable, ref: number, act: ActiveEntry, readonly: boolean, forMap: boolean, grantee: number): number {
    const mfn = rt.entryMfn(ref);
    const off = rt.entryOff(ref) + L.GRANT_ENTRY_V1_FLAGS;
    const mask = L.GTF_TYPE_MASK | (forMap ? L.GTF_SUB_PAGE : 0);
    let combo = this.mem.word(mfn, off);
    for (let attempt = 1; ; attempt++) {
      const flags = gntWordFlags(combo);
      const domid = gntWordDomid(combo);
      if (act.pin === 0 && ((flags & mask) !== L.GTF_PERMIT_ACCESS || domid !== grantee)) return L.GNTST_GENERAL_ERROR;
      let want = flags | L.GTF_READING;
      if (!readonly) {
        if (flags & L.GTF_READONLY) return L.GNTST_GENERAL_ERROR;
        want |= L.GTF_WRITING;
      }
      this.bump(L.CNT_GNT_CMPXCHG);
      if (attempt > 1) this.bump(L.CNT_GNT_CMPXCHG_RETRIES);
      const prev = this.hv.atomics.cmpxchg(rt.domid, mfn, off, 4, combo, gntWord(want, domid));
      if (prev === combo) return L.GNTST_OKAY;
      if (attempt === GNT_CMPXCHG_ATTEMPTS) {
        this.bump(L.CNT_GNT_UNSTABLE);
        return L.GNTST_GENERAL_ERROR;
      }
      combo = prev;
    }
  }

  /** Xen's gnttab_clear_flags: an atomic clear of bits in the entry's 16-bit flags. */
  clearFlags(rt: GrantTable, ref: number, bits: number): void {
    this.bump(L.CNT_GNT_FLAG_CLEARS);
    this.hv.atomics.fetchOp(rt.domid, rt.entryMfn(ref), rt.entryOff(ref) + L.GRANT_ENTRY_V1_FLAGS, 2, "and", ~bits & 0xffff);
  }

  /** After a pin change on `act` by a `readonly` user: clear GTF_writing when no writable pin
   *  is left (only a writable user can have set it) and GTF_reading when no pin is left. */
  settleFlags(rt: GrantTable, ref: number, act: ActiveEntry, readonly: boolean): void {
    let bits = 0;
    if (!readonly && (act.pin & GNTPIN_write_mask) === 0) bits |= L.GTF_WRITING;
    if (act.pin === 0) bits |= L.GTF_READING;
    if (bits) this.clearFlags(rt, ref, bits);
  }

  /** Forgets an active entry a failed first pin left behind. */
  forgetIfIdle(rt: GrantTable, ref: number, act: ActiveEntry): void {
    if (act.pin === 0) rt.active.delete(ref);
  }

  pinAdd(rt: GrantTable, act: ActiveEntry, inc: number): void {
    if (act.pin === 0) rt.pinned++;
    act.pin += inc;
  }

  /** Drops a pin and clears flags as Xen does on release; frees a dead table's frames when
   *  its last pin goes. */
  pinDrop(rt: GrantTable, ref: number, act: ActiveEntry, inc: number, readonly: boolean): void {
    act.pin -= inc;
    this.settleFlags(rt, ref, act, readonly);
    if (act.pin === 0) {
      rt.pinned--;
      rt.active.delete(ref);
      if (rt.dead && rt.pinned === 0) this.freeFrames(rt);
    }
  }

  /** The granter's frame field of entry `ref` (a gfn). */
  entryFrame(rt: GrantTable, ref: number): number {
    return this.mem.word(rt.entryMfn(ref), rt.entryOff(ref) + L.GRANT_ENTRY_V1_FRAME);
  }

  /** Xen's get_paged_frame: the mfn of `gfn` in `d`'s p2m, which must be the domain's own
   *  RAM (populated on demand); anything else is GNTST_bad_page. */
  resolveRam(d: Domain, gfn: number): number {
    if (!Number.isInteger(gfn) || gfn < 0 || gfn >= L.P2M_MAX_GFNS) return L.GNTST_BAD_PAGE;
    const m = this.hv.machine;
    const ent = m.p2mLookup(d.domid, gfn);
    if (ent < 0) return L.GNTST_BAD_PAGE;
    if (ent === 0) {
      if (gfn >= d.ramPages) return L.GNTST_BAD_PAGE;
      try {
        return m.populate(d.domid, gfn);
      } catch {
        return L.GNTST_BAD_PAGE;
      }
    }
    if ((ent & L.P2M_TYPE_MASK) !== L.P2M_RAM) return L.GNTST_BAD_PAGE;
    return ent >>> L.P2M_MFN_SHIFT;
  }
}
