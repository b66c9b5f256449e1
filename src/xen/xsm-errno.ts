// The errno an XSM denial returns. Xen's dummy module and SILO refuse with -EPERM
// (xsm_default_action); Flask refuses with -EACCES (avc_has_perm). Policies here are told apart
// by name: "dummy" and "silo" are the built-in modules, anything else is a Flask-style policy.
import type { XsmPolicy } from "./xsm.ts";
import { EACCES, EPERM } from "./errno.ts";

export function xsmDenialErrno(policy: XsmPolicy): number {
  return policy.name === "dummy" || policy.name === "silo" ? -EPERM : -EACCES;
}
