// The xenstore database: immutable nodes in a map keyed by absolute path, and the views the
// operations run against — the committed tree, or a transaction layered over it.
//
// A transaction behaves as xenstored's: the first time it touches a node it records the
// node's generation as committed (or that it did not exist); its own changes stay in an
// overlay. Commit succeeds only if every touched node still has the recorded generation —
// otherwise EAGAIN. A node's child list is part of the node, so adding or removing a child
// changes the parent's generation too.
import type { Perm } from "./xenstore-path.ts";

export interface XsNode {
  readonly value: Uint8Array;
  readonly perms: readonly Perm[];
  /** Child names, in creation order (the order DIRECTORY returns). */
  readonly children: readonly string[];
  /** Bumped on every committed change; -1 means "did not exist" in access records. */
  readonly gen: number;
}

/** What the operations read and write: the tree or a transaction. */
export interface XsView {
  get(path: string): XsNode | undefined;
  put(path: string, node: XsNode): void;
  del(path: string): void;
  /** Nodes owned by `domid` as this view sees them (for the node quota). */
  owned(domid: number): number;
}

const owner = (n: XsNode | undefined): number | undefined => n?.perms[0]?.id;

export class XsTree implements XsView {
  private readonly nodes = new Map<string, XsNode>();
  private readonly ownedBy = new Map<number, number>();
  private gen = 0;

  get(path: string): XsNode | undefined {
    return this.nodes.get(path);
  }

  put(path: string, node: XsNode): void {
    this.account(this.nodes.get(path), -1);
    const stamped = { ...node, gen: ++this.gen };
    this.nodes.set(path, stamped);
    this.account(stamped, +1);
  }

  del(path: string): void {
    this.account(this.nodes.get(path), -1);
    this.nodes.delete(path);
  }

  owned(domid: number): number {
    return this.ownedBy.get(domid) ?? 0;
  }

  get size(): number {
    return this.nodes.size;
  }

  paths(): IterableIterator<string> {
    return this.nodes.keys();
  }

  private account(n: XsNode | undefined, d: number): void {
    const o = owner(n);
    if (o !== undefined) this.ownedBy.set(o, (this.ownedBy.get(o) ?? 0) + d);
  }
}

/** A pending watch firing, replayed when a transaction commits. */
export interface PendingFire {
  path: string;
  /** Exact: only watches on this very path (a removed descendant). */
  exact: boolean;
  /** ACLs under which the watcher may see the change (old and new for SET_PERMS). */
  perms: (readonly Perm[])[];
  /** ACL of the parent, the other way a watcher may be allowed to see the event; when
   *  absent, the parent is read from the tree at firing time. */
  parentPerms?: readonly Perm[];
}

export class XsTransaction implements XsView {
  readonly id: number;
  readonly tree: XsTree;
  /** Generation of each touched node when first touched (-1: absent). */
  readonly accessed = new Map<string, number>();
  /** The transaction's own changes; null = removed. */
  readonly overlay = new Map<string, XsNode | null>();
  readonly fires: PendingFire[] = [];
  private readonly ownedDelta = new Map<number, number>();

  constructor(id: number, tree: XsTree) {
    this.id = id;
    this.tree = tree;
  }

  get(path: string): XsNode | undefined {
    if (this.overlay.has(path)) return this.overlay.get(path) ?? undefined;
    const n = this.tree.get(path);
    if (!this.accessed.has(path)) this.accessed.set(path, n ? n.gen : -1);
    return n;
  }

  put(path: string, node: XsNode): void {
    this.account(this.get(path), -1);
    this.overlay.set(path, node);
    this.account(node, +1);
  }

  del(path: string): void {
    this.account(this.get(path), -1);
    this.overlay.set(path, null);
  }

  owned(domid: number): number {
    return this.tree.owned(domid) + (this.ownedDelta.get(domid) ?? 0);
  }

  /** True when no node the transaction touched changed since it touched it. */
  consistent(): boolean {
    for (const [path, gen] of this.accessed) {
      const n = this.tree.get(path);
      if ((n ? n.gen : -1) !== gen) return false;
    }
    return true;
  }

  /** Writes the overlay into the tree (after consistent() said yes). */
  apply(): void {
    for (const [path, node] of this.overlay) {
      if (node) this.tree.put(path, node);
      else this.tree.del(path);
    }
  }

  private account(n: XsNode | undefined, d: number): void {
    const o = owner(n);
    if (o !== undefined) this.ownedDelta.set(o, (this.ownedDelta.get(o) ?? 0) + d);
  }
}
