// Argo under mandatory access control: the hooks fire where argo.c calls them, denials return
// the module's errno (SILO -EPERM, Flask -EACCES) and are counted in total and per hook.
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { SiloPolicy } from "../src/xen/xsm.ts";
import { parseXsmPolicy } from "../src/xen/xsm-policy.ts";
import { EACCES, ECONNREFUSED, EPERM } from "../src/xen/errno.ts";
import { BUF, pattern, world } from "./helpers/argo-world.ts";

const ANY = L.XEN_ARGO_DOMID_ANY;

describe("Argo with SILO", () => {
  it("denies domU<->domU register and send (-EPERM), allows dom0 on either side, counts per hook", () => {
    const w = world({ xsm: new SiloPolicy() });
    const c = (id: number) => w.machine.counter(id);
    expect(w.guest(1).register(w.ring(1, { aport: 1, partner: 2, len: 64 }))).toBe(-EPERM);
    expect(c(L.CNT_XSM_DENIED_ARGO_REGISTER_SINGLE)).toBe(1);
    expect(w.guest(1).register(w.ring(1, { aport: 1, partner: 0, len: 64 }))).toBe(0);
    expect(w.guest(0).register(w.ring(0, { aport: 1, partner: 2, len: 64 }))).toBe(0);
    expect(w.guest(1).register(w.ring(1, { aport: 2, partner: 1, len: 64, baseGfn: 20 }))).toBe(0); // itself
    expect(w.guest(2).send({ domid: 1, aport: 1 }, pattern(8, 1), BUF)).toBe(-EPERM);
    expect(w.guest(2).send({ domid: 0, aport: 1 }, pattern(8, 1), BUF)).toBe(8);
    expect(w.guest(0).send({ domid: 1, aport: 1 }, pattern(8, 1), BUF)).toBe(8);
    expect(c(L.CNT_XSM_DENIED_ARGO_SEND)).toBe(1);
    expect(c(L.CNT_XSM_DENIED)).toBe(2);
    expect(c(L.CNT_XSM_DENIED_ARGO_ENABLE)).toBe(0);
  });

  it("denies the notify query about another domU's ring and stops at that entry", () => {
    const w = world({ xsm: new SiloPolicy() });
    expect(w.guest(2).register(w.ring(2, { aport: 1, partner: 0, len: 64 }))).toBe(0);
    expect(w.guest(0).register(w.ring(0, { aport: 1, partner: 1, len: 64 }))).toBe(0);
    const r = w.guest(1).notify([
      { ring: { domid: 0, aport: 1 }, spaceRequired: 1 },
      { ring: { domid: 2, aport: 1 }, spaceRequired: 1 },
      { ring: { domid: 0, aport: 1 }, spaceRequired: 1 },
    ]);
    expect(r.rc).toBe(-EPERM);
    expect(r.answers.map((a) => a.flags)).toEqual([L.XEN_ARGO_RING_EXISTS | L.XEN_ARGO_RING_EMPTY | L.XEN_ARGO_RING_SUFFICIENT, 0, 0]);
    expect(w.machine.counter(L.CNT_XSM_DENIED_ARGO_SEND)).toBe(1);
    expect(w.machine.counter(L.CNT_ARGO_NOTIFY_QUERIES)).toBe(2);
  });

  it("leaves wildcard registration to mac-permissive (SILO has no any-source hook)", () => {
    const w = world({ xsm: new SiloPolicy(), argo: { macPermissive: true } });
    expect(w.guest(1).register(w.ring(1, { aport: 1, partner: ANY, len: 64 }))).toBe(0);
    // ... but every send into it is still checked.
    expect(w.guest(2).send({ domid: 1, aport: 1 }, pattern(8, 1), BUF)).toBe(-EPERM);
    expect(w.guest(0).send({ domid: 1, aport: 1 }, pattern(8, 1), BUF)).toBe(8);
  });
});

describe("Argo with a Flask-style policy file", () => {
  const policy = `
# a frontend and its backend may talk over Argo; nobody else
default deny
allow * xen_t argo_enable
allow front_t back_t argo_send,argo_register_single_source
allow back_t front_t argo_send,argo_register_single_source
allow back_t xen_t argo_register_any_source
`;

  it("allows what SILO would deny between two domUs, and denies the rest with -EACCES", () => {
    const w = world({ xsm: parseXsmPolicy(policy, "argo.xsm"), domUs: 3, labels: ["front_t", "back_t", "other_t"], argo: { macPermissive: true } });
    const c = (id: number) => w.machine.counter(id);
    expect(w.guest(2).register(w.ring(2, { aport: 1, partner: 1, len: 256 }))).toBe(0);
    expect(w.guest(1).register(w.ring(1, { aport: 1, partner: 2, len: 256 }))).toBe(0);
    expect(w.guest(1).send({ domid: 2, aport: 1 }, pattern(40, 1), BUF)).toBe(40);
    expect(w.guest(2).send({ domid: 1, aport: 1 }, pattern(40, 2), BUF)).toBe(40);
    expect(w.guest(3).send({ domid: 2, aport: 1 }, pattern(40, 3), BUF)).toBe(-EACCES);
    expect(w.guest(3).register(w.ring(3, { aport: 1, partner: 2, len: 256 }))).toBe(-EACCES);
    expect(w.guest(1).register(w.ring(1, { aport: 2, partner: ANY, len: 256, baseGfn: 30 }))).toBe(-EACCES);
    expect(w.guest(2).register(w.ring(2, { aport: 2, partner: ANY, len: 256, baseGfn: 30 }))).toBe(0);
    expect([c(L.CNT_XSM_DENIED_ARGO_SEND), c(L.CNT_XSM_DENIED_ARGO_REGISTER_SINGLE), c(L.CNT_XSM_DENIED_ARGO_REGISTER_ANY)]).toEqual([1, 1, 1]);
    expect(c(L.CNT_XSM_DENIED)).toBe(3);
    // dom0 is not in the policy: denied like anyone else (sending to back_t).
    expect(w.guest(0).send({ domid: 2, aport: 2 }, pattern(4, 0), BUF)).toBe(-EACCES);
    const msgs = w.ring(2, { aport: 1, partner: 1, len: 256 }).receive();
    expect(msgs.map((m) => [m.source.domid, m.payload])).toEqual([[1, pattern(40, 1)]]);
  });

  it("argo_enable is checked at domain creation and on every op", () => {
    const w = world({ xsm: parseXsmPolicy("allow front_t xen_t argo_enable\nallow front_t front_t argo_send\n"), labels: ["front_t", "front_t"] });
    // dom0_t has no argo_enable: no Argo state at creation, and every op is denied first.
    expect(w.argo.hasState(0)).toBe(false);
    expect(w.machine.counter(L.CNT_XSM_DENIED_ARGO_ENABLE)).toBe(1);
    expect(w.guest(0).notify().rc).toBe(-EACCES);
    expect(w.guest(0).unregister(1, 1)).toBe(-EACCES);
    expect(w.machine.counter(L.CNT_XSM_DENIED_ARGO_ENABLE)).toBe(3);
    expect(w.guest(1).register(w.ring(1, { aport: 1, partner: 0, len: 64 }))).toBe(-EACCES); // single_source not allowed
    expect(w.guest(1).sendv({ domid: 0, aport: 1 }, [])).toBe(-EACCES);
    expect(w.guest(1).sendv({ domid: 2, aport: 1 }, [])).toBe(-ECONNREFUSED);
  });
});
