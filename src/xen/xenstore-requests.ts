// xenstored's request handling: one parsed message in, one reply (or XS_ERROR string) out.
// Node operations against the tree or a transaction, permissions (special nodes included),
// transactions, watch registration and the domain queries; INTRODUCE and RELEASE are in
// xenstore-domains.ts.
import type { Xenstore } from "./xenstore.ts";
import type { XsConnection, XsWatch } from "./xenstore-conn.ts";
import {
  PERM_OWNER, PERM_READ, PERM_WRITE, accessFor, canonicalize, domainPath, formatPerm, isSpecial, isValidPath, parsePerm,
  type Caller, type Perm,
} from "./xenstore-path.ts";
import { XsTransaction, type PendingFire, type XsView } from "./xenstore-tree.ts";
import {
  XS_DIRECTORY, XS_GET_DOMAIN_PATH, XS_GET_PERMS, XS_INTRODUCE, XS_IS_DOMAIN_INTRODUCED, XS_MKDIR, XS_READ,
  XS_RELEASE, XS_RESET_WATCHES, XS_RM, XS_SET_PERMS, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_UNWATCH, XS_WATCH,
  XS_WRITE, splitStrings, strings, text, xsErr, xsOk, type XsHeader, type XsResult,
} from "./xenstore-wire.ts";
import { fireAll, queueEvent } from "./xenstore-watches.ts";
import { introduce, release } from "./xenstore-domains.ts";
import * as L from "../wasm/layout.ts";

const OK = strings("OK");
const NUMBER = /^\d{1,5}$/;

/** Answers one request. `after` collects work to run once the reply is queued (a new watch
 *  fires once, after its acknowledgement). */
export function dispatchRequest(xs: Xenstore, conn: XsConnection, h: XsHeader, payload: Uint8Array, after: (() => void)[]): XsResult<Uint8Array> {
  const m = xs.hv.machine;
  switch (h.type) {
    case XS_READ:
    case XS_DIRECTORY:
    case XS_GET_PERMS:
      m.bump(L.CNT_XS_READ_OPS);
      return nodeOp(xs, conn, h, payload);
    case XS_WRITE:
    case XS_MKDIR:
    case XS_SET_PERMS:
      m.bump(L.CNT_XS_WRITE_OPS);
      return nodeOp(xs, conn, h, payload);
    case XS_RM:
      m.bump(L.CNT_XS_RM_OPS);
      return nodeOp(xs, conn, h, payload);
    case XS_WATCH:
      m.bump(L.CNT_XS_WATCH_OPS);
      return watch(xs, conn, payload, after);
    case XS_UNWATCH:
      m.bump(L.CNT_XS_WATCH_OPS);
      return unwatch(conn, payload);
    case XS_RESET_WATCHES:
      m.bump(L.CNT_XS_WATCH_OPS);
      conn.watches.length = 0;
      conn.txs.clear();
      return xsOk(OK);
    case XS_TRANSACTION_START:
      return transactionStart(xs, conn, h);
    case XS_TRANSACTION_END:
      return transactionEnd(xs, conn, h, payload);
    case XS_GET_DOMAIN_PATH: {
      const a = oneArg(payload);
      if (a === undefined || !NUMBER.test(a)) return xsErr("EINVAL");
      return xsOk(strings(domainPath(Number(a))));
    }
    case XS_IS_DOMAIN_INTRODUCED: {
      const a = oneArg(payload);
      if (a === undefined || !NUMBER.test(a)) return xsErr("EINVAL");
      return xsOk(strings(xs.isIntroduced(Number(a)) ? "T" : "F"));
    }
    case XS_INTRODUCE:
      return introduce(xs, conn, payload);
    case XS_RELEASE:
      return release(xs, conn, payload);
    default:
      return xsErr("ENOSYS");
  }
}

/** Absolute, validated path from a request argument, or undefined (EINVAL). */
function pathArg(conn: XsConnection, raw: string, allowSpecial = false): string | undefined {
  const p = canonicalize(raw, conn.domid);
  return isValidPath(p, allowSpecial) ? p : undefined;
}

function nodeOp(xs: Xenstore, conn: XsConnection, h: XsHeader, payload: Uint8Array): XsResult<Uint8Array> {
  let view: XsView = xs.tree;
  if (h.txId !== 0) {
    const tx = conn.txs.get(h.txId);
    if (!tx) return xsErr("ENOENT");
    view = tx;
  }
  const caller = xs.callerOf(conn);
  const fires: PendingFire[] = [];
  let r: XsResult<Uint8Array>;
  if (h.type === XS_WRITE) {
    const nul = payload.indexOf(0);
    const path = nul < 0 ? undefined : pathArg(conn, text(payload.subarray(0, nul)));
    if (path === undefined) return xsErr("EINVAL");
    r = okAs(xs.ops.write(view, caller, path, payload.slice(nul + 1), fires), OK);
  } else if (h.type === XS_SET_PERMS || h.type === XS_GET_PERMS) {
    return permsOp(xs, conn, view, caller, h, payload);
  } else {
    const a = oneArg(payload);
    const path = a === undefined ? undefined : pathArg(conn, a);
    if (path === undefined) return xsErr("EINVAL");
    if (h.type === XS_READ) r = xs.ops.read(view, caller, path);
    else if (h.type === XS_DIRECTORY) r = mapOk(xs.ops.directory(view, caller, path), (c) => strings(...c));
    else if (h.type === XS_MKDIR) r = okAs(xs.ops.write(view, caller, path, undefined, fires), OK);
    else r = okAs(xs.ops.rm(view, caller, path, fires), OK);
  }
  commitFires(xs, view, fires);
  return r;
}

