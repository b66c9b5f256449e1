// The small header a net workload puts after the Ethernet header of every frame it sends:
// which flow and direction, the frame's sequence number, where its payload sits in which
// message, and a CRC-32C over the header alone, so that a receiver can still tell which
// frame arrived when the payload was damaged or cut short.
import { crc32c, getU32, putU32 } from "./pattern.ts";

/** "vxnf" little-endian. */
export const WIRE_MAGIC = 0x666e7876;
export const WIRE_HEADER = 28;
const CRC_AT = 24;

/** What a frame carries: stream data, an RR request, an RR response. */
export const KIND_DATA = 1;
export const KIND_REQUEST = 2;
export const KIND_RESPONSE = 3;
export type WireKind = typeof KIND_DATA | typeof KIND_REQUEST | typeof KIND_RESPONSE;

/** flags: this frame ends its message. */
export const WIRE_LAST = 1;

export interface WireHeader {
  flow: number;
  kind: number;
  flags: number;
  /** Payload bytes that follow the header. */
  len: number;
  seq: number;
  /** Message (stream) or transaction (RR) number. */
  msg: number;
  /** Offset of the payload within its message. */
  off: number;
}

export function putWire(b: Uint8Array, at: number, h: WireHeader): void {
  putU32(b, at, WIRE_MAGIC);
  putU32(b, at + 4, h.flow);
  b[at + 8] = h.kind;
  b[at + 9] = h.flags;
  b[at + 10] = h.len & 0xff;
  b[at + 11] = (h.len >>> 8) & 0xff;
  putU32(b, at + 12, h.seq);
  putU32(b, at + 16, h.msg);
  putU32(b, at + 20, h.off);
  putU32(b, at + CRC_AT, crc32c(0, b, at, at + CRC_AT));
}

/** The header at b[at], or undefined when it is cut short, not ours, or fails its CRC. */
export function getWire(b: Uint8Array, at: number): WireHeader | undefined {
  if (b.length < at + WIRE_HEADER) return undefined;
  if (getU32(b, at) !== WIRE_MAGIC || getU32(b, at + CRC_AT) !== crc32c(0, b, at, at + CRC_AT)) return undefined;
  return {
    flow: getU32(b, at + 4), kind: b[at + 8]!, flags: b[at + 9]!, len: b[at + 10]! | (b[at + 11]! << 8),
    seq: getU32(b, at + 12), msg: getU32(b, at + 16), off: getU32(b, at + 20),
  };
}
