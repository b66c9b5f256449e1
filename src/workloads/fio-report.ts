// What a block job reports: one event per completion (for latency hooks and traces), the
// verification failures, and totals over a caller-given virtual duration.
import { LatencyRecorder, throughput, type LatencySummary } from "../sim/stats.ts";
import { BLK_T_FLUSH, BLK_T_IN, type BlkType } from "./blk-request.ts";

export type BlkFailureKind =
  /** The device answered IOERR, UNSUPP or an unknown status. */
  | "status"
  /** An IN returned fewer data bytes than asked. */
  | "short"
  /** An IN returned more data bytes than asked. */
  | "long"
  /** A sector held another sector's data. */
  | "misplaced"
  /** A sector held an older write of itself (or its initial content: a lost write). */
  | "stale"
  /** A sector held a write of itself that the map does not expect. */
  | "phantom"
  /** A sector held bytes the job never wrote. */
  | "corrupt"
  /** A completion for a tag that is not in flight (duplicate or invented). */
  | "unexpected";

export interface BlkFailure {
  kind: BlkFailureKind;
  tag: number;
  /** The request's type (-1 for "unexpected"). */
  type: BlkType | -1;
  /** The first failing sector (the request's sector for status/short/long/unexpected). */
  sector: number;
  /** How many sectors of the request failed the check (0 when not a content failure). */
  badSectors: number;
  detail: string;
}

export type BlkPhase = "main" | "verify";

export interface BlkCompletionEvent {
  tag: number;
  type: BlkType;
  sector: number;
  len: number;
  phase: BlkPhase;
  submitNs: number;
  completeNs: number;
  status: number;
  failures: readonly BlkFailure[];
}

export interface FioStats {
  /** Main-phase reads + writes (flushes are counted apart). */
  ios: number;
  reads: number;
  writes: number;
  flushes: number;
  bytesRead: number;
  bytesWritten: number;
  /** Per second of the caller's virtual duration. */
  iops: number;
  readBytesPerSec: number;
  writeBytesPerSec: number;
  latency: { read: LatencySummary; write: LatencySummary; flush: LatencySummary };
  /** Reads of the verify phase. */
  verifyReads: number;
  /** Sectors whose content was checked (main and verify reads). */
  sectorsChecked: number;
  /** Sectors read but not checkable, because a write to them had failed. */
  sectorsUnverified: number;
  failures: number;
  /** Times the next I/O waited because it overlapped one in flight. */
  stalls: number;
}

/** Running totals of one job. */
export class FioTally {
  reads = 0;
  writes = 0;
  flushes = 0;
  bytesRead = 0;
  bytesWritten = 0;
  verifyReads = 0;
  sectorsChecked = 0;
  sectorsUnverified = 0;
  stalls = 0;
  readonly failures: BlkFailure[] = [];
  private readonly lat = { read: new LatencyRecorder("read"), write: new LatencyRecorder("write"), flush: new LatencyRecorder("flush") };

  count(e: BlkCompletionEvent): void {
    if (e.phase === "verify") {
      this.verifyReads++;
      return;
    }
    const ns = e.completeNs - e.submitNs;
    if (e.type === BLK_T_FLUSH) {
      this.flushes++;
      this.lat.flush.record(ns);
    } else if (e.type === BLK_T_IN) {
      this.reads++;
      this.bytesRead += e.len;
      this.lat.read.record(ns);
    } else {
      this.writes++;
      this.bytesWritten += e.len;
      this.lat.write.record(ns);
    }
  }

  stats(durationNs: number): FioStats {
    const ios = this.reads + this.writes;
    return {
      ios, reads: this.reads, writes: this.writes, flushes: this.flushes, bytesRead: this.bytesRead, bytesWritten: this.bytesWritten,
      iops: throughput(ios, durationNs),
      readBytesPerSec: throughput(this.bytesRead, durationNs),
      writeBytesPerSec: throughput(this.bytesWritten, durationNs),
      latency: { read: this.lat.read.summary(), write: this.lat.write.summary(), flush: this.lat.flush.summary() },
      verifyReads: this.verifyReads, sectorsChecked: this.sectorsChecked, sectorsUnverified: this.sectorsUnverified,
      failures: this.failures.length, stalls: this.stalls,
    };
  }
}
