// The isolation property of the whole Xen model (issue 3): random sequences of grant access /
// end access, grant map / unmap / copy, foreign map / unmap, Argo register / sendv / consume
// and raw guest loads and stores, issued by random domains among five — dom0, a driver domain,
// guest A's device-model stub domain, guest A, and a hostile guest B that uses wrong domids,
// bad refs, stale handles and addresses of other domains' frames — under the dummy XSM
// policy and SILO. Every hypercall goes through hv.hypercall by number.
//
// A reference model (helpers/isolation-model.ts, written from the rules) predicts every
// status and every byte. After each step every domain's RAM must equal the model's image (so
// no domain read or wrote a frame it had no right to), and every refusal must be in the
// counter that records it (machine refusals, GNTST errors, foreign-map errors and XSM
// denials, memory_op errors, Argo errors), the sum equalling the model's count.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as L from "../src/wasm/layout.ts";
import { createXen, type Xen } from "../src/xen/xen.ts";
import { GuestGrants } from "../src/xen/grant-guest.ts";
import { GuestEvtchn } from "../src/xen/evtchn-guest.ts";
import {
  ANY, ARGS_GFN, DATA, GG_GFN, IsolationModel, NOT_RAM, PAGE, RAM, RING_GFNS, SLOTS, TABLE_GFN, WIN, ringPages,
  type CopySide, type Dom,
} from "./helpers/isolation-model.ts";

const D0 = 0;
const A = 1;
const B = 2; // hostile
const DRV = 3;
const STUB = 4; // guest A's device model
const DOMS: Dom[] = [{ domid: D0, control: true }, { domid: A, control: false }, { domid: B, control: false }, { domid: DRV, control: false }, { domid: STUB, control: false, target: A }];
const NO_DOM = 9;
const SELF = L.DOMID_SELF;
const BEYOND_P2M = RAM + 0x10000 + 100; // past every domain's p2m
const BEYOND_GPA = 2 ** 20 + 3; // past the 4 GiB guest-physical limit
const ARGS = ARGS_GFN * PAGE;

// ---- generators ------------------------------------------------------------------------------

const dom: fc.Arbitrary<number> = fc.constantFrom(D0, A, B, DRV, STUB);
const anyDom: fc.Arbitrary<number> = fc.oneof({ weight: 8, arbitrary: dom }, fc.constantFrom(NO_DOM, SELF));
const actor: fc.Arbitrary<number> = fc.constantFrom(D0, A, B, B, B, DRV, STUB);
const twist = fc.nat(9); // hostile variants: always likely for B, rarely for the others
const hostileFor = (who: number, t: number) => t < (who === B ? 6 : 1);
const ref = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 8, max: 15 }) }, fc.constantFrom(600, 2 ** 31));
const dataGfn = fc.oneof({ weight: 8, arbitrary: fc.nat(DATA - 1) }, fc.constant(NOT_RAM));
const slot = fc.nat(SLOTS - 1);
const side = fc.oneof(
  fc.record({ kind: fc.constant("gref" as const), domid: anyDom, ref }),
  fc.record({ kind: fc.constant("gmfn" as const), domid: fc.oneof({ weight: 5, arbitrary: fc.constant(SELF) }, dom), gfn: fc.oneof({ weight: 6, arbitrary: fc.nat(DATA - 1) }, fc.constantFrom(NOT_RAM, WIN, TABLE_GFN)) }),
);
const off = fc.oneof({ weight: 9, arbitrary: fc.nat(2048) }, fc.nat(4100));
const rawWhere = fc.oneof(
  { weight: 6, arbitrary: fc.nat(RAM - 1) },
  { weight: 6, arbitrary: slot.map((s) => WIN + s) },
  { weight: 1, arbitrary: fc.constantFrom(NOT_RAM, BEYOND_P2M, BEYOND_GPA) },
);

