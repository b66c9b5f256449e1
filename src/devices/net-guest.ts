// The guest's virtio-net driver on top of the generic virtio driver, as Linux's virtio_net does
// it without offloads: one tx buffer per frame (virtio_net_hdr_v1 then the frame, in one
// page), rx buffers of a fixed size posted ahead, and with MRG_RXBUF a received packet put
// back together from the num_buffers consecutive rx completions its first header announces.
import * as L from "../wasm/layout.ts";
import type { Machine } from "../wasm/machine.ts";
import type { Completion, VirtioDriver } from "../virtio/driver.ts";
import type { ConfigField } from "../virtio/driver-probe.ts";
import type { GuestPages } from "../virtio/guest-pages.ts";
import { NET_RX_QUEUE, NET_TX_QUEUE } from "./net.ts";

const bit = (n: number) => 1n << BigInt(n);

/** Device features this driver understands (no checksum or segmentation offloads). */
export const NET_DRIVER_FEATURES = bit(L.VIRTIO_NET_F_MAC) | bit(L.VIRTIO_NET_F_MTU) | bit(L.VIRTIO_NET_F_MRG_RXBUF) | bit(L.VIRTIO_NET_F_STATUS);

/** What the driver reads at probe: the MAC byte by byte (virtio_cread_bytes), status, mtu. */
export const NET_CONFIG_READS: ConfigField[] = [
  ...Array.from({ length: 6 }, (_, i) => ({ off: L.VIRTIO_NET_CONFIG_MAC + i, size: 1 })),
  { off: L.VIRTIO_NET_CONFIG_STATUS, size: 2 },
  { off: L.VIRTIO_NET_CONFIG_MTU, size: 2 },
];

/** virtio_net_hdr_v1 (VERSION_1 is always negotiated by the generic driver). */
export const NET_HDR_BYTES = L.VIRTIO_NET_HDR_V1_SIZE;

export interface NetTag<U = unknown> {
  q: number;
  gfn: number;
  len: number;
  user: U;
}

export type NetEvent<U> =
  | { kind: "tx"; user: U }
  /** A whole received frame (header stripped) and the rx buffers it took. */
  | { kind: "rx"; frame: Uint8Array; buffers: number }
  /** One buffer of a packet spanning several (MRG_RXBUF); the packet is not whole yet. */
  | { kind: "rx-part" };

export class NetGuest<U = unknown> {
  readonly driver: VirtioDriver<NetTag<U>>;
  readonly machine: Machine;
  readonly domid: number;
  readonly pages: GuestPages;
  /** Bytes of each rx buffer (header included). */
  readonly rxBufBytes: number;
  private rxPosted = 0;
  private partial: { want: number; parts: Uint8Array[] } | undefined;

  constructor(driver: VirtioDriver<NetTag<U>>, pages: GuestPages, rxBufBytes: number) {
    if (!Number.isInteger(rxBufBytes) || rxBufBytes <= NET_HDR_BYTES || rxBufBytes > L.PAGE_SIZE) {
      throw new RangeError(`virtio-net guest: rx buffers must hold more than the ${NET_HDR_BYTES}-byte header and fit a page, got ${rxBufBytes}`);
    }
    this.driver = driver;
    this.machine = driver.opts.machine;
    this.domid = driver.opts.domid;
    this.pages = pages;
    this.rxBufBytes = rxBufBytes;
  }

  /** The MAC read from config at probe. */
  get mac(): Uint8Array {
    const cfg = this.driver.probe?.config;
    if (!cfg || cfg.length < 6) throw new Error("virtio-net guest: mac not read (probe with NET_CONFIG_READS)");
    return cfg.slice(L.VIRTIO_NET_CONFIG_MAC, L.VIRTIO_NET_CONFIG_MAC + 6);
  }

  /** rx buffers posted and not completed. */
  get rxOutstanding(): number {
    return this.rxPosted;
  }

  /** Posts up to `n` rx buffers (one page each); returns how many fit the ring. */
  postRx(n: number, user: U): number {
    let k = 0;
    for (; k < n; k++) {
      const gfn = this.pages.alloc(1);
      const tag: NetTag<U> = { q: NET_RX_QUEUE, gfn, len: this.rxBufBytes, user };
      if (!this.driver.submit(NET_RX_QUEUE, [{ gpa: gfn * L.PAGE_SIZE, len: this.rxBufBytes, write: true }], tag)) {
        this.pages.release(gfn);
        break;
      }
    }
    this.rxPosted += k;
    return k;
  }

  /** Queues one frame (Ethernet header onwards) for transmission; false when the ring is full. */
  send(frame: Uint8Array, user: U): boolean {
    const len = NET_HDR_BYTES + frame.length;
    if (len > L.PAGE_SIZE) throw new RangeError(`virtio-net guest: a ${frame.length}-byte frame does not fit one tx page`);
    const gfn = this.pages.alloc(1);
    const buf = new Uint8Array(len); // header all zero: no offloads, num_buffers unused on tx
    buf.set(frame, NET_HDR_BYTES);
    this.machine.write(this.domid, gfn * L.PAGE_SIZE, buf);
    if (this.driver.submit(NET_TX_QUEUE, [{ gpa: gfn * L.PAGE_SIZE, len, write: false }], { q: NET_TX_QUEUE, gfn, len, user })) return true;
    this.pages.release(gfn);
    return false;
  }

  /** Takes one completion: a sent frame, a received one, or part of one. */
  complete(c: Completion<NetTag<U>>): NetEvent<U> {
    const t = c.tag;
    if (t.q === NET_TX_QUEUE) {
      this.pages.release(t.gfn);
      return { kind: "tx", user: t.user };
    }
    this.rxPosted--;
    const got = this.machine.read(this.domid, t.gfn * L.PAGE_SIZE, Math.min(c.written, t.len));
    this.pages.release(t.gfn);
    if (!this.partial) {
      if (got.length < NET_HDR_BYTES) throw new Error(`virtio-net guest: rx buffer completed with ${got.length} bytes, less than a header`);
      const want = this.driver.has(L.VIRTIO_NET_F_MRG_RXBUF) ? got[L.VIRTIO_NET_HDR_V1_NUM_BUFFERS]! | (got[L.VIRTIO_NET_HDR_V1_NUM_BUFFERS + 1]! << 8) : 1;
      if (want < 1) throw new Error("virtio-net guest: num_buffers 0 in a received header");
      this.partial = { want, parts: [got.subarray(NET_HDR_BYTES)] };
    } else this.partial.parts.push(got);
    const p = this.partial;
    if (p.parts.length < p.want) return { kind: "rx-part" };
    this.partial = undefined;
    const frame = new Uint8Array(p.parts.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of p.parts) {
      frame.set(b, at);
      at += b.length;
    }
    return { kind: "rx", frame, buffers: p.want };
  }
}
