// One xenstored connection: a domain's ring (its kernel xenbus driver) or a dom0 socket
// (the toolstack, user-space backends). Holds the connection's watches, open transactions,
// the bytes received but not yet parsed, the messages not yet written out, and its traffic.
import type { StoreRing } from "./xenstore-ring.ts";
import type { XsTransaction } from "./xenstore-tree.ts";

export interface XsWatch {
  /** Absolute path or special name. */
  readonly path: string;
  readonly token: string;
  /** Registered with a relative path: events name paths relative to the domain's home. */
  readonly relative: boolean;
}

/** Traffic of one connection, in the wire's framing (16-byte header + payload). */
export interface XsConnStats {
  /** Requests received. */
  reqMsgs: number;
  reqBytes: number;
  /** Replies and watch events sent. */
  rspMsgs: number;
  rspBytes: number;
  /** Watch events among rspMsgs (queued). */
  events: number;
  /** Event-channel kicks guest -> xenstored and xenstored -> guest (ring connections). */
  notifyToServer: number;
  notifyToGuest: number;
}

export const emptyStats = (): XsConnStats => ({
  reqMsgs: 0, reqBytes: 0, rspMsgs: 0, rspBytes: 0, events: 0, notifyToServer: 0, notifyToGuest: 0,
});

export interface XsTraceEntry {
  conn: number;
  domid: number;
  dir: "req" | "rsp";
  type: number;
  reqId: number;
  txId: number;
  /** Payload length (the message is 16 bytes more on the wire). */
  len: number;
}

interface OutMsg {
  bytes: Uint8Array;
  /** Bytes already written to the ring. */
  off: number;
}

export class XsConnection {
  readonly id: number;
  readonly domid: number;
  readonly kind: "ring" | "socket";
  readonly ring: StoreRing | undefined;
  /** The store event channel: the guest's port, as the toolstack named it in INTRODUCE (0 for
   *  sockets and for "no channel"), and xenstored's local end bound to it (0 = not bound). */
  port: number;
  serverPort = 0;
  readonly watches: XsWatch[] = [];
  readonly txs = new Map<number, XsTransaction>();
  nextTxId = 1;
  /** Received bytes not yet forming a whole message. */
  inBuf = new Uint8Array(0);
  readonly out: OutMsg[] = [];
  /** XS_ERROR_* once xenstored gave up on the connection (ring index or protocol error). */
  error = 0;
  closed = false;
  readonly stats: XsConnStats = emptyStats();

  constructor(id: number, domid: number, ring?: StoreRing, port = 0) {
    this.id = id;
    this.domid = domid;
    this.kind = ring ? "ring" : "socket";
    this.ring = ring;
    this.port = port;
  }

  appendInput(bytes: Uint8Array): void {
    const b = new Uint8Array(this.inBuf.length + bytes.length);
    b.set(this.inBuf);
    b.set(bytes, this.inBuf.length);
    this.inBuf = b;
  }

  queue(bytes: Uint8Array): void {
    this.out.push({ bytes, off: 0 });
  }

  /** Socket delivery: everything queued, whole messages. */
  drainOut(): Uint8Array[] {
    const msgs = this.out.map((m) => m.bytes.subarray(m.off));
    this.out.length = 0;
    return msgs;
  }
}
