// The client side of a xenstore connection: a guest kernel's xenbus driver on its ring, or a
// dom0 process on a socket. Each call frames one request, puts it on the connection (in
// pieces when the ring is short of room), lets xenstored run, and reads replies and watch
// events back; events are kept until a driver takes them.
//
// On a ring the guest notifies xenstored after producing requests, and after consuming
// replies only when the ring had been full (xenstored may be waiting for room) — as Linux
// xenbus does.
import type { Xenstore } from "./xenstore.ts";
import type { XsConnection, XsConnStats } from "./xenstore-conn.ts";
import { formatPerm, type Perm } from "./xenstore-path.ts";
import {
  XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_SIZE, XS_DIRECTORY, XS_ERROR, XS_GET_DOMAIN_PATH, XS_GET_PERMS,
  XS_INTRODUCE, XS_IS_DOMAIN_INTRODUCED, XS_MKDIR, XS_READ, XS_RELEASE, XS_RESET_WATCHES, XS_RM,
  XS_SET_PERMS, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_UNWATCH, XS_WATCH, XS_WATCH_EVENT, XS_WRITE,
  decodeHeader, encodeMessage, pathValue, splitStrings, strings, text, utf8, xsErr, xsOk,
  type XsErrorName, type XsMessage, type XsResult,
} from "./xenstore-wire.ts";
import { XENSTORE_DOMAIN_INTERFACE_ERROR, XENSTORE_RING_SIZE } from "../wasm/layout.ts";

export interface XsWatchEvent {
  /** As registered: relative to the domain's home for a relative watch. */
  path: string;
  token: string;
}

export class XsClient {
  readonly store: Xenstore;
  readonly conn: XsConnection;
  /** Watch events received and not yet taken. */
  readonly events: XsWatchEvent[] = [];
  private rx = new Uint8Array(0);
  private readonly replies: XsMessage[] = [];
  private nextReqId = 1;

  constructor(store: Xenstore, conn: XsConnection) {
    this.store = store;
    this.conn = conn;
  }

  get domid(): number {
    return this.conn.domid;
  }

  /** The connection's traffic (a copy). */
  get stats(): XsConnStats {
    return { ...this.conn.stats };
  }

  // ---- the wire --------------------------------------------------------------------------

  /** One request/reply exchange. Payloads above XENSTORE_PAYLOAD_MAX are refused here with
   *  E2BIG, as libxenstore and Linux do, without touching the ring; a connection xenstored
   *  gave up on (or released) answers EIO. */
  request(type: number, payload: Uint8Array, txId = 0): XsResult<Uint8Array> {
    if (payload.length > XENSTORE_PAYLOAD_MAX) return xsErr("E2BIG");
    if (this.conn.closed) return xsErr("EIO");
    const reqId = this.nextReqId;
    this.nextReqId = (this.nextReqId + 1) >>> 0;
    const msg = encodeMessage(type, reqId, txId, payload);
    let off = 0;
    for (;;) {
      let progress = false;
      if (off < msg.length) {
        const n = this.put(msg, off);
        if (n < 0) return xsErr("EIO");
        if (n > 0) progress = true;
        off += n;
      }
      this.store.service(this.conn);
      const got = this.take();
      if (got === undefined) return xsErr("EIO");
      if (got.length > 0) {
        progress = true;
        this.receive(got);
      }
      const i = this.replies.findIndex((r) => r.reqId === reqId);
      if (i >= 0) {
        const r = this.replies.splice(i, 1)[0]!;
        if (r.type === XS_ERROR) return xsErr(text(r.payload.subarray(0, Math.max(0, r.payload.length - 1))) as XsErrorName);
        return r.type === type ? xsOk(r.payload) : xsErr("EIO");
      }
      if (!progress || this.broken()) return xsErr("EIO");
    }
  }

  /** Reads whatever xenstored has sent (watch events); returns how many events arrived. */
  poll(): number {
    const before = this.events.length;
    while (!this.conn.closed) {
      this.store.service(this.conn);
      const got = this.take();
      if (!got || got.length === 0) break;
      this.receive(got);
    }
    return this.events.length - before;
  }

  /** Removes and returns the received events (only those with `token`, when given). */
  takeEvents(token?: string): XsWatchEvent[] {
    const out: XsWatchEvent[] = [];
    for (let i = 0; i < this.events.length; ) {
      if (token === undefined || this.events[i]!.token === token) out.push(...this.events.splice(i, 1));
      else i++;
    }
    return out;
  }

  private put(bytes: Uint8Array, off: number): number {
    if (this.conn.kind === "socket") {
      this.conn.appendInput(bytes.subarray(off));
      return bytes.length - off;
    }
    const n = this.conn.ring!.guestPut(bytes, off);
    if (n > 0) this.store.notifyServer(this.conn);
    return n;
  }

  private take(): Uint8Array | undefined {
    if (this.conn.kind === "socket") {
      const parts = this.conn.drainOut();
      const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return out;
    }
    const got = this.conn.ring!.guestTake();
    if (got && got.length === XENSTORE_RING_SIZE) this.store.notifyServer(this.conn);
    return got;
  }

