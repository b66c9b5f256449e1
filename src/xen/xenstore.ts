// xenstored and the toolstack's part in it, as a hypervisor subsystem.
//
// Connections: each introduced domain has a ring connection (its page in guest RAM, see
// xenstore-ring.ts); dom0 processes (the toolstack, user-space backends) use socket
// connections. Requests are parsed from the real bytes received, answered with real bytes,
// and counted per connection and in the CNT_XS_* counters.
//
// Lifecycle (the Subsystem hooks): on domain creation the toolstack, over its socket,
// makes /local/domain/<id> owned by the domain (with name, domid, device, control, data) and
// INTRODUCEs the domain with its store page; on destruction it RELEASEs it, which here also
// removes the domain's tree, watches and transactions (xenstored and libxl together) and
// fires @releaseDomain.
import type { Domain } from "./domain.ts";
import { XenConfigError, type Hypervisor, type Subsystem } from "./hypervisor.ts";
import { MachineError } from "../wasm/machine.ts";
import * as L from "../wasm/layout.ts";
import { XsClient } from "./xenstore-client.ts";
import { XsConnection, type XsConnStats, type XsTraceEntry, type XsWatch } from "./xenstore-conn.ts";
import { DEFAULT_QUOTA, XsNodeOps, type XsQuota } from "./xenstore-ops.ts";
import {
  PERM_NONE, PERM_OWNER, PERM_READ, PERM_WRITE, SPECIAL_INTRODUCE, SPECIAL_RELEASE, accessFor, canonicalize,
  domainPath, formatPerm, isAtOrBelow, isSpecial, isValidPath, parentOf, parsePerm, type Caller, type Perm,
} from "./xenstore-path.ts";
import { StoreRing } from "./xenstore-ring.ts";
import { XsTransaction, XsTree, type PendingFire, type XsNode, type XsView } from "./xenstore-tree.ts";
import {
  XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_SIZE, XS_DIRECTORY, XS_ERROR, XS_GET_DOMAIN_PATH, XS_GET_PERMS,
  XS_INTRODUCE, XS_IS_DOMAIN_INTRODUCED, XS_MKDIR, XS_READ, XS_RELEASE, XS_RESET_WATCHES, XS_RM,
  XS_SET_PERMS, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_UNWATCH, XS_WATCH, XS_WATCH_EVENT, XS_WRITE,
  decodeHeader, encodeMessage, splitStrings, strings, text, xsErr, xsOk, type XsErrorName, type XsHeader, type XsResult,
} from "./xenstore-wire.ts";

export interface XenstoreOptions {
  /** Domain xenstored runs in (maps every ring page). Default 0. */
  serverDomid?: number;
  quota?: Partial<XsQuota>;
  /** Error for the watch quota: C xenstored answers E2BIG, oxenstored EQUOTA. Default E2BIG. */
  watchQuotaError?: "E2BIG" | "EQUOTA";
  /** Run the toolstack's part on domain creation (home directory, INTRODUCE). Default true.
   *  Destruction always releases the domain. */
  toolstack?: boolean;
  /** The RAM gfn of a domain's store page (HVM_PARAM_STORE_PFN). Default: its last RAM page. */
  storeGfn?: (d: Domain) => number;
  /** The store event-channel port named in INTRODUCE. Default 0 (not bound in this model). */
  storePort?: (d: Domain) => number;
  /** Keep a log of every message (see XsTraceEntry). */
  trace?: boolean;
}

const EMPTY = new Uint8Array(0);
const OK = strings("OK");
const NUMBER = /^\d{1,5}$/;

export class Xenstore implements Subsystem {
  readonly name = "xenstore";
  readonly hv: Hypervisor;
  readonly tree = new XsTree();
  readonly ops: XsNodeOps;
  readonly serverDomid: number;
  readonly trace: XsTraceEntry[] | undefined;
  /** The toolstack's connection (a dom0 socket). */
  readonly toolstack: XsClient;
  private readonly opts: XenstoreOptions;
  private readonly watchQuotaError: XsErrorName;
  private readonly conns = new Map<number, XsConnection>();
  private readonly rings = new Map<number, XsConnection>();
  private readonly clients = new Map<XsConnection, XsClient>();
  private readonly special = new Map<string, Perm[]>();
  private nextConnId = 1;

