// The receive side of virtio-net: rx buffers the driver posted, parked in posting order until a
// frame arrives, and the placement of one frame into them (one buffer, or several with
// MRG_RXBUF). Completions are collected in push order for takeCompletions().
import { VIRTIO_NET_HDR_GSO_NONE } from "../wasm/layout.ts";
import type { LateCompletion } from "./deferred.ts";
import { encodeNetHdr } from "./net-hdr.ts";
import { DeviceIoError, type Chain, type ChainIo } from "./types.ts";

interface Parked {
  chain: Chain;
  io: ChainIo;
  /** Unusable (readable segments, or smaller than the header): completed with 0 bytes as soon
   *  as it reaches the head, so used entries keep posting order (IN_ORDER-safe). */
  bad: boolean;
}

export type PlaceResult =
  | { kind: "placed"; buffers: number }
  /** Not enough usable buffers posted yet: the frame may wait. */
  | { kind: "wait" }
  /** Without MRG_RXBUF, the head buffer cannot hold header + frame: drop the frame, keep the buffer. */
  | { kind: "tooSmall" }
  /** The transport could not reach a buffer: the buffers taken are completed with 0 bytes. */
  | { kind: "ioError" };

export class RxBuffers {
  private parked: Parked[] = [];
  private head = 0; // index of the oldest parked buffer (array compacted lazily)
  private done: LateCompletion[] = [];

  private readonly q: number;
  /** Header size in bytes (10 or 12) and whether one frame may span buffers. */
  private hdrSize: number;
  private mergeable: boolean;

  constructor(q: number, hdrSize: number, mergeable: boolean) {
    this.q = q;
    this.hdrSize = hdrSize;
    this.mergeable = mergeable;
  }

  configure(hdrSize: number, mergeable: boolean): void {
    this.hdrSize = hdrSize;
    this.mergeable = mergeable;
  }

  get posted(): number {
    return this.parked.length - this.head;
  }

  get hasCompletions(): boolean {
    return this.done.length > 0;
  }

  post(chain: Chain, io: ChainIo, bad: boolean): void {
    this.parked.push({ chain, io, bad });
    this.flushBadHead();
  }

  take(): LateCompletion[] {
    const out = this.done;
    this.done = [];
    return out;
  }

  /** Forgets every parked buffer and pending completion (device reset). */
  clear(): void {
    this.parked = [];
    this.head = 0;
    this.done = [];
  }

  /** Writes header + frame into the oldest usable buffer(s). */
  place(frame: Uint8Array): PlaceResult {
    const total = this.hdrSize + frame.length;
    // Usable buffers from the head, up to the first bad one (a packet's buffers must be
    // consecutive used entries, so it cannot skip over a bad one).
    let k = 0;
    let room = 0;
    const limit = this.mergeable ? this.posted : Math.min(1, this.posted);
    while (k < limit && room < total) {
      const p = this.parked[this.head + k]!;
      if (p.bad) break;
      room += p.chain.writable;
      k++;
    }
    if (k === 0) return { kind: "wait" };
    if (room < total) return this.mergeable ? { kind: "wait" } : { kind: "tooSmall" };

    const packet = new Uint8Array(total);
    encodeNetHdr(packet, this.hdrSize, {
      flags: 0, // frames are complete (the sender's device filled any checksum); no GUEST_CSUM
      gsoType: VIRTIO_NET_HDR_GSO_NONE,
      hdrLen: 0,
      gsoSize: 0,
      csumStart: 0,
      csumOffset: 0,
      numBuffers: k,
    });
    packet.set(frame, this.hdrSize);

    const taken = this.parked.slice(this.head, this.head + k);
    this.head += k;
    const lens: number[] = [];
    let ioError = false;
    let off = 0;
    for (const p of taken) {
      const part = packet.subarray(off, off + Math.min(p.chain.writable, total - off));
      off += part.length;
      try {
        lens.push(p.io.write(0, part));
      } catch (e) {
        if (!(e instanceof DeviceIoError)) throw e;
        ioError = true;
        break;
      }
    }
    // On an unreachable buffer the whole packet is void: every buffer it took is used with
    // 0 bytes, which the driver discards as too short to hold a header.
    taken.forEach((p, i) => this.done.push({ q: this.q, chain: p.chain, written: ioError ? 0 : lens[i]! }));
    this.flushBadHead();
    return ioError ? { kind: "ioError" } : { kind: "placed", buffers: k };
  }

  private flushBadHead(): void {
    while (this.head < this.parked.length && this.parked[this.head]!.bad) {
      this.done.push({ q: this.q, chain: this.parked[this.head]!.chain, written: 0 });
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.parked.length) {
      this.parked = this.parked.slice(this.head);
      this.head = 0;
    }
  }
}