  /** xenstored reports a connection it gave up on in the page's error field. */
  private broken(): boolean {
    if (this.conn.closed) return true;
    if (this.conn.kind === "socket") return this.conn.error !== 0;
    return this.conn.ring!.readField("guest", XENSTORE_DOMAIN_INTERFACE_ERROR) !== 0;
  }

  private receive(bytes: Uint8Array): void {
    const b = new Uint8Array(this.rx.length + bytes.length);
    b.set(this.rx);
    b.set(bytes, this.rx.length);
    let off = 0;
    while (b.length - off >= XSD_SOCKMSG_SIZE) {
      const h = decodeHeader(b.subarray(off));
      if (b.length - off < XSD_SOCKMSG_SIZE + h.len) break;
      const payload = b.slice(off + XSD_SOCKMSG_SIZE, off + XSD_SOCKMSG_SIZE + h.len);
      off += XSD_SOCKMSG_SIZE + h.len;
      if (h.type === XS_WATCH_EVENT) {
        const s = splitStrings(payload);
        if (s && s.length >= 2) this.events.push({ path: s[0]!, token: s[1]! });
      } else {
        this.replies.push({ ...h, payload });
      }
    }
    this.rx = b.slice(off);
  }

  // ---- operations ------------------------------------------------------------------------

  read(path: string, tx = 0): XsResult<string> {
    const r = this.request(XS_READ, strings(path), tx);
    return r.ok ? xsOk(text(r.value)) : r;
  }

  write(path: string, value: string | Uint8Array, tx = 0): XsResult<void> {
    return done(this.request(XS_WRITE, pathValue(path, typeof value === "string" ? utf8(value) : value), tx));
  }

  mkdir(path: string, tx = 0): XsResult<void> {
    return done(this.request(XS_MKDIR, strings(path), tx));
  }

  rm(path: string, tx = 0): XsResult<void> {
    return done(this.request(XS_RM, strings(path), tx));
  }

  directory(path: string, tx = 0): XsResult<string[]> {
    const r = this.request(XS_DIRECTORY, strings(path), tx);
    return r.ok ? xsOk(splitStrings(r.value) ?? []) : r;
  }

  /** The ACL as strings ("n1", "r0", ...), owner first. */
  getPerms(path: string, tx = 0): XsResult<string[]> {
    const r = this.request(XS_GET_PERMS, strings(path), tx);
    return r.ok ? xsOk(splitStrings(r.value) ?? []) : r;
  }

  setPerms(path: string, perms: (string | Perm)[], tx = 0): XsResult<void> {
    const acl = perms.map((p) => (typeof p === "string" ? p : formatPerm(p)));
    return done(this.request(XS_SET_PERMS, strings(path, ...acl), tx));
  }

  watch(path: string, token: string): XsResult<void> {
    return done(this.request(XS_WATCH, strings(path, token)));
  }

  unwatch(path: string, token: string): XsResult<void> {
    return done(this.request(XS_UNWATCH, strings(path, token)));
  }

  resetWatches(): XsResult<void> {
    return done(this.request(XS_RESET_WATCHES, strings("")));
  }

  transactionStart(): XsResult<number> {
    const r = this.request(XS_TRANSACTION_START, strings(""));
    return r.ok ? xsOk(Number(splitStrings(r.value)?.[0])) : r;
  }

  transactionEnd(tx: number, commit: boolean): XsResult<void> {
    return done(this.request(XS_TRANSACTION_END, strings(commit ? "T" : "F"), tx));
  }

  /** Runs `body` in a transaction, retrying on EAGAIN; an error from the body aborts. */
  transaction<T>(body: (tx: number) => XsResult<T>, attempts = 16): XsResult<T> {
    for (let i = 0; i < attempts; i++) {
      const t = this.transactionStart();
      if (!t.ok) return t;
      const r = body(t.value);
      if (!r.ok) {
        this.transactionEnd(t.value, false);
        return r;
      }
      const e = this.transactionEnd(t.value, true);
      if (e.ok) return r;
      if (e.error !== "EAGAIN") return e;
    }
    return xsErr("EAGAIN");
  }

  getDomainPath(domid: number): XsResult<string> {
    const r = this.request(XS_GET_DOMAIN_PATH, strings(String(domid)));
    return r.ok ? xsOk(splitStrings(r.value)?.[0] ?? "") : r;
  }

  introduce(domid: number, gfn: number, port: number): XsResult<void> {
    return done(this.request(XS_INTRODUCE, strings(String(domid), String(gfn), String(port))));
  }

  release(domid: number): XsResult<void> {
    return done(this.request(XS_RELEASE, strings(String(domid))));
  }

  isDomainIntroduced(domid: number): XsResult<boolean> {
    const r = this.request(XS_IS_DOMAIN_INTRODUCED, strings(String(domid)));
    return r.ok ? xsOk(splitStrings(r.value)?.[0] === "T") : r;
  }
}

function done(r: XsResult<unknown>): XsResult<void> {
  return r.ok ? xsOk(undefined) : r;
}
