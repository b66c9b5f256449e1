// GNTTABOP_copy. Xen's gnttab_copy keeps a claimed source and destination buffer across
// consecutive ops that name the same (domain, ref or gmfn), releasing a buffer when the next
// op names a different one, when an op fails, and at the end. The model replays exactly that
// claim/release sequence (pins, flag updates, XSM checks, statuses) op by op, queueing each
// accepted op's data movement; the whole batch's bytes then move in one kernel call before
// the hypercall returns. Nothing can run between the two, so the guest-visible result is
// Xen's, except when a copy targets the caller's own argument array (the model writes the
// statuses back after the data).
import type { Domain } from "./domain.ts";
import * as L from "../wasm/layout.ts";
import { GrantCopyBatch } from "../wasm/grant.ts";
import type { GuestArgs } from "./grant-args.ts";
import type { GrantCore } from "./grant-core.ts";
import { GNTPIN_hstr_inc, GNTPIN_hstw_inc, GNTPIN_overflow_mask, GNTPIN_write_mask, type GrantTable } from "./grant-state.ts";
import { EFAULT } from "./errno.ts";

/** A status not known until the batch's data has moved. */
const PENDING = 1;

/** One side of a copy as Xen holds it between ops (struct gnttab_copy_buf). */
interface CopyBuf {
  /** The locked domain, the domid the op named (may be DOMID_SELF), and whether the side was
   *  named by grant when the domain was locked. */
  domain: Domain | undefined;
  namedDomid: number;
  namedGref: boolean;
  claimed: boolean;
  haveGrant: boolean;
  table: GrantTable | undefined;
  ref: number;
  gmfn: number;
  readonly: boolean;
  mfn: number;
}

interface CopySide {
  domid: number;
  isGref: boolean;
  /** ref (gref side) or gmfn. */
  id: number;
  offset: number;
}

const newBuf = (readonly: boolean): CopyBuf => ({
  domain: undefined, namedDomid: -1, namedGref: false, claimed: false, haveGrant: false, table: undefined, ref: 0, gmfn: 0, readonly, mfn: 0,
});

export class CopyRun {
  private readonly core: GrantCore;
  private readonly caller: Domain;
  private readonly src = newBuf(true);
  private readonly dst = newBuf(false);
  private readonly batch: GrantCopyBatch;

  constructor(core: GrantCore, caller: Domain, batch: GrantCopyBatch) {
    this.core = core;
    this.caller = caller;
    this.batch = batch;
  }

  // ---- acquire_grant_for_copy / release_grant_for_copy --------------------------------------

  private acquire(rd: Domain, rt: GrantTable, ref: number, readonly: boolean): number {
    const core = this.core;
    if (ref >= rt.nrEntries) return L.GNTST_BAD_GNTREF;
    const act = rt.activeEntry(ref);
    const me = this.caller.domid;
    if (act.pin !== 0 && (act.domid !== me || (act.pin & GNTPIN_overflow_mask) !== 0)) return L.GNTST_GENERAL_ERROR;
    if (act.pin === 0 || (!readonly && (act.pin & GNTPIN_write_mask) === 0)) {
      const st = core.setStatus(rt, ref, act, readonly, false, me);
      if (st !== L.GNTST_OKAY) {
        core.forgetIfIdle(rt, ref, act);
        return st;
      }
      const mfn = core.resolveRam(rd, core.entryFrame(rt, ref));
      if (mfn < 0) {
        core.settleFlags(rt, ref, act, readonly);
        core.forgetIfIdle(rt, ref, act);
        return mfn;
      }
      if (act.pin === 0) {
        act.domid = me;
        act.mfn = mfn;
      }
    }
    core.pinAdd(rt, act, readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc);
    return L.GNTST_OKAY;
  }

  private release(b: CopyBuf): void {
    if (b.haveGrant) {
      const rt = b.table!;
      const act = rt.active.get(b.ref)!;
      this.core.pinDrop(rt, b.ref, act, b.readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc, b.readonly);
      b.haveGrant = false;
      b.table = undefined;
    }
    b.claimed = false;
  }

  private unlock(): void {
    this.src.domain = undefined;
    this.dst.domain = undefined;
  }

  // ---- gnttab_copy_lock_domain(s) -----------------------------------------------------------

  private lockDomain(b: CopyBuf, s: CopySide): number {
    // Only the caller's own memory may be named by frame.
    if (s.domid !== L.DOMID_SELF && !s.isGref) return L.GNTST_PERMISSION_DENIED;
    const d = s.domid === L.DOMID_SELF ? this.caller : this.core.hv.live(s.domid);
    if (!d || !this.core.tables.has(d.domid)) return L.GNTST_BAD_DOMAIN;
    b.domain = d;
    b.namedDomid = s.domid;
    b.namedGref = s.isGref;
    return L.GNTST_OKAY;
  }

  private lockDomains(src: CopySide, dst: CopySide): number {
    let st = this.lockDomain(this.src, src);
    if (st === L.GNTST_OKAY) st = this.lockDomain(this.dst, dst);
    if (st === L.GNTST_OKAY && !this.core.hv.xsmCheck("grant_copy", this.src.domain!, this.dst.domain!, this.caller)) {
      st = L.GNTST_PERMISSION_DENIED;
    }
    if (st !== L.GNTST_OKAY) this.unlock();
    return st;
  }

