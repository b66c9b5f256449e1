import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Machine, MachineError } from "../src/wasm/machine.ts";
import * as L from "../src/wasm/layout.ts";

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe.each(["release", "debug"] as const)("machine memory (%s)", (build) => {
  it("reads untouched RAM as zeros without populating it", () => {
    const m = new Machine({ build });
    m.createDomain(1, 256);
    expect(m.read(1, 0x5000, 64)).toEqual(new Uint8Array(64));
    expect(m.domainInfo(1).populated).toBe(0);
    expect(m.counter(L.CNT_FRAMES_POPULATED)).toBe(0);
  });

  it("populates a frame on first write and reads back across page boundaries", () => {
    const m = new Machine({ build });
    m.createDomain(1, 256);
    const data = bytes(10000, 7);
    m.write(1, 0x0ff0, data); // spans frames 0..3
    expect(m.read(1, 0x0ff0, data.length)).toEqual(data);
    expect(m.domainInfo(1).populated).toBe(4);
    expect(m.counter(L.CNT_GUEST_WRITE_BYTES)).toBe(10000);
  });

  it("refuses and counts accesses outside RAM, past the address limit, and for absent domains", () => {
    const m = new Machine({ build });
    m.createDomain(1, 16, 64);
    const out = new Uint8Array(8);
    expect(m.tryRead(1, 16 * 4096, out)).toBe(L.MST_NOT_MAPPED); // above RAM, nothing mapped
    expect(m.tryRead(1, 64 * 4096, out)).toBe(L.MST_NOT_MAPPED); // beyond the p2m
    expect(m.tryRead(1, 2 ** 52, out)).toBe(L.MST_RANGE);
    expect(m.tryWrite(2, 0, out)).toBe(L.MST_NO_DOMAIN);
    expect(m.counter(L.CNT_ACCESS_REFUSED)).toBe(4);
    expect(m.counter(L.CNT_REFUSED_NOT_MAPPED)).toBe(2);
    expect(m.counter(L.CNT_REFUSED_RANGE)).toBe(1);
    expect(m.counter(L.CNT_REFUSED_NO_DOMAIN)).toBe(1);
    expect(() => m.read(1, 16 * 4096, 1)).toThrow(MachineError);
  });

  it("is all-or-nothing: a write whose tail is refused changes nothing", () => {
    const m = new Machine({ build });
    m.createDomain(1, 2, 8);
    expect(m.tryWrite(1, 4096 + 4000, bytes(200, 1))).toBe(L.MST_NOT_MAPPED);
    expect(m.read(1, 4096 + 4000, 96)).toEqual(new Uint8Array(96));
    expect(m.domainInfo(1).populated).toBe(0);
  });

  it("maps another domain's frame read-only, refuses writes through it, and tracks A/D bits", () => {
    const m = new Machine({ build });
    m.createDomain(1, 16);
    m.createDomain(2, 16);
    m.write(1, 3 * 4096, bytes(4096, 3));
    const mfn = m.populate(1, 3);
    const window = 16 + 5; // above d2's RAM
    expect(m.p2mMap(2, window, mfn, L.P2M_GRANT | L.P2MF_RO)).toBe(L.MST_OK);
    expect(m.frameRefs(mfn)).toBe(1);
    expect(m.p2mLookup(2, window) & (L.P2MF_ACCESSED | L.P2MF_DIRTY)).toBe(0);
    expect(m.read(2, window * 4096, 4096)).toEqual(bytes(4096, 3));
    expect(m.p2mLookup(2, window) & L.P2MF_ACCESSED).toBe(L.P2MF_ACCESSED);
    expect(m.tryWrite(2, window * 4096, bytes(4, 9))).toBe(L.MST_READ_ONLY);
    expect(m.counter(L.CNT_REFUSED_READ_ONLY)).toBe(1);
    // A second mapping at the same gfn is refused; so is mapping into RAM or a free frame.
    expect(m.p2mMap(2, window, mfn, L.P2M_GRANT)).toBe(L.MST_EXISTS);
    expect(m.p2mMap(2, 3, mfn, L.P2M_GRANT)).toBe(L.MST_BAD_ARG);
    expect(m.p2mMap(2, window + 1, 999999, L.P2M_GRANT)).toBe(L.MST_BAD_MFN);
    expect(m.p2mMap(2, window + 1, mfn, L.P2M_RAM)).toBe(L.MST_BAD_ARG);
    const old = m.p2mUnmap(2, window);
    expect(old & L.P2MF_ACCESSED).toBe(L.P2MF_ACCESSED);
    expect(old & L.P2MF_DIRTY).toBe(0);
    expect(m.frameRefs(mfn)).toBe(0);
    expect(m.p2mUnmap(2, window)).toBe(L.MST_NOT_MAPPED);
  });

  it("copies between domains with both rights checked", () => {
    const m = new Machine({ build });
    m.createDomain(1, 16);
    m.createDomain(2, 16);
    m.write(1, 100, bytes(9000, 5));
    expect(m.tryCopy(1, 100, 2, 4000, 9000)).toBe(L.MST_OK);
    expect(m.read(2, 4000, 9000)).toEqual(bytes(9000, 5));
    expect(m.tryCopy(1, 100, 2, 15 * 4096, 9000)).toBe(L.MST_NOT_MAPPED);
    expect(m.counter(L.CNT_COPIES)).toBe(1);
    expect(m.counter(L.CNT_COPY_BYTES)).toBe(9000);
  });

  it("keeps frames that others map alive after their owner is destroyed, then frees them", () => {
    const m = new Machine({ build });
    m.createDomain(1, 16);
    m.createDomain(2, 16);
    m.write(1, 0, bytes(3 * 4096, 2));
    const mfn = m.populate(1, 1);
    expect(m.p2mMap(2, 20, mfn, L.P2M_FOREIGN)).toBe(L.MST_OK);
    const before = m.framesUsed();
    expect(m.destroyDomain(1)).toBe(1); // one orphan
    expect(m.domainExists(1)).toBe(false);
    expect(m.read(2, 20 * 4096, 4096)).toEqual(bytes(3 * 4096, 2).subarray(4096, 8192));
    // Two RAM frames, one leaf and one top page were freed; the mapped frame stayed.
    expect(m.framesUsed()).toBe(before - 4);
    expect(m.p2mUnmap(2, 20)).toBeGreaterThan(0);
    expect(m.framesUsed()).toBe(before - 5);
    expect(m.frameOwner(mfn)).toBe(-1);
    // The domid can be reused and starts empty.
    m.createDomain(1, 16);
    expect(m.read(1, 0, 16)).toEqual(new Uint8Array(16));
  });

  it("grows linear memory on demand and keeps host views valid", () => {
    const m = new Machine({ build });
    const initial = m.memoryBytes;
    m.createDomain(7, 8192);
    const page = bytes(4096, 11);
    for (let g = 0; g < 8192; g += 1) m.write(7, g * 4096, page);
    expect(m.memoryBytes).toBeGreaterThan(initial);
    expect(m.read(7, 8191 * 4096, 4096)).toEqual(page);
    expect(m.domainInfo(7).populated).toBe(8192);
  });

  it("reports exhaustion as a clear error, not a crash", () => {
    const m = new Machine({ build, maxFrames: 8 });
    m.createDomain(1, 100); // top page: 1 frame; leaf: 1 frame; zero frame reserved
    m.write(1, 0, bytes(5 * 4096, 1));
    expect(m.tryWrite(1, 5 * 4096, bytes(4096, 1))).toBe(L.MST_NO_MEMORY);
    expect(() => m.write(1, 5 * 4096, bytes(1, 1))).toThrow(/machine memory exhausted/);
    expect(() => new Machine({ build, maxFrames: 1 })).toThrow(RangeError);
  });

  it("bounds hypervisor accesses by mfn to one live frame", () => {
    const m = new Machine({ build });
    const mfn = m.allocXenFrame();
    m.writeMfn(mfn, 4000, bytes(96, 4));
    expect(m.readMfn(mfn, 4000, 96)).toEqual(bytes(96, 4));
    expect(() => m.readMfn(mfn, 4000, 97)).toThrow(MachineError);
    expect(() => m.writeMfn(123456, 0, bytes(1, 1))).toThrow(/not allocated/);
    m.freeXenFrame(mfn);
    expect(() => m.readMfn(mfn, 0, 1)).toThrow(/not allocated/);
  });
});

