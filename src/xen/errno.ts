// Xen's errno values (xen/include/public/errno.h, checked in layout.ts); hypercalls return them
// negated.
import * as L from "../wasm/layout.ts";

export const EPERM = L.XEN_EPERM;
export const ENOENT = L.XEN_ENOENT;
export const ESRCH = L.XEN_ESRCH;
export const EIO = L.XEN_EIO;
export const E2BIG = L.XEN_E2BIG;
export const EAGAIN = L.XEN_EAGAIN;
export const ENOMEM = L.XEN_ENOMEM;
export const EACCES = L.XEN_EACCES;
export const EFAULT = L.XEN_EFAULT;
export const EBUSY = L.XEN_EBUSY;
export const EEXIST = L.XEN_EEXIST;
export const ENODEV = L.XEN_ENODEV;
export const EINVAL = L.XEN_EINVAL;
export const ENOSPC = L.XEN_ENOSPC;
export const ENOSYS = L.XEN_ENOSYS;
export const EMSGSIZE = L.XEN_EMSGSIZE;
export const EOPNOTSUPP = L.XEN_EOPNOTSUPP;
export const ECONNREFUSED = L.XEN_ECONNREFUSED;

const NAMES: Record<number, string> = {
  [EPERM]: "EPERM", [ENOENT]: "ENOENT", [ESRCH]: "ESRCH", [EIO]: "EIO", [E2BIG]: "E2BIG", [EAGAIN]: "EAGAIN", [ENOMEM]: "ENOMEM",
  [EACCES]: "EACCES", [EFAULT]: "EFAULT", [EBUSY]: "EBUSY", [EEXIST]: "EEXIST", [ENODEV]: "ENODEV",
  [EINVAL]: "EINVAL", [ENOSPC]: "ENOSPC", [ENOSYS]: "ENOSYS", [EMSGSIZE]: "EMSGSIZE",
  [EOPNOTSUPP]: "EOPNOTSUPP", [ECONNREFUSED]: "ECONNREFUSED",
};

/** "-EAGAIN" for -11, "0" for success. */
export function errnoName(rc: number): string {
  if (rc >= 0) return String(rc);
  return `-${NAMES[-rc] ?? `E${-rc}`}`;
}