  constructor(hv: Hypervisor, opts: XenstoreOptions = {}) {
    this.hv = hv;
    this.opts = opts;
    this.serverDomid = opts.serverDomid ?? 0;
    this.ops = new XsNodeOps({ ...DEFAULT_QUOTA, ...opts.quota });
    this.ops.onQuota = () => this.hv.machine.bump(L.CNT_XS_QUOTA_DENIED);
    this.watchQuotaError = opts.watchQuotaError ?? "E2BIG";
    this.trace = opts.trace ? [] : undefined;
    const dom0Only: Perm[] = [{ id: 0, access: PERM_NONE }];
    this.tree.put("/", { value: EMPTY, perms: dom0Only, children: [], gen: 0 });
    this.special.set(SPECIAL_INTRODUCE, dom0Only);
    this.special.set(SPECIAL_RELEASE, dom0Only);
    this.toolstack = this.socket(0);
    const fires: PendingFire[] = [];
    this.ops.write(this.tree, { domid: 0, privileged: true }, "/local/domain", EMPTY, fires);
  }

  get quota(): XsQuota {
    return this.ops.quota;
  }

  // ---- connections ----------------------------------------------------------------------

  /** A new socket connection for a dom0 process (privileged, no ring). */
  socket(domid = 0): XsClient {
    const conn = new XsConnection(this.nextConnId++, domid);
    this.conns.set(conn.id, conn);
    const c = new XsClient(this, conn);
    this.clients.set(conn, c);
    return c;
  }

  /** The xenbus driver of an introduced domain: its ring connection. */
  client(domid: number): XsClient {
    const conn = this.rings.get(domid);
    if (!conn) throw new XenConfigError(`xenstore: domain ${domid} is not introduced`);
    return this.clients.get(conn)!;
  }

  isIntroduced(domid: number): boolean {
    return this.rings.has(domid);
  }

  /** Traffic of a domain's ring connection. */
  stats(domid: number): XsConnStats {
    const conn = this.rings.get(domid);
    if (!conn) throw new XenConfigError(`xenstore: domain ${domid} is not introduced`);
    return { ...conn.stats };
  }

  connection(domid: number): XsConnection | undefined {
    return this.rings.get(domid);
  }

  /** The committed node at an absolute path (introspection for tests and tools). */
  node(path: string): XsNode | undefined {
    return this.tree.get(path);
  }

  watchCount(domid: number): number {
    let n = 0;
    for (const c of this.conns.values()) if (c.domid === domid) n += c.watches.length;
    return n;
  }

  private caller(conn: XsConnection): Caller {
    if (conn.kind === "socket") return { domid: conn.domid, privileged: true };
    const d = this.hv.domain(conn.domid);
    return { domid: conn.domid, privileged: conn.domid === 0 || (d?.isControl ?? false), target: d?.target };
  }

  // ---- moving bytes -----------------------------------------------------------------------

  /** xenstored's turn for one connection: read what the client wrote, answer every whole
   *  request, write out as much queued output as the ring takes. */
  service(conn: XsConnection): void {
    if (conn.closed || conn.error) return;
    const ring = conn.ring;
    if (ring) {
      if (!this.connectRing(conn)) {
        throw new XenConfigError(`xenstore: domain ${this.serverDomid} (xenstored) cannot map the ring of domain ${conn.domid}`);
      }
      let got: Uint8Array | undefined;
      try {
        got = ring.serverTake();
      } catch (e) {
        if (!(e instanceof MachineError)) throw e;
        return this.fail(conn, L.XENSTORE_ERROR_COMM);
      }
      if (got === undefined) return this.fail(conn, L.XENSTORE_ERROR_RINGIDX);
      if (got.length > 0) {
        conn.stats.reqBytes += got.length;
        this.hv.machine.bump(L.CNT_XS_RING_REQ_BYTES, got.length);
        this.notifyGuest(conn);
        conn.appendInput(got);
      }
    }
    while (!conn.closed && !conn.error && conn.inBuf.length >= XSD_SOCKMSG_SIZE) {
      const h = decodeHeader(conn.inBuf);
      if (h.len > XENSTORE_PAYLOAD_MAX) return this.fail(conn, L.XENSTORE_ERROR_PROTO);
      const size = XSD_SOCKMSG_SIZE + h.len;
      if (conn.inBuf.length < size) break;
      const payload = conn.inBuf.slice(XSD_SOCKMSG_SIZE, size);
      conn.inBuf = conn.inBuf.slice(size);
      conn.stats.reqMsgs++;
      if (ring) this.hv.machine.bump(L.CNT_XS_RING_REQ_MSGS);
      else conn.stats.reqBytes += size;
      this.handle(conn, h, payload);
    }
    this.flush(conn);
  }

