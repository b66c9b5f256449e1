// A fio-like job's options. The first six keep the names, units and meaning the scenario
// loader resolves (src/scenario: rw, bs, iodepth, size, rwmixread, verify); the rest are
// fio's own knobs for what a scenario does not say, spelt in the same camelCase.
import type { Rng } from "../sim/rng.ts";
import type { FioRw } from "../scenario/scenario-types.ts";
import { SECTOR } from "./blk-request.ts";
import type { InitialImage } from "./blk-stamp.ts";
import type { BlkCompletionEvent } from "./fio-report.ts";

export type { FioRw };

export interface FioJobOptions {
  rw: FioRw;
  /** Bytes per I/O, a multiple of 512. */
  bs: number;
  /** Most requests in flight at once. */
  iodepth: number;
  /** Bytes of the region the job works in (from `offset`), at least bs. */
  size: number;
  /** randrw: percentage of I/Os that are reads (0..100); ignored by the other modes. */
  rwmixread: number;
  /** After the main phase, read back every block the job wrote and check it (fio's verify
   *  phase). Reads the job makes are always checked, whatever this says. */
  verify: boolean;
  /** Draws the operations and the pattern key; fork one per job. */
  rng: Rng;
  /** Byte offset of the region on the disk (multiple of 512; default 0). */
  offset?: number;
  /** Random offsets are multiples of this within the region (multiple of 512; default bs). */
  blockalign?: number;
  /** End the main phase after this many reads and writes (flushes not counted). */
  numberIos?: number;
  /** ... or once this many bytes were read or written. */
  ioSize?: number;
  /** A FLUSH after every `fsync` writes (0 = never, the default). */
  fsync?: number;
  /** Disk size in bytes: the region must fit. */
  capacity?: number;
  /** What never-written sectors hold (default zeroes). */
  initialImage?: InitialImage;
  /** Called once per completion, with virtual timestamps and the verdict. */
  onComplete?: (e: BlkCompletionEvent) => void;
}

const RW: readonly FioRw[] = ["read", "write", "randread", "randwrite", "randrw"];

/** Throws an Error naming the first bad option. */
export function checkFioOptions(o: FioJobOptions): void {
  const bad = (what: string): never => {
    throw new RangeError(`fio job: ${what}`);
  };
  const int = (v: number) => Number.isSafeInteger(v);
  if (!RW.includes(o.rw)) bad(`rw must be one of ${RW.join(", ")}, got '${String(o.rw)}'`);
  if (!int(o.bs) || o.bs <= 0 || o.bs % SECTOR !== 0) bad(`bs must be a positive multiple of ${SECTOR}, got ${o.bs}`);
  if (!int(o.iodepth) || o.iodepth < 1) bad(`iodepth must be an integer >= 1, got ${o.iodepth}`);
  if (!int(o.size) || o.size < o.bs || o.size % SECTOR !== 0) bad(`size must be a multiple of ${SECTOR} and at least bs (${o.bs}), got ${o.size}`);
  if (!int(o.rwmixread) || o.rwmixread < 0 || o.rwmixread > 100) bad(`rwmixread must be an integer 0..100, got ${o.rwmixread}`);
  const offset = o.offset ?? 0;
  if (!int(offset) || offset < 0 || offset % SECTOR !== 0) bad(`offset must be a multiple of ${SECTOR} >= 0, got ${offset}`);
  const align = o.blockalign ?? o.bs;
  if (!int(align) || align <= 0 || align % SECTOR !== 0) bad(`blockalign must be a positive multiple of ${SECTOR}, got ${align}`);
  if (o.numberIos !== undefined && (!int(o.numberIos) || o.numberIos < 1)) bad(`numberIos must be an integer >= 1, got ${o.numberIos}`);
  if (o.ioSize !== undefined && (!int(o.ioSize) || o.ioSize < 1)) bad(`ioSize must be an integer >= 1, got ${o.ioSize}`);
  if (o.fsync !== undefined && (!int(o.fsync) || o.fsync < 0)) bad(`fsync must be an integer >= 0, got ${o.fsync}`);
  if (o.capacity !== undefined && offset + o.size > o.capacity) bad(`offset + size (${offset + o.size}) is beyond the disk's ${o.capacity} bytes`);
  if (o.verify && (o.rw === "read" || o.rw === "randread")) bad(`verify reads back what the job wrote, and rw=${o.rw} writes nothing (its reads are checked anyway)`);
}
