// Per-domain grant state, as Xen keeps it in struct grant_table: the shared frames (v1
// entries the guest writes), the private active entries (pin counts) of the domain's grants,
// and the maptrack of mappings the domain holds of other domains' grants.
import { GNT_ENTRIES_PER_FRAME, MAPTRACK_PER_FRAME } from "./grant-abi.ts";
import * as L from "../wasm/layout.ts";

// Active-entry pin counts: four 8-bit counters in one word.
export const GNTPIN_hstw_inc = 1;
export const GNTPIN_hstr_inc = 1 << 8;
export const GNTPIN_devw_inc = 1 << 16;
export const GNTPIN_devr_inc = 2 ** 24;
export const GNTPIN_hstw_mask = 0xff;
export const GNTPIN_hstr_mask = 0xff << 8;
export const GNTPIN_devw_mask = 0xff << 16;
/** Writable pins of either kind. */
export const GNTPIN_write_mask = GNTPIN_hstw_mask | GNTPIN_devw_mask;
/** Xen refuses a new pin while any counter has its top bit set (keeps each byte from wrapping). */
export const GNTPIN_overflow_mask = 0x80808080;

/** Xen's shadow of an in-use grant entry. */
export interface ActiveEntry {
  pin: number;
  /** The grantee that holds the pins. */
  domid: number;
  /** The frame pinned (resolved from the entry's gfn at the first pin). */
  mfn: number;
}

export class GrantTable {
  /** The granting domain (owner of the shared frames' contents). */
  readonly domid: number;
  maxFrames: number;
  maxMaptrackFrames: number;
  /** Machine frames of the shared table, and where the owner placed each in its p2m (-1: not placed). */
  readonly frames: number[] = [];
  readonly frameGfn: number[] = [];
  readonly active = new Map<number, ActiveEntry>();
  /** Active entries with a non-zero pin. */
  pinned = 0;
  /** The owner was destroyed; the table lives on until the last pin held by others goes. */
  dead = false;

  // Maptrack: handle -> (flags, granter's table, ref). Flags 0 = free.
  mtLimit = 0;
  readonly mtFlags: number[] = [];
  readonly mtRef: number[] = [];
  readonly mtTable: (GrantTable | undefined)[] = [];
  mtInUse = 0;
  private readonly mtFree: number[] = [];
  private mtFreeHead = 0;
  /** Grant mappings this domain holds in its p2m. */
  grantMapped = 0;
  /** Frames of this table device models mapped with XENMEM_acquire_resource; unmapped when
   *  the frames are freed. */
  readonly acquired: { domid: number; gfn: number; mfn: number }[] = [];

  constructor(domid: number, maxFrames: number, maxMaptrackFrames: number) {
    this.domid = domid;
    this.maxFrames = maxFrames;
    this.maxMaptrackFrames = maxMaptrackFrames;
  }

  get nrFrames(): number {
    return this.frames.length;
  }

  get nrEntries(): number {
    return this.frames.length * GNT_ENTRIES_PER_FRAME;
  }

  /** Machine frame and byte offset of entry `ref` (the caller has bounds-checked it). */
  entryMfn(ref: number): number {
    return this.frames[Math.floor(ref / GNT_ENTRIES_PER_FRAME)]!;
  }
  entryOff(ref: number): number {
    return (ref % GNT_ENTRIES_PER_FRAME) * L.GRANT_ENTRY_V1_SIZE;
  }

  activeEntry(ref: number): ActiveEntry {
    let a = this.active.get(ref);
    if (!a) {
      a = { pin: 0, domid: 0, mfn: 0 };
      this.active.set(ref, a);
    }
    return a;
  }

  /** A free maptrack handle, or -1 when the limit is reached. Handles are reused first in,
   *  first out, and the table grows a frame (MAPTRACK_PER_FRAME handles) at a time. */
  getHandle(): number {
    let h: number;
    if (this.mtFreeHead < this.mtFree.length) {
      h = this.mtFree[this.mtFreeHead++]!;
      if (this.mtFreeHead > 1024 && this.mtFreeHead * 2 > this.mtFree.length) {
        this.mtFree.splice(0, this.mtFreeHead);
        this.mtFreeHead = 0;
      }
    } else if (this.mtLimit / MAPTRACK_PER_FRAME < this.maxMaptrackFrames) {
      h = this.mtLimit;
      for (let i = 1; i < MAPTRACK_PER_FRAME; i++) this.mtFree.push(h + i);
      this.mtLimit += MAPTRACK_PER_FRAME;
      for (let i = 0; i < MAPTRACK_PER_FRAME; i++) {
        this.mtFlags.push(0);
        this.mtRef.push(0);
        this.mtTable.push(undefined);
      }
    } else {
      return -1;
    }
    this.mtInUse++;
    return h;
  }

  putHandle(h: number): void {
    this.mtFlags[h] = 0;
    this.mtTable[h] = undefined;
    this.mtFree.push(h);
    this.mtInUse--;
  }
}
