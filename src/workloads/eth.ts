// Ethernet II framing for the net workloads, and the virtio-net header a driver puts in front
// of each frame (virtio.md 5.2). The workloads use the IEEE 802 local experimental EtherType,
// so their frames cannot be mistaken for IP traffic.

export const ETH_HEADER = 14;
/** IEEE Std 802 "Local Experimental EtherType 1". */
export const ETHERTYPE_VXSIM = 0x88b5;
/** Shortest Ethernet frame without FCS; shorter frames may come back zero-padded to it. */
export const ETH_MIN_FRAME = 60;
/** virtio_net_hdr_v1 with VERSION_1 (12 bytes, num_buffers included). */
export const VIRTIO_NET_HDR = 12;

export type Mac = Uint8Array;

const MAC_RE = /^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/i;

/** `00:16:3e:12:34:56` -> 6 bytes; throws on anything else. */
export function parseMac(s: string): Mac {
  if (!MAC_RE.test(s)) throw new RangeError(`invalid MAC '${s}' (expected six hex bytes such as 00:16:3e:12:34:56)`);
  return Uint8Array.from(s.split(":").map((b) => parseInt(b, 16)));
}

export function formatMac(m: Mac): string {
  return Array.from(m, (b) => b.toString(16).padStart(2, "0")).join(":");
}

export function sameMac(a: Mac, b: Mac, bAt = 0): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[bAt + i]) return false;
  return true;
}

export interface EthFrame {
  dst: Mac;
  src: Mac;
  ethertype: number;
  payload: Uint8Array;
}

export function encodeFrame(f: EthFrame): Uint8Array {
  const out = new Uint8Array(ETH_HEADER + f.payload.length);
  out.set(f.dst, 0);
  out.set(f.src, 6);
  out[12] = (f.ethertype >>> 8) & 0xff;
  out[13] = f.ethertype & 0xff;
  out.set(f.payload, ETH_HEADER);
  return out;
}

/** The fields of a frame (views into it), or undefined when it is shorter than a header. */
export function decodeFrame(b: Uint8Array): EthFrame | undefined {
  if (b.length < ETH_HEADER) return undefined;
  return { dst: b.subarray(0, 6), src: b.subarray(6, 12), ethertype: (b[12]! << 8) | b[13]!, payload: b.subarray(ETH_HEADER) };
}

/** What a driver transmits: a zeroed virtio_net_hdr_v1 (no offloads) followed by the frame. */
export function txBuffer(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(VIRTIO_NET_HDR + frame.length);
  out.set(frame, VIRTIO_NET_HDR);
  return out;
}

/** Splits a received buffer into its header's num_buffers and the frame; undefined when the
 *  buffer cannot hold a header. Offload flags are the device's business and are not checked. */
export function rxFrame(buf: Uint8Array): { numBuffers: number; frame: Uint8Array } | undefined {
  if (buf.length < VIRTIO_NET_HDR) return undefined;
  return { numBuffers: buf[10]! | (buf[11]! << 8), frame: buf.subarray(VIRTIO_NET_HDR) };
}
