// XSM: the mandatory access control hooks Xen runs before sensitive operations. A policy
// answers allow/deny for (operation, subject domain, object domain); the hypervisor counts
// every denial. Policies here: Xen's dummy (default) module and SILO. A Flask-style policy
// file is loaded by src/xen/xsm-policy.ts.
import type { Domain } from "./domain.ts";

export type XsmOp =
  | "grant_mapref" // GNTTABOP_map_grant_ref: subject maps object's grant
  | "grant_copy" // GNTTABOP_copy between subject and object
  | "grant_setup" // GNTTABOP_setup_table/query_size for another domain
  | "evtchn_interdomain" // bind_interdomain / alloc_unbound with a remote domain
  | "evtchn_send"
  | "map_gmfn_foreign" // XENMAPSPACE_gmfn_foreign: subject maps object's RAM
  | "dm_op" // device-model ops (ioreq servers, irq levels) on object
  | "argo_enable"
  | "argo_register_single_source"
  | "argo_register_any_source"
  | "argo_send"
  | "xenstore"; // (not a real XSM hook; reserved for policies that model xenstored checks)

export interface XsmPolicy {
  readonly name: string;
  /** The errno (positive) a denial returns: Flask's avc_has_perm gives EACCES, the dummy and
   *  SILO modules EPERM (the default when absent). */
  readonly denyErrno?: number;
  /** `caller` is the domain making the hypercall (Xen's current->domain); hooks whose
   *  subject is another domain (grant copy between two others, an unbound port set up for a
   *  guest) pass it separately. Policies that do not look at it may leave it out. */
  check(op: XsmOp, subject: Domain, object?: Domain, caller?: Domain): boolean;
}

/** Xen's dummy module: everything allowed except privileged device-model operations, which
 *  need the control domain or the guest's device-model target (XSM_TARGET / XSM_DM_PRIV). */
export class DummyPolicy implements XsmPolicy {
  readonly name: string = "dummy";
  check(op: XsmOp, subject: Domain, object?: Domain, _caller?: Domain): boolean {
    if (op === "map_gmfn_foreign" || op === "dm_op") {
      return object !== undefined && subject.isPrivilegedOver(object.domid);
    }
    if (op === "grant_setup") return object === undefined || object === subject || subject.isControl;
    return true;
  }
}

const SILO_COMMS: readonly XsmOp[] = [
  "grant_mapref", "grant_copy", "evtchn_interdomain", "evtchn_send", "argo_register_single_source", "argo_send",
];

/** SILO (default on Arm since XSA-295): the dummy rules, plus no grant, event-channel or Argo
 *  communication between two unprivileged domains. As silo_mode_dom_check(): allowed when
 *  the caller, either side, or both sides being the same domain make it safe — so the control
 *  domain may still copy between two guests' grants or set up a channel between them. */
export class SiloPolicy extends DummyPolicy {
  override readonly name: string = "silo";
  override check(op: XsmOp, subject: Domain, object?: Domain, caller: Domain = subject): boolean {
    if (SILO_COMMS.includes(op) && object !== undefined && object !== subject) {
      if (!caller.isControl && !subject.isControl && !object.isControl) return false;
    }
    return super.check(op, subject, object, caller);
  }
}
