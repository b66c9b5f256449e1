// The guest side of grant tables, as a Linux guest's drivers/xen/grant-table.c does it on an
// auto-translated (HVM/PVH/Arm) guest: place the table frames in its p2m, fill and revoke
// entries through its own mapping of them, and issue map/unmap/copy batches with the
// argument structs in its own memory. Everything goes through the guest's p2m and rights;
// the read-modify-writes on flags go through the hypervisor's guest atomics.
import type { GrantTables } from "./grant-table.ts";
import { XenConfigError } from "./hypervisor.ts";
import * as L from "../wasm/layout.ts";
import { GrantMemory } from "../wasm/grant.ts";
import { GNT_ENTRIES_PER_FRAME } from "./grant-abi.ts";

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
    const a = new DataView(new ArrayBuffer(L.GNTTAB_QUERY_SIZE_SIZE));
    a.setUint16(L.GNTTAB_QUERY_SIZE_DOM, dom, true);
    const rc = this.call(L.GNTTABOP_QUERY_SIZE, a, 1);
    return { rc, status: a.getInt16(L.GNTTAB_QUERY_SIZE_STATUS, true), nrFrames: a.getUint32(L.GNTTAB_QUERY_SIZE_NR_FRAMES, true), maxFrames: a.getUint32(L.GNTTAB_QUERY_SIZE_MAX_NR_FRAMES, true) };
  }

  /** Places table frames [placed, nrFrames) at baseGfn + i with XENMEM_add_to_physmap
   *  (Linux's gnttab_map on an auto-translated guest). Returns 0 or the first -errno. */
  setup(nrFrames: number): number {
    while (this.placed < nrFrames) {
      const a = new DataView(new ArrayBuffer(L.ADD_TO_PHYSMAP_SIZE));
      a.setUint16(L.ADD_TO_PHYSMAP_DOMID, L.DOMID_SELF, true);
      a.setUint32(L.ADD_TO_PHYSMAP_SPACE, L.XENMAPSPACE_GRANT_TABLE, true);
      a.setBigUint64(L.ADD_TO_PHYSMAP_IDX, BigInt(this.placed), true);
      a.setBigUint64(L.ADD_TO_PHYSMAP_GPFN, BigInt(this.baseGfn + this.placed), true);
      this.machine.write(this.domid, this.scratchGpa, new Uint8Array(a.buffer));
      const rc = this.gt.addToPhysmap(this.domid, this.scratchGpa);
      if (rc !== 0) return rc;
      this.placed++;
    }
    if (this.inUse.length < this.nrEntries) {
      const bigger = new Uint8Array(this.nrEntries);
      bigger.set(this.inUse);
      bigger.fill(1, 0, L.GNTTAB_NR_RESERVED_ENTRIES);
      this.inUse = bigger;
    }
    return 0;
  }

  /** Guest-physical address of entry `ref` in the guest's own mapping of its table. */
  entryGpa(ref: number): number {
    if (!Number.isInteger(ref) || ref < 0 || ref >= this.nrEntries) {
      throw new XenConfigError(`d${this.domid}: grant ref ${ref} is outside the ${this.nrEntries} entries it has mapped`);
    }
    return (this.baseGfn + Math.floor(ref / GNT_ENTRIES_PER_FRAME)) * L.PAGE_SIZE + (ref % GNT_ENTRIES_PER_FRAME) * L.GRANT_ENTRY_V1_SIZE;
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
    for (let r = L.GNTTAB_NR_RESERVED_ENTRIES; r < this.inUse.length; r++) {
      run = this.inUse[r] ? 0 : run + 1;
      if (run === n) {
        this.inUse.fill(1, r - n + 1, r + 1);
        return r - n + 1;
      }
    }
    return -1;
  }

  freeRefs(first: number, n = 1): void {
    this.inUse.fill(0, Math.max(first, L.GNTTAB_NR_RESERVED_ENTRIES), first + n);
  }

  // ---- entries ---------------------------------------------------------------------------------

  /** gnttab_grant_foreign_access_ref: domid, frame, then flags (the publishing store). */
  grantAccess(ref: number, grantee: number, gfn: number, readonly = false): void {
    const st = this.mem.guestWriteEntry(this.domid, this.entryGpa(ref), grantee, gfn, L.GTF_PERMIT_ACCESS | (readonly ? L.GTF_READONLY : 0));
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
    return this.updateFlags(ref, (f) => ((f & (L.GTF_READING | L.GTF_WRITING)) ? undefined : 0), true);
  }

  /** Downgrades a grant to read-only: sets GTF_readonly unless the grantee holds it writable. */
  makeReadOnly(ref: number): boolean {
    return this.updateFlags(ref, (f) => ((f & L.GTF_WRITING) ? undefined : f | L.GTF_READONLY), false);
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
    const a = new DataView(new ArrayBuffer(ops.length * L.GNTTAB_MAP_SIZE));
    ops.forEach((o, i) => {
      const b = i * L.GNTTAB_MAP_SIZE;
      a.setBigUint64(b + L.GNTTAB_MAP_HOST_ADDR, BigInt(o.hostAddr), true);
      a.setUint32(b + L.GNTTAB_MAP_FLAGS, o.flags ?? (L.GNTMAP_HOST_MAP | (o.readonly ? L.GNTMAP_READONLY : 0)), true);
      a.setUint32(b + L.GNTTAB_MAP_REF, o.ref >>> 0, true);
      a.setUint16(b + L.GNTTAB_MAP_DOM, o.dom, true);
    });
    const rc = this.call(L.GNTTABOP_MAP_GRANT_REF, a, ops.length);
    const results = ops.map((_, i) => ({
      status: a.getInt16(i * L.GNTTAB_MAP_SIZE + L.GNTTAB_MAP_STATUS, true),
      handle: a.getUint32(i * L.GNTTAB_MAP_SIZE + L.GNTTAB_MAP_HANDLE, true),
      devBusAddr: Number(a.getBigUint64(i * L.GNTTAB_MAP_SIZE + L.GNTTAB_MAP_DEV_BUS_ADDR, true)),
    }));
    return { rc, results };
  }

  /** GNTTABOP_unmap_grant_ref for a batch. */
  unmap(ops: UnmapOp[]): { rc: number; statuses: number[] } {
    const a = new DataView(new ArrayBuffer(ops.length * L.GNTTAB_UNMAP_SIZE));
    ops.forEach((o, i) => {
      const b = i * L.GNTTAB_UNMAP_SIZE;
      a.setBigUint64(b + L.GNTTAB_UNMAP_HOST_ADDR, BigInt(o.hostAddr), true);
      a.setBigUint64(b + L.GNTTAB_UNMAP_DEV_BUS_ADDR, BigInt(o.devBusAddr ?? 0), true);
      a.setUint32(b + L.GNTTAB_UNMAP_HANDLE, o.handle >>> 0, true);
    });
    const rc = this.call(L.GNTTABOP_UNMAP_GRANT_REF, a, ops.length);
    return { rc, statuses: ops.map((_, i) => a.getInt16(i * L.GNTTAB_UNMAP_SIZE + L.GNTTAB_UNMAP_STATUS, true)) };
  }

  /** GNTTABOP_copy for a batch. */
  copy(ops: CopyOp[]): { rc: number; statuses: number[] } {
    const a = new DataView(new ArrayBuffer(ops.length * L.GNTTAB_COPY_SIZE));
    ops.forEach((o, i) => {
      const b = i * L.GNTTAB_COPY_SIZE;
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
      side(o.source, L.GNTTAB_COPY_SOURCE_GMFN, L.GNTTAB_COPY_SOURCE_DOMID, L.GNTTAB_COPY_SOURCE_OFFSET, L.GNTCOPY_SOURCE_GREF);
      side(o.dest, L.GNTTAB_COPY_DEST_GMFN, L.GNTTAB_COPY_DEST_DOMID, L.GNTTAB_COPY_DEST_OFFSET, L.GNTCOPY_DEST_GREF);
      a.setUint16(b + L.GNTTAB_COPY_LEN, o.len, true);
      a.setUint16(b + L.GNTTAB_COPY_FLAGS, flags, true);
    });
    const rc = this.call(L.GNTTABOP_COPY, a, ops.length);
    return { rc, statuses: ops.map((_, i) => a.getInt16(i * L.GNTTAB_COPY_SIZE + L.GNTTAB_COPY_STATUS, true)) };
  }
}