const op = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("grant" as const), actor: dom, ref: fc.integer({ min: 8, max: 15 }), grantee: anyDom, gfn: dataGfn, ro: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("end" as const), actor: dom, ref: fc.integer({ min: 8, max: 15 }), inUse: fc.boolean(), pick: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("map" as const), actor, twist, pick: fc.nat(), granter: anyDom, ref, slot, ro: fc.boolean(), variant: fc.constantFrom("noflags", "device", "ram", "table", "garbage") }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("unmap" as const), actor, twist, pick: fc.nat(), how: fc.constantFrom("stale", "other", "wrongslot", "zero"), stale: fc.nat(300), slot }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("copy" as const), actor, twist, pick: fc.nat(), steer: fc.constantFrom("src", "dst", "both"), src: side, dst: side, so: off, doff: off, len: off }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("fmap" as const), actor, twist, pick: fc.nat(), owner: anyDom, idx: fc.oneof({ weight: 8, arbitrary: fc.nat(DATA - 1) }, fc.constant(RAM + 5)), at: fc.oneof({ weight: 8, arbitrary: slot.map((s) => WIN + s) }, fc.constantFrom(3, TABLE_GFN)) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("funmap" as const), actor, twist, pick: fc.nat(), at: fc.oneof({ weight: 6, arbitrary: slot.map((s) => WIN + s) }, fc.constantFrom(3, NOT_RAM, BEYOND_P2M)) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("areg" as const), actor, twist, aport: fc.integer({ min: 1, max: 2 }), partner: fc.oneof({ weight: 6, arbitrary: dom }, fc.constantFrom(ANY, ANY, NO_DOM)), len: fc.constantFrom(256, 256, 1024, 100, 32), gfn: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...RING_GFNS) }, fc.constantFrom(WIN, NOT_RAM)), flags: fc.constantFrom(0, 0, 0, L.XEN_ARGO_REGISTER_FLAG_FAIL_EXIST, 2) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("asend" as const), actor, twist, pick: fc.nat(), dst: fc.oneof({ weight: 6, arbitrary: dom }, fc.constant(NO_DOM)), aport: fc.integer({ min: 1, max: 2 }), spoof: dom, where: fc.oneof({ weight: 8, arbitrary: fc.nat(DATA - 1) }, slot.map((s) => WIN + s), fc.constant(NOT_RAM)), at: fc.nat(4095), len: fc.nat(300), type: fc.nat(9) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("aconsume" as const), actor: dom, pick: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("raw" as const), actor, twist, pick: fc.nat(), where: rawWhere, at: fc.nat(PAGE - 1), len: fc.integer({ min: 1, max: 64 }), write: fc.boolean(), seed: fc.nat(255) }) },
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

// ---- the world and the harness ---------------------------------------------------------------

const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + 1) & 0xff);

interface World {
  x: Xen;
  gg: GuestGrants[];
  model: IsolationModel;
}

function page(x: Xen, d: number, g: number): Uint8Array {
  const ent = x.machine.p2mLookup(d, g);
  return ent > 0 ? x.machine.readMfn(ent >>> L.P2M_MFN_SHIFT, 0, PAGE) : new Uint8Array(PAGE);
}

function setup(build: "release" | "debug", silo: boolean): World {
  const x = createXen({ build, xsm: silo ? "silo" : "dummy", argo: { enabled: true, macPermissive: true } });
  x.hv.createDomain({ domid: D0, name: "dom0", ramPages: RAM, control: true });
  x.hv.createDomain({ domid: A, name: "guestA", ramPages: RAM });
  x.hv.createDomain({ domid: B, name: "hostileB", ramPages: RAM });
  x.hv.createDomain({ domid: DRV, name: "driver", ramPages: RAM, driverDomain: true });
  x.hv.createDomain({ domid: STUB, name: "stubA", ramPages: RAM, target: A });
  const gg: GuestGrants[] = [];
  for (const { domid } of DOMS) {
    for (let g = 0; g < DATA; g++) x.machine.write(domid, g * PAGE, pattern(PAGE, domid * 16 + g));
    gg[domid] = new GuestGrants(x.grants, domid, { baseGfn: TABLE_GFN, scratchGpa: GG_GFN * PAGE });
    expect(gg[domid]!.setup(1)).toBe(0);
    // dom0 and guest A take VIRQ_ARGO on a port; the others do not bind it.
    if (domid === D0 || domid === A) expect(new GuestEvtchn(x.evtchn, domid, ARGS_GFN).bindVirq(L.VIRQ_ARGO)).toBeGreaterThan(0);
  }
  const model = new IsolationModel(DOMS, silo, (d, g) => page(x, d, g));
  x.machine.resetCounters();
  return { x, gg, model };
}

