// Domains in xenstore: INTRODUCE (a domain's ring page and store event channel become a
// connection), RELEASE (which here does xenstored's and libxl's work together), and the
// toolstack's part at domain creation (home directory, INTRODUCE) and destruction.
import type { Domain } from "./domain.ts";
import type { Xenstore } from "./xenstore.ts";
import type { XsConnection } from "./xenstore-conn.ts";
import { XenConfigError } from "./hypervisor.ts";
import { MachineError } from "../wasm/machine.ts";
import { SPECIAL_INTRODUCE, SPECIAL_RELEASE, domainPath } from "./xenstore-path.ts";
import { StoreRing } from "./xenstore-ring.ts";
import type { PendingFire, XsNode } from "./xenstore-tree.ts";
import { splitStrings, strings, xsErr, xsOk, type XsResult } from "./xenstore-wire.ts";
import { fire, fireAll } from "./xenstore-watches.ts";

const OK = strings("OK");
const NUMBER = /^\d{1,5}$/;

export function introduce(xs: Xenstore, conn: XsConnection, payload: Uint8Array): XsResult<Uint8Array> {
  if (!xs.callerOf(conn).privileged) return xsErr("EACCES");
  const args = splitStrings(payload);
  if (!args || args.length !== 3 || !args.every((a) => /^\d{1,10}$/.test(a))) return xsErr("EINVAL");
  const [domid, gfn, port] = args.map(Number) as [number, number, number];
  const existing = xs.connection(domid);
  if (existing) {
    // Same page: the toolstack re-binds the event channel; another page is refused.
    if (existing.ring!.guest.gfn !== gfn) return xsErr("EINVAL");
    const err = xs.bindStore(existing, port);
    return err ? xsErr(err) : xsOk(OK);
  }
  const d = xs.hv.domain(domid);
  if (!d || !d.alive || !xs.hv.machine.domainExists(domid)) return xsErr("ENOENT");
  if (gfn >= d.ramPages) return xsErr("EINVAL");
  let ring: StoreRing;
  try {
    ring = new StoreRing(xs.hv.machine, domid, gfn);
  } catch (e) {
    if (!(e instanceof MachineError)) throw e;
    return xsErr("ENOMEM");
  }
  const rc = xs.addRingConnection(domid, ring);
  const err = xs.bindStore(rc, port);
  if (err) {
    xs.dropRingConnection(domid, false);
    return xsErr(err);
  }
  fire(xs, { path: SPECIAL_INTRODUCE, exact: true, perms: [xs.special.get(SPECIAL_INTRODUCE)!] });
  return xsOk(OK);
}

export function release(xs: Xenstore, conn: XsConnection, payload: Uint8Array): XsResult<Uint8Array> {
  if (!xs.callerOf(conn).privileged) return xsErr("EACCES");
  const a = splitStrings(payload);
  const arg = a && a.length === 1 ? a[0]! : undefined;
  if (arg === undefined || !NUMBER.test(arg)) return xsErr("EINVAL");
  const domid = Number(arg);
  if (!xs.isIntroduced(domid)) return xsErr("ENOENT");
  if (domid === xs.serverDomid) return xsErr("EINVAL");
  releaseDomain(xs, domid);
  return xsOk(OK);
}

/** Drops a domain: its ring connection, watches and transactions, its home subtree (firing
 *  the watches of those who watch it), and its name from every other node's ACL (an owner
 *  becomes dom0) so a later domain reusing the id inherits nothing. */
export function releaseDomain(xs: Xenstore, domid: number, serverGone = false): void {
  xs.dropRingConnection(domid, serverGone);
  const fires: PendingFire[] = [];
  xs.ops.removeTree(xs.tree, domainPath(domid), fires);
  const named: [string, XsNode][] = [];
  for (const p of xs.tree.paths()) {
    const n = xs.tree.get(p)!;
    if (n.perms.some((e) => e.id === domid)) named.push([p, n]);
  }
  for (const [p, n] of named) {
    const [owner, ...rest] = n.perms;
    const perms = [owner!.id === domid ? { id: 0, access: owner!.access } : owner!, ...rest.filter((e) => e.id !== domid)];
    xs.tree.put(p, { ...n, perms });
  }
  fireAll(xs, fires);
  fire(xs, { path: SPECIAL_RELEASE, exact: true, perms: [xs.special.get(SPECIAL_RELEASE)!] });
}

/** The toolstack at domain creation: /local/domain/<id> owned by the domain (name and domid
 *  readable by it; device, control, data), made in one transaction, then INTRODUCE. */
export function toolstackCreate(xs: Xenstore, d: Domain, gfn: number, port: number): void {
  const ts = xs.toolstack;
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
  const r = ts.introduce(id, gfn, port);
  if (!r.ok) throw new XenConfigError(`xenstore: INTRODUCE of domain ${id} (store gfn ${gfn}) failed: ${r.error}`);
}

/** Runs steps in order, stopping at the first error. */
export function all(...steps: (() => XsResult<unknown>)[]): XsResult<void> {
  for (const s of steps) {
    const r = s();
    if (!r.ok) return xsErr(r.error);
  }
  return xsOk(undefined);
}
