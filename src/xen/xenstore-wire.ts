// The xenstore wire protocol (io/xs_wire.h): message types, the 16-byte xsd_sockmsg header,
// NUL-separated payloads and the error strings replies carry. Shared by xenstored (the model
// in xenstore.ts) and the client library (xenstore-client.ts).
import { XENSTORE_PAYLOAD_MAX, XSD_LEN, XSD_REQ_ID, XSD_SOCKMSG_SIZE, XSD_TX_ID, XSD_TYPE } from "../wasm/layout.ts";

export const XS_CONTROL = 0;
export const XS_DIRECTORY = 1;
export const XS_READ = 2;
export const XS_GET_PERMS = 3;
export const XS_WATCH = 4;
export const XS_UNWATCH = 5;
export const XS_TRANSACTION_START = 6;
export const XS_TRANSACTION_END = 7;
export const XS_INTRODUCE = 8;
export const XS_RELEASE = 9;
export const XS_GET_DOMAIN_PATH = 10;
export const XS_WRITE = 11;
export const XS_MKDIR = 12;
export const XS_RM = 13;
export const XS_SET_PERMS = 14;
export const XS_WATCH_EVENT = 15;
export const XS_ERROR = 16;
export const XS_IS_DOMAIN_INTRODUCED = 17;
export const XS_RESUME = 18;
export const XS_SET_TARGET = 19;
export const XS_RESET_WATCHES = 21;
export const XS_DIRECTORY_PART = 22;

const TYPE_NAMES: Record<number, string> = {
  0: "CONTROL", 1: "DIRECTORY", 2: "READ", 3: "GET_PERMS", 4: "WATCH", 5: "UNWATCH",
  6: "TRANSACTION_START", 7: "TRANSACTION_END", 8: "INTRODUCE", 9: "RELEASE",
  10: "GET_DOMAIN_PATH", 11: "WRITE", 12: "MKDIR", 13: "RM", 14: "SET_PERMS",
  15: "WATCH_EVENT", 16: "ERROR", 17: "IS_DOMAIN_INTRODUCED", 18: "RESUME", 19: "SET_TARGET",
  21: "RESET_WATCHES", 22: "DIRECTORY_PART",
};

export function xsTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `TYPE_${type}`;
}

/** The error strings of xs_wire.h's xsd_errors, plus EQUOTA (oxenstored's quota error). */
export type XsErrorName =
  | "EINVAL" | "EACCES" | "EEXIST" | "EISDIR" | "ENOENT" | "ENOMEM" | "ENOSPC" | "EIO"
  | "ENOTEMPTY" | "ENOSYS" | "EROFS" | "EBUSY" | "EAGAIN" | "EISCONN" | "E2BIG" | "EPERM" | "EQUOTA";

/** Outcome of one xenstore operation: a value, or the error string the protocol returned. */
export type XsResult<T> = { ok: true; value: T } | { ok: false; error: XsErrorName };

export const xsOk = <T>(value: T): XsResult<T> => ({ ok: true, value });
export const xsErr = <T = never>(error: XsErrorName): XsResult<T> => ({ ok: false, error });

export interface XsHeader {
  type: number;
  reqId: number;
  txId: number;
  len: number;
}

export interface XsMessage extends XsHeader {
  payload: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export const utf8 = (s: string): Uint8Array => enc.encode(s);
export const text = (b: Uint8Array): string => dec.decode(b);

/** Header plus payload, as they cross the ring. */
export function encodeMessage(type: number, reqId: number, txId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(XSD_SOCKMSG_SIZE + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(XSD_TYPE, type >>> 0, true);
  dv.setUint32(XSD_REQ_ID, reqId >>> 0, true);
  dv.setUint32(XSD_TX_ID, txId >>> 0, true);
  dv.setUint32(XSD_LEN, payload.length, true);
  out.set(payload, XSD_SOCKMSG_SIZE);
  return out;
}

export function decodeHeader(b: Uint8Array): XsHeader {
  const dv = new DataView(b.buffer, b.byteOffset, XSD_SOCKMSG_SIZE);
  return {
    type: dv.getUint32(XSD_TYPE, true),
    reqId: dv.getUint32(XSD_REQ_ID, true),
    txId: dv.getUint32(XSD_TX_ID, true),
    len: dv.getUint32(XSD_LEN, true),
  };
}

/** Each string followed by a NUL: the framing of paths, tokens and argument lists. */
export function strings(...parts: string[]): Uint8Array {
  return utf8(parts.map((p) => p + "\0").join(""));
}

/** `path\0value` (the value is not NUL-terminated: a WRITE payload). */
export function pathValue(path: string, value: Uint8Array): Uint8Array {
  const p = utf8(path + "\0");
  const out = new Uint8Array(p.length + value.length);
  out.set(p);
  out.set(value, p.length);
  return out;
}

/** Splits a payload into its NUL-terminated strings. Returns undefined when the payload does
 *  not end in a NUL (xenstored refuses such argument lists with EINVAL). */
export function splitStrings(payload: Uint8Array): string[] | undefined {
  if (payload.length === 0 || payload[payload.length - 1] !== 0) return undefined;
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] === 0) {
      out.push(text(payload.subarray(start, i)));
      start = i + 1;
    }
  }
  return out;
}

/** Wire size of a message with this payload. */
export const wireSize = (payloadLen: number): number => XSD_SOCKMSG_SIZE + payloadLen;

export { XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_SIZE };
