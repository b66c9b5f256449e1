// Xenstore node names and permissions, as xenstored checks them.
//
// Paths: absolute ("/local/domain/3/device") or relative to the caller's home
// ("/local/domain/<domid>/"). A valid name starts with "/", has no "//", does not end in "/"
// (except the root), uses only [A-Za-z0-9-/_@], and its part below "/local/domain/<id>/" is
// at most XENSTORE_REL_PATH_MAX bytes. Watches may also name the special nodes
// "@introduceDomain" and "@releaseDomain".
//
// Permissions: an ACL of entries "<n|r|w|b><domid>". The first entry names the owner and gives
// the access of every domain not listed later; later entries give specific domains their
// access. The owner, the privileged domains, and a device model over the owner (its target)
// always have full access.
import { XENSTORE_ABS_PATH_MAX, XENSTORE_REL_PATH_MAX } from "../wasm/layout.ts";

export const SPECIAL_INTRODUCE = "@introduceDomain";
export const SPECIAL_RELEASE = "@releaseDomain";

export const domainPath = (domid: number): string => `/local/domain/${domid}`;

/** The absolute form of `path` for a caller whose home is domainPath(domid). */
export function canonicalize(path: string, domid: number): string {
  if (path.startsWith("/") || path.startsWith("@")) return path;
  return `${domainPath(domid)}/${path}`;
}

const NAME_CHARS = /^[A-Za-z0-9\-/_@]*$/;
const LOCAL_PREFIX = /^\/local\/domain\/\d{1,5}\//;

export function isValidPath(path: string, allowSpecial = false): boolean {
  if (allowSpecial && path.startsWith("@")) {
    return path.length <= XENSTORE_REL_PATH_MAX && NAME_CHARS.test(path);
  }
  if (!path.startsWith("/")) return false;
  if (path.endsWith("/") && path !== "/") return false;
  if (path.includes("//")) return false;
  if (path.length > XENSTORE_ABS_PATH_MAX) return false;
  const local = LOCAL_PREFIX.exec(path);
  const rel = local ? path.length - local[0].length : path.length;
  if (rel > XENSTORE_REL_PATH_MAX) return false;
  return NAME_CHARS.test(path);
}

export const isSpecial = (path: string): boolean => path.startsWith("@");

export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/** Is `path` the watched node or below it? (Every node is below "/".) */
export function isAtOrBelow(path: string, watched: string): boolean {
  if (watched === "/") return !isSpecial(path);
  return path === watched || path.startsWith(watched + "/");
}

// ---- permissions ----------------------------------------------------------------------

export const PERM_NONE = 0;
export const PERM_READ = 1;
export const PERM_WRITE = 2;
export const PERM_OWNER = 4;
export const PERM_ALL = PERM_READ | PERM_WRITE | PERM_OWNER;

export interface Perm {
  readonly id: number;
  /** PERM_READ | PERM_WRITE bits. */
  readonly access: number;
}

const LETTER_ACCESS: Record<string, number> = { n: PERM_NONE, r: PERM_READ, w: PERM_WRITE, b: PERM_READ | PERM_WRITE };
const ACCESS_LETTER = ["n", "r", "w", "b"];

/** "b3" -> { id: 3, access: READ|WRITE }, or undefined for a malformed entry. */
export function parsePerm(s: string): Perm | undefined {
  const m = /^([nrwb])(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const id = Number(m[2]);
  if (id > 0xffff) return undefined;
  return { id, access: LETTER_ACCESS[m[1]!]! };
}

export function formatPerm(p: Perm): string {
  return `${ACCESS_LETTER[p.access & 3]}${p.id}`;
}

/** Who is asking: the connection's domain and what xenstored knows about it. */
export interface Caller {
  readonly domid: number;
  /** dom0 / the control domain: every node is fully accessible. */
  readonly privileged: boolean;
  /** A device model's guest: the caller acts with that domain's rights too. */
  readonly target?: number;
}

/** The access `caller` has to a node with ACL `perms` (xenstored's perm_for_conn). */
export function accessFor(caller: Caller, perms: readonly Perm[]): number {
  const owner = perms[0]!;
  const isMe = (id: number) => id === caller.domid || (caller.target !== undefined && id === caller.target);
  if (caller.privileged || isMe(owner.id)) return PERM_ALL;
  for (let i = 1; i < perms.length; i++) if (isMe(perms[i]!.id)) return perms[i]!.access;
  return owner.access;
}
