// The contract between virtio devices and the transports that carry them. A device never
// knows which transport it runs on: it sees chains of segments and reaches their bytes only
// through the ChainIo the transport hands it (which maps, copies or reads in place, and counts).

import type { DmaAddr } from "../virtio/dma-addr.ts";

/** One buffer of a chain, as the descriptor named it (`addr` is transport-defined: a gpa, a
 *  grant DMA address with bit 63 set, a pool offset...; a u64, exact: see dma-addr.ts). */
export interface Segment {
  addr: DmaAddr;
  len: number;
  /** Device-writable (VRING_DESC_F_WRITE). */
  write: boolean;
}

/** A chain popped from a virtqueue. */
export interface Chain {
  /** Split: head index; packed: buffer id. */
  id: number;
  segs: Segment[];
  /** Device-readable bytes (sum of readable segment lengths). */
  readable: number;
  /** Device-writable bytes. */
  writable: number;
}

/** Byte access to one chain, provided by the transport for the duration of one request. */
export interface ChainIo {
  /** `len` bytes of the chain's readable part starting at `offset` (offsets run over the
   *  readable segments in order). Throws DeviceIoError when the transport cannot reach them. */
  read(offset: number, len: number): Uint8Array;
  /** Writes `data` into the chain's writable part at `offset`; returns bytes written. */
  write(offset: number, data: Uint8Array): number;
  /** The same moves done by a physical device's DMA (blkback handing pages to a disk): the
   *  bytes go to the same frames, but no CPU walk sets the backend mapping's accessed or dirty
   *  bit. Absent where the transport's ChainIo has no mapping to spare (copies). */
  dmaRead?(offset: number, len: number): Uint8Array;
  dmaWrite?(offset: number, data: Uint8Array): number;
}

/** The transport could not reach a buffer (refused mapping, bad grant): the device answers
 *  with its error status (blk IOERR) or drops the request, as the spec says for that device. */
export class DeviceIoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeviceIoError";
  }
}

/** What a device reports after handling one chain. */
export interface Completion {
  /** Bytes written into the writable part: the used element's `len`. */
  written: number;
}

export interface VirtioDevice {
  /** virtio device id (net 1, block 2, entropy 4). */
  readonly deviceId: number;
  /** Feature bits the device offers (bit numbers as in the spec; bigint for bits >= 32). */
  readonly features: bigint;
  readonly numQueues: number;
  /** Largest queue size the device accepts (QueueNumMax). */
  readonly queueMax: number;
  /** Device-specific configuration space (little-endian), read by the driver. */
  readonly config: Uint8Array;
  /** Called once the driver has set FEATURES_OK with these features. */
  negotiated(features: bigint): void;
  /** Handles one chain popped from queue `q`. Must not write more than chain.writable bytes. */
  handle(q: number, chain: Chain, io: ChainIo): Completion;
  /** Device reset (status 0): drops all per-queue state. */
  reset(): void;
}
