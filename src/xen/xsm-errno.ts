// The errno an XSM denial returns: the policy's own (Flask's avc_has_perm gives EACCES), or
// EPERM as Xen's dummy module and SILO give (xsm_default_action). Policies declare theirs in
// `denyErrno` (positive), read structurally so any policy object works.
import type { XsmPolicy } from "./xsm.ts";
import { EPERM } from "./errno.ts";

export function xsmDenialErrno(policy: XsmPolicy): number {
  return -((policy as { readonly denyErrno?: number }).denyErrno ?? EPERM);
}
