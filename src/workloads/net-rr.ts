// A TCP_RR-like flow: side a sends a request of requestSize bytes, side b answers once the
// request's last frame is in with a response of responseSize bytes, and a transaction is
// complete when the response's last frame reaches a. One transaction is outstanding at a time
// (netperf's default, no burst). Both directions are checked frame by frame as in a stream.
// A lost last frame stalls the flow; that is the failure a runner's time limit exposes.
import { LatencyRecorder, throughput } from "../sim/stats.ts";
import { buildFrame, DirReceiver, framesPerMessage, type DirectionSpec } from "./net-direction.ts";
import { checkFlowOptions, DEFAULT_MTU, maxPayload, type NetFlow, type NetFlowOptions, type NetStats, type Side } from "./net-flow.ts";
import type { NetFailure } from "./net-report.ts";
import { KIND_REQUEST, KIND_RESPONSE } from "./net-wire.ts";

export interface RrOptions extends NetFlowOptions {
  requestSize: number;
  responseSize: number;
  /** Transactions to make (default: until stop()). */
  transactions?: number;
}

export class RrFlow implements NetFlow {
  readonly test = "rr";
  readonly flowId: number;
  private readonly req: DirectionSpec;
  private readonly resp: DirectionSpec;
  private readonly reqRx: DirReceiver;
  private readonly respRx: DirReceiver;
  private readonly reqPer: number;
  private readonly respPer: number;
  private readonly limit: number | undefined;
  private readonly latency = new LatencyRecorder("transaction");
  private readonly failed: NetFailure[] = [];
  /** The transaction side a is in, and whether it is under way. */
  private txn = 0;
  private outstanding = false;
  private startNs = 0;
  private reqSeq = 0;
  /** Responses side b owes (transaction numbers, in order) and the next frame of the first. */
  private readonly owed: number[] = [];
  private respSeq = 0;
  private stopped = false;

  constructor(o: RrOptions) {
    checkFlowOptions(o, { requestSize: o.requestSize, responseSize: o.responseSize, transactions: o.transactions ?? 1 });
    this.flowId = o.flowId;
    const payload = maxPayload(o.mtu ?? DEFAULT_MTU);
    this.req = { flow: o.flowId, kind: KIND_REQUEST, key: o.rng.int(0, 0xffffffff), messageSize: o.requestSize, maxPayload: payload, src: o.a, dst: o.b };
    this.resp = { flow: o.flowId, kind: KIND_RESPONSE, key: o.rng.int(0, 0xffffffff), messageSize: o.responseSize, maxPayload: payload, src: o.b, dst: o.a };
    this.reqRx = new DirReceiver(this.req);
    this.respRx = new DirReceiver(this.resp);
    this.reqPer = framesPerMessage(this.req);
    this.respPer = framesPerMessage(this.resp);
    this.limit = o.transactions;
  }

  get done(): boolean {
    return !this.outstanding && !this.mayStart() && this.owed.length === 0;
  }

  get completed(): number {
    return this.txn;
  }

  get failures(): readonly NetFailure[] {
    return this.failed;
  }

  stop(): void {
    this.stopped = true;
  }

  next(side: Side, now: number): Uint8Array | undefined {
    if (side === "a") {
      if (!this.outstanding) {
        if (!this.mayStart()) return undefined;
        this.outstanding = true;
        this.startNs = now;
        this.reqSeq = this.txn * this.reqPer;
      }
      if (this.reqSeq >= (this.txn + 1) * this.reqPer) return undefined;
      return buildFrame(this.req, this.reqSeq++);
    }
    const t = this.owed[0];
    if (t === undefined) return undefined;
    const frame = buildFrame(this.resp, this.respSeq++);
    if (this.respSeq === (t + 1) * this.respPer) {
      this.owed.shift();
      if (this.owed.length > 0) this.respSeq = this.owed[0]! * this.respPer;
    }
    return frame;
  }

  receive(side: Side, frame: Uint8Array, now: number): readonly NetFailure[] {
    const { failures, arrival } = (side === "b" ? this.reqRx : this.respRx).receive(frame);
    this.failed.push(...failures);
    if (!arrival?.last || failures.some((f) => f.kind === "reorder")) return failures;
    if (side === "b") {
      if (this.owed.length === 0) this.respSeq = arrival.msg * this.respPer;
      this.owed.push(arrival.msg);
    } else if (this.outstanding && arrival.msg === this.txn) {
      this.latency.record(now - this.startNs);
      this.txn++;
      this.outstanding = false;
    }
    return failures;
  }

  stats(durationNs: number): NetStats {
    const bytes = this.reqRx.bytes + this.respRx.bytes;
    return {
      completed: this.txn, perSec: throughput(this.txn, durationNs), frames: this.reqRx.frames + this.respRx.frames, bytes,
      bytesPerSec: throughput(bytes, durationNs), latency: this.latency.summary(), failures: this.failed.length,
    };
  }

  private mayStart(): boolean {
    return !this.stopped && (this.limit === undefined || this.txn < this.limit);
  }
}
