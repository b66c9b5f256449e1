// xenstored and the toolstack's part in it, as a hypervisor subsystem.
//
// Connections: each introduced domain has a ring connection (its page in guest RAM, see
// xenstore-ring.ts); dom0 processes (the toolstack, user-space backends) use socket
// connections. Requests are parsed from the real bytes received, answered with real bytes,
// and counted per connection and in the CNT_XS_* counters.
//   xenstore-requests.ts  what each request does (nodes, perms, transactions, watches)
//   xenstore-watches.ts   watch events
//   xenstore-domains.ts   INTRODUCE / RELEASE and the toolstack's part
// This file: connections, moving bytes through the rings, and the Subsystem hooks.
//
// Lifecycle: on domain creation the toolstack, over its socket, makes /local/domain/<id> owned
// by the domain and INTRODUCEs the domain with its store page; on destruction it RELEASEs it,
// which here also removes the domain's tree, watches and transactions (xenstored and libxl
// together) and fires @releaseDomain.
import type { Domain } from "./domain.ts";
import type { EventChannels } from "./evtchn.ts";
import { errnoName, EACCES, EPERM } from "./errno.ts";
import { XenConfigError, type Hypervisor, type Subsystem } from "./hypervisor.ts";
import { MachineError } from "../wasm/machine.ts";
import * as L from "../wasm/layout.ts";
import { XsClient } from "./xenstore-client.ts";
import { XsConnection, type XsConnStats, type XsTraceEntry } from "./xenstore-conn.ts";
import { DEFAULT_QUOTA, XsNodeOps, type XsQuota } from "./xenstore-ops.ts";
import { PERM_NONE, SPECIAL_INTRODUCE, SPECIAL_RELEASE, type Caller, type Perm } from "./xenstore-path.ts";
import type { StoreRing } from "./xenstore-ring.ts";
import { XsTree, type PendingFire, type XsNode } from "./xenstore-tree.ts";
import {
  XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_SIZE, XS_ERROR, decodeHeader, encodeMessage, strings, type XsErrorName, type XsHeader,
} from "./xenstore-wire.ts";
import { dispatchRequest } from "./xenstore-requests.ts";
import { releaseDomain, toolstackCreate } from "./xenstore-domains.ts";

export { all } from "./xenstore-domains.ts";

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
  /** The event-channel subsystem (registered before this one). With it the store channel is
   *  real: the toolstack allocates each domain's port for xenstored (as libxl does),
   *  INTRODUCE binds xenstored's end, and every kick is an EVTCHNOP_send. Without it kicks
   *  are only counted. */
  evtchn?: EventChannels;
  /** The store event-channel port named in INTRODUCE. Default: allocated as above with
   *  `evtchn`, else 0 (no channel). */
  storePort?: (d: Domain) => number;
  /** Keep a log of every message (see XsTraceEntry). */
  trace?: boolean;
}

const EMPTY = new Uint8Array(0);

export class Xenstore implements Subsystem {
  readonly name = "xenstore";
  readonly hv: Hypervisor;
  readonly tree = new XsTree();
  readonly ops: XsNodeOps;
  readonly serverDomid: number;
  readonly trace: XsTraceEntry[] | undefined;
  /** The toolstack's connection (a dom0 socket). */
  readonly toolstack: XsClient;
  /** Internal to xenstore-*.ts: every open connection by id, and the ACLs of @introduceDomain
   *  and @releaseDomain. */
  readonly conns = new Map<number, XsConnection>();
  readonly special = new Map<string, Perm[]>();
  readonly watchQuotaError: XsErrorName;
  readonly evtchn: EventChannels | undefined;
  private readonly opts: XenstoreOptions;
  private readonly rings = new Map<number, XsConnection>();
  private readonly clients = new Map<XsConnection, XsClient>();
  private nextConnId = 1;

