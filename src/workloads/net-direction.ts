// One direction of a net flow: how its frames are cut from messages and filled, and the
// receiver that checks each arriving frame byte for byte and in order. Frame `seq` always
// carries the same bytes (message seq / framesPerMessage, fixed offsets), so the receiver
// rebuilds what it should have got from the sequence number alone.
import { ETH_HEADER, ETH_MIN_FRAME, ETHERTYPE_VXSIM, formatMac, sameMac, type Mac } from "./eth.ts";
import type { NetFailure } from "./net-report.ts";
import { getWire, putWire, WIRE_HEADER, WIRE_LAST, type WireKind } from "./net-wire.ts";
import { comparePattern, fillPattern, patternState } from "./pattern.ts";

/** Ethernet + wire header: the bytes of a frame before its payload. */
export const FRAME_OVERHEAD = ETH_HEADER + WIRE_HEADER;
const U32_LIMIT = 2 ** 32;

export interface DirectionSpec {
  flow: number;
  kind: WireKind;
  /** Pattern key of this direction's payloads. */
  key: number;
  /** Bytes per message (stream send size, RR request or response size). */
  messageSize: number;
  /** Most payload bytes per frame (MTU minus the wire header). */
  maxPayload: number;
  src: Mac;
  dst: Mac;
}

export interface FrameShape {
  msg: number;
  off: number;
  len: number;
  last: boolean;
}

export function framesPerMessage(spec: DirectionSpec): number {
  return Math.ceil(spec.messageSize / spec.maxPayload);
}

export function shapeOf(spec: DirectionSpec, seq: number): FrameShape {
  const per = framesPerMessage(spec);
  const idx = seq % per;
  const off = idx * spec.maxPayload;
  return { msg: Math.floor(seq / per), off, len: Math.min(spec.maxPayload, spec.messageSize - off), last: idx === per - 1 };
}

const payloadState = (spec: DirectionSpec, msg: number) => patternState(spec.key, msg, spec.kind);

/** Frame number `seq` of this direction: Ethernet header, wire header, payload. */
export function buildFrame(spec: DirectionSpec, seq: number): Uint8Array {
  if (seq >= U32_LIMIT) throw new RangeError(`flow ${spec.flow}: more than 2^32 frames in one direction`);
  const s = shapeOf(spec, seq);
  const b = new Uint8Array(FRAME_OVERHEAD + s.len);
  b.set(spec.dst, 0);
  b.set(spec.src, 6);
  b[12] = ETHERTYPE_VXSIM >>> 8;
  b[13] = ETHERTYPE_VXSIM & 0xff;
  putWire(b, ETH_HEADER, { flow: spec.flow, kind: spec.kind, flags: s.last ? WIRE_LAST : 0, len: s.len, seq, msg: s.msg, off: s.off });
  fillPattern(payloadState(spec, s.msg), s.off, s.len, b, FRAME_OVERHEAD);
  return b;
}

/** A frame whose header could be trusted and which was not a duplicate. */
export interface Arrival {
  seq: number;
  msg: number;
  last: boolean;
  /** The frame passed every check. */
  ok: boolean;
}

export class DirReceiver {
  readonly spec: DirectionSpec;
  /** Next sequence number in order. */
  expected = 0;
  /** Frames that passed every check, and their payload bytes. */
  frames = 0;
  bytes = 0;
  /** Sequence numbers skipped and not (yet) seen: a later arrival is a reorder, not a duplicate. */
  private readonly missing = new Set<number>();

  constructor(spec: DirectionSpec) {
    this.spec = spec;
  }

  receive(frame: Uint8Array): { failures: NetFailure[]; arrival?: Arrival } {
    const spec = this.spec;
    const failures: NetFailure[] = [];
    const fail = (kind: NetFailure["kind"], seq: number, detail: string, count = 1) =>
      failures.push({ kind, seq, count, detail: `flow ${spec.flow}: ${detail}` });
    if (frame.length < FRAME_OVERHEAD) {
      fail("short", -1, `${frame.length}-byte frame cannot hold its ${FRAME_OVERHEAD} bytes of headers`);
      return { failures };
    }
    const h = getWire(frame, ETH_HEADER);
    if (!h) {
      fail("corrupt", -1, "wire header damaged (bad magic or CRC)");
      return { failures };
    }
    const ethertype = (frame[12]! << 8) | frame[13]!;
    if (h.flow !== spec.flow || h.kind !== spec.kind || ethertype !== ETHERTYPE_VXSIM || !sameMac(spec.dst, frame, 0) || !sameMac(spec.src, frame, 6)) {
      fail("misdelivered", h.seq, `frame of flow ${h.flow} kind ${h.kind} ethertype 0x${ethertype.toString(16)} ${formatMac(frame.subarray(6, 12))} -> ${formatMac(frame.subarray(0, 6))}, expected flow ${spec.flow} kind ${spec.kind} ${formatMac(spec.src)} -> ${formatMac(spec.dst)}`);
      return { failures };
    }
    const want = shapeOf(spec, h.seq);
    if (h.msg !== want.msg || h.off !== want.off || h.len !== want.len || (h.flags & WIRE_LAST) !== (want.last ? WIRE_LAST : 0)) {
      fail("corrupt", h.seq, `header says message ${h.msg} offset ${h.off} len ${h.len}, but frame ${h.seq} is message ${want.msg} offset ${want.off} len ${want.len}`);
      return { failures };
    }
    // Order: the header is trustworthy from here on.
    const seq = h.seq;
    if (seq < this.expected) {
      if (!this.missing.delete(seq)) {
        fail("duplicate", seq, `frame ${seq} received again`);
        return { failures };
      }
      fail("reorder", seq, `frame ${seq} arrived after frame ${this.expected - 1}`);
    } else if (seq > this.expected) {
      for (let s = this.expected; s < seq; s++) this.missing.add(s);
      fail("drop", seq, `frames ${this.expected}..${seq - 1} missing before frame ${seq}`, seq - this.expected);
      this.expected = seq + 1;
    } else {
      this.expected = seq + 1;
    }
    // Bytes.
    const got = frame.length - FRAME_OVERHEAD;
    if (got < h.len) {
      fail("short", seq, `payload ${got} of ${h.len} bytes`);
    } else if (got > h.len && !isPadding(frame, FRAME_OVERHEAD + h.len)) {
      fail("long", seq, `payload ${got} bytes, header says ${h.len}`);
    } else {
      const bad = comparePattern(payloadState(spec, h.msg), h.off, h.len, frame, FRAME_OVERHEAD);
      if (bad >= 0) fail("corrupt", seq, `payload differs at byte ${bad} (message ${h.msg} offset ${h.off + bad})`);
    }
    const clean = failures.every((f) => f.kind === "drop" || f.kind === "reorder");
    if (clean) {
      this.frames++;
      this.bytes += h.len;
    }
    return { failures, arrival: { seq, msg: h.msg, last: want.last, ok: failures.length === 0 } };
  }
}

/** Bytes from `from` are zero padding up to the 60-byte minimum frame. */
function isPadding(frame: Uint8Array, from: number): boolean {
  if (frame.length !== ETH_MIN_FRAME || from >= ETH_MIN_FRAME) return false;
  for (let i = from; i < frame.length; i++) if (frame[i] !== 0) return false;
  return true;
}
