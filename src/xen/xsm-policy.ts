// A small Flask-style XSM policy: rules over (subject label, object label, operation), labels
// being Domain.label (dom0_t, domU_t unless configured) and `xen_t` for hooks whose object is
// the hypervisor itself (argo_enable, argo_register_any_source). File format, one per line:
//
//   # comment (also after a rule)
//   default deny                         optional, at most once; deny when absent (as Flask)
//   allow <subject> <object> <op>[,<op>...]
//   deny  <subject> <object> <op>[,<op>...]
//
// A label is a name ([A-Za-z_][A-Za-z0-9_]*) or `*` (any); the object may also be `self` (the
// same label as the subject). The first rule that matches decides, like a firewall (the
// "Argo firewall" of the VirtIO-Argo design); no match falls to the default.
import { readFileSync } from "node:fs";
import type { Domain } from "./domain.ts";
import type { XsmOp, XsmPolicy } from "./xsm.ts";
import { EACCES } from "./errno.ts";

/** Every XSM hook name; `satisfies` keeps this list in step with XsmOp. */
const OPS = {
  grant_mapref: true, grant_copy: true, grant_setup: true, evtchn_interdomain: true, evtchn_send: true,
  map_gmfn_foreign: true, dm_op: true, argo_enable: true, argo_register_single_source: true,
  argo_register_any_source: true, argo_send: true, xenstore: true,
} as const satisfies Record<XsmOp, true>;

/** Label of the hypervisor as an object (Flask's xen_t). */
export const XEN_LABEL = "xen_t";

export interface XsmRule {
  allow: boolean;
  subject: string; // label or "*"
  object: string; // label, "*" or "self"
  ops: ReadonlySet<XsmOp>;
  line: number;
}

/** A policy file error: where, which field, what. */
export class XsmPolicyError extends Error {
  readonly file: string;
  readonly line: number;
  readonly field: string;
  constructor(file: string, line: number, field: string, what: string) {
    super(`${file}:${line}: ${what}`);
    this.name = "XsmPolicyError";
    this.file = file;
    this.line = line;
    this.field = field;
  }
}

const LABEL = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class FlaskPolicy implements XsmPolicy {
  readonly name = "flask";
  readonly denyErrno = EACCES;
  readonly defaultAllow: boolean;
  readonly rules: readonly XsmRule[];

  constructor(rules: readonly XsmRule[], defaultAllow = false) {
    this.rules = rules;
    this.defaultAllow = defaultAllow;
  }

  /** Flask's hooks decide on subject and object types only; the caller does not enter. */
  check(op: XsmOp, subject: Domain, object?: Domain, _caller?: Domain): boolean {
    const s = subject.label;
    const o = object ? object.label : XEN_LABEL;
    for (const r of this.rules) {
      if (!r.ops.has(op)) continue;
      if (r.subject !== "*" && r.subject !== s) continue;
      if (r.object === "self" ? o !== s : r.object !== "*" && r.object !== o) continue;
      return r.allow;
    }
    return this.defaultAllow;
  }
}

/** Parses policy text; `file` names it in error messages. */
export function parseXsmPolicy(text: string, file = "policy.xsm"): FlaskPolicy {
  const rules: XsmRule[] = [];
  let defaultAllow: boolean | undefined;
  let defaultLine = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    function fail(field: string, what: string): never {
      throw new XsmPolicyError(file, line, field, what);
    }
    const f = raw.replace(/#.*/, "").trim().split(/\s+/).filter((w) => w !== "");
    if (f.length === 0) return;
    const [kw, ...rest] = f as [string, ...string[]];
    if (kw === "default") {
      if (rest.length === 0) fail("default", "missing value after 'default' (allow or deny)");
      if (rest[0] !== "allow" && rest[0] !== "deny") fail("default", `default must be 'allow' or 'deny', got '${rest[0]}'`);
      if (rest.length > 1) fail("trailing", `unexpected '${rest[1]}' after 'default ${rest[0]}'`);
      if (defaultAllow !== undefined) fail("default", `default is already set on line ${defaultLine}`);
      defaultAllow = rest[0] === "allow";
      defaultLine = line;
      return;
    }
    if (kw !== "allow" && kw !== "deny") fail("directive", `unknown directive '${kw}' (expected allow, deny or default)`);
    const [subject, object, list, extra] = rest;
    if (subject === undefined) fail("subject", `'${kw}' needs a subject label`);
    if (object === undefined) fail("object", `'${kw} ${subject}' needs an object label`);
    if (list === undefined) fail("operation", `'${kw} ${subject} ${object}' needs an operation list`);
    if (extra !== undefined) fail("trailing", `unexpected '${extra}' after the operation list (separate operations with ',' and no spaces)`);
    if (subject === "self") fail("subject", "'self' is only valid as the object label");
    if (subject !== "*" && !LABEL.test(subject)) fail("subject", `invalid subject label '${subject}'`);
    if (object !== "*" && object !== "self" && !LABEL.test(object)) fail("object", `invalid object label '${object}'`);
    const ops = new Set<XsmOp>();
    for (const op of list.split(",")) {
      if (op === "") fail("operation", `empty operation in list '${list}'`);
      if (!Object.hasOwn(OPS, op)) fail("operation", `unknown operation '${op}'`);
      if (ops.has(op as XsmOp)) fail("operation", `operation '${op}' listed twice`);
      ops.add(op as XsmOp);
    }
    rules.push({ allow: kw === "allow", subject: subject, object: object, ops, line });
  });
  return new FlaskPolicy(rules, defaultAllow ?? false);
}

/** Reads and parses a policy file (errors name the file as `path` was given). */
export function loadXsmPolicy(path: string): FlaskPolicy {
  return parseXsmPolicy(readFileSync(path, "utf8"), path);
}
