// virtio-net (id 1): one queue pair, rx0 (queue 0) and tx0 (queue 1), no control queue.
// TX: the device reads header + frame from a tx chain (any descriptor split), checks the header
// and hands the frame to its backend (net-bridge.ts); used len 0. RX: posted rx chains are parked
// (deferred.ts) and filled when the backend delivers a frame: one buffer per frame, or as many as
// needed with MRG_RXBUF (num_buffers in the first header, one used entry per buffer).
import {
  VIRTIO_F_VERSION_1,
  VIRTIO_ID_NET,
  VIRTIO_NET_CONFIG_MAC,
  VIRTIO_NET_CONFIG_MAX_VIRTQUEUE_PAIRS,
  VIRTIO_NET_CONFIG_MTU,
  VIRTIO_NET_CONFIG_STATUS,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_S_LINK_UP,
} from "../wasm/layout.ts";
import { DEFERRED, type DeferringDevice, type LateCompletion } from "./deferred.ts";
import { checkQueueMax } from "./device-options.ts";
import { checkTxHdr, decodeNetHdr, hasFeature, netHdrSize, type TxHdrFault } from "./net-hdr.ts";
import { completeChecksum, ETH_HLEN, ETH_OVERHEAD, formatMac, parseMac } from "./net-frame.ts";
import { RxBuffers, type PlaceResult } from "./net-rx.ts";
import { DeviceIoError, type Chain, type ChainIo, type Completion } from "./types.ts";

export const NET_RX_QUEUE = 0;
export const NET_TX_QUEUE = 1;
/** Config bytes exposed: mac, status, max_virtqueue_pairs, mtu. */
export const NET_CONFIG_SIZE = 12;

/** Where a device's transmitted frames go (a bridge port, a loopback...). */
export interface NetBackend {
  transmit(from: VirtioNet, frame: Uint8Array): void;
}

export interface VirtioNetOptions {
  /** The device's MAC (config mac), unicast: "52:54:00:12:34:56" or 6 bytes. */
  mac: string | Uint8Array;
  /** Config mtu (default 1500); frames above mtu + 18 (Ethernet header + VLAN tag) are dropped. */
  mtu?: number;
  /** Offer VIRTIO_NET_F_CSUM: complete NEEDS_CSUM checksums on tx (default false). */
  csum?: boolean;
  /** Frames held while the guest has no usable rx buffer (default 0: drop at once), like a
   *  tap device's queue. */
  rxBacklog?: number;
  /** QueueNumMax (default 256). */
  queueMax?: number;
}

/** Why a frame or buffer was dropped; each has a counter in NetStats.drops. */
export type NetDrop =
  | TxHdrFault
  /** E20: a tx chain with device-writable segments (tx buffers are device-readable only). */
  | "txBadChain"
  /** Fewer readable bytes than one header. */
  | "txShortHeader"
  /** A frame shorter than an Ethernet header (14 bytes). */
  | "txRunt"
  /** A frame longer than mtu + 18. */
  | "txOversize"
  /** The transport could not read the chain. */
  | "txIoError"
  /** No backend attached: the frame goes nowhere. */
  | "txNoBackend"
  /** E20 on rx, or an rx buffer smaller than the header: completed with 0 bytes (not a frame). */
  | "rxBadBuffer"
  /** No usable rx buffer posted (and the backlog full, or reset while waiting). */
  | "rxNoBuffer"
  /** Without MRG_RXBUF, the next rx buffer cannot hold header + frame (the buffer stays posted). */
  | "rxBufferTooSmall"
  /** A delivered frame longer than this device's mtu + 18. */
  | "rxOversize"
  /** The transport could not write an rx buffer. */
  | "rxIoError";

export interface NetStats {
  txFrames: number;
  /** Frame bytes sent (headers excluded). */
  txBytes: number;
  rxFrames: number;
  rxBytes: number;
  /** rx buffers used for delivered frames (rxFrames without MRG_RXBUF). */
  rxBuffers: number;
  /** Frames that waited in the backlog for a buffer. */
  rxBacklogged: number;
  drops: Record<NetDrop, number>;
}

function zeroDrops(): Record<NetDrop, number> {
  return {
    txBadGso: 0, txCsumNotNegotiated: 0, txBadCsumOffsets: 0, txBadChain: 0, txShortHeader: 0, txRunt: 0,
    txOversize: 0, txIoError: 0, txNoBackend: 0, rxBadBuffer: 0, rxNoBuffer: 0, rxBufferTooSmall: 0,
    rxOversize: 0, rxIoError: 0,
  };
}

