// Xen's errno values (xen/include/public/errno.h); hypercalls return them negated.
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EIO = 5;
export const E2BIG = 7;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ENOSYS = 38;
export const EMSGSIZE = 90;
export const EOPNOTSUPP = 95;
export const ECONNREFUSED = 111;

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