  /** Writes queued replies and events into the ring as far as it has room. */
  flush(conn: XsConnection): void {
    const ring = conn.ring;
    if (!ring || conn.closed || conn.error || !this.connectRing(conn)) return;
    let wrote = false;
    while (conn.out.length > 0) {
      const m = conn.out[0]!;
      let n: number;
      try {
        n = ring.serverPut(m.bytes, m.off);
      } catch (e) {
        if (!(e instanceof MachineError)) throw e;
        return this.fail(conn, L.XENSTORE_ERROR_COMM);
      }
      if (n < 0) return this.fail(conn, L.XENSTORE_ERROR_RINGIDX);
      if (n === 0) break;
      wrote = true;
      m.off += n;
      conn.stats.rspBytes += n;
      this.hv.machine.bump(L.CNT_XS_RING_RSP_BYTES, n);
      if (m.off === m.bytes.length) {
        conn.out.shift();
        conn.stats.rspMsgs++;
        this.hv.machine.bump(L.CNT_XS_RING_RSP_MSGS);
      }
    }
    if (wrote) this.notifyGuest(conn);
  }

  /** A kick on the store event channel from the guest's xenbus driver. */
  notifyServer(conn: XsConnection): void {
    conn.stats.notifyToServer++;
    this.hv.machine.bump(L.CNT_XS_EVTCHN_NOTIFY);
  }

  private notifyGuest(conn: XsConnection): void {
    conn.stats.notifyToGuest++;
    this.hv.machine.bump(L.CNT_XS_EVTCHN_NOTIFY);
  }

  /** xenstored gives up on a misbehaving ring: it says why in the page and ignores it. */
  private fail(conn: XsConnection, code: number): void {
    conn.error = code;
    try {
      conn.ring?.writeField("server", L.XENSTORE_DOMAIN_INTERFACE_ERROR, code);
    } catch (e) {
      if (!(e instanceof MachineError)) throw e;
    }
    this.notifyGuest(conn);
  }

  private connectRing(conn: XsConnection): boolean {
    const ring = conn.ring!;
    if (ring.serverConnected) return true;
    if (!ring.connectServer(this.serverDomid)) return false;
    ring.writeField("server", L.XENSTORE_DOMAIN_INTERFACE_SERVER_FEATURES, L.XENSTORE_SERVER_FEATURE_ERROR);
    return true;
  }

  private send(conn: XsConnection, type: number, reqId: number, txId: number, payload: Uint8Array): void {
    conn.queue(encodeMessage(type, reqId, txId, payload));
    this.trace?.push({ conn: conn.id, domid: conn.domid, dir: "rsp", type, reqId, txId, len: payload.length });
    if (conn.kind === "socket") {
      conn.stats.rspMsgs++;
      conn.stats.rspBytes += XSD_SOCKMSG_SIZE + payload.length;
    } else {
      this.flush(conn);
    }
  }

  // ---- requests -----------------------------------------------------------------------------

  private handle(conn: XsConnection, h: XsHeader, payload: Uint8Array): void {
    const m = this.hv.machine;
    m.bump(L.CNT_XS_REQUESTS);
    this.trace?.push({ conn: conn.id, domid: conn.domid, dir: "req", type: h.type, reqId: h.reqId, txId: h.txId, len: h.len });
    const after: (() => void)[] = [];
    const r = this.dispatch(conn, h, payload, after);
    if (r.ok) {
      this.send(conn, h.type, h.reqId, h.txId, r.value);
    } else {
      m.bump(L.CNT_XS_ERRORS);
      this.send(conn, XS_ERROR, h.reqId, h.txId, strings(r.error));
    }
    for (const a of after) a();
  }

