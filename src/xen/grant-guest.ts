// The guest side of grant tables, as a Linux guest's drivers/xen/grant-table.c does it on an
// auto-translated (HVM/PVH/Arm) guest: place the table frames in its p2m, fill and revoke
// entries through its own mapping of them, and issue map/unmap/copy batches with the
// argument structs in its own memory. Everything goes through the guest's p2m and rights;
// the read-modify-writes on flags go through the hypervisor's guest atomics.
import type { GrantTables } from "./grant-table.ts";
import { XenConfigError } from "./hypervisor.ts";
import * as L from "../wasm/layout.ts";
import { GrantMemory } from "../wasm/grant.ts";
import {
  ATP_DOMID, ATP_GPFN, ATP_IDX, ATP_SIZE, ATP_SPACE, COPY_DST_DOMID, COPY_DST_GMFN, COPY_DST_OFFSET,
  COPY_FLAGS, COPY_LEN, COPY_SIZE, COPY_SRC_DOMID, COPY_SRC_GMFN, COPY_SRC_OFFSET, COPY_STATUS,
  GNT_ENTRIES_PER_FRAME, GNT_ENTRY_SIZE, GNTCOPY_dest_gref, GNTCOPY_source_gref, GNTMAP_host_map,
  GNTMAP_readonly, GNTTAB_NR_RESERVED_ENTRIES, GNTTABOP_copy, GNTTABOP_map_grant_ref, GNTTABOP_query_size,
  GNTTABOP_unmap_grant_ref, GTF_permit_access, GTF_readonly, GTF_reading, GTF_writing, MAP_DEV_BUS_ADDR,
  MAP_DOM, MAP_FLAGS, MAP_HANDLE, MAP_HOST_ADDR, MAP_REF, MAP_SIZE, MAP_STATUS, QUERY_DOM,
  QUERY_MAX_NR_FRAMES, QUERY_NR_FRAMES, QUERY_SIZE, QUERY_STATUS, UNMAP_DEV_BUS_ADDR, UNMAP_HANDLE,
  UNMAP_HOST_ADDR, UNMAP_SIZE, UNMAP_STATUS, XENMAPSPACE_grant_table,
} from "./grant-abi.ts";

/** A guest gives up a flags update after this many lost races (a test harness livelocking it). */
const GUEST_CMPXCHG_LIMIT = 1 << 16;

export interface GuestGrantsOptions {
  /** Where the guest places table frame i: gfn baseGfn + i (a hole above its RAM). */
  baseGfn: number;
  /** Guest-physical address of RAM the guest uses for hypercall arguments. */
  scratchGpa: number;
  /** Size of that area in bytes (default one page). */
  scratchBytes?: number;
}

export interface MapOp {
  /** Granting domain and its grant reference. */
  dom: number;
  ref: number;
  /** Where to map, in the caller's guest-physical space. */
  hostAddr: number;
  readonly?: boolean;
  /** Raw GNTMAP_* flags instead of host_map (+readonly): for hostile callers. */
  flags?: number;
}
export interface MapOutcome {
  status: number;
  handle: number;
  devBusAddr: number;
}
export interface UnmapOp {
  handle: number;
  hostAddr: number;
  devBusAddr?: number;
}
/** One side of a copy: a grant (`ref` of `domid`) or a frame of the caller (`gmfn`). */
export type CopyEnd = { domid: number; ref: number; offset: number } | { domid?: number; gmfn: number; offset: number };
export interface CopyOp {
  source: CopyEnd;
  dest: CopyEnd;
  len: number;
}

export class GuestGrants {
  readonly domid: number;
  readonly baseGfn: number;
  private readonly gt: GrantTables;
  private readonly mem: GrantMemory;
  private readonly scratchGpa: number;
  private readonly scratchBytes: number;
  private placed = 0;
  private inUse = new Uint8Array(0);

  constructor(gt: GrantTables, domid: number, opts: GuestGrantsOptions) {
    this.gt = gt;
    this.domid = domid;
    this.mem = new GrantMemory(gt.hv.machine);
    this.baseGfn = opts.baseGfn;
    this.scratchGpa = opts.scratchGpa;
    this.scratchBytes = opts.scratchBytes ?? L.PAGE_SIZE;
  }

  private get machine() {
    return this.gt.hv.machine;
  }

  /** Entries the guest can currently reach. */
  get nrEntries(): number {
    return this.placed * GNT_ENTRIES_PER_FRAME;
  }

  // ---- table setup -----------------------------------------------------------------------------

  /** GNTTABOP_query_size for `dom` (default: itself). */
  querySize(dom = L.DOMID_SELF): { rc: number; status: number; nrFrames: number; maxFrames: number } {
    const a = new DataView(new ArrayBuffer(QUERY_SIZE));
    a.setUint16(QUERY_DOM, dom, true);
    const rc = this.call(GNTTABOP_query_size, a, 1);
    return { rc, status: a.getInt16(QUERY_STATUS, true), nrFrames: a.getUint32(QUERY_NR_FRAMES, true), maxFrames: a.getUint32(QUERY_MAX_NR_FRAMES, true) };
  }

