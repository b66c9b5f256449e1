// The node operations of xenstored (read, write, mkdir, rm, directory, get/set perms) against
// a view — the committed tree or a transaction — with its permission rules, the per-domain
// quotas, and the watch firings each change causes (returned, not sent: the caller fires
// them now, or at commit for a transaction).
import {
  PERM_OWNER, PERM_READ, PERM_WRITE, accessFor, baseName, childPath, parentOf,
  type Caller, type Perm,
} from "./xenstore-path.ts";
import type { PendingFire, XsNode, XsView } from "./xenstore-tree.ts";
import { xsErr, xsOk, type XsErrorName, type XsResult } from "./xenstore-wire.ts";

export interface XsQuota {
  /** Nodes a domain may own. */
  nodes: number;
  /** Watches a domain may hold (all its connections). */
  watches: number;
  /** Open transactions per connection. */
  transactions: number;
  /** Size of a node's database record (header, ACL, value, child names), must stay below. */
  entrySize: number;
  /** ACL entries per node. */
  permsPerNode: number;
}

/** xenstored's defaults (quota_nb_entry_per_domain and friends). */
export const DEFAULT_QUOTA: XsQuota = { nodes: 1000, watches: 128, transactions: 10, entrySize: 2048, permsPerNode: 5 };

const EMPTY = new Uint8Array(0);
const enc = new TextEncoder();

/** Bytes xenstored's record for the node takes: a 24-byte header, 8 bytes per ACL entry,
 *  the value, and each child name with its NUL. */
export function recordSize(n: XsNode): number {
  let size = 24 + 8 * n.perms.length + n.value.length;
  for (const c of n.children) size += enc.encode(c).length + 1;
  return size;
}

type Found = { node: XsNode; err?: undefined } | { node?: undefined; err: XsErrorName };

export class XsNodeOps {
  readonly quota: XsQuota;
  /** Called for every refusal due to a quota (counted by the daemon). */
  onQuota: () => void = () => {};

  constructor(quota: XsQuota) {
    this.quota = quota;
  }

  /** The node if `caller` has `perm` on it; else ENOENT when the nearest existing ancestor
   *  would allow `perm` (the caller may learn that it is absent), or EACCES. */
  lookup(view: XsView, caller: Caller, path: string, perm: number): Found {
    const n = view.get(path);
    if (n) return (accessFor(caller, n.perms) & perm) === perm ? { node: n } : { err: "EACCES" };
    let p = path;
    let anc: XsNode | undefined;
    do {
      p = parentOf(p);
      anc = view.get(p);
    } while (!anc && p !== "/");
    if (!anc) return { err: "EACCES" };
    return (accessFor(caller, anc.perms) & perm) !== 0 ? { err: "ENOENT" } : { err: "EACCES" };
  }

  read(view: XsView, caller: Caller, path: string): XsResult<Uint8Array> {
    const f = this.lookup(view, caller, path, PERM_READ);
    return f.node ? xsOk(f.node.value) : xsErr(f.err);
  }

  directory(view: XsView, caller: Caller, path: string): XsResult<readonly string[]> {
    const f = this.lookup(view, caller, path, PERM_READ);
    return f.node ? xsOk(f.node.children) : xsErr(f.err);
  }

  getPerms(view: XsView, caller: Caller, path: string): XsResult<readonly Perm[]> {
    const f = this.lookup(view, caller, path, PERM_READ);
    return f.node ? xsOk(f.node.perms) : xsErr(f.err);
  }

  /** WRITE (value given) or MKDIR (value undefined: an existing node is left alone). */
  write(view: XsView, caller: Caller, path: string, value: Uint8Array | undefined, fires: PendingFire[]): XsResult<void> {
    const f = this.lookup(view, caller, path, PERM_WRITE);
    if (f.node) {
      if (value === undefined) return xsOk(undefined);
      const node = { ...f.node, value };
      if (!this.fits(caller, node)) return this.quotaErr("ENOSPC");
      view.put(path, node);
      fires.push({ path, exact: false, perms: [node.perms] });
      return xsOk(undefined);
    }
    if (f.err !== "ENOENT") return xsErr(f.err);
    return this.create(view, caller, path, value ?? EMPTY, fires);
  }