  private dispatch(conn: XsConnection, h: XsHeader, payload: Uint8Array, after: (() => void)[]): XsResult<Uint8Array> {
    const m = this.hv.machine;
    switch (h.type) {
      case XS_READ:
      case XS_DIRECTORY:
      case XS_GET_PERMS:
        m.bump(L.CNT_XS_READ_OPS);
        return this.nodeOp(conn, h, payload);
      case XS_WRITE:
      case XS_MKDIR:
      case XS_SET_PERMS:
        m.bump(L.CNT_XS_WRITE_OPS);
        return this.nodeOp(conn, h, payload);
      case XS_RM:
        m.bump(L.CNT_XS_RM_OPS);
        return this.nodeOp(conn, h, payload);
      case XS_WATCH:
        m.bump(L.CNT_XS_WATCH_OPS);
        return this.watch(conn, payload, after);
      case XS_UNWATCH:
        m.bump(L.CNT_XS_WATCH_OPS);
        return this.unwatch(conn, payload);
      case XS_RESET_WATCHES:
        m.bump(L.CNT_XS_WATCH_OPS);
        conn.watches.length = 0;
        conn.txs.clear();
        return xsOk(OK);
      case XS_TRANSACTION_START:
        return this.transactionStart(conn, h);
      case XS_TRANSACTION_END:
        return this.transactionEnd(conn, h, payload);
      case XS_GET_DOMAIN_PATH: {
        const a = oneArg(payload);
        if (a === undefined || !NUMBER.test(a)) return xsErr("EINVAL");
        return xsOk(strings(domainPath(Number(a))));
      }
      case XS_IS_DOMAIN_INTRODUCED: {
        const a = oneArg(payload);
        if (a === undefined || !NUMBER.test(a)) return xsErr("EINVAL");
        return xsOk(strings(this.rings.has(Number(a)) ? "T" : "F"));
      }
      case XS_INTRODUCE:
        return this.introduce(conn, payload);
      case XS_RELEASE:
        return this.release(conn, payload);
      default:
        return xsErr("ENOSYS");
    }
  }

  /** Absolute, validated path from a request argument, or undefined (EINVAL). */
  private path(conn: XsConnection, raw: string, allowSpecial = false): string | undefined {
    const p = canonicalize(raw, conn.domid);
    return isValidPath(p, allowSpecial) ? p : undefined;
  }

  private nodeOp(conn: XsConnection, h: XsHeader, payload: Uint8Array): XsResult<Uint8Array> {
    let view: XsView = this.tree;
    if (h.txId !== 0) {
      const tx = conn.txs.get(h.txId);
      if (!tx) return xsErr("ENOENT");
      view = tx;
    }
    const caller = this.caller(conn);
    const fires: PendingFire[] = [];
    let r: XsResult<Uint8Array>;
    if (h.type === XS_WRITE) {
      const nul = payload.indexOf(0);
      const path = nul < 0 ? undefined : this.path(conn, text(payload.subarray(0, nul)));
      if (path === undefined) return xsErr("EINVAL");
      r = okAs(this.ops.write(view, caller, path, payload.slice(nul + 1), fires), OK);
    } else if (h.type === XS_SET_PERMS || h.type === XS_GET_PERMS) {
      return this.permsOp(conn, view, caller, h, payload);
    } else {
      const a = oneArg(payload);
      const path = a === undefined ? undefined : this.path(conn, a);
      if (path === undefined) return xsErr("EINVAL");
      if (h.type === XS_READ) r = this.ops.read(view, caller, path);
      else if (h.type === XS_DIRECTORY) r = mapOk(this.ops.directory(view, caller, path), (c) => strings(...c));
      else if (h.type === XS_MKDIR) r = okAs(this.ops.write(view, caller, path, undefined, fires), OK);
      else r = okAs(this.ops.rm(view, caller, path, fires), OK);
    }
    this.commitFires(view, fires);
    return r;
  }

