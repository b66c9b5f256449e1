// The xenstore wire protocol (io/xs_wire.h): message types, the 16-byte xsd_sockmsg header,
// NUL-separated payloads and the error strings replies carry. Shared by xenstored (the model
// in xenstore.ts) and the client library (xenstore-client.ts).
import { XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_LEN, XSD_SOCKMSG_REQ_ID, XSD_SOCKMSG_SIZE, XSD_SOCKMSG_TX_ID, XSD_SOCKMSG_TYPE } from "../wasm/layout.ts";

import * as L from "../wasm/layout.ts";

// The message types are layout.ts's (enum xsd_sockmsg_type), re-exported for the xenstore code.
export {
  XS_CONTROL, XS_DIRECTORY, XS_READ, XS_GET_PERMS, XS_WATCH, XS_UNWATCH, XS_TRANSACTION_START, XS_TRANSACTION_END,
  XS_INTRODUCE, XS_RELEASE, XS_GET_DOMAIN_PATH, XS_WRITE, XS_MKDIR, XS_RM, XS_SET_PERMS, XS_WATCH_EVENT, XS_ERROR,
  XS_IS_DOMAIN_INTRODUCED, XS_RESUME, XS_SET_TARGET, XS_RESET_WATCHES, XS_DIRECTORY_PART,
} from "../wasm/layout.ts";

const TYPE_NAMES: Record<number, string> = {
  [L.XS_CONTROL]: "CONTROL", [L.XS_DIRECTORY]: "DIRECTORY", [L.XS_READ]: "READ", [L.XS_GET_PERMS]: "GET_PERMS",
  [L.XS_WATCH]: "WATCH", [L.XS_UNWATCH]: "UNWATCH", [L.XS_TRANSACTION_START]: "TRANSACTION_START",
  [L.XS_TRANSACTION_END]: "TRANSACTION_END", [L.XS_INTRODUCE]: "INTRODUCE", [L.XS_RELEASE]: "RELEASE",
  [L.XS_GET_DOMAIN_PATH]: "GET_DOMAIN_PATH", [L.XS_WRITE]: "WRITE", [L.XS_MKDIR]: "MKDIR", [L.XS_RM]: "RM",
  [L.XS_SET_PERMS]: "SET_PERMS", [L.XS_WATCH_EVENT]: "WATCH_EVENT", [L.XS_ERROR]: "ERROR",
  [L.XS_IS_DOMAIN_INTRODUCED]: "IS_DOMAIN_INTRODUCED", [L.XS_RESUME]: "RESUME", [L.XS_SET_TARGET]: "SET_TARGET",
  [L.XS_RESET_WATCHES]: "RESET_WATCHES", [L.XS_DIRECTORY_PART]: "DIRECTORY_PART",
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
  dv.setUint32(XSD_SOCKMSG_TYPE, type >>> 0, true);
  dv.setUint32(XSD_SOCKMSG_REQ_ID, reqId >>> 0, true);
  dv.setUint32(XSD_SOCKMSG_TX_ID, txId >>> 0, true);
  dv.setUint32(XSD_SOCKMSG_LEN, payload.length, true);
  out.set(payload, XSD_SOCKMSG_SIZE);
  return out;
}

export function decodeHeader(b: Uint8Array): XsHeader {
  const dv = new DataView(b.buffer, b.byteOffset, XSD_SOCKMSG_SIZE);
  return {
    type: dv.getUint32(XSD_SOCKMSG_TYPE, true),
    reqId: dv.getUint32(XSD_SOCKMSG_REQ_ID, true),
    txId: dv.getUint32(XSD_SOCKMSG_TX_ID, true),
    len: dv.getUint32(XSD_SOCKMSG_LEN, true),
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
