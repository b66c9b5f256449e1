// A TCP_STREAM-like flow: side a sends messages of messageSize bytes to side b, cut into
// frames of at most MTU bytes; side b checks every frame in order and byte for byte. A window
// of frames not yet seen by b stands in for the socket buffer, so the sender does not run
// arbitrarily far ahead of the receiver. Lost frames are not resent: they are failures.
import { LatencyRecorder, throughput } from "../sim/stats.ts";
import { buildFrame, DirReceiver, framesPerMessage, type DirectionSpec } from "./net-direction.ts";
import { checkFlowOptions, DEFAULT_MTU, maxPayload, type NetFlow, type NetFlowOptions, type NetStats, type Side } from "./net-flow.ts";
import type { NetFailure } from "./net-report.ts";
import { KIND_DATA } from "./net-wire.ts";

export interface StreamOptions extends NetFlowOptions {
  /** Bytes per send (netperf's send size). */
  messageSize: number;
  /** Most frames sent and not yet seen by side b (default 64). */
  window?: number;
  /** Messages to send (default: until stop()). */
  messages?: number;
}

export class StreamFlow implements NetFlow {
  readonly test = "stream";
  readonly flowId: number;
  private readonly spec: DirectionSpec;
  private readonly rx: DirReceiver;
  private readonly per: number;
  private readonly window: number;
  private readonly limit: number | undefined;
  private readonly sentAt = new Map<number, number>();
  private readonly latency = new LatencyRecorder("message");
  private readonly failed: NetFailure[] = [];
  private seq = 0;
  private stopped = false;
  private messages = 0;

  constructor(o: StreamOptions) {
    checkFlowOptions(o, { messageSize: o.messageSize, window: o.window ?? 64, messages: o.messages ?? 1 });
    this.flowId = o.flowId;
    this.spec = { flow: o.flowId, kind: KIND_DATA, key: o.rng.int(0, 0xffffffff), messageSize: o.messageSize, maxPayload: maxPayload(o.mtu ?? DEFAULT_MTU), src: o.a, dst: o.b };
    this.rx = new DirReceiver(this.spec);
    this.per = framesPerMessage(this.spec);
    this.window = o.window ?? 64;
    this.limit = o.messages;
  }

  get done(): boolean {
    return !this.mayStartMessage() && this.seq % this.per === 0 && this.rx.expected >= this.seq;
  }

  get completed(): number {
    return this.messages;
  }

  get failures(): readonly NetFailure[] {
    return this.failed;
  }

  stop(): void {
    this.stopped = true;
  }

  next(side: Side, now: number): Uint8Array | undefined {
    if (side === "b") return undefined;
    const starting = this.seq % this.per === 0;
    if (starting && !this.mayStartMessage()) return undefined;
    if (this.seq - this.rx.expected >= this.window) return undefined;
    if (starting) this.sentAt.set(this.seq / this.per, now);
    return buildFrame(this.spec, this.seq++);
  }

  receive(side: Side, frame: Uint8Array, now: number): readonly NetFailure[] {
    if (side === "a") {
      const f: NetFailure = { kind: "misdelivered", seq: -1, count: 1, detail: `flow ${this.flowId}: a stream's sending side received a frame` };
      this.failed.push(f);
      return [f];
    }
    const { failures, arrival } = this.rx.receive(frame);
    this.failed.push(...failures);
    if (arrival?.last && !failures.some((f) => f.kind === "reorder")) {
      this.messages++;
      const t0 = this.sentAt.get(arrival.msg);
      if (t0 !== undefined) this.latency.record(now - t0);
      for (const m of this.sentAt.keys()) {
        if (m > arrival.msg) break;
        this.sentAt.delete(m);
      }
    }
    return failures;
  }

  stats(durationNs: number): NetStats {
    return {
      completed: this.messages, perSec: throughput(this.messages, durationNs), frames: this.rx.frames, bytes: this.rx.bytes,
      bytesPerSec: throughput(this.rx.bytes, durationNs), latency: this.latency.summary(), failures: this.failed.length,
    };
  }

  private mayStartMessage(): boolean {
    return !this.stopped && (this.limit === undefined || this.seq / this.per < this.limit);
  }
}