/** Writes a struct at the caller's argument page; returns its address. */
function args(x: Xen, caller: number, size: number, fill: (v: DataView) => void, at = 0): number {
  const v = new DataView(new ArrayBuffer(size));
  fill(v);
  x.machine.write(caller, ARGS + at, new Uint8Array(v.buffer));
  return ARGS + at;
}
const out = (x: Xen, caller: number, gpa: number, len: number) => new DataView(x.machine.read(caller, gpa, len).buffer);

function mapHc(x: Xen, e: number, host: number, flags: number, ref: number, dom: number): { st: number; handle: number } {
  const a = args(x, e, L.GNTTAB_MAP_SIZE, (v) => {
    v.setBigUint64(L.GNTTAB_MAP_HOST_ADDR, BigInt(host), true);
    v.setUint32(L.GNTTAB_MAP_FLAGS, flags, true);
    v.setUint32(L.GNTTAB_MAP_REF, ref >>> 0, true);
    v.setUint16(L.GNTTAB_MAP_DOM, dom, true);
  });
  expect(x.hv.hypercall(e, L.HYPERVISOR_GRANT_TABLE_OP, L.GNTTABOP_MAP_GRANT_REF, a, 1)).toBe(0);
  const r = out(x, e, a, L.GNTTAB_MAP_SIZE);
  return { st: r.getInt16(L.GNTTAB_MAP_STATUS, true), handle: r.getUint32(L.GNTTAB_MAP_HANDLE, true) };
}

function unmapHc(x: Xen, e: number, host: number, handle: number): number {
  const a = args(x, e, L.GNTTAB_UNMAP_SIZE, (v) => {
    v.setBigUint64(L.GNTTAB_UNMAP_HOST_ADDR, BigInt(host), true);
    v.setUint32(L.GNTTAB_UNMAP_HANDLE, handle >>> 0, true);
  });
  expect(x.hv.hypercall(e, L.HYPERVISOR_GRANT_TABLE_OP, L.GNTTABOP_UNMAP_GRANT_REF, a, 1)).toBe(0);
  return out(x, e, a, L.GNTTAB_UNMAP_SIZE).getInt16(L.GNTTAB_UNMAP_STATUS, true);
}

function copyHc(x: Xen, c: number, src: CopySide, dst: CopySide, so: number, doff: number, len: number): number {
  const a = args(x, c, L.GNTTAB_COPY_SIZE, (v) => {
    let flags = 0;
    const put = (s: CopySide, id: number, domid: number, offset: number, gref: number, o: number) => {
      if (s.kind === "gref") {
        v.setUint32(id, s.ref >>> 0, true);
        flags |= gref;
      } else {
        v.setBigUint64(id, BigInt(s.gfn), true);
      }
      v.setUint16(domid, s.domid, true);
      v.setUint16(offset, o, true);
    };
    put(src, L.GNTTAB_COPY_SOURCE_GMFN, L.GNTTAB_COPY_SOURCE_DOMID, L.GNTTAB_COPY_SOURCE_OFFSET, L.GNTCOPY_SOURCE_GREF, so);
    put(dst, L.GNTTAB_COPY_DEST_GMFN, L.GNTTAB_COPY_DEST_DOMID, L.GNTTAB_COPY_DEST_OFFSET, L.GNTCOPY_DEST_GREF, doff);
    v.setUint16(L.GNTTAB_COPY_LEN, len, true);
    v.setUint16(L.GNTTAB_COPY_FLAGS, flags, true);
  });
  expect(x.hv.hypercall(c, L.HYPERVISOR_GRANT_TABLE_OP, L.GNTTABOP_COPY, a, 1)).toBe(0);
  return out(x, c, a, L.GNTTAB_COPY_SIZE).getInt16(L.GNTTAB_COPY_STATUS, true);
}

