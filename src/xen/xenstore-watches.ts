// Watch events (xenstored's fire_watches): a change queues an event on every watch at or above
// the changed path (exactly on it for a removed descendant), for watchers allowed to read the
// node (old or new ACL) or its parent.
import type { Xenstore } from "./xenstore.ts";
import type { XsConnection, XsWatch } from "./xenstore-conn.ts";
import { PERM_READ, accessFor, domainPath, isAtOrBelow, isSpecial, parentOf, type Caller } from "./xenstore-path.ts";
import type { PendingFire } from "./xenstore-tree.ts";
import { XENSTORE_PAYLOAD_MAX, XS_WATCH_EVENT, strings } from "./xenstore-wire.ts";
import * as L from "../wasm/layout.ts";

export function fireAll(xs: Xenstore, fires: PendingFire[]): void {
  for (const f of fires) fire(xs, f);
}

export function fire(xs: Xenstore, f: PendingFire): void {
  for (const conn of xs.conns.values()) {
    if (conn.closed || conn.error) continue;
    let caller: Caller | undefined;
    for (const w of conn.watches) {
      if (f.exact ? w.path !== f.path : !isAtOrBelow(f.path, w.path)) continue;
      caller ??= xs.callerOf(conn);
      if (!permitted(xs, caller, f)) {
        xs.hv.machine.bump(L.CNT_XS_WATCH_SUPPRESSED);
        continue;
      }
      queueEvent(xs, conn, w, f.path);
    }
  }
}

function permitted(xs: Xenstore, caller: Caller, f: PendingFire): boolean {
  if (f.perms.some((p) => (accessFor(caller, p) & PERM_READ) !== 0)) return true;
  if (isSpecial(f.path)) return false;
  const pp = f.parentPerms ?? xs.tree.get(parentOf(f.path))?.perms;
  return pp !== undefined && (accessFor(caller, pp) & PERM_READ) !== 0;
}

/** Sends one WATCH_EVENT (the path made relative for a relative watch). */
export function queueEvent(xs: Xenstore, conn: XsConnection, w: XsWatch, path: string): void {
  let p = path;
  if (w.relative) {
    const home = domainPath(conn.domid);
    if (p === home) p = "";
    else if (p.startsWith(home + "/")) p = p.slice(home.length + 1);
  }
  const payload = strings(p, w.token);
  if (payload.length > XENSTORE_PAYLOAD_MAX) return; // xenstored drops over-long events
  conn.stats.events++;
  xs.hv.machine.bump(L.CNT_XS_WATCH_EVENTS);
  xs.send(conn, XS_WATCH_EVENT, 0, 0, payload);
}
