// Frame and header builders for the virtio-net tests, and a driver-side reassembler of rx
// packets from used entries (what Linux's receive_mergeable does).
import { encodeNetHdr, decodeNetHdr, type NetHdr } from "../../src/devices/net-hdr.ts";
import { parseMac } from "../../src/devices/net-frame.ts";
import { NET_RX_QUEUE } from "../../src/devices/net.ts";
import type { MockTransport } from "./mock-transport.ts";

export const MAC_A = "52:54:00:00:00:0a";
export const MAC_B = "52:54:00:00:00:0b";
export const BROADCAST = "ff:ff:ff:ff:ff:ff";

function macBytes(mac: string): Uint8Array {
  return mac === BROADCAST ? new Uint8Array(6).fill(0xff) : parseMac(mac, "test");
}

/** An Ethernet frame of `len` bytes (>= 14): dst, src, ethertype 0x88b5 (local experimental),
 *  then a payload that depends on `tag` so frames are told apart. */
export function ethFrame(dst: string, src: string, len: number, tag = 0): Uint8Array {
  const f = new Uint8Array(len);
  f.set(macBytes(dst), 0);
  f.set(macBytes(src), 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  for (let i = 14; i < len; i++) f[i] = (i * 31 + tag * 7 + (i >> 8)) & 0xff;
  return f;
}

export function hdr(fields: Partial<NetHdr> = {}, size = 12): Uint8Array {
  const out = new Uint8Array(size);
  encodeNetHdr(out, size, { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, numBuffers: 0, ...fields });
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export interface RxPacket {
  hdr: NetHdr;
  frame: Uint8Array;
  /** Chain ids of the buffers, in order. */
  ids: number[];
}

/** Reassembles the packets a driver would see on the rx queue: the first buffer's header gives
 *  num_buffers (1 without the field), the next num_buffers - 1 used entries continue it. */
export function rxPackets(t: MockTransport, hdrSize = 12): RxPacket[] {
  const used = t.usedOn(NET_RX_QUEUE).filter((u) => u.len > 0);
  const out: RxPacket[] = [];
  for (let i = 0; i < used.length; ) {
    const first = t.written(used[i]!.id);
    const h = decodeNetHdr(first, hdrSize);
    const k = hdrSize === 12 ? h.numBuffers : 1;
    if (k < 1 || i + k > used.length) throw new Error(`rx packet at used entry ${i} claims ${k} buffers`);
    const parts = [first.subarray(hdrSize)];
    for (let j = 1; j < k; j++) parts.push(t.written(used[i + j]!.id));
    out.push({ hdr: h, frame: concat(...parts), ids: used.slice(i, i + k).map((u) => u.id) });
    i += k;
  }
  return out;
}