function foreignMapHc(x: Xen, m: number, owner: number, idx: number, at: number): number {
  args(x, m, 24, (v) => {
    v.setBigUint64(0, BigInt(idx), true);
    v.setBigUint64(8, BigInt(at), true);
    v.setInt32(16, 0x7fffffff, true);
  }, 64);
  const a = args(x, m, L.ADD_TO_PHYSMAP_BATCH_SIZE, (v) => {
    v.setUint16(L.ADD_TO_PHYSMAP_BATCH_DOMID, SELF, true);
    v.setUint16(L.ADD_TO_PHYSMAP_BATCH_SPACE, L.XENMAPSPACE_GMFN_FOREIGN, true);
    v.setUint16(L.ADD_TO_PHYSMAP_BATCH_SIZE_OFF, 1, true);
    v.setUint16(L.ADD_TO_PHYSMAP_BATCH_FOREIGN_DOMID, owner, true);
    v.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_IDXS, BigInt(ARGS + 64), true);
    v.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_GPFNS, BigInt(ARGS + 72), true);
    v.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_ERRS, BigInt(ARGS + 80), true);
  });
  expect(x.hv.hypercall(m, L.HYPERVISOR_MEMORY_OP, L.XENMEM_ADD_TO_PHYSMAP_BATCH, a)).toBe(0);
  return out(x, m, ARGS + 80, 4).getInt32(0, true);
}

function removeHc(x: Xen, m: number, at: number): number {
  const a = args(x, m, L.REMOVE_FROM_PHYSMAP_SIZE, (v) => {
    v.setUint16(L.REMOVE_FROM_PHYSMAP_DOMID, SELF, true);
    v.setBigUint64(L.REMOVE_FROM_PHYSMAP_GPFN, BigInt(at), true);
  });
  return x.hv.hypercall(m, L.HYPERVISOR_MEMORY_OP, L.XENMEM_REMOVE_FROM_PHYSMAP, a);
}

function registerHc(x: Xen, r: number, aport: number, partner: number, len: number, gfn: number, npages: number, flags: number): number {
  const reg = args(x, r, L.ARGO_REGISTER_RING_SIZE, (v) => {
    v.setUint32(L.ARGO_REGISTER_RING_APORT, aport, true);
    v.setUint16(L.ARGO_REGISTER_RING_PARTNER_ID, partner, true);
    v.setUint32(L.ARGO_REGISTER_RING_LEN, len, true);
  });
  const gfns = args(x, r, npages * L.ARGO_GFN_SIZE, (v) => {
    for (let i = 0; i < npages; i++) v.setBigUint64(i * L.ARGO_GFN_SIZE, BigInt(gfn + i), true);
  }, 64);
  return x.hv.hypercall(r, L.HYPERVISOR_ARGO_OP, L.XEN_ARGO_OP_REGISTER_RING, reg, gfns, npages, flags);
}

function sendvHc(x: Xen, s: number, srcField: number, dst: number, aport: number, gpa: number, len: number, type: number): number {
  const sa = args(x, s, L.ARGO_SEND_ADDR_SIZE, (v) => {
    v.setUint16(L.ARGO_SEND_ADDR_SRC_DOMAIN_ID, srcField, true);
    v.setUint32(L.ARGO_SEND_ADDR_DST_APORT, aport, true);
    v.setUint16(L.ARGO_SEND_ADDR_DST_DOMAIN_ID, dst, true);
  });
  const iov = args(x, s, L.ARGO_IOV_SIZE, (v) => {
    v.setBigUint64(L.ARGO_IOV_IOV_HND, BigInt(gpa), true);
    v.setUint32(L.ARGO_IOV_IOV_LEN, len, true);
  }, 64);
  return x.hv.hypercall(s, L.HYPERVISOR_ARGO_OP, L.XEN_ARGO_OP_SENDV, sa, iov, 1, type);
}

