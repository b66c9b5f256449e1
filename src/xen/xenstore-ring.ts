// The per-domain xenstore ring page (xenstore_domain_interface) in guest memory, and both
// ends' access to it. The page is a RAM frame of the guest; the guest reaches it at its gfn,
// and xenstored (in the server domain) through a foreign mapping of that frame into its own
// p2m — as real xenstored maps the page (foreign map or the reserved xenstore grant). Every
// byte moves with Machine.read/write as the domain that moves it, so rights checks and the
// machine's access counters apply.
//
// Both directions are byte streams: indices are free-running u32s masked with 1023, and a
// message larger than the free space is written in pieces as the reader makes room.
import type { Machine } from "../wasm/machine.ts";
import * as L from "../wasm/layout.ts";

/** One side's view of the page: a domain and the gfn at which it reaches the page. */
interface Side {
  domid: number;
  gfn: number;
}

const u32 = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset).getUint32(off, true);

export class StoreRing {
  readonly machine: Machine;
  readonly guest: Side;
  readonly mfn: number;
  private server: Side | undefined;

  /** The ring of `guest` at its RAM page `gfn` (populated now, as the domain builder does). */
  constructor(machine: Machine, guestDomid: number, gfn: number) {
    this.machine = machine;
    this.guest = { domid: guestDomid, gfn };
    this.mfn = machine.populate(guestDomid, gfn);
  }

  /** Maps the page into the server domain (xenstored's side). Idempotent. Returns false when
   *  the server domain has no free gfn or does not exist. */
  connectServer(serverDomid: number): boolean {
    if (this.server) return true;
    if (!this.machine.domainExists(serverDomid)) return false;
    if (serverDomid === this.guest.domid) {
      this.server = { ...this.guest };
      return true;
    }
    // Map from the top of the server's p2m down, out of the way of grant/foreign windows
    // other subsystems allocate upwards from the end of RAM.
    const info = this.machine.domainInfo(serverDomid);
    for (let gfn = info.maxGfn - 1; gfn >= info.ramPages; gfn--) {
      if (this.machine.p2mLookup(serverDomid, gfn) !== 0) continue;
      if (this.machine.p2mMap(serverDomid, gfn, this.mfn, L.P2M_FOREIGN) !== L.MST_OK) continue;
      this.server = { domid: serverDomid, gfn };
      return true;
    }
    return false;
  }

  get serverConnected(): boolean {
    return this.server !== undefined;
  }

  /** Drops xenstored's mapping (domain release). `serverGone`: its p2m no longer exists. */
  disconnectServer(serverGone = false): void {
    const s = this.server;
    this.server = undefined;
    if (!s || serverGone || s.domid === this.guest.domid) return;
    this.machine.p2mUnmap(s.domid, s.gfn);
  }

  private base(side: Side): number {
    return side.gfn * L.PAGE_SIZE;
  }

  private readIdx(side: Side): { reqCons: number; reqProd: number; rspCons: number; rspProd: number } {
    const b = this.machine.read(side.domid, this.base(side) + L.XENSTORE_DOMAIN_INTERFACE_REQ_CONS, 16);
    return { reqCons: u32(b, 0), reqProd: u32(b, 4), rspCons: u32(b, 8), rspProd: u32(b, 12) };
  }

  private writeU32(side: Side, off: number, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.machine.write(side.domid, this.base(side) + off, b);
  }

  readField(side: "guest" | "server", off: number): number {
    const s = side === "guest" ? this.guest : this.mustServer();
    return u32(this.machine.read(s.domid, this.base(s) + off, 4), 0);
  }

  writeField(side: "guest" | "server", off: number, v: number): void {
    this.writeU32(side === "guest" ? this.guest : this.mustServer(), off, v);
  }

  /** Producer: copies as much of `bytes[off..]` as fits into the ring at `ringOff`, then
   *  publishes the new producer index. Returns bytes written, or -1 for insane indices. */
  private produce(side: Side, ringOff: number, prodOff: number, cons: number, prod: number, bytes: Uint8Array, off: number): number {
    const used = (prod - cons) >>> 0;
    if (used > L.XENSTORE_RING_SIZE) return -1;
    const n = Math.min(L.XENSTORE_RING_SIZE - used, bytes.length - off);
    let done = 0;
    while (done < n) {
      const slot = (prod + done) & (L.XENSTORE_RING_SIZE - 1);
      const chunk = Math.min(n - done, L.XENSTORE_RING_SIZE - slot);
      this.machine.write(side.domid, this.base(side) + ringOff + slot, bytes.subarray(off + done, off + done + chunk));
      done += chunk;
    }
    if (n > 0) this.writeU32(side, prodOff, (prod + n) >>> 0);
    return n;
  }

  /** Consumer: takes every unread byte and publishes the new consumer index. */
  private consume(side: Side, ringOff: number, consOff: number, cons: number, prod: number): Uint8Array | undefined {
    const avail = (prod - cons) >>> 0;
    if (avail > L.XENSTORE_RING_SIZE) return undefined;
    const out = new Uint8Array(avail);
    let done = 0;
    while (done < avail) {
      const slot = (cons + done) & (L.XENSTORE_RING_SIZE - 1);
      const chunk = Math.min(avail - done, L.XENSTORE_RING_SIZE - slot);
      out.set(this.machine.read(side.domid, this.base(side) + ringOff + slot, chunk), done);
      done += chunk;
    }
    if (avail > 0) this.writeU32(side, consOff, (cons + avail) >>> 0);
    return out;
  }

  // ---- guest end (its xenbus driver) --------------------------------------------------

  guestPut(bytes: Uint8Array, off: number): number {
    const i = this.readIdx(this.guest);
    return this.produce(this.guest, L.XENSTORE_DOMAIN_INTERFACE_REQ, L.XENSTORE_DOMAIN_INTERFACE_REQ_PROD, i.reqCons, i.reqProd, bytes, off);
  }

  guestTake(): Uint8Array | undefined {
    const i = this.readIdx(this.guest);
    return this.consume(this.guest, L.XENSTORE_DOMAIN_INTERFACE_RSP, L.XENSTORE_DOMAIN_INTERFACE_RSP_CONS, i.rspCons, i.rspProd);
  }

  // ---- server end (xenstored) ----------------------------------------------------------

  serverTake(): Uint8Array | undefined {
    const s = this.mustServer();
    const i = this.readIdx(s);
    return this.consume(s, L.XENSTORE_DOMAIN_INTERFACE_REQ, L.XENSTORE_DOMAIN_INTERFACE_REQ_CONS, i.reqCons, i.reqProd);
  }

  serverPut(bytes: Uint8Array, off: number): number {
    const s = this.mustServer();
    const i = this.readIdx(s);
    return this.produce(s, L.XENSTORE_DOMAIN_INTERFACE_RSP, L.XENSTORE_DOMAIN_INTERFACE_RSP_PROD, i.rspCons, i.rspProd, bytes, off);
  }

  private mustServer(): Side {
    if (!this.server) throw new Error(`xenstore ring of domain ${this.guest.domid} is not mapped by xenstored`);
    return this.server;
  }
}