  constructor(hv: Hypervisor, opts: XenstoreOptions = {}) {
    this.hv = hv;
    this.opts = opts;
    this.serverDomid = opts.serverDomid ?? 0;
    this.evtchn = opts.evtchn;
    if (this.evtchn && this.evtchn.hv !== hv) throw new XenConfigError("Xenstore: the event channels belong to another hypervisor");
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

  /** Who is asking, for permission checks (xenstored's conn->id and privilege). */
  callerOf(conn: XsConnection): Caller {
    if (conn.kind === "socket") return { domid: conn.domid, privileged: true };
    const d = this.hv.domain(conn.domid);
    return { domid: conn.domid, privileged: conn.domid === 0 || (d?.isControl ?? false), target: d?.target };
  }

  /** INTRODUCE made a ring connection for `domid` (its store channel is bound by bindStore). */
  addRingConnection(domid: number, ring: StoreRing): XsConnection {
    const rc = new XsConnection(this.nextConnId++, domid, ring, 0);
    this.conns.set(rc.id, rc);
    this.rings.set(domid, rc);
    this.clients.set(rc, new XsClient(this, rc));
    this.connectRing(rc);
    return rc;
  }

  /** RELEASE: the ring connection goes with its watches, transactions and queued output, and
   *  xenstored closes its end of the store channel. */
  dropRingConnection(domid: number, serverGone: boolean): void {
    const conn = this.rings.get(domid);
    if (!conn) return;
    if (!serverGone) this.unbindStore(conn);
    conn.closed = true;
    conn.watches.length = 0;
    conn.txs.clear();
    conn.out.length = 0;
    conn.ring!.disconnectServer(serverGone);
    this.rings.delete(domid);
    this.conns.delete(conn.id);
    this.clients.delete(conn); // a client still held answers EIO
  }

  // ---- the store event channel ----------------------------------------------------------------

  /** xenstored binds its end of a domain's store channel (xenevtchn_bind_interdomain). Port 0
   *  means no channel. Returns the error INTRODUCE answers, or undefined. */
  bindStore(conn: XsConnection, port: number): XsErrorName | undefined {
    this.unbindStore(conn);
    conn.port = port;
    if (!this.evtchn || port === 0 || !this.hv.live(this.serverDomid)) return undefined;
    const local = this.evtchn.bindInterdomain(this.serverDomid, conn.domid, port);
    if (local < 0) return local === -EPERM ? "EPERM" : local === -EACCES ? "EACCES" : "EINVAL";
    conn.serverPort = local;
    return undefined;
  }

  private unbindStore(conn: XsConnection): void {
    if (this.evtchn && conn.serverPort !== 0 && this.hv.live(this.serverDomid)) this.evtchn.close(this.serverDomid, conn.serverPort);
    conn.serverPort = 0;
  }

  /** The toolstack's store channel for a new domain: xc_evtchn_alloc_unbound(domid, xenstored). */
  private storePort(d: Domain): number {
    if (this.opts.storePort) return this.opts.storePort(d);
    if (!this.evtchn || !this.hv.live(0) || !this.hv.live(this.serverDomid)) return 0;
    const port = this.evtchn.allocUnbound(0, d.domid, this.serverDomid);
    if (port < 0) throw new XenConfigError(`xenstore: cannot allocate the store event channel of domain ${d.domid}: ${errnoName(port)}`);
    return port;
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

  /** A kick on the store event channel from the guest's xenbus driver (EVTCHNOP_send on its
   *  port, which marks xenstored's end pending). */
  notifyServer(conn: XsConnection): void {
    conn.stats.notifyToServer++;
    this.hv.machine.bump(L.CNT_XS_EVTCHN_NOTIFY);
    if (this.evtchn && conn.port !== 0 && this.hv.live(conn.domid)) this.evtchn.send(conn.domid, conn.port);
  }

  /** xenstored's kick to the guest: EVTCHNOP_send on its local end. */
  private notifyGuest(conn: XsConnection): void {
    conn.stats.notifyToGuest++;
    this.hv.machine.bump(L.CNT_XS_EVTCHN_NOTIFY);
    if (this.evtchn && conn.serverPort !== 0 && this.hv.live(this.serverDomid)) this.evtchn.send(this.serverDomid, conn.serverPort);
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

  /** Queues one message for a connection (and writes it out at once on a ring). */
  send(conn: XsConnection, type: number, reqId: number, txId: number, payload: Uint8Array): void {
    conn.queue(encodeMessage(type, reqId, txId, payload));
    this.trace?.push({ conn: conn.id, domid: conn.domid, dir: "rsp", type, reqId, txId, len: payload.length });
    if (conn.kind === "socket") {
      conn.stats.rspMsgs++;
      conn.stats.rspBytes += XSD_SOCKMSG_SIZE + payload.length;
    } else {
      this.flush(conn);
    }
  }

  private handle(conn: XsConnection, h: XsHeader, payload: Uint8Array): void {
    const m = this.hv.machine;
    m.bump(L.CNT_XS_REQUESTS);
    this.trace?.push({ conn: conn.id, domid: conn.domid, dir: "req", type: h.type, reqId: h.reqId, txId: h.txId, len: h.len });
    const after: (() => void)[] = [];
    const r = dispatchRequest(this, conn, h, payload, after);
    if (r.ok) {
      this.send(conn, h.type, h.reqId, h.txId, r.value);
    } else {
      m.bump(L.CNT_XS_ERRORS);
      this.send(conn, XS_ERROR, h.reqId, h.txId, strings(r.error));
    }
    for (const a of after) a();
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  domainCreated(d: Domain): void {
    if (this.opts.toolstack === false) return;
    toolstackCreate(this, d, this.opts.storeGfn?.(d) ?? d.ramPages - 1, this.storePort(d));
  }

  domainDestroyed(d: Domain): void {
    if (d.domid === this.serverDomid) {
      // xenstored itself goes away: its mappings of every ring and its ends of the store
      // channels go with it (a later xenstored binds afresh).
      for (const c of this.rings.values()) {
        c.ring!.disconnectServer(true);
        c.serverPort = 0;
      }
      releaseDomain(this, d.domid, true);
      return;
    }
    if (this.rings.has(d.domid)) {
      const r = this.toolstack.release(d.domid);
      if (!r.ok) throw new XenConfigError(`xenstore: RELEASE of domain ${d.domid} failed: ${r.error}`);
    } else {
      releaseDomain(this, d.domid);
    }
  }
}