  /** Places table frames [placed, nrFrames) at baseGfn + i with XENMEM_add_to_physmap
   *  (Linux's gnttab_map on an auto-translated guest). Returns 0 or the first -errno. */
  setup(nrFrames: number): number {
    while (this.placed < nrFrames) {
      const a = new DataView(new ArrayBuffer(ATP_SIZE));
      a.setUint16(ATP_DOMID, L.DOMID_SELF, true);
      a.setUint32(ATP_SPACE, XENMAPSPACE_grant_table, true);
      a.setBigUint64(ATP_IDX, BigInt(this.placed), true);
      a.setBigUint64(ATP_GPFN, BigInt(this.baseGfn + this.placed), true);
      this.machine.write(this.domid, this.scratchGpa, new Uint8Array(a.buffer));
      const rc = this.gt.addToPhysmap(this.domid, this.scratchGpa);
      if (rc !== 0) return rc;
      this.placed++;
    }
    if (this.inUse.length < this.nrEntries) {
      const bigger = new Uint8Array(this.nrEntries);
      bigger.set(this.inUse);
      bigger.fill(1, 0, GNTTAB_NR_RESERVED_ENTRIES);
      this.inUse = bigger;
    }
    return 0;
  }

  /** Guest-physical address of entry `ref` in the guest's own mapping of its table. */
  entryGpa(ref: number): number {
    if (!Number.isInteger(ref) || ref < 0 || ref >= this.nrEntries) {
      throw new XenConfigError(`d${this.domid}: grant ref ${ref} is outside the ${this.nrEntries} entries it has mapped`);
    }
    return (this.baseGfn + Math.floor(ref / GNT_ENTRIES_PER_FRAME)) * L.PAGE_SIZE + (ref % GNT_ENTRIES_PER_FRAME) * GNT_ENTRY_SIZE;
  }

  private entryMfn(ref: number): [number, number] {
    const gpa = this.entryGpa(ref);
    const mfn = this.mem.guestMfn(this.domid, Math.floor(gpa / L.PAGE_SIZE), true);
    if (mfn < 0) throw new XenConfigError(`d${this.domid}: cannot reach its grant entry ${ref} (status ${mfn})`);
    return [mfn, gpa % L.PAGE_SIZE];
  }

  // ---- reference allocation (gnttab_alloc_grant_reference_seq) --------------------------------

  /** `n` consecutive free refs (first-fit above the reserved ones); -1 when there is no run. */
  allocRefs(n: number): number {
    let run = 0;
    for (let r = GNTTAB_NR_RESERVED_ENTRIES; r < this.inUse.length; r++) {
      run = this.inUse[r] ? 0 : run + 1;
      if (run === n) {
        this.inUse.fill(1, r - n + 1, r + 1);
        return r - n + 1;
      }
    }
    return -1;
  }

  freeRefs(first: number, n = 1): void {
    this.inUse.fill(0, Math.max(first, GNTTAB_NR_RESERVED_ENTRIES), first + n);
  }

  // ---- entries ---------------------------------------------------------------------------------

  /** gnttab_grant_foreign_access_ref: domid, frame, then flags (the publishing store). */
  grantAccess(ref: number, grantee: number, gfn: number, readonly = false): void {
    const st = this.mem.guestWriteEntry(this.domid, this.entryGpa(ref), grantee, gfn, GTF_permit_access | (readonly ? GTF_readonly : 0));
    if (st !== L.MST_OK) throw new XenConfigError(`d${this.domid}: cannot write its grant entry ${ref} (status ${st})`);
    this.machine.bump(L.CNT_GNT_GUEST_GRANTS);
  }

  /** The entry's flags as the guest reads them. */
  flags(ref: number): number {
    const st = this.mem.guestRead16(this.domid, this.entryGpa(ref));
    if (st < 0) throw new XenConfigError(`d${this.domid}: cannot read its grant entry ${ref} (status ${st})`);
    return st;
  }

  /** gnttab_end_foreign_access_ref (v1): a 16-bit cmpxchg of flags to 0, refused (false,
   *  "busy") while the grantee holds the entry (GTF_reading or GTF_writing). */
  endAccess(ref: number): boolean {
    return this.updateFlags(ref, (f) => ((f & (GTF_reading | GTF_writing)) ? undefined : 0), true);
  }

  /** Downgrades a grant to read-only: sets GTF_readonly unless the grantee holds it writable. */
  makeReadOnly(ref: number): boolean {
    return this.updateFlags(ref, (f) => ((f & GTF_writing) ? undefined : f | GTF_readonly), false);
  }

