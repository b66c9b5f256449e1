// Random grant/map/unmap/copy/access sequences by several domains, some of them hostile
// (wrong grantee, bad refs, stale handles, wrong host addresses, foreign frames by gmfn, bad
// offsets). An independent model of the rules predicts every status and every byte; the run
// must match it, never let a domain touch a frame it has no right to, and count every refusal.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as L from "../src/wasm/layout.ts";
import * as A from "../src/xen/grant-abi.ts";
import { RAM, TABLE_GFN, WINDOW_GFN, pattern, world } from "./grant-helpers.ts";

const DOMS = [0, 1, 2, 3];
const NO_DOM = 4; // never exists
const DATA = 16; // data pages per domain: gfns 0..15
const SLOTS = 8;
const NOT_RAM = RAM + 44; // above RAM, nothing mapped
const slotAddr = (s: number) => (WINDOW_GFN + s) * 4096;

const dom = fc.constantFrom(...DOMS);
const anyDom = fc.oneof({ weight: 8, arbitrary: dom }, fc.constantFrom(NO_DOM, L.DOMID_SELF));
const ref = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 8, max: 15 }) }, fc.constantFrom(600, 5000, 2 ** 31));
const gfn = fc.oneof({ weight: 8, arbitrary: fc.nat(DATA - 1) }, fc.constant(NOT_RAM));
const side = fc.oneof(
  fc.record({ kind: fc.constant("gref" as const), dom: anyDom, ref }),
  fc.record({ kind: fc.constant("gmfn" as const), dom: fc.oneof({ weight: 5, arbitrary: fc.constant(L.DOMID_SELF) }, dom), gfn: fc.oneof({ weight: 6, arbitrary: gfn }, fc.constant(TABLE_GFN), fc.constant(WINDOW_GFN)) }),
);
const off = fc.oneof({ weight: 9, arbitrary: fc.nat(2048) }, fc.nat(4100));
// An "honest" op is steered to a grant that is currently valid (picked from the model at run
// time); the others are taken as generated, which is mostly hostile.
const copyOp = fc.record({ honest: fc.constantFrom("no", "src", "dst"), pick: fc.nat(), src: side, dst: side, so: off, dof: off, len: off });
const op = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("grant" as const), granter: dom, ref: fc.integer({ min: 8, max: 15 }), grantee: anyDom, gfn, ro: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("end" as const), inUse: fc.boolean(), pick: fc.nat(), granter: dom, ref: fc.integer({ min: 8, max: 15 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("map" as const), honest: fc.constantFrom(true, true, true, false), pick: fc.nat(), grantee: dom, granter: anyDom, ref, slot: fc.nat(SLOTS - 1), ro: fc.boolean(), hostile: fc.constantFrom("none", "none", "none", "none", "noflags", "device", "ram", "table") }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("unmap" as const), grantee: dom, pick: fc.nat(), stale: fc.nat(300), how: fc.constantFrom("live", "live", "live", "stale", "zero", "other") }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("copy" as const), caller: dom, ops: fc.array(copyOp, { minLength: 1, maxLength: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("poke" as const), honest: fc.boolean(), pick: fc.nat(), grantee: dom, slot: fc.nat(SLOTS - 1), off: fc.nat(4095), len: fc.integer({ min: 1, max: 64 }), write: fc.boolean(), seed: fc.nat(255) }) },
);

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

interface Entry { grantee: number; gfn: number; ro: boolean; valid: boolean }
interface Pin { owner: number; gfn: number; w: number; r: number }
interface Mapping { granter: number; ref: number; slot: number; ro: boolean; gfn: number }