export class VirtioNet implements DeferringDevice {
  readonly deviceId = VIRTIO_ID_NET;
  readonly features: bigint;
  readonly numQueues = 2;
  readonly queueMax: number;
  readonly config = new Uint8Array(NET_CONFIG_SIZE);
  readonly mac: Uint8Array;
  readonly mtu: number;
  /** Longest frame sent or accepted: mtu + Ethernet header + one VLAN tag. */
  readonly maxFrame: number;
  readonly rxBacklog: number;
  readonly stats: NetStats = { txFrames: 0, txBytes: 0, rxFrames: 0, rxBytes: 0, rxBuffers: 0, rxBacklogged: 0, drops: zeroDrops() };
  onCompletions: (() => void) | null = null;

  private driverFeatures = 0n;
  private hdrSize: number;
  private readonly rx: RxBuffers;
  private backlog: Uint8Array[] = [];
  private backend: NetBackend | null = null;
  private inHandle = false;

  constructor(opts: VirtioNetOptions) {
    this.mac = parseMac(opts.mac, "virtio-net");
    const mtu = opts.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535 - ETH_OVERHEAD) {
      throw new RangeError(`virtio-net ${formatMac(this.mac)}: mtu must be an integer in 68..${65535 - ETH_OVERHEAD}, got ${mtu}`);
    }
    this.mtu = mtu;
    this.maxFrame = mtu + ETH_OVERHEAD;
    const backlog = opts.rxBacklog ?? 0;
    if (!Number.isInteger(backlog) || backlog < 0) {
      throw new RangeError(`virtio-net ${formatMac(this.mac)}: rxBacklog must be a non-negative integer, got ${backlog}`);
    }
    this.rxBacklog = backlog;
    this.queueMax = checkQueueMax(opts.queueMax ?? 256, `virtio-net ${formatMac(this.mac)}`);
    let f = 0n;
    const bits = [VIRTIO_F_VERSION_1, VIRTIO_NET_F_MAC, VIRTIO_NET_F_MTU, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_STATUS];
    if (opts.csum) bits.push(VIRTIO_NET_F_CSUM);
    for (const b of bits) f |= 1n << BigInt(b);
    this.features = f;

    this.config.set(this.mac, VIRTIO_NET_CONFIG_MAC);
    const dv = new DataView(this.config.buffer);
    dv.setUint16(VIRTIO_NET_CONFIG_STATUS, VIRTIO_NET_S_LINK_UP, true);
    dv.setUint16(VIRTIO_NET_CONFIG_MAX_VIRTQUEUE_PAIRS, 1, true);
    dv.setUint16(VIRTIO_NET_CONFIG_MTU, mtu, true);

