// What the netperf-like flows share: two sides (a = the workload's device, b = its peer; the
// same device for loopback), options, the interface a runner drives, and how a runner finds
// the flow and side a received frame belongs to.
import type { Rng } from "../sim/rng.ts";
import type { LatencySummary } from "../sim/stats.ts";
import { ETH_HEADER, type Mac } from "./eth.ts";
import type { NetFailure } from "./net-report.ts";
import { getWire, KIND_RESPONSE, WIRE_HEADER } from "./net-wire.ts";

export type Side = "a" | "b";

export interface NetFlowOptions {
  /** Names the flow in every frame, so flows can share devices (u32). */
  flowId: number;
  /** Draws the pattern keys; fork one per flow. */
  rng: Rng;
  /** MACs of side a (the sender of data and requests) and side b. */
  a: Mac;
  b: Mac;
  /** Most Ethernet payload bytes per frame (the device's MTU; default 1500). */
  mtu?: number;
}

export interface NetStats {
  /** Stream: messages received whole; RR: transactions completed. */
  completed: number;
  perSec: number;
  frames: number;
  /** Payload bytes received intact, both directions. */
  bytes: number;
  bytesPerSec: number;
  /** Stream: first frame sent to last frame received; RR: request sent to response received. */
  latency: LatencySummary;
  failures: number;
}

export interface NetFlow {
  readonly test: "stream" | "rr";
  readonly flowId: number;
  /** The next frame side `side` sends at virtual time `now` (Ethernet header onwards), or
   *  undefined when it has nothing to send now. */
  next(side: Side, now: number): Uint8Array | undefined;
  /** A frame side `side` received at `now`; returns what failed. */
  receive(side: Side, frame: Uint8Array, now: number): readonly NetFailure[];
  /** Start nothing new; what is under way still completes. */
  stop(): void;
  readonly done: boolean;
  readonly completed: number;
  readonly failures: readonly NetFailure[];
  stats(durationNs: number): NetStats;
}

export const DEFAULT_MTU = 1500;

/** Payload bytes per frame for an MTU; throws when the MTU leaves no room. */
export function maxPayload(mtu: number): number {
  if (!Number.isSafeInteger(mtu) || mtu <= WIRE_HEADER || mtu > 0xffff + WIRE_HEADER) {
    throw new RangeError(`mtu must be an integer ${WIRE_HEADER + 1}..${0xffff + WIRE_HEADER} (the ${WIRE_HEADER}-byte workload header plus at least one byte), got ${mtu}`);
  }
  return mtu - WIRE_HEADER;
}

export function checkFlowOptions(o: NetFlowOptions, sizes: Record<string, number>): void {
  if (!Number.isSafeInteger(o.flowId) || o.flowId < 0 || o.flowId > 0xffffffff) throw new RangeError(`flowId must be a u32, got ${o.flowId}`);
  for (const [name, m] of [["a", o.a], ["b", o.b]] as const) {
    if (m.length !== 6) throw new RangeError(`MAC of side ${name} must be 6 bytes, got ${m.length}`);
  }
  for (const [name, v] of Object.entries(sizes)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be an integer >= 1, got ${v}`);
  }
}

/** The flow id and receiving side of a workload frame, or undefined when the frame's wire
 *  header cannot be read (the runner then hands it to any flow on the device, which reports it). */
export function peekFlow(frame: Uint8Array): { flowId: number; side: Side } | undefined {
  if (frame.length < ETH_HEADER + WIRE_HEADER) return undefined;
  const h = getWire(frame, ETH_HEADER);
  return h ? { flowId: h.flow, side: h.kind === KIND_RESPONSE ? "a" : "b" } : undefined;
}