  private permsOp(conn: XsConnection, view: XsView, caller: Caller, h: XsHeader, payload: Uint8Array): XsResult<Uint8Array> {
    const args = splitStrings(payload);
    const get = h.type === XS_GET_PERMS;
    if (!args || (get ? args.length !== 1 : args.length < 2)) return xsErr("EINVAL");
    const path = this.path(conn, args[0]!, true);
    if (path === undefined) return xsErr("EINVAL");
    if (get) {
      if (isSpecial(path)) {
        const sp = this.special.get(path);
        if (!sp) return xsErr("ENOENT");
        return accessFor(caller, sp) & PERM_READ ? xsOk(strings(...sp.map(formatPerm))) : xsErr("EACCES");
      }
      return mapOk(this.ops.getPerms(view, caller, path), (p) => strings(...p.map(formatPerm)));
    }
    const perms = args.slice(1).map(parsePerm);
    if (perms.some((p) => p === undefined)) return xsErr("EINVAL");
    const acl = perms as Perm[];
    if (isSpecial(path)) {
      const sp = this.special.get(path);
      if (!sp) return xsErr("ENOENT");
      if ((accessFor(caller, sp) & (PERM_WRITE | PERM_OWNER)) !== (PERM_WRITE | PERM_OWNER)) return xsErr("EACCES");
      this.special.set(path, acl);
      return xsOk(OK);
    }
    const fires: PendingFire[] = [];
    const r = okAs(this.ops.setPerms(view, caller, path, acl, fires), OK);
    this.commitFires(view, fires);
    return r;
  }

  // ---- transactions -------------------------------------------------------------------------

  private transactionStart(conn: XsConnection, h: XsHeader): XsResult<Uint8Array> {
    if (h.txId !== 0) return xsErr("EBUSY");
    if (!this.caller(conn).privileged && conn.txs.size >= this.quota.transactions) {
      this.hv.machine.bump(L.CNT_XS_QUOTA_DENIED);
      return xsErr("ENOSPC");
    }
    const id = conn.nextTxId++;
    conn.txs.set(id, new XsTransaction(id, this.tree));
    this.hv.machine.bump(L.CNT_XS_TX_STARTED);
    return xsOk(strings(String(id)));
  }

  private transactionEnd(conn: XsConnection, h: XsHeader, payload: Uint8Array): XsResult<Uint8Array> {
    const a = oneArg(payload);
    if (a !== "T" && a !== "F") return xsErr("EINVAL");
    const tx = conn.txs.get(h.txId);
    if (!tx) return xsErr("ENOENT");
    conn.txs.delete(h.txId);
    if (a === "F") return xsOk(OK);
    if (!tx.consistent()) {
      this.hv.machine.bump(L.CNT_XS_TX_EAGAIN);
      return xsErr("EAGAIN");
    }
    tx.apply();
    this.fireAll(tx.fires);
    return xsOk(OK);
  }

  private commitFires(view: XsView, fires: PendingFire[]): void {
    if (fires.length === 0) return;
    if (view instanceof XsTransaction) view.fires.push(...fires);
    else this.fireAll(fires);
  }

  // ---- watches --------------------------------------------------------------------------------

  private watch(conn: XsConnection, payload: Uint8Array, after: (() => void)[]): XsResult<Uint8Array> {
    const args = splitStrings(payload);
    if (!args || args.length !== 2) return xsErr("EINVAL");
    const [raw, token] = args as [string, string];
    const path = this.path(conn, raw, true);
    if (path === undefined) return xsErr("EINVAL");
    if (conn.watches.some((w) => w.path === path && w.token === token)) return xsErr("EEXIST");
    if (!this.caller(conn).privileged && this.watchCount(conn.domid) >= this.quota.watches) {
      this.hv.machine.bump(L.CNT_XS_QUOTA_DENIED);
      return xsErr(this.watchQuotaError);
    }
    const w: XsWatch = { path, token, relative: !raw.startsWith("/") && !raw.startsWith("@") };
    conn.watches.push(w);
    // xenstored fires every new watch once, after the acknowledgement.
    after.push(() => this.queueEvent(conn, w, path));
    return xsOk(OK);
  }

