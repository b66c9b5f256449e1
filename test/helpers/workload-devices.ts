// Minimal stand-ins for devices, for the workload tests: an in-memory disk that serves
// BlkRequests, and loops that drive a generator against it in virtual time with a chosen
// completion order and optional tampering.
import { Rng } from "../../src/sim/rng.ts";
import { BLK_S_OK, BLK_T_FLUSH, BLK_T_IN, SECTOR, type BlkCompletion, type BlkRequest } from "../../src/workloads/blk-request.ts";
import type { FioJob } from "../../src/workloads/fio-job.ts";

export class MemDisk {
  readonly bytes: Uint8Array;

  constructor(sizeBytes: number, init?: (sector: number) => Uint8Array) {
    this.bytes = new Uint8Array(sizeBytes);
    if (init) for (let s = 0; s < sizeBytes / SECTOR; s++) this.bytes.set(init(s), s * SECTOR);
  }

  execute(r: BlkRequest): BlkCompletion {
    const off = r.sector * SECTOR;
    if (r.type === BLK_T_FLUSH) return { status: BLK_S_OK };
    if (r.type === BLK_T_IN) return { status: BLK_S_OK, data: this.bytes.slice(off, off + r.len) };
    this.bytes.set(r.data!, off);
    return { status: BLK_S_OK };
  }
}

export type Order = "fifo" | "lifo" | Rng;

export interface BlkRun {
  /** Requests in submission order. */
  requests: BlkRequest[];
  /** Most requests in flight at once. */
  maxInFlight: number;
  /** Virtual time at the end (1 µs per completion). */
  now: number;
}

/** Drives `job` to the end against `disk`. `tamper` may replace a completion (or return
 *  undefined to keep the disk's). `stopAfter` calls job.stop() after that many completions. */
export function runBlk(
  job: FioJob,
  disk: MemDisk,
  opts: { order?: Order; tamper?: (r: BlkRequest, c: BlkCompletion) => BlkCompletion | undefined; stopAfter?: number; skipExecute?: (r: BlkRequest) => boolean } = {},
): BlkRun {
  const order = opts.order ?? "fifo";
  const pending: BlkRequest[] = [];
  const requests: BlkRequest[] = [];
  let now = 0;
  let maxInFlight = 0;
  let completions = 0;
  for (let guard = 0; !job.done; guard++) {
    if (guard > 1_000_000) throw new Error("runBlk: no progress");
    for (let r = job.next(now); r; r = job.next(now)) {
      pending.push(r);
      requests.push(r);
    }
    maxInFlight = Math.max(maxInFlight, job.inFlight);
    if (pending.length === 0) {
      if (!job.done) throw new Error("runBlk: job neither done nor submitting");
      break;
    }
    const i = order === "fifo" ? 0 : order === "lifo" ? pending.length - 1 : order.int(0, pending.length - 1);
    const r = pending.splice(i, 1)[0]!;
    now += 1000;
    const c = opts.skipExecute?.(r) ? { status: BLK_S_OK } : disk.execute(r);
    job.complete(r.tag, opts.tamper?.(r, c) ?? c, now);
    if (++completions === opts.stopAfter) job.stop();
  }
  return { requests, maxInFlight, now };
}
