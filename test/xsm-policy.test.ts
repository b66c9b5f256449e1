import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Domain } from "../src/xen/domain.ts";
import { FlaskPolicy, XsmPolicyError, loadXsmPolicy, parseXsmPolicy } from "../src/xen/xsm-policy.ts";
import { EACCES } from "../src/xen/errno.ts";

const dom = (domid: number, label?: string, control = false) => new Domain(domid, { name: `d${domid}`, ramPages: 1, label, control });

describe("XSM policy files", () => {
  const text = [
    "# Argo firewall for a driver domain",
    "default deny",
    "",
    "allow * xen_t argo_enable            # every domain may use Argo",
    "deny  guest_t guest_t argo_send      # guests never talk to each other...",
    "allow guest_t backend_t argo_send,argo_register_single_source",
    "allow backend_t guest_t argo_send,argo_register_single_source",
    "allow backend_t xen_t argo_register_any_source",
    "allow dom0_t * argo_send,argo_register_single_source,grant_mapref",
    "allow guest_t self evtchn_send",
  ].join("\n");

  it("parses rules and decides by the first match, else the default", () => {
    const p = parseXsmPolicy(text, "argo.xsm");
    expect(p).toBeInstanceOf(FlaskPolicy);
    expect(p.rules.map((r) => r.line)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(p.defaultAllow).toBe(false);
    expect(p.denyErrno).toBe(EACCES);
    const g1 = dom(1, "guest_t");
    const g2 = dom(2, "guest_t");
    const be = dom(3, "backend_t");
    const d0 = dom(0, undefined, true);
    expect(p.check("argo_enable", g1)).toBe(true);
    expect(p.check("argo_send", g1, g2)).toBe(false);
    expect(p.check("argo_send", g1, be)).toBe(true);
    expect(p.check("argo_register_single_source", be, g2)).toBe(true);
    expect(p.check("argo_register_any_source", be)).toBe(true);
    expect(p.check("argo_register_any_source", g1)).toBe(false);
    expect(p.check("argo_send", d0, g1)).toBe(true);
    expect(p.check("argo_send", g1, d0)).toBe(false); // default
    expect(p.check("evtchn_send", g1, g2)).toBe(true); // self: same label
    expect(p.check("evtchn_send", g1, be)).toBe(false);
  });

  it("defaults to deny without a default line, and honours 'default allow'", () => {
    expect(parseXsmPolicy("# nothing\n").check("argo_send", dom(1), dom(2))).toBe(false);
    const p = parseXsmPolicy("default allow\ndeny domU_t domU_t argo_send\n");
    expect(p.check("argo_send", dom(1), dom(2))).toBe(false);
    expect(p.check("argo_send", dom(1), dom(0, undefined, true))).toBe(true);
  });

  it("loads a file and names it in errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "vxsim-xsm-"));
    const good = join(dir, "ok.xsm");
    writeFileSync(good, text);
    expect(loadXsmPolicy(good).rules.length).toBe(7);
    const bad = join(dir, "bad.xsm");
    writeFileSync(bad, "default deny\nallow a b argo_snd\n");
    expect(() => loadXsmPolicy(bad)).toThrow(`${bad}:2: unknown operation 'argo_snd'`);
  });

  const malformed: [string, string, number, string][] = [
    ["allow domU_t dom0_t argo_send\n\n\n\n\nallow a b c\n\nallow x y argo_snd\n", "policy.xsm:6: unknown operation 'c'", 6, "operation"],
    ["\n\n\n\n\n\nallow domU_t dom0_t argo_snd\n", "policy.xsm:7: unknown operation 'argo_snd'", 7, "operation"],
    ["permit a b argo_send\n", "policy.xsm:1: unknown directive 'permit' (expected allow, deny or default)", 1, "directive"],
    ["allow\n", "policy.xsm:1: 'allow' needs a subject label", 1, "subject"],
    ["deny a\n", "policy.xsm:1: 'deny a' needs an object label", 1, "object"],
    ["allow a b # ops missing\n", "policy.xsm:1: 'allow a b' needs an operation list", 1, "operation"],
    ["allow a b argo_send, argo_enable\n", "policy.xsm:1: unexpected 'argo_enable' after the operation list (separate operations with ',' and no spaces)", 1, "trailing"],
    ["allow a b argo_send,,argo_enable\n", "policy.xsm:1: empty operation in list 'argo_send,,argo_enable'", 1, "operation"],
    ["allow a b argo_send,argo_send\n", "policy.xsm:1: operation 'argo_send' listed twice", 1, "operation"],
    ["allow 9lives b argo_send\n", "policy.xsm:1: invalid subject label '9lives'", 1, "subject"],
    ["allow a b-c argo_send\n", "policy.xsm:1: invalid object label 'b-c'", 1, "object"],
    ["allow self b argo_send\n", "policy.xsm:1: 'self' is only valid as the object label", 1, "subject"],
    ["default\n", "policy.xsm:1: missing value after 'default' (allow or deny)", 1, "default"],
    ["default maybe\n", "policy.xsm:1: default must be 'allow' or 'deny', got 'maybe'", 1, "default"],
    ["default deny now\n", "policy.xsm:1: unexpected 'now' after 'default deny'", 1, "trailing"],
    ["default deny\n# fine\ndefault allow\n", "policy.xsm:3: default is already set on line 1", 3, "default"],
  ];

  it.each(malformed)("rejects %j", (src, message, line, field) => {
    let err: unknown;
    try {
      parseXsmPolicy(src, "policy.xsm");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(XsmPolicyError);
    const e = err as XsmPolicyError;
    expect(e.message).toBe(message);
    expect([e.file, e.line, e.field]).toEqual(["policy.xsm", line, field]);
  });
});