    this.hdrSize = netHdrSize(0n);
    this.rx = new RxBuffers(NET_RX_QUEUE, this.hdrSize, false);
  }

  /** Header size for the negotiated features (12, or 10 for a legacy driver). */
  get headerSize(): number {
    return this.hdrSize;
  }

  get negotiatedFeatures(): bigint {
    return this.driverFeatures;
  }

  /** rx buffers parked and not yet used. */
  get rxPosted(): number {
    return this.rx.posted;
  }

  /** Frames waiting for rx buffers. */
  get rxWaiting(): number {
    return this.backlog.length;
  }

  attach(backend: NetBackend): void {
    if (this.backend && this.backend !== backend) throw new Error(`virtio-net ${formatMac(this.mac)} is already attached to a backend`);
    this.backend = backend;
  }

  detach(): void {
    this.backend = null;
  }

  negotiated(features: bigint): void {
    if ((features & ~this.features) !== 0n) {
      // The transport refuses FEATURES_OK for unoffered bits (E23); reaching here is a host bug.
      throw new Error(`virtio-net ${formatMac(this.mac)}: negotiated features 0x${features.toString(16)} include unoffered bits`);
    }
    this.driverFeatures = features;
    this.hdrSize = netHdrSize(features);
    this.rx.configure(this.hdrSize, hasFeature(features, VIRTIO_NET_F_MRG_RXBUF));
  }

  handle(q: number, chain: Chain, io: ChainIo): Completion {
    this.inHandle = true;
    try {
      if (q === NET_RX_QUEUE) return this.postRx(chain, io);
      if (q === NET_TX_QUEUE) return this.transmit(chain, io);
      throw new RangeError(`virtio-net has queues 0 (rx) and 1 (tx), handle() got queue ${q}`);
    } finally {
      this.inHandle = false;
    }
  }

  takeCompletions(): LateCompletion[] {
    return this.rx.take();
  }

  /** A frame from the backend for this guest. Returns false when it was dropped (counted). */
  receive(frame: Uint8Array): boolean {
    if (frame.length < ETH_HLEN) throw new RangeError(`virtio-net ${formatMac(this.mac)}: receive() needs a frame of at least ${ETH_HLEN} bytes, got ${frame.length}`);
    if (frame.length > this.maxFrame) return this.drop("rxOversize");
    if (this.backlog.length > 0) return this.enqueue(frame);
    const kind = this.deliver(frame);
    const ok = kind === "wait" ? this.enqueue(frame) : kind === "placed";
    this.signal();
    return ok;
  }

  reset(): void {
    this.driverFeatures = 0n;
    this.hdrSize = netHdrSize(0n);
    this.rx.clear();
    this.rx.configure(this.hdrSize, false);
    this.stats.drops.rxNoBuffer += this.backlog.length;
    this.backlog = [];
  }

  private postRx(chain: Chain, io: ChainIo): Completion {
    const bad = chain.readable > 0 || chain.writable < this.hdrSize;
    if (bad) this.stats.drops.rxBadBuffer++;
    this.rx.post(chain, io, bad);
    if (!bad) this.drainBacklog();
    return DEFERRED;
  }

  private transmit(chain: Chain, io: ChainIo): Completion {
    if (chain.writable > 0) return this.dropTx("txBadChain");
    if (chain.readable < this.hdrSize) return this.dropTx("txShortHeader");
    const frameLen = chain.readable - this.hdrSize;
    if (frameLen < ETH_HLEN) return this.dropTx("txRunt");
    if (frameLen > this.maxFrame) return this.dropTx("txOversize"); // checked before reading: bounded allocation
    let bytes: Uint8Array;
    try {
      bytes = io.read(0, chain.readable);
    } catch (e) {
      if (!(e instanceof DeviceIoError)) throw e;
      return this.dropTx("txIoError");
    }
    const hdr = decodeNetHdr(bytes, this.hdrSize);
    const fault = checkTxHdr(hdr, frameLen, this.driverFeatures);
    if (fault) return this.dropTx(fault);
    // Own copy: the transport's bytes may be a transient view, and the checksum is filled in.
    const frame = bytes.slice(this.hdrSize, this.hdrSize + frameLen);
    if (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) completeChecksum(frame, hdr.csumStart, hdr.csumOffset);
    if (!this.backend) return this.dropTx("txNoBackend");
    this.stats.txFrames++;
    this.stats.txBytes += frameLen;
    this.backend.transmit(this, frame);
    return { written: 0 };
  }

  private dropTx(why: NetDrop): Completion {
    this.stats.drops[why]++;
    return { written: 0 };
  }

  private drop(why: NetDrop): false {
    this.stats.drops[why]++;
    return false;
  }

  /** Places a frame and counts the outcome; "wait" means no usable buffer yet. */
  private deliver(frame: Uint8Array): PlaceResult["kind"] {
    const r = this.rx.place(frame);
    if (r.kind === "placed") {
      this.stats.rxFrames++;
      this.stats.rxBytes += frame.length;
      this.stats.rxBuffers += r.buffers;
    } else if (r.kind === "tooSmall") {
      this.stats.drops.rxBufferTooSmall++;
    } else if (r.kind === "ioError") {
      this.stats.drops.rxIoError++;
    }
    return r.kind;
  }

  private enqueue(frame: Uint8Array): boolean {
    if (this.backlog.length >= this.rxBacklog) return this.drop("rxNoBuffer");
    this.backlog.push(frame);
    this.stats.rxBacklogged++;
    return true;
  }

  private drainBacklog(): void {
    while (this.backlog.length > 0 && this.deliver(this.backlog[0]!) !== "wait") this.backlog.shift();
  }

  private signal(): void {
    if (!this.inHandle && this.rx.hasCompletions && this.onCompletions) this.onCompletions();
  }
}