  private updateFlags(ref: number, next: (flags: number) => number | undefined, counted: boolean): boolean {
    const [mfn, off] = this.entryMfn(ref);
    const m = this.machine;
    let flags = this.mem.half(mfn, off);
    for (let i = 0; i < GUEST_CMPXCHG_LIMIT; i++) {
      const want = next(flags);
      if (want === undefined) {
        if (counted) m.bump(L.CNT_GNT_GUEST_END_BUSY);
        return false;
      }
      m.bump(L.CNT_GNT_GUEST_CMPXCHG);
      const prev = this.gt.hv.atomics.cmpxchg(this.domid, mfn, off, 2, flags, want);
      if (prev === flags) {
        if (counted) m.bump(L.CNT_GNT_GUEST_END_OK);
        return true;
      }
      flags = prev;
    }
    throw new XenConfigError(`d${this.domid}: grant entry ${ref} changed under every cmpxchg (livelocked harness?)`);
  }

  // ---- grant operations as a grantee / backend -------------------------------------------------

  /** Writes the structs to the scratch area, makes the hypercall, reads them back. */
  private call(cmd: number, args: DataView, count: number): number {
    if (args.byteLength > this.scratchBytes) {
      throw new XenConfigError(`d${this.domid}: ${args.byteLength} bytes of arguments exceed its ${this.scratchBytes}-byte scratch area`);
    }
    const bytes = new Uint8Array(args.buffer, args.byteOffset, args.byteLength);
    this.machine.write(this.domid, this.scratchGpa, bytes);
    const rc = this.gt.grantTableOp(this.domid, cmd, this.scratchGpa, count);
    bytes.set(this.machine.read(this.domid, this.scratchGpa, bytes.length));
    return rc;
  }

  /** GNTTABOP_map_grant_ref for a batch; `rc` is the hypercall's return. */
  map(ops: MapOp[]): { rc: number; results: MapOutcome[] } {
    const a = new DataView(new ArrayBuffer(ops.length * MAP_SIZE));
    ops.forEach((o, i) => {
      const b = i * MAP_SIZE;
      a.setBigUint64(b + MAP_HOST_ADDR, BigInt(o.hostAddr), true);
      a.setUint32(b + MAP_FLAGS, o.flags ?? (GNTMAP_host_map | (o.readonly ? GNTMAP_readonly : 0)), true);
      a.setUint32(b + MAP_REF, o.ref >>> 0, true);
      a.setUint16(b + MAP_DOM, o.dom, true);
    });
    const rc = this.call(GNTTABOP_map_grant_ref, a, ops.length);
    const results = ops.map((_, i) => ({
      status: a.getInt16(i * MAP_SIZE + MAP_STATUS, true),
      handle: a.getUint32(i * MAP_SIZE + MAP_HANDLE, true),
      devBusAddr: Number(a.getBigUint64(i * MAP_SIZE + MAP_DEV_BUS_ADDR, true)),
    }));
    return { rc, results };
  }

  /** GNTTABOP_unmap_grant_ref for a batch. */
  unmap(ops: UnmapOp[]): { rc: number; statuses: number[] } {
    const a = new DataView(new ArrayBuffer(ops.length * UNMAP_SIZE));
    ops.forEach((o, i) => {
      const b = i * UNMAP_SIZE;
      a.setBigUint64(b + UNMAP_HOST_ADDR, BigInt(o.hostAddr), true);
      a.setBigUint64(b + UNMAP_DEV_BUS_ADDR, BigInt(o.devBusAddr ?? 0), true);
      a.setUint32(b + UNMAP_HANDLE, o.handle >>> 0, true);
    });
    const rc = this.call(GNTTABOP_unmap_grant_ref, a, ops.length);
    return { rc, statuses: ops.map((_, i) => a.getInt16(i * UNMAP_SIZE + UNMAP_STATUS, true)) };
  }

  /** GNTTABOP_copy for a batch. */
  copy(ops: CopyOp[]): { rc: number; statuses: number[] } {
    const a = new DataView(new ArrayBuffer(ops.length * COPY_SIZE));
    ops.forEach((o, i) => {
      const b = i * COPY_SIZE;
      let flags = 0;
      const side = (e: CopyEnd, at: number, dom: number, off: number, gref: number) => {
        if ("ref" in e) {
          a.setUint32(b + at, e.ref >>> 0, true);
          a.setUint16(b + dom, e.domid, true);
          flags |= gref;
        } else {
          a.setBigUint64(b + at, BigInt(e.gmfn), true);
          a.setUint16(b + dom, e.domid ?? L.DOMID_SELF, true);
        }
        a.setUint16(b + off, e.offset, true);
      };
      side(o.source, COPY_SRC_GMFN, COPY_SRC_DOMID, COPY_SRC_OFFSET, GNTCOPY_source_gref);
      side(o.dest, COPY_DST_GMFN, COPY_DST_DOMID, COPY_DST_OFFSET, GNTCOPY_dest_gref);
      a.setUint16(b + COPY_LEN, o.len, true);
      a.setUint16(b + COPY_FLAGS, flags, true);
    });
    const rc = this.call(GNTTABOP_copy, a, ops.length);
    return { rc, statuses: ops.map((_, i) => a.getInt16(i * COPY_SIZE + COPY_STATUS, true)) };
  }
}