  private unwatch(conn: XsConnection, payload: Uint8Array): XsResult<Uint8Array> {
    const args = splitStrings(payload);
    if (!args || args.length !== 2) return xsErr("EINVAL");
    const path = this.path(conn, args[0]!, true);
    if (path === undefined) return xsErr("EINVAL");
    const i = conn.watches.findIndex((w) => w.path === path && w.token === args[1]);
    if (i < 0) return xsErr("ENOENT");
    conn.watches.splice(i, 1);
    return xsOk(OK);
  }

  private fireAll(fires: PendingFire[]): void {
    for (const f of fires) this.fire(f);
  }

  /** Queues an event on every watch at or above the changed path (exactly on it for a
   *  removed descendant), for watchers that may read the node or its parent. */
  private fire(f: PendingFire): void {
    for (const conn of this.conns.values()) {
      if (conn.closed || conn.error) continue;
      let caller: Caller | undefined;
      for (const w of conn.watches) {
        if (f.exact ? w.path !== f.path : !isAtOrBelow(f.path, w.path)) continue;
        caller ??= this.caller(conn);
        if (!this.permitted(caller, f)) {
          this.hv.machine.bump(L.CNT_XS_WATCH_SUPPRESSED);
          continue;
        }
        this.queueEvent(conn, w, f.path);
      }
    }
  }

  private permitted(caller: Caller, f: PendingFire): boolean {
    if (f.perms.some((p) => (accessFor(caller, p) & PERM_READ) !== 0)) return true;
    if (isSpecial(f.path)) return false;
    const pp = f.parentPerms ?? this.tree.get(parentOf(f.path))?.perms;
    return pp !== undefined && (accessFor(caller, pp) & PERM_READ) !== 0;
  }

  private queueEvent(conn: XsConnection, w: XsWatch, path: string): void {
    let p = path;
    if (w.relative) {
      const home = domainPath(conn.domid);
      if (p === home) p = "";
      else if (p.startsWith(home + "/")) p = p.slice(home.length + 1);
    }
    const payload = strings(p, w.token);
    if (payload.length > XENSTORE_PAYLOAD_MAX) return; // xenstored drops over-long events
    conn.stats.events++;
    this.hv.machine.bump(L.CNT_XS_WATCH_EVENTS);
    this.send(conn, XS_WATCH_EVENT, 0, 0, payload);
  }

  // ---- domains --------------------------------------------------------------------------------

  private introduce(conn: XsConnection, payload: Uint8Array): XsResult<Uint8Array> {
    if (!this.caller(conn).privileged) return xsErr("EACCES");
    const args = splitStrings(payload);
    if (!args || args.length !== 3 || !args.every((a) => /^\d{1,10}$/.test(a))) return xsErr("EINVAL");
    const [domid, gfn, port] = args.map(Number) as [number, number, number];
    const existing = this.rings.get(domid);
    if (existing) {
      // Same page: the toolstack re-binds the event channel; another page is refused.
      if (existing.ring!.guest.gfn !== gfn) return xsErr("EINVAL");
      existing.port = port;
      return xsOk(OK);
    }
    const d = this.hv.domain(domid);
    if (!d || !d.alive || !this.hv.machine.domainExists(domid)) return xsErr("ENOENT");
    if (gfn >= d.ramPages) return xsErr("EINVAL");
    let ring: StoreRing;
    try {
      ring = new StoreRing(this.hv.machine, domid, gfn);
    } catch (e) {
      if (!(e instanceof MachineError)) throw e;
      return xsErr("ENOMEM");
    }
    const rc = new XsConnection(this.nextConnId++, domid, ring, port);
    this.conns.set(rc.id, rc);
    this.rings.set(domid, rc);
    this.clients.set(rc, new XsClient(this, rc));
    this.connectRing(rc);
    this.fire({ path: SPECIAL_INTRODUCE, exact: true, perms: [this.special.get(SPECIAL_INTRODUCE)!] });
    return xsOk(OK);
  }

  private release(conn: XsConnection, payload: Uint8Array): XsResult<Uint8Array> {
    if (!this.caller(conn).privileged) return xsErr("EACCES");
    const a = oneArg(payload);
    if (a === undefined || !NUMBER.test(a)) return xsErr("EINVAL");
    const domid = Number(a);
    if (!this.rings.has(domid)) return xsErr("ENOENT");
    if (domid === this.serverDomid) return xsErr("EINVAL");
    this.releaseDomain(domid);
    return xsOk(OK);
  }

