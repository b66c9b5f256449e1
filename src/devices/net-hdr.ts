// The virtio-net packet header (virtio_net_hdr_v1, or the 10-byte legacy header): decoding on
// tx, encoding on rx, and the device's checks of a driver's tx header.
import {
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_UFO,
  VIRTIO_NET_F_HOST_USO,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  VIRTIO_NET_HDR_SIZE,
  VIRTIO_NET_HDR_V1_CSUM_OFFSET,
  VIRTIO_NET_HDR_V1_CSUM_START,
  VIRTIO_NET_HDR_V1_FLAGS,
  VIRTIO_NET_HDR_V1_GSO_SIZE,
  VIRTIO_NET_HDR_V1_GSO_TYPE,
  VIRTIO_NET_HDR_V1_HDR_LEN,
  VIRTIO_NET_HDR_V1_NUM_BUFFERS,
  VIRTIO_NET_HDR_V1_SIZE,
} from "../wasm/layout.ts";

export interface NetHdr {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
  /** 0 for the 10-byte legacy header, which has no such field. */
  numBuffers: number;
}

export function hasFeature(features: bigint, bit: number): boolean {
  return ((features >> BigInt(bit)) & 1n) === 1n;
}

/** Header size for these negotiated features: 12 bytes with VERSION_1 or MRG_RXBUF, else the
 *  legacy 10 (spec 5.1.6, "legacy interface"). */
export function netHdrSize(features: bigint): number {
  return hasFeature(features, VIRTIO_F_VERSION_1) || hasFeature(features, VIRTIO_NET_F_MRG_RXBUF) ? VIRTIO_NET_HDR_V1_SIZE : VIRTIO_NET_HDR_SIZE;
}

/** Reads a header of `size` bytes (10 or 12) from the start of `b`. */
export function decodeNetHdr(b: Uint8Array, size: number): NetHdr {
  const dv = new DataView(b.buffer, b.byteOffset, size);
  return {
    flags: dv.getUint8(VIRTIO_NET_HDR_V1_FLAGS),
    gsoType: dv.getUint8(VIRTIO_NET_HDR_V1_GSO_TYPE),
    hdrLen: dv.getUint16(VIRTIO_NET_HDR_V1_HDR_LEN, true),
    gsoSize: dv.getUint16(VIRTIO_NET_HDR_V1_GSO_SIZE, true),
    csumStart: dv.getUint16(VIRTIO_NET_HDR_V1_CSUM_START, true),
    csumOffset: dv.getUint16(VIRTIO_NET_HDR_V1_CSUM_OFFSET, true),
    numBuffers: size > VIRTIO_NET_HDR_V1_NUM_BUFFERS ? dv.getUint16(VIRTIO_NET_HDR_V1_NUM_BUFFERS, true) : 0,
  };
}

/** Writes a header into the first `size` bytes of `out`. */
export function encodeNetHdr(out: Uint8Array, size: number, h: NetHdr): void {
  const dv = new DataView(out.buffer, out.byteOffset, size);
  dv.setUint8(VIRTIO_NET_HDR_V1_FLAGS, h.flags);
  dv.setUint8(VIRTIO_NET_HDR_V1_GSO_TYPE, h.gsoType);
  dv.setUint16(VIRTIO_NET_HDR_V1_HDR_LEN, h.hdrLen, true);
  dv.setUint16(VIRTIO_NET_HDR_V1_GSO_SIZE, h.gsoSize, true);
  dv.setUint16(VIRTIO_NET_HDR_V1_CSUM_START, h.csumStart, true);
  dv.setUint16(VIRTIO_NET_HDR_V1_CSUM_OFFSET, h.csumOffset, true);
  if (size > VIRTIO_NET_HDR_V1_NUM_BUFFERS) dv.setUint16(VIRTIO_NET_HDR_V1_NUM_BUFFERS, h.numBuffers, true);
}

/** Why a tx header is refused (the frame is dropped and counted under this name). */
export type TxHdrFault =
  /** gso_type other than NONE without the matching HOST_* feature, unknown, or with gso_size 0. */
  | "txBadGso"
  /** NEEDS_CSUM set although CSUM was not negotiated (the driver must then send flags 0). */
  | "txCsumNotNegotiated"
  /** NEEDS_CSUM with csum_start/csum_offset pointing outside the frame. */
  | "txBadCsumOffsets";

// HOST_* feature each tx gso type needs.
const GSO_FEATURE: ReadonlyMap<number, number> = new Map([
  [VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_F_HOST_TSO4],
  [VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_F_HOST_TSO6],
  [VIRTIO_NET_HDR_GSO_UDP, VIRTIO_NET_F_HOST_UFO],
  [VIRTIO_NET_HDR_GSO_UDP_L4, VIRTIO_NET_F_HOST_USO],
]);

/** The device's checks of a tx header for a frame of `frameLen` bytes. hdr_len is never used
 *  (the spec says not to trust it); flag bits other than NEEDS_CSUM are ignored; num_buffers
 *  is ignored on tx. Returns null when the header is acceptable. */
export function checkTxHdr(h: NetHdr, frameLen: number, features: bigint): TxHdrFault | null {
  if (h.gsoType !== VIRTIO_NET_HDR_GSO_NONE) {
    const base = h.gsoType & ~VIRTIO_NET_HDR_GSO_ECN;
    const need = GSO_FEATURE.get(base);
    if (need === undefined || !hasFeature(features, need) || h.gsoSize === 0) return "txBadGso";
    if ((h.gsoType & VIRTIO_NET_HDR_GSO_ECN) !== 0 && !hasFeature(features, VIRTIO_NET_F_HOST_ECN)) return "txBadGso";
  }
  if ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0) {
    if (!hasFeature(features, VIRTIO_NET_F_CSUM)) return "txCsumNotNegotiated";
    if (h.csumStart + h.csumOffset + 2 > frameLen) return "txBadCsumOffsets";
  }
  return null;
}