/** Runs one op on the system and on the model; asserts the outcomes agree. */
function step(w: World, o: Op, seen: Map<string, number>): void {
  const { x, gg, model } = w;
  const note = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);
  const ctx = JSON.stringify(o);
  const hostile = "twist" in o && hostileFor(o.actor, o.twist);
  let hypercallBy: number | undefined = o.actor;
  switch (o.kind) {
    case "grant": {
      hypercallBy = undefined;
      if (model.pins.has(`${o.actor}:${o.ref}`)) return; // a granter does not rewrite an entry in use
      gg[o.actor]!.grantAccess(o.ref, o.grantee, o.gfn, o.ro);
      model.grant(o.actor, o.ref, o.grantee, o.gfn, o.ro);
      return;
    }
    case "end": {
      hypercallBy = undefined;
      const pinned = [...model.pins.keys()];
      let [g, r] = [o.actor, o.ref];
      if (o.inUse && pinned.length > 0) [g, r] = pinned[o.pick % pinned.length]!.split(":").map(Number) as [number, number];
      expect(gg[g]!.endAccess(r), ctx).toBe(model.endAccess(g, r));
      return;
    }
    case "map": {
      let { granter, ref: rf, ro } = o;
      let e = o.actor;
      let at = WIN + o.slot;
      let flags = L.GNTMAP_HOST_MAP | (ro ? L.GNTMAP_READONLY : 0);
      if (hostile) {
        if (o.variant === "noflags") flags = 0;
        if (o.variant === "device") flags |= L.GNTMAP_DEVICE_MAP;
        if (o.variant === "ram") at = 3;
        if (o.variant === "table") at = TABLE_GFN;
      } else {
        // Steered to a valid grant, mapped by its grantee into a free slot.
        const valid = [...model.entries.entries()].filter(([, en]) => en.valid && model.live(en.grantee));
        if (valid.length > 0) {
          const [k, en] = valid[o.pick % valid.length]!;
          [granter, rf] = k.split(":").map(Number) as [number, number];
          e = en.grantee;
          ro ||= en.ro;
          flags = L.GNTMAP_HOST_MAP | (ro ? L.GNTMAP_READONLY : 0);
          for (let i = 0; i < SLOTS && model.window.has(`${e}:${WIN + o.slot}`); i++) o.slot = (o.slot + 1) % SLOTS;
          at = WIN + o.slot;
        }
      }
      hypercallBy = e;
      const want = model.map(e, granter, rf, at, flags);
      const r = mapHc(x, e, at * PAGE, flags, rf, granter);
      expect(r.st, ctx).toBe(want.st);
      if (r.st === L.GNTST_OKAY) {
        model.mapped(e, r.handle, granter, rf, (flags & L.GNTMAP_READONLY) !== 0);
        note("map");
      }
      break;
    }
    case "unmap": {
      const mine = [...model.handles.get(o.actor)!.entries()];
      let handle = o.stale;
      let at = WIN + o.slot;
      if (!hostile && mine.length > 0) {
        const [h, m] = mine[o.pick % mine.length]!;
        handle = h;
        const pin = model.pins.get(`${m.granter}:${m.ref}`)!;
        const where = [...model.window.entries()].find(([k, v]) => k.startsWith(`${o.actor}:`) && v.kind === "grant" && v.owner === m.granter && v.gfn === pin.gfn);
        at = where ? Number(where[0].split(":")[1]) : at;
      } else if (o.how === "other") {
        const others = [...model.handles.entries()].filter(([d]) => d !== o.actor).flatMap(([, hs]) => [...hs.keys()]);
        if (others.length > 0) handle = others[o.pick % others.length]!;
      } else if (o.how === "wrongslot" && mine.length > 0) {
        handle = mine[o.pick % mine.length]![0];
      } else if (o.how === "zero" && mine.length > 0) {
        handle = mine[o.pick % mine.length]![0];
        at = 0;
      }
      const want = model.unmap(o.actor, handle, at);
      expect(unmapHc(x, o.actor, at * PAGE, handle), ctx).toBe(want);
      if (want === L.GNTST_OKAY && at !== 0) note("unmap");
      break;
    }
    case "copy": {
      let src: CopySide = o.src;
      let dst: CopySide = o.dst;
      let { so, doff, len } = o;
      let caller = o.actor;
      if (!hostile) {
        // Steered: the grantee of a valid grant copies through it (and through another grant
        // it holds, or its own frame), with offsets that fit.
        const valid = [...model.entries.entries()].filter(([, en]) => en.valid && model.live(en.grantee) && en.gfn < RAM);
        if (valid.length > 0) caller = valid[o.pick % valid.length]![1].grantee;
        const mine = valid.filter(([, en]) => en.grantee === caller);
        const pick = (i: number): CopySide | undefined => {
          if (mine.length === 0) return undefined;
          const [d, r] = mine[(o.pick + i) % mine.length]![0].split(":").map(Number) as [number, number];
          return { kind: "gref", domid: d, ref: r };
        };
        src = o.steer !== "dst" ? (pick(0) ?? { kind: "gmfn", domid: SELF, gfn: o.pick % DATA }) : { kind: "gmfn", domid: SELF, gfn: o.pick % DATA };
        dst = o.steer !== "src" ? (pick(1) ?? { kind: "gmfn", domid: SELF, gfn: (o.pick + 3) % DATA }) : { kind: "gmfn", domid: SELF, gfn: (o.pick + 3) % DATA };
        len %= 2048;
        so %= PAGE - len;
        doff %= PAGE - len;
      }
      hypercallBy = caller;
      const want = model.copy(caller, src, dst, so, doff, len);
      expect(copyHc(x, caller, src, dst, so, doff, len), ctx).toBe(want);
      if (want === L.GNTST_OKAY && len > 0 && (src.kind === "gref" || dst.kind === "gref")) note("copy");
      break;
    }
    case "fmap": {
      let { actor: m, owner, idx, at } = o;
      if (!hostile) {
        // Steered: dom0 maps anyone, the stub maps guest A; a data frame into a free slot.
        [m, owner] = o.pick % 2 === 0 ? [D0, [A, B, DRV, STUB][o.pick % 4]!] : [STUB, A];
        idx %= DATA;
        for (let i = 0; i < SLOTS && model.window.has(`${m}:${WIN + (o.pick + i) % SLOTS}`); i++) at = WIN + (o.pick + i + 1) % SLOTS;
        if (at < WIN) at = WIN + (o.pick % SLOTS);
      }
      hypercallBy = m;
      const want = model.foreignMap(m, owner, idx, at);
      expect(foreignMapHc(x, m, owner, idx, at), ctx).toBe(want);
      if (want === 0) note("fmap");
      break;
    }
    case "funmap": {
      let at = o.at;
      if (!hostile) {
        // Steered to one of the caller's foreign mappings.
        const mine = [...model.window.entries()].filter(([k, v]) => k.startsWith(`${o.actor}:`) && v.kind === "foreign");
        if (mine.length > 0) at = Number(mine[o.pick % mine.length]![0].split(":")[1]);
      }
      const want = model.removeFromPhysmap(o.actor, at);
      expect(removeHc(x, o.actor, at), ctx).toBe(want);
      if (want === 0) note("funmap");
      break;
    }
    case "areg": {
      const npages = ringPages(o.len) + (hostile && o.twist === 0 ? 1 : 0);
      const want = model.register(o.actor, o.aport, o.partner, o.len, o.gfn, npages, o.flags);
      expect(registerHc(x, o.actor, o.aport, o.partner, o.len, o.gfn, npages, o.flags), ctx).toBe(want);
      if (want === 0) note("areg");
      break;
    }
    case "asend": {
      let { dst, aport } = o;
      if (!hostile) {
        const open = [...model.rings.values()].filter((r) => r.partner === o.actor || r.partner === ANY);
        if (open.length > 0) [dst, aport] = [open[o.pick % open.length]!.owner, open[o.pick % open.length]!.aport];
      }
      const gpa = o.where * PAGE + Math.min(o.at, PAGE - o.len);
      const srcField = hostile && o.twist < 2 ? o.spoof : ANY;
      const want = model.sendv(o.actor, srcField, dst, aport, gpa, o.len, o.type);
      expect(sendvHc(x, o.actor, srcField, dst, aport, gpa, o.len, o.type), ctx).toBe(want);
      if (want >= 0) note("asend");
      break;
    }
    case "aconsume": {
      const mine = [...model.rings.values()].filter((r) => r.owner === o.actor);
      if (mine.length === 0) return;
      const r = mine[o.pick % mine.length]!;
      // The receiver takes everything up to tx_ptr: reads it, publishes rx_ptr, notifies.
      const hdr = r.gfn * PAGE;
      const tx = x.machine.read(o.actor, hdr + L.ARGO_RING_TX_PTR, 4);
      expect(tx, ctx).toEqual(model.read(o.actor, hdr + L.ARGO_RING_TX_PTR, 4));
      x.machine.write(o.actor, hdr + L.ARGO_RING_RX_PTR, tx);
      model.write(o.actor, hdr + L.ARGO_RING_RX_PTR, tx);
      expect(x.hv.hypercall(o.actor, L.HYPERVISOR_ARGO_OP, L.XEN_ARGO_OP_NOTIFY), ctx).toBe(0);
      note("aconsume");
      break;
    }
    case "raw": {
      hypercallBy = undefined;
      let where = o.where;
      if (!hostile && o.pick % 3 !== 0) {
        // Steered to something the actor has mapped.
        const mine = [...model.window.keys()].filter((k) => k.startsWith(`${o.actor}:`));
        if (mine.length > 0) where = Number(mine[o.pick % mine.length]!.split(":")[1]);
      }
      const gpa = where * PAGE + o.at;
      if (o.write) {
        const bytes = pattern(o.len, o.seed);
        const st = x.machine.tryWrite(o.actor, gpa, bytes);
        expect(st === L.MST_OK, ctx).toBe(model.write(o.actor, gpa, bytes));
        if (st === L.MST_OK && where >= RAM) note("raw-mapped");
      } else {
        const buf = new Uint8Array(o.len);
        const st = x.machine.tryRead(o.actor, gpa, buf);
        const want = model.read(o.actor, gpa, o.len);
        expect(st === L.MST_OK, ctx).toBe(want !== undefined);
        if (want) expect(buf, ctx).toEqual(want);
      }
      break;
    }
  }
  // The caller's own argument pages were written by it and by Xen's replies: take them as they are.
  if (hypercallBy !== undefined) {
    for (const g of [ARGS_GFN, GG_GFN]) model.frame(hypercallBy, g).set(page(x, hypercallBy, g));
  }
}