/** Reference model of rights: what a domain may reach, independent of the Wasm code. */
interface Model {
  ram: Map<number, number>; // domid -> ram pages
  maps: Map<string, { owner: number; gfn: number; ro: boolean }>; // "dom:gfn" -> target
  content: Map<string, number>; // "owner:gfn:off" -> byte (sparse)
}

describe("isolation (property)", () => {
  it("random accesses by several domains only ever touch frames the domain has a right to", () => {
    const domains = [1, 2, 3, 4];
    const op = fc.oneof(
      fc.record({ kind: fc.constant("write" as const), dom: fc.integer({ min: 0, max: 5 }), gfn: fc.integer({ min: 0, max: 40 }), off: fc.integer({ min: 0, max: 4095 }), len: fc.integer({ min: 1, max: 6000 }), seed: fc.nat(255) }),
      fc.record({ kind: fc.constant("read" as const), dom: fc.integer({ min: 0, max: 5 }), gfn: fc.integer({ min: 0, max: 40 }), off: fc.integer({ min: 0, max: 4095 }), len: fc.integer({ min: 1, max: 6000 }) }),
      fc.record({ kind: fc.constant("map" as const), dom: fc.constantFrom(...domains), owner: fc.constantFrom(...domains), ogfn: fc.integer({ min: 0, max: 15 }), at: fc.integer({ min: 16, max: 40 }), ro: fc.boolean() }),
      fc.record({ kind: fc.constant("unmap" as const), dom: fc.constantFrom(...domains), at: fc.integer({ min: 16, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
        const m = new Machine();
        const model: Model = { ram: new Map(), maps: new Map(), content: new Map() };
        for (const d of domains) {
          m.createDomain(d, 16, 48);
          model.ram.set(d, 16);
        }
        let refused = 0;
        // Where does (dom, gfn) land, per the model? null = no right.
        const target = (dom: number, gfn: number, write: boolean): [number, number] | null => {
          const ram = model.ram.get(dom);
          if (ram === undefined) return null;
          if (gfn < ram) return [dom, gfn];
          const mp = model.maps.get(`${dom}:${gfn}`);
          if (!mp || (write && mp.ro)) return null;
          return [mp.owner, mp.gfn];
        };
        const allowed = (dom: number, gpa: number, len: number, write: boolean) => {
          for (let g = Math.floor(gpa / 4096); g <= Math.floor((gpa + len - 1) / 4096); g++) {
            if (!target(dom, g, write)) return false;
          }
          return true;
        };
        for (const o of ops) {
          if (o.kind === "write") {
            const gpa = o.gfn * 4096 + o.off;
            const data = bytes(o.len, o.seed);
            const ok = allowed(o.dom, gpa, o.len, true);
            expect(m.tryWrite(o.dom, gpa, data) === L.MST_OK).toBe(ok);
            if (!ok) refused++;
            else {
              for (let i = 0; i < o.len; i++) {
                const a = gpa + i;
                const [ow, g] = target(o.dom, Math.floor(a / 4096), true)!;
                model.content.set(`${ow}:${g}:${a % 4096}`, data[i]!);
              }
            }
          } else if (o.kind === "read") {
            const gpa = o.gfn * 4096 + o.off;
            const out = new Uint8Array(o.len);
            const ok = allowed(o.dom, gpa, o.len, false);
            expect(m.tryRead(o.dom, gpa, out) === L.MST_OK).toBe(ok);
            if (!ok) refused++;
            else {
              for (let i = 0; i < o.len; i += 97) {
                const a = gpa + i;
                const [ow, g] = target(o.dom, Math.floor(a / 4096), false)!;
                expect(out[i]).toBe(model.content.get(`${ow}:${g}:${a % 4096}`) ?? 0);
              }
            }
          } else if (o.kind === "map") {
            const key = `${o.dom}:${o.at}`;
            const mfn = m.populate(o.owner, o.ogfn);
            const st = m.p2mMap(o.dom, o.at, mfn, L.P2M_GRANT | (o.ro ? L.P2MF_RO : 0));
            expect(st === L.MST_OK).toBe(!model.maps.has(key));
            if (st === L.MST_OK) model.maps.set(key, { owner: o.owner, gfn: o.ogfn, ro: o.ro });
          } else {
            const key = `${o.dom}:${o.at}`;
            const st = m.p2mUnmap(o.dom, o.at);
            expect(st > 0).toBe(model.maps.has(key));
            model.maps.delete(key);
          }
        }
        expect(m.counter(L.CNT_ACCESS_REFUSED)).toBe(refused);
      }),
      { numRuns: 60, seed: 20261122 },
    );
  });
});