  // ---- gnttab_copy_claim_buf ----------------------------------------------------------------

  private claim(b: CopyBuf, s: CopySide): number {
    const d = b.domain!;
    if (s.isGref) {
      const rt = this.core.tables.get(d.domid)!;
      const st = this.acquire(d, rt, s.id, b.readonly);
      if (st !== L.GNTST_OKAY) return st;
      b.haveGrant = true;
      b.table = rt;
      b.ref = s.id;
      b.mfn = rt.active.get(s.id)!.mfn;
    } else {
      const mfn = this.core.resolveRam(d, s.id);
      if (mfn < 0) return mfn;
      b.gmfn = s.id;
      b.mfn = mfn;
    }
    b.claimed = true;
    return L.GNTST_OKAY;
  }

  private holds(b: CopyBuf, s: CopySide): boolean {
    if (!b.claimed) return false;
    return s.isGref ? b.haveGrant && b.ref === s.id : !b.haveGrant && b.gmfn === s.id;
  }

  private relock(b: CopyBuf, s: CopySide): boolean {
    return !b.domain || s.domid !== b.namedDomid || s.isGref !== b.namedGref;
  }

  /** gnttab_copy_one: GNTST_* for a refused op, PENDING for one queued for the kernel.
   *  Deliberate difference: Xen (as read) re-locks the domains only when a domid changes, so
   *  an op naming a frame of a domain locked for a grant op of the previous op would skip the
   *  "only DOMID_SELF by frame" check; the model also re-locks when a side switches between
   *  grant and frame addressing, so that check (and XSM) always applies. */
  private one(src: CopySide, dst: CopySide, len: number): number {
    if (this.relock(this.src, src) || this.relock(this.dst, dst)) {
      this.release(this.src);
      this.release(this.dst);
      this.unlock();
      const st = this.lockDomains(src, dst);
      if (st !== L.GNTST_OKAY) return st;
    }
    if (!this.holds(this.src, src)) {
      this.release(this.src);
      const st = this.claim(this.src, src);
      if (st !== L.GNTST_OKAY) return st;
    }
    if (!this.holds(this.dst, dst)) {
      this.release(this.dst);
      const st = this.claim(this.dst, dst);
      if (st !== L.GNTST_OKAY) return st;
    }
    if (src.offset + len > L.PAGE_SIZE || dst.offset + len > L.PAGE_SIZE) return L.GNTST_BAD_COPY_ARG;
    this.batch.add(this.src.domain!.domid, this.src.mfn, src.offset, this.dst.domain!.domid, this.dst.mfn, dst.offset, len);
    return PENDING;
  }

  /** The batched copy hypercall body: returns 0 or -EFAULT. */
  run(args: GuestArgs, count: number): number {
    const core = this.core;
    const queued: number[] = []; // op index of each kernel record
    this.batch.clear();
    let rc = 0;
    let i = 0;
    for (; i < count; i++) {
      if (!args.load(i)) {
        rc = -EFAULT;
        break;
      }
      core.bump(L.CNT_GNT_OP_COPY);
      const flags = args.u16(i, L.GNTTAB_COPY_FLAGS);
      const srcGref = (flags & L.GNTCOPY_SOURCE_GREF) !== 0;
      const dstGref = (flags & L.GNTCOPY_DEST_GREF) !== 0;
      const src: CopySide = {
        domid: args.u16(i, L.GNTTAB_COPY_SOURCE_DOMID), isGref: srcGref, offset: args.u16(i, L.GNTTAB_COPY_SOURCE_OFFSET),
        id: srcGref ? args.u32(i, L.GNTTAB_COPY_SOURCE_GMFN) : args.u64(i, L.GNTTAB_COPY_SOURCE_GMFN),
      };
      const dst: CopySide = {
        domid: args.u16(i, L.GNTTAB_COPY_DEST_DOMID), isGref: dstGref, offset: args.u16(i, L.GNTTAB_COPY_DEST_OFFSET),
        id: dstGref ? args.u32(i, L.GNTTAB_COPY_DEST_GMFN) : args.u64(i, L.GNTTAB_COPY_DEST_GMFN),
      };
      const st = this.one(src, dst, args.u16(i, L.GNTTAB_COPY_LEN));
      if (st === PENDING) {
        queued.push(i);
        args.setI16(i, L.GNTTAB_COPY_STATUS, L.GNTST_OKAY);
      } else {
        this.release(this.src);
        this.release(this.dst);
        core.outcome(st);
        args.setI16(i, L.GNTTAB_COPY_STATUS, st);
      }
      if (!args.store(i)) {
        rc = -EFAULT;
        break;
      }
    }
    this.release(this.src);
    this.release(this.dst);
    this.unlock();
    // Move the data of every accepted op; the kernel re-checks each frame and range.
    const kernel = this.batch.run();
    for (let k = 0; k < queued.length; k++) {
      const op = queued[k]!;
      if (kernel[k] === L.MST_OK) {
        core.outcome(L.GNTST_OKAY);
        continue;
      }
      core.outcome(L.GNTST_GENERAL_ERROR);
      if (args.load(op)) {
        args.setI16(op, L.GNTTAB_COPY_STATUS, L.GNTST_GENERAL_ERROR);
        args.store(op);
      }
    }
    return rc;
  }
}