  /** Creates `path` and any missing ancestors, each inheriting its parent's ACL (an
   *  unprivileged creator becomes the owner). All checks happen before the first change. */
  private create(view: XsView, caller: Caller, path: string, value: Uint8Array, fires: PendingFire[]): XsResult<void> {
    const missing: string[] = [];
    let p = path;
    while (!view.get(p)) {
      missing.push(p);
      p = parentOf(p);
    }
    if (!caller.privileged && view.owned(caller.domid) + missing.length > this.quota.nodes) return this.quotaErr("ENOSPC");
    const writes: [string, XsNode][] = [];
    let parentPath = p;
    let parent = view.get(p)!;
    for (const q of missing.reverse()) {
      const perms = caller.privileged ? parent.perms : [{ id: caller.domid, access: parent.perms[0]!.access }, ...parent.perms.slice(1)];
      const node: XsNode = { value: q === path ? value : EMPTY, perms, children: [], gen: 0 };
      parent = { ...parent, children: [...parent.children, baseName(q)] };
      writes.push([parentPath, parent]);
      parentPath = q;
      parent = node;
    }
    writes.push([parentPath, parent]);
    for (const [, n] of writes) if (!this.fits(caller, n)) return this.quotaErr("ENOSPC");
    for (const [wp, n] of writes) view.put(wp, n);
    fires.push({ path, exact: false, perms: [parent.perms] });
    return xsOk(undefined);
  }

  /** RM: the node and everything below it. Removing an absent node whose parent exists is
   *  not an error; removing "/" is EINVAL. */
  rm(view: XsView, caller: Caller, path: string, fires: PendingFire[]): XsResult<void> {
    const f = this.lookup(view, caller, path, PERM_WRITE);
    if (!f.node) {
      if (f.err === "ENOENT" && view.get(parentOf(path))) return xsOk(undefined);
      return xsErr(f.err);
    }
    if (path === "/") return xsErr("EINVAL");
    this.removeTree(view, path, fires);
    return xsOk(undefined);
  }

  /** Removes a subtree without permission checks (after the caller's check, or for the
   *  toolstack's domain cleanup): descendants fire exact watches, deepest first, then the
   *  node itself fires watches on it and its ancestors. */
  removeTree(view: XsView, path: string, fires: PendingFire[]): void {
    const node = view.get(path);
    if (!node) return;
    const walk = (p: string, n: XsNode) => {
      for (const c of n.children) {
        const cp = childPath(p, c);
        const cn = view.get(cp);
        if (!cn) continue;
        walk(cp, cn);
        fires.push({ path: cp, exact: true, perms: [cn.perms], parentPerms: n.perms });
        view.del(cp);
      }
    };
    walk(path, node);
    const pp = parentOf(path);
    const parent = view.get(pp)!;
    const name = baseName(path);
    const np = { ...parent, children: parent.children.filter((c) => c !== name) };
    view.del(path);
    view.put(pp, np);
    fires.push({ path, exact: false, perms: [node.perms], parentPerms: np.perms });
  }

  /** SET_PERMS: only the owner (or a privileged domain) may; an unprivileged owner may not
   *  give the node away. */
  setPerms(view: XsView, caller: Caller, path: string, perms: Perm[], fires: PendingFire[]): XsResult<void> {
    if (!caller.privileged && perms.length > this.quota.permsPerNode) return this.quotaErr("ENOSPC");
    const f = this.lookup(view, caller, path, PERM_WRITE | PERM_OWNER);
    if (!f.node) return xsErr(f.err);
    if (!caller.privileged && perms[0]!.id !== f.node.perms[0]!.id) return xsErr("EPERM");
    const node = { ...f.node, perms };
    if (!this.fits(caller, node)) return this.quotaErr("ENOSPC");
    view.put(path, node);
    fires.push({ path, exact: false, perms: [f.node.perms, perms] });
    return xsOk(undefined);
  }

  private fits(caller: Caller, n: XsNode): boolean {
    return caller.privileged || recordSize(n) < this.quota.entrySize;
  }

  private quotaErr(e: XsErrorName): XsResult<void> {
    this.onQuota();
    return xsErr(e);
  }
}