/** Every domain's RAM equals the model's image; every refusal is where it must be counted. */
function check(w: World, ctx: string): void {
  const { x, model } = w;
  for (const { domid } of DOMS) {
    for (let g = 0; g < RAM; g++) {
      const actual = page(x, domid, g);
      if (Buffer.compare(actual, model.frame(domid, g)) !== 0) expect.fail(`d${domid} gfn ${g} differs from the model after ${ctx}`);
    }
  }
  const m = x.machine;
  const counted = {
    machine: m.counter(L.CNT_ACCESS_REFUSED),
    grant: m.counter(L.CNT_GNT_FAILED),
    endBusy: m.counter(L.CNT_GNT_GUEST_END_BUSY),
    foreignDenied: m.counter(L.CNT_FOREIGN_DENIED),
    foreignErrors: m.counter(L.CNT_FOREIGN_ERRORS),
    memoryOp: m.counter(L.CNT_HC_MEMORY_OP_ERRORS),
    argo: m.counter(L.CNT_ARGO_OP_ERRORS),
  };
  expect(counted, ctx).toEqual(model.refused);
  expect(Object.values(counted).reduce((a, b) => a + b, 0), ctx).toBe(model.totalRefused);
  expect(m.counter(L.CNT_XSM_DENIED), ctx).toBe(model.xsmDenied);
}

describe.each(["release", "debug"] as const)("isolation across the Xen model (property, %s)", (build) => {
  it.each([["dummy", false], ["silo", true]] as const)("under %s XSM: no domain touches a frame it has no right to; every refusal is counted", (_name, silo) => {
    const seen = new Map<string, number>();
    let refusals = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 30, maxLength: 100 }), (ops) => {
        const w = setup(build, silo);
        ops.forEach((o, i) => {
          step(w, o, seen);
          check(w, `step ${i}: ${JSON.stringify(o)}`);
        });
        refusals += w.model.totalRefused;
      }),
      { seed: silo ? 0x5110 : 0xd0d0, numRuns: 48 },
    );
    // The generator reaches every kind of success and plenty of refusals.
    for (const k of ["map", "unmap", "copy", "fmap", "funmap", "areg", "asend", "aconsume", "raw-mapped"]) expect(seen.get(k) ?? 0, k).toBeGreaterThan(0);
    expect(refusals).toBeGreaterThan(200);
  });
});