  /** Drops a domain: its ring connection, watches and transactions, its home subtree (firing
   *  the watches of those who watch it), and its name from every other node's ACL (an owner
   *  becomes dom0) so a later domain reusing the id inherits nothing. */
  private releaseDomain(domid: number, serverGone = false): void {
    const conn = this.rings.get(domid);
    if (conn) {
      conn.closed = true;
      conn.watches.length = 0;
      conn.txs.clear();
      conn.out.length = 0;
      conn.ring!.disconnectServer(serverGone);
      this.rings.delete(domid);
      this.conns.delete(conn.id);
      this.clients.delete(conn); // a client still held answers EIO
    }
    const fires: PendingFire[] = [];
    this.ops.removeTree(this.tree, domainPath(domid), fires);
    const named: [string, XsNode][] = [];
    for (const p of this.tree.paths()) {
      const n = this.tree.get(p)!;
      if (n.perms.some((e) => e.id === domid)) named.push([p, n]);
    }
    for (const [p, n] of named) {
      const [owner, ...rest] = n.perms;
      const perms = [owner!.id === domid ? { id: 0, access: owner!.access } : owner!, ...rest.filter((e) => e.id !== domid)];
      this.tree.put(p, { ...n, perms });
    }
    this.fireAll(fires);
    this.fire({ path: SPECIAL_RELEASE, exact: true, perms: [this.special.get(SPECIAL_RELEASE)!] });
  }

  domainCreated(d: Domain): void {
    if (this.opts.toolstack === false) return;
    const ts = this.toolstack;
    const id = d.domid;
    const home = domainPath(id);
    const ro = ["n0", `r${id}`];
    const made = ts.transaction((tx) =>
      all(
        () => ts.rm(home, tx),
        () => ts.mkdir(home, tx),
        () => ts.setPerms(home, [`n${id}`], tx),
        () => ts.write(`${home}/name`, d.name, tx),
        () => ts.setPerms(`${home}/name`, ro, tx),
        () => ts.write(`${home}/domid`, String(id), tx),
        () => ts.setPerms(`${home}/domid`, ro, tx),
        () => ts.mkdir(`${home}/device`, tx),
        () => ts.mkdir(`${home}/control`, tx),
        () => ts.mkdir(`${home}/data`, tx),
      ),
    );
    if (!made.ok) throw new XenConfigError(`xenstore: creating ${home} failed: ${made.error}`);
    const gfn = this.opts.storeGfn?.(d) ?? d.ramPages - 1;
    const port = this.opts.storePort?.(d) ?? 0;
    const r = ts.introduce(id, gfn, port);
    if (!r.ok) throw new XenConfigError(`xenstore: INTRODUCE of domain ${id} (store gfn ${gfn}) failed: ${r.error}`);
  }

  domainDestroyed(d: Domain): void {
    if (d.domid === this.serverDomid) {
      // xenstored itself goes away: its mappings of every ring go with its p2m.
      for (const c of this.rings.values()) c.ring!.disconnectServer(true);
      this.releaseDomain(d.domid, true);
      return;
    }
    if (this.rings.has(d.domid)) {
      const r = this.toolstack.release(d.domid);
      if (!r.ok) throw new XenConfigError(`xenstore: RELEASE of domain ${d.domid} failed: ${r.error}`);
    } else {
      this.releaseDomain(d.domid);
    }
  }
}

function oneArg(payload: Uint8Array): string | undefined {
  const a = splitStrings(payload);
  return a && a.length === 1 ? a[0] : undefined;
}

function okAs(r: XsResult<unknown>, payload: Uint8Array): XsResult<Uint8Array> {
  return r.ok ? xsOk(payload) : xsErr(r.error);
}

function mapOk<T>(r: XsResult<T>, f: (v: T) => Uint8Array): XsResult<Uint8Array> {
  return r.ok ? xsOk(f(r.value)) : xsErr(r.error);
}

/** Runs steps in order, stopping at the first error. */
export function all(...steps: (() => XsResult<unknown>)[]): XsResult<void> {
  for (const s of steps) {
    const r = s();
    if (!r.ok) return xsErr(r.error);
  }
  return xsOk(undefined);
}
