// A fio-like block job: plans reads, writes and flushes from its seed, hands them out as
// virtio-blk request descriptions while fewer than iodepth are in flight, and checks every
// completion. Writes carry stamped sectors (blk-stamp.ts) and update the verification map
// when they complete; every read is compared with what the map says each sector holds.
//
// The plan is a pure function of the options: the caller's completion order and timing can
// delay a request but never change which requests are made. An I/O that overlaps one in
// flight (with a write on either side) waits for it, because the content it would see or
// leave is not defined until the other completes.
import { BLK_S_IOERR, BLK_S_OK, BLK_S_UNSUPP, BLK_T_FLUSH, BLK_T_IN, BLK_T_OUT, SECTOR } from "./blk-request.ts";
import type { BlkCompletion, BlkRequest, BlkType } from "./blk-request.ts";
import { checkSector, stampSector, zeroImage, type InitialImage, type SectorVerdict } from "./blk-stamp.ts";
import { checkFioOptions, type FioJobOptions } from "./fio-options.ts";
import { FioTally, type BlkCompletionEvent, type BlkFailure, type BlkPhase, type FioStats } from "./fio-report.ts";
import { GEN_MAX, GEN_UNKNOWN, VerifyMap } from "./verify-map.ts";
import type { Rng } from "../sim/rng.ts";

interface Planned {
  type: BlkType;
  sector: number;
  len: number;
  /** Counted once as a stall however often it is retried. */
  stalled: boolean;
}

interface InFlight {
  tag: number;
  type: BlkType;
  sector: number;
  len: number;
  gen: number;
  phase: BlkPhase;
  submitNs: number;
}

type JobPhase = "main" | "drain" | "verify" | "done";

const STATUS_NAME: Record<number, string> = { [BLK_S_OK]: "OK", [BLK_S_IOERR]: "IOERR", [BLK_S_UNSUPP]: "UNSUPP" };
const TYPE_NAME: Record<number, string> = { [BLK_T_IN]: "IN", [BLK_T_OUT]: "OUT", [BLK_T_FLUSH]: "FLUSH" };

export class FioJob {
  /** The job's pattern key: stamps of two jobs with different keys never pass for each other. */
  readonly key: number;
  private readonly o: FioJobOptions;
  private readonly rng: Rng;
  private readonly initial: InitialImage;
  private readonly map: VerifyMap;
  private readonly offset: number;
  private readonly align: number;
  private readonly tally = new FioTally();
  private readonly inflight = new Map<number, InFlight>();
  private phase: JobPhase = "main";
  private planned: Planned | undefined;
  private stopped = false;
  private nextTag = 1;
  private generation = 0;
  private plannedIos = 0;
  private plannedBytes = 0;
  private writesSinceFlush = 0;
  private seqCursor = 0;
  private verifyCursor = 0;

  constructor(options: FioJobOptions) {
    checkFioOptions(options);
    this.o = options;
    this.rng = options.rng;
    this.key = this.rng.int(0, 0xffffffff);
    this.initial = options.initialImage ?? zeroImage;
    this.offset = options.offset ?? 0;
    this.align = options.blockalign ?? options.bs;
    this.map = new VerifyMap(this.offset / SECTOR, options.size / SECTOR);
  }

  /** Requests handed out and not completed yet. */
  get inFlight(): number {
    return this.inflight.size;
  }

  /** Tags in flight, oldest first (what a lost completion leaves behind). */
  outstanding(): number[] {
    return [...this.inflight.keys()];
  }

  /** Main phase, drain, verify phase and its drain are all over. */
  get done(): boolean {
    return this.phase === "done";
  }

  /** Main-phase reads and writes completed (what a scenario's `duration: ios` counts). */
  get completed(): number {
    return this.tally.reads + this.tally.writes;
  }

  get failures(): readonly BlkFailure[] {
    return this.tally.failures;
  }

  /** Ends the main phase: nothing new is planned; requests in flight still complete, then
   *  the verify phase (if any) runs. */
  stop(): void {
    this.stopped = true;
    if (this.phase === "main") this.planned = undefined;
    this.advance();
  }