describe.each(["release", "debug"] as const)("grant isolation (property, %s)", (build) => {
  it("matches the model of rights for every status and byte, and counts every refusal", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 80 }), (ops) => {
        const w = world(build, {}, undefined, 3);
        const pages = new Map<string, Uint8Array>();
        for (const d of DOMS) for (let g = 0; g < DATA; g++) {
          const p = pattern(4096, d * DATA + g);
          w.m.write(d, g * 4096, p);
          pages.set(`${d}:${g}`, p);
        }
        w.m.resetCounters();
        const entries = new Map<string, Entry>();
        const pins = new Map<string, Pin>();
        const maps = new Map<string, Mapping>(); // "grantee:handle"
        const slots = new Map<string, string>(); // "grantee:slot" -> maps key
        const failures = new Map<number, number>();
        let refusedPokes = 0;
        const seen = (st: number) => {
          if (st !== 0) failures.set(st, (failures.get(st) ?? 0) + 1);
        };
        const live = (d: number) => DOMS.includes(d);
        const pinOf = (r: number, rf: number) => pins.get(`${r}:${rf}`);
        const mfnOf = (d: number, g: number) => w.m.p2mLookup(d, g) >>> 8;

        /** The model's verdict on acquiring (granter, ref) for `user`: a status, or the gfn. */
        const acquire = (r: number, rf: number, user: number, readonly: boolean): { st: number; gfn: number } => {
          if (rf >= 512) return { st: L.GNTST_BAD_GNTREF, gfn: 0 };
          const p = pinOf(r, rf);
          if (p && p.owner !== user) return { st: L.GNTST_GENERAL_ERROR, gfn: 0 };
          const e = entries.get(`${r}:${rf}`);
          if (!p && (!e || !e.valid || e.grantee !== user)) return { st: L.GNTST_GENERAL_ERROR, gfn: 0 };
          if ((!p || p.w === 0) && !readonly && e!.ro) return { st: L.GNTST_GENERAL_ERROR, gfn: 0 };
          if (!p && e!.gfn >= RAM) return { st: L.GNTST_BAD_PAGE, gfn: 0 };
          return { st: 0, gfn: p ? p.gfn : e!.gfn };
        };

        for (const o of ops) {
          if (o.kind === "grant") {
            if (!live(o.granter) || pinOf(o.granter, o.ref)) continue; // granters never rewrite entries in use
            w.g[o.granter]!.grantAccess(o.ref, o.grantee, o.gfn, o.ro);
            entries.set(`${o.granter}:${o.ref}`, { grantee: o.grantee, gfn: o.gfn, ro: o.ro, valid: true });
          } else if (o.kind === "end") {
            const pinned = [...pins.keys()];
            if (o.inUse && pinned.length > 0) [o.granter, o.ref] = pinned[o.pick % pinned.length]!.split(":").map(Number) as [number, number];
            const inUse = pinOf(o.granter, o.ref) !== undefined;
            expect(w.g[o.granter]!.endAccess(o.ref)).toBe(!inUse);
            const e = entries.get(`${o.granter}:${o.ref}`);
            if (!inUse && e) e.valid = false;
          } else if (o.kind === "map") {
            const valid = [...entries.entries()].filter(([, e]) => e.valid && live(e.grantee));
            if (o.honest && valid.length > 0) {
              const [k, e] = valid[o.pick % valid.length]!;
              [o.granter, o.ref] = k.split(":").map(Number) as [number, number];
              o.grantee = e.grantee;
              o.ro ||= e.ro;
              o.hostile = "none";
              for (let i = 0; i < SLOTS && slots.has(`${o.grantee}:${o.slot}`); i++) o.slot = (o.slot + 1) % SLOTS;
            }
            const host = o.hostile === "ram" ? 3 * 4096 : o.hostile === "table" ? TABLE_GFN * 4096 : slotAddr(o.slot);
            const flags = o.hostile === "noflags" ? 0 : L.GNTMAP_HOST_MAP | (o.ro ? L.GNTMAP_READONLY : 0) | (o.hostile === "device" ? L.GNTMAP_DEVICE_MAP : 0);
            const r = w.g[o.grantee]!.map([{ dom: o.granter, ref: o.ref, hostAddr: host, flags }]).results[0]!;
            let want: { st: number; gfn: number };
            if (o.hostile === "noflags") want = { st: L.GNTST_BAD_GNTREF, gfn: 0 };
            else if (o.hostile === "device") want = { st: L.GNTST_GENERAL_ERROR, gfn: 0 };
            else if (!live(o.granter)) want = { st: L.GNTST_BAD_DOMAIN, gfn: 0 };
            else want = acquire(o.granter, o.ref, o.grantee, o.ro);
            if (want.st === 0 && (o.hostile !== "none" || slots.has(`${o.grantee}:${o.slot}`))) want = { st: L.GNTST_GENERAL_ERROR, gfn: 0 };
            expect(r.status, JSON.stringify(o)).toBe(want.st);
            seen(r.status);
            if (r.status === 0) {
              expect(r.devBusAddr).toBe(mfnOf(o.granter, want.gfn) * 4096);
              const key = `${o.granter}:${o.ref}`;
              const p = pins.get(key) ?? { owner: o.grantee, gfn: want.gfn, w: 0, r: 0 };
              if (o.ro) p.r++;
              else p.w++;
              pins.set(key, p);
              const mk = `${o.grantee}:${r.handle}`;
              expect(maps.has(mk)).toBe(false);
              maps.set(mk, { granter: o.granter, ref: o.ref, slot: o.slot, ro: o.ro, gfn: want.gfn });
              slots.set(`${o.grantee}:${o.slot}`, mk);
            }
          } else if (o.kind === "unmap") {
            const holders = [...new Set([...maps.keys()].map((k) => Number(k.split(":")[0])))];
            if (o.how !== "stale" && holders.length > 0 && !holders.includes(o.grantee)) o.grantee = holders[o.pick % holders.length]!;
            const mine = [...maps.entries()].filter(([k]) => k.startsWith(`${o.grantee}:`));
            let handle = o.stale;
            let host = 0;
            let want = L.GNTST_BAD_HANDLE;
            let target: string | undefined;
            if (o.how !== "stale" && mine.length > 0) {
              const [k, mp] = mine[o.pick % mine.length]!;
              handle = Number(k.split(":")[1]);
              if (o.how === "live") {
                host = slotAddr(mp.slot);
                want = 0;
                target = k;
              } else if (o.how === "zero") {
                want = 0; // Xen: okay, nothing removed
              } else {
                const other = (mp.slot + 1) % SLOTS;
                host = slotAddr(other);
                const there = slots.get(`${o.grantee}:${other}`);
                const tm = there ? maps.get(there)! : undefined;
                // Xen accepts any grant mapping of the same frame at host_addr.
                if (tm && mfnOf(tm.granter, tm.gfn) === mfnOf(mp.granter, mp.gfn)) {
                  want = 0;
                  target = there; // that p2m entry goes, accounted to this handle
                } else want = L.GNTST_GENERAL_ERROR;
              }
            } else if (maps.has(`${o.grantee}:${handle}`)) {
              continue; // a "stale" number that is live: not what this op is about
            }
            const st = w.g[o.grantee]!.unmap([{ handle, hostAddr: host }]).statuses[0]!;
            expect(st, JSON.stringify(o)).toBe(want);
            seen(st);
            if (st === 0 && host !== 0) {
              const k = `${o.grantee}:${handle}`;
              const mp = maps.get(k)!;
              const removed = maps.get(target!)!;
              slots.delete(`${o.grantee}:${removed.slot}`);
              maps.delete(k);
              if (target !== k) {
                // The handle's mapping stays in the p2m, now tracked by the other handle.
                maps.set(target!, { ...removed, slot: mp.slot });
                slots.set(`${o.grantee}:${mp.slot}`, target!);
              }
              const p = pins.get(`${mp.granter}:${mp.ref}`)!;
              if (mp.ro) p.r--;
              else p.w--;
              if (p.r + p.w === 0) pins.delete(`${mp.granter}:${mp.ref}`);
            }
          } else if (o.kind === "copy") {
            const valid = [...entries.entries()].filter(([, e]) => e.valid && live(e.grantee));
            const lead = o.ops.find((c) => c.honest !== "no");
            if (lead && valid.length > 0) o.caller = valid[lead.pick % valid.length]![1].grantee;
            for (const c of o.ops) {
              const mine = valid.filter(([, e]) => e.grantee === o.caller);
              if (c.honest === "no" || mine.length === 0) continue;
              const [k] = mine[c.pick % mine.length]!;
              const [gd, gr] = k.split(":").map(Number) as [number, number];
              const grant = { kind: "gref" as const, dom: gd, ref: gr };
              const own = { kind: "gmfn" as const, dom: L.DOMID_SELF, gfn: c.pick % DATA };
              if (c.honest === "src") { c.src = grant; c.dst = own; } else { c.src = own; c.dst = grant; }
            }
            const me = o.caller;
            const ops2 = o.ops.map((c) => ({
              source: c.src.kind === "gref" ? { domid: c.src.dom, ref: c.src.ref, offset: c.so } : { domid: c.src.dom, gmfn: c.src.gfn, offset: c.so },
              dest: c.dst.kind === "gref" ? { domid: c.dst.dom, ref: c.dst.ref, offset: c.dof } : { domid: c.dst.dom, gmfn: c.dst.gfn, offset: c.dof },
              len: c.len,
            }));
            const { statuses } = w.g[me]!.copy(ops2);
            o.ops.forEach((c, i) => {
              const lock = (s: typeof c.src): number => {
                if (s.kind === "gmfn" && s.dom !== L.DOMID_SELF) return L.GNTST_PERMISSION_DENIED;
                const d = s.dom === L.DOMID_SELF ? me : s.dom;
                return live(d) ? 0 : L.GNTST_BAD_DOMAIN;
              };
              const claim = (s: typeof c.src, readonly: boolean): { st: number; page: string } => {
                if (s.kind === "gmfn") return s.gfn < DATA ? { st: 0, page: `${me}:${s.gfn}` } : { st: L.GNTST_BAD_PAGE, page: "" };
                const d = s.dom === L.DOMID_SELF ? me : s.dom;
                const a = acquire(d, s.ref, me, readonly);
                return { st: a.st, page: `${d}:${a.gfn}` };
              };
              let want = lock(c.src) || lock(c.dst);
              let from = "";
              let to = "";
              if (!want) {
                const s = claim(c.src, true);
                want = s.st;
                from = s.page;
              }
              if (!want) {
                const t = claim(c.dst, false);
                want = t.st;
                to = t.page;
              }
              if (!want && (c.so + c.len > 4096 || c.dof + c.len > 4096)) want = L.GNTST_BAD_COPY_ARG;
              expect(statuses[i], JSON.stringify(c)).toBe(want);
              seen(statuses[i]!);
              if (want === 0) {
                const bytes = pages.get(from)!.slice(c.so, c.so + c.len);
                const dst = pages.get(to)!.slice();
                dst.set(bytes, c.dof);
                pages.set(to, dst);
              }
            });
          } else {
            const used = [...slots.keys()];
            if (o.honest && used.length > 0) [o.grantee, o.slot] = used[o.pick % used.length]!.split(":").map(Number) as [number, number];
            const mk = slots.get(`${o.grantee}:${o.slot}`);
            const mp = mk ? maps.get(mk) : undefined;
            const len = Math.min(o.len, 4096 - o.off);
            const gpa = slotAddr(o.slot) + o.off;
            const allowed = mp !== undefined && (!o.write || !mp.ro);
            if (o.write) {
              const data = pattern(len, o.seed);
              expect(w.m.tryWrite(o.grantee, gpa, data) === L.MST_OK).toBe(allowed);
              if (allowed) {
                const key = `${mp!.granter}:${mp!.gfn}`;
                const pg = pages.get(key)!.slice();
                pg.set(data, o.off);
                pages.set(key, pg);
              }
            } else {
              const out = new Uint8Array(len);
              expect(w.m.tryRead(o.grantee, gpa, out) === L.MST_OK).toBe(allowed);
              const want = pages.get(`${mp?.granter}:${mp?.gfn}`)?.subarray(o.off, o.off + len);
              if (allowed && !same(out, want!)) expect(out).toEqual(want);
            }
            if (!allowed) refusedPokes++;
          }
        }

        // Every byte of every domain's data pages is what the rules allow.
        for (const d of DOMS) for (let g = 0; g < DATA; g++) {
          const got = w.m.read(d, g * 4096, 4096);
          if (!same(got, pages.get(`${d}:${g}`)!)) expect(got, `d${d} gfn ${g}`).toEqual(pages.get(`${d}:${g}`));
        }
        // Every refusal was counted, by kind.
        let total = 0;
        for (const [st, n] of failures) {
          expect(w.m.counter(L.CNT_GNT_ST_BASE - st), A.gntstName(st)).toBe(n);
          total += n;
        }
        expect(w.m.counter(L.CNT_GNT_FAILED)).toBe(total);
        expect(w.m.counter(L.CNT_ACCESS_REFUSED)).toBe(refusedPokes);
        expect(w.m.counter(L.CNT_GNT_COPY_REFUSED)).toBe(0);
        expect(w.m.counter(L.CNT_GNT_PAGES_MAPPED)).toBe(slots.size);
        expect(w.m.counter(L.CNT_GNT_MAPTRACK_IN_USE)).toBe(maps.size);
        // Entries show in use exactly what the model pins.
        for (const d of DOMS) for (let r = 8; r < 16; r++) {
          const inUse = (w.g[d]!.flags(r) & (L.GTF_READING | L.GTF_WRITING)) !== 0;
          expect(inUse, `d${d} ref ${r}`).toBe(pins.has(`${d}:${r}`));
        }
      }),
      { seed: 20240611, numRuns: build === "release" ? 60 : 25 },
    );
  });
});