function permsOp(xs: Xenstore, conn: XsConnection, view: XsView, caller: Caller, h: XsHeader, payload: Uint8Array): XsResult<Uint8Array> {
  const args = splitStrings(payload);
  const get = h.type === XS_GET_PERMS;
  if (!args || (get ? args.length !== 1 : args.length < 2)) return xsErr("EINVAL");
  const path = pathArg(conn, args[0]!, true);
  if (path === undefined) return xsErr("EINVAL");
  if (get) {
    if (isSpecial(path)) {
      const sp = xs.special.get(path);
      if (!sp) return xsErr("ENOENT");
      return accessFor(caller, sp) & PERM_READ ? xsOk(strings(...sp.map(formatPerm))) : xsErr("EACCES");
    }
    return mapOk(xs.ops.getPerms(view, caller, path), (p) => strings(...p.map(formatPerm)));
  }
  const perms = args.slice(1).map(parsePerm);
  if (perms.some((p) => p === undefined)) return xsErr("EINVAL");
  const acl = perms as Perm[];
  if (isSpecial(path)) {
    const sp = xs.special.get(path);
    if (!sp) return xsErr("ENOENT");
    if ((accessFor(caller, sp) & (PERM_WRITE | PERM_OWNER)) !== (PERM_WRITE | PERM_OWNER)) return xsErr("EACCES");
    xs.special.set(path, acl);
    return xsOk(OK);
  }
  const fires: PendingFire[] = [];
  const r = okAs(xs.ops.setPerms(view, caller, path, acl, fires), OK);
  commitFires(xs, view, fires);
  return r;
}

// ---- transactions -------------------------------------------------------------------------

function transactionStart(xs: Xenstore, conn: XsConnection, h: XsHeader): XsResult<Uint8Array> {
  if (h.txId !== 0) return xsErr("EBUSY");
  if (!xs.callerOf(conn).privileged && conn.txs.size >= xs.quota.transactions) {
    xs.hv.machine.bump(L.CNT_XS_QUOTA_DENIED);
    return xsErr("ENOSPC");
  }
  const id = conn.nextTxId++;
  conn.txs.set(id, new XsTransaction(id, xs.tree));
  xs.hv.machine.bump(L.CNT_XS_TX_STARTED);
  return xsOk(strings(String(id)));
}

function transactionEnd(xs: Xenstore, conn: XsConnection, h: XsHeader, payload: Uint8Array): XsResult<Uint8Array> {
  const a = oneArg(payload);
  if (a !== "T" && a !== "F") return xsErr("EINVAL");
  const tx = conn.txs.get(h.txId);
  if (!tx) return xsErr("ENOENT");
  conn.txs.delete(h.txId);
  if (a === "F") return xsOk(OK);
  if (!tx.consistent()) {
    xs.hv.machine.bump(L.CNT_XS_TX_EAGAIN);
    return xsErr("EAGAIN");
  }
  tx.apply();
  fireAll(xs, tx.fires);
  return xsOk(OK);
}

/** Changes made in a transaction fire at commit; others at once. */
function commitFires(xs: Xenstore, view: XsView, fires: PendingFire[]): void {
  if (fires.length === 0) return;
  if (view instanceof XsTransaction) view.fires.push(...fires);
  else fireAll(xs, fires);
}

// ---- watches --------------------------------------------------------------------------------

function watch(xs: Xenstore, conn: XsConnection, payload: Uint8Array, after: (() => void)[]): XsResult<Uint8Array> {
  const args = splitStrings(payload);
  if (!args || args.length !== 2) return xsErr("EINVAL");
  const [raw, token] = args as [string, string];
  const path = pathArg(conn, raw, true);
  if (path === undefined) return xsErr("EINVAL");
  if (conn.watches.some((w) => w.path === path && w.token === token)) return xsErr("EEXIST");
  if (!xs.callerOf(conn).privileged && xs.watchCount(conn.domid) >= xs.quota.watches) {
    xs.hv.machine.bump(L.CNT_XS_QUOTA_DENIED);
    return xsErr(xs.watchQuotaError);
  }
  const w: XsWatch = { path, token, relative: !raw.startsWith("/") && !raw.startsWith("@") };
  conn.watches.push(w);
  // xenstored fires every new watch once, after the acknowledgement.
  after.push(() => queueEvent(xs, conn, w, path));
  return xsOk(OK);
}

function unwatch(conn: XsConnection, payload: Uint8Array): XsResult<Uint8Array> {
  const args = splitStrings(payload);
  if (!args || args.length !== 2) return xsErr("EINVAL");
  const path = pathArg(conn, args[0]!, true);
  if (path === undefined) return xsErr("EINVAL");
  const i = conn.watches.findIndex((w) => w.path === path && w.token === args[1]);
  if (i < 0) return xsErr("ENOENT");
  conn.watches.splice(i, 1);
  return xsOk(OK);
}

// ---- helpers --------------------------------------------------------------------------------

export function oneArg(payload: Uint8Array): string | undefined {
  const a = splitStrings(payload);
  return a && a.length === 1 ? a[0] : undefined;
}

function okAs(r: XsResult<unknown>, payload: Uint8Array): XsResult<Uint8Array> {
  return r.ok ? xsOk(payload) : xsErr(r.error);
}

function mapOk<T>(r: XsResult<T>, f: (v: T) => Uint8Array): XsResult<Uint8Array> {
  return r.ok ? xsOk(f(r.value)) : xsErr(r.error);
}