  /** The next request to submit at virtual time `now`, or undefined when iodepth requests are
   *  in flight, the next one must wait for an overlapping one, or the job has nothing left. */
  next(now: number): BlkRequest | undefined {
    if (this.inflight.size >= this.o.iodepth) return undefined;
    this.advance();
    const p = this.planned ?? (this.planned = this.plan());
    if (!p) return undefined;
    if (this.conflicts(p)) {
      if (!p.stalled) this.tally.stalls++;
      p.stalled = true;
      return undefined;
    }
    this.planned = undefined;
    const tag = this.nextTag++;
    let gen = 0;
    let data: Uint8Array | undefined;
    if (p.type === BLK_T_OUT) {
      if (this.generation >= GEN_MAX) throw new RangeError("fio job: more than 2^32-2 writes");
      gen = ++this.generation;
      data = new Uint8Array(p.len);
      for (let i = 0; i < p.len / SECTOR; i++) stampSector(this.key, p.sector + i, gen, data, i * SECTOR);
    }
    const phase: BlkPhase = this.phase === "verify" ? "verify" : "main";
    this.inflight.set(tag, { tag, type: p.type, sector: p.sector, len: p.len, gen, phase, submitNs: now });
    return data ? { tag, type: p.type, sector: p.sector, len: p.len, data } : { tag, type: p.type, sector: p.sector, len: p.len };
  }

  /** Takes the device's answer to request `tag` at virtual time `now`; returns what failed. */
  complete(tag: number, c: BlkCompletion, now: number): readonly BlkFailure[] {
    const f = this.inflight.get(tag);
    if (!f) {
      const u: BlkFailure = { kind: "unexpected", tag, type: -1, sector: -1, badSectors: 0, detail: `completion for tag ${tag}, which is not in flight` };
      this.tally.failures.push(u);
      return [u];
    }
    this.inflight.delete(tag);
    const failures: BlkFailure[] = [];
    const fail = (kind: BlkFailure["kind"], sector: number, badSectors: number, detail: string) =>
      failures.push({ kind, tag, type: f.type, sector, badSectors, detail: `${TYPE_NAME[f.type]} sector ${f.sector} len ${f.len}: ${detail}` });
    const n = f.len / SECTOR;
    if (c.status !== BLK_S_OK) {
      fail("status", f.sector, 0, `status ${c.status} (${STATUS_NAME[c.status] ?? "not a virtio-blk status"})`);
      if (f.type === BLK_T_OUT) this.map.set(f.sector, n, GEN_UNKNOWN);
    } else if (f.type === BLK_T_OUT) {
      this.map.set(f.sector, n, f.gen);
    } else if (f.type === BLK_T_IN) {
      this.checkRead(f, c.data ?? new Uint8Array(0), fail);
    }
    const event: BlkCompletionEvent = {
      tag, type: f.type, sector: f.sector, len: f.len, phase: f.phase, submitNs: f.submitNs, completeNs: now, status: c.status, failures,
    };
    this.tally.count(event);
    this.tally.failures.push(...failures);
    this.o.onComplete?.(event);
    this.advance();
    return failures;
  }

  /** Totals, with rates over the caller's virtual duration. */
  stats(durationNs: number): FioStats {
    return this.tally.stats(durationNs);
  }

  private checkRead(f: InFlight, d: Uint8Array, fail: (kind: BlkFailure["kind"], sector: number, bad: number, detail: string) => void): void {
    if (d.length < f.len) return void fail("short", f.sector, 0, `${d.length} data bytes returned`);
    if (d.length > f.len) return void fail("long", f.sector, 0, `${d.length} data bytes returned`);
    let bad = 0;
    let first: { sector: number; gen: number; v: SectorVerdict } | undefined;
    for (let i = 0; i < f.len / SECTOR; i++) {
      const sector = f.sector + i;
      const gen = this.map.gen(sector);
      if (gen === GEN_UNKNOWN) {
        this.tally.sectorsUnverified++;
        continue;
      }
      this.tally.sectorsChecked++;
      const v = checkSector(this.key, sector, gen, d, i * SECTOR, this.initial);
      if (v.kind === "ok") continue;
      bad++;
      first ??= { sector, gen, v };
    }
    if (first) fail(first.v.kind as BlkFailure["kind"], first.sector, bad, `${describe(first.sector, first.gen, first.v)}; ${bad} bad sector(s)`);
  }

  private advance(): void {
    if (this.phase === "main" && !this.planned && !this.flushDue() && (this.stopped || this.limitReached())) this.phase = "drain";
    if (this.phase === "drain" && this.inflight.size === 0) this.phase = this.o.verify ? "verify" : "done";
    if (this.phase === "verify" && !this.planned) {
      this.planned = this.planVerify();
      if (!this.planned && this.inflight.size === 0) this.phase = "done";
    }
  }

  private flushDue(): boolean {
    const every = this.o.fsync ?? 0;
    return every > 0 && this.writesSinceFlush >= every && !this.stopped;
  }

  private limitReached(): boolean {
    return (this.o.numberIos !== undefined && this.plannedIos >= this.o.numberIos) || (this.o.ioSize !== undefined && this.plannedBytes >= this.o.ioSize);
  }

  private plan(): Planned | undefined {
    if (this.phase === "verify") return this.planVerify();
    if (this.phase !== "main") return undefined;
    if (this.flushDue()) {
      this.writesSinceFlush = 0;
      return { type: BLK_T_FLUSH, sector: 0, len: 0, stalled: false };
    }
    const { rw, bs, size } = this.o;
    const read = rw === "read" || rw === "randread" || (rw === "randrw" && this.rng.int(0, 99) < this.o.rwmixread);
    let off: number;
    if (rw === "read" || rw === "write") {
      if (this.seqCursor + bs > size) this.seqCursor = 0;
      off = this.seqCursor;
      this.seqCursor += bs;
    } else {
      off = this.rng.int(0, Math.floor((size - bs) / this.align)) * this.align;
    }
    if (!read) this.writesSinceFlush++;
    this.plannedIos++;
    this.plannedBytes += bs;
    return { type: read ? BLK_T_IN : BLK_T_OUT, sector: (this.offset + off) / SECTOR, len: bs, stalled: false };
  }

  /** The next bs-sized chunk of the region holding a written sector, in disk order. */
  private planVerify(): Planned | undefined {
    const { bs, size } = this.o;
    while (this.verifyCursor < size) {
      const off = this.verifyCursor;
      const len = Math.min(bs, size - off);
      this.verifyCursor += len;
      const sector = (this.offset + off) / SECTOR;
      if (this.map.written(sector, len / SECTOR)) return { type: BLK_T_IN, sector, len, stalled: false };
    }
    return undefined;
  }

  private conflicts(p: Planned): boolean {
    if (p.len === 0) return false;
    const end = p.sector + p.len / SECTOR;
    for (const f of this.inflight.values()) {
      if (f.len === 0 || (p.type !== BLK_T_OUT && f.type !== BLK_T_OUT)) continue;
      if (p.sector < f.sector + f.len / SECTOR && f.sector < end) return true;
    }
    return false;
  }
}

function describe(sector: number, gen: number, v: SectorVerdict): string {
  const want = gen === 0 ? "its initial content" : `generation ${gen}`;
  switch (v.kind) {
    case "misplaced": return `sector ${sector} holds sector ${v.foundSector}'s data (generation ${v.foundGen}), expected ${want}`;
    case "stale": return v.foundGen === 0 ? `sector ${sector} holds its initial content, expected ${want} (a lost write)` : `sector ${sector} holds generation ${v.foundGen}, expected ${want}`;
    case "phantom": return `sector ${sector} holds generation ${v.foundGen}, which was never completed there; expected ${want}`;
    case "corrupt": return `sector ${sector} differs from ${want} at byte ${v.byte}`;
    case "ok": return "ok";
  }
}
