import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { Argo, parseArgoBootOption } from "../src/xen/argo.ts";
import { ringPages } from "../src/xen/argo-ring.ts";
import { ArgoGuest } from "../src/xen/argo-guest.ts";
import { DummyPolicy, type XsmOp, type XsmPolicy } from "../src/xen/xsm.ts";
import type { Domain } from "../src/xen/domain.ts";
import { XenConfigError } from "../src/xen/hypervisor.ts";
import {
  EACCES, EAGAIN, EBUSY, ECONNREFUSED, EEXIST, EFAULT, EINVAL, EMSGSIZE, ENODEV, ENOENT, ENOSPC, EOPNOTSUPP, EPERM, ESRCH,
} from "../src/xen/errno.ts";
import { BUF, RAW, RING_GFN, SCRATCH, gfnList, iovList, pattern, regRing, sendAddr, world } from "./helpers/argo-world.ts";

const ANY = L.XEN_ARGO_DOMID_ANY;
const { XEN_ARGO_OP_REGISTER_RING: REG, XEN_ARGO_OP_UNREGISTER_RING: UNREG, XEN_ARGO_OP_SENDV: SENDV, XEN_ARGO_OP_NOTIFY: NOTIFY } = L;

/** A policy that denies what `deny` says and otherwise behaves as the dummy module. */
class TestPolicy extends DummyPolicy {
  override readonly name = "test";
  deny: (op: XsmOp, s: Domain, o?: Domain) => boolean;
  constructor(deny: (op: XsmOp, s: Domain, o?: Domain) => boolean) {
    super();
    this.deny = deny;
  }
  override check(op: XsmOp, s: Domain, o?: Domain): boolean {
    return !this.deny(op, s, o) && super.check(op, s, o);
  }
}

describe("boot option and dispatch", () => {
  it("parses argo= like Xen", () => {
    expect(parseArgoBootOption("1")).toEqual({ enabled: true, macPermissive: false });
    expect(parseArgoBootOption("on,mac-permissive=1")).toEqual({ enabled: true, macPermissive: true });
    expect(parseArgoBootOption("yes,mac-permissive")).toEqual({ enabled: true, macPermissive: true });
    expect(parseArgoBootOption("0,no-mac-permissive")).toEqual({ enabled: false, macPermissive: false });
    expect(() => parseArgoBootOption("1,mac-permisive=1")).toThrow("argo=1,mac-permisive=1: unknown item 'mac-permisive=1'");
    expect(() => parseArgoBootOption("1,mac-permissive=maybe")).toThrow(XenConfigError);
  });

  it("is off by default: every op returns -EOPNOTSUPP and no domain has Argo state", () => {
    const w = world({ argo: { enabled: false } });
    const off = new Argo(w.hv);
    expect(off.enabled).toBe(false);
    for (const cmd of [REG, UNREG, SENDV, NOTIFY, 99]) expect(w.argo.op(1, cmd, 0, 0, 0, 0)).toBe(-EOPNOTSUPP);
    expect(w.argo.hasState(1)).toBe(false);
    expect(w.machine.counter(L.CNT_ARGO_OPS)).toBe(5);
    expect(w.machine.counter(L.CNT_ARGO_OP_ERRORS)).toBe(5);
  });

  it("rejects arg3/arg4 beyond 32 bits first, then unknown ops, and counts every hypercall", () => {
    const w = world({ argo: { enabled: false } });
    expect(w.argo.op(1, SENDV, 0, 0, 2 ** 32, 0)).toBe(-EINVAL);
    expect(w.argo.op(1, SENDV, 0, 0, 0, -1)).toBe(-EINVAL);
    const on = world();
    expect(on.argo.op(1, 77, 0, 0, 0, 0)).toBe(-EOPNOTSUPP);
    expect(on.machine.counter(L.CNT_ARGO_OP_UNKNOWN)).toBe(1);
    expect(on.machine.counter(L.CNT_HYPERCALLS)).toBe(1);
    expect(() => on.argo.op(9, NOTIFY, 0, 0, 0, 0)).toThrow("argo_op: no live domain 9");
  });
});

describe("register_ring", () => {
  it("registers a ring over the caller's frames, resetting a bad tx_ptr to the slot after rx_ptr", () => {
    const w = world();
    const g0 = w.guest(0);
    const ring = w.ring(0, { aport: 7, partner: 1, len: 4032 });
    expect(ring.gfns).toEqual([RING_GFN]);
    w.machine.write(0, RING_GFN * 4096, Uint8Array.of(33, 0, 0, 0, 5, 0, 0, 0)); // rx 33, tx 5 (misaligned)
    expect(g0.register(ring)).toBe(0);
    const r = w.argo.ring(0, 7, 1)!;
    expect(r.len).toBe(4032);
    expect(r.tx).toBe(48);
    expect(ring.txPtr).toBe(48);
    expect(r.mfns).toEqual([w.machine.populate(0, RING_GFN)]);
    expect(w.machine.frameKind(r.tableMfn)).toBe(L.FRAME_XEN);
    expect(w.machine.counter(L.CNT_ARGO_RINGS_REGISTERED)).toBe(1);
    expect(w.machine.counter(L.CNT_ARGO_OP_REGISTER)).toBe(1);
  });

  it("keeps a valid tx_ptr found in the header and wraps an rx_ptr past the end to 0", () => {
    const w = world();
    w.machine.write(0, RING_GFN * 4096, Uint8Array.of(0, 0, 0, 0, 32, 0, 0, 0));
    expect(w.guest(0).register(w.ring(0, { aport: 1, partner: 1, len: 64 }))).toBe(0);
    expect(w.argo.ring(0, 1, 1)!.tx).toBe(32);
    w.machine.write(0, (RING_GFN + 1) * 4096, Uint8Array.of(60, 0, 0, 0, 64, 0, 0, 0)); // rx 60 -> 64 -> wraps
    expect(w.guest(0).register(w.ring(0, { aport: 2, partner: 1, len: 64, baseGfn: RING_GFN + 1 }))).toBe(0);
    expect(w.argo.ring(0, 2, 1)!.tx).toBe(0);
  });

  it("sizes rings in pages as NPAGES_RING: 4032 -> 1, 12288 -> 4, 3 MiB -> 769", () => {
    expect([48, 4032, 4033 + 15, 12288, 3 << 20, L.XEN_ARGO_MAX_RING_SIZE].map(ringPages)).toEqual([1, 1, 2, 4, 769, 4097]);
    const w = world({ ramPages: 1024 });
    expect(w.guest(0).register(w.ring(0, { aport: 3, partner: 1, len: 12288 }))).toBe(0);
    expect(w.argo.ring(0, 3, 1)!.mfns.length).toBe(4);
    const big = new ArgoGuest(w.argo, 0, SCRATCH, 16 * 4096);
    expect(big.register(w.ring(0, { aport: 4, partner: 1, len: 3 << 20, baseGfn: 200 }))).toBe(0);
    expect(w.argo.ring(0, 4, 1)!.mfns.length).toBe(769);
  });

  describe("errors, in Xen's order", () => {
    const setup = () => {
      const w = world();
      w.machine.write(0, RAW + 0x100, gfnList([RING_GFN]));
      const reg = (r: Uint8Array, npages = 1, flags = 0, gfnGpa = RAW + 0x100) => {
        w.machine.write(0, RAW, r);
        return w.argo.op(0, REG, RAW, gfnGpa, npages, flags);
      };
      return { w, reg };
    };

    it("npages above 4096 and an unreadable gfn array come before anything else", () => {
      const { w, reg } = setup();
      expect(reg(regRing(1, 1, 48), 4097, 0xff)).toBe(-EINVAL);
      expect(reg(regRing(1, 1, 48), 1, 0xff, 512 * 4096)).toBe(-EFAULT);
      expect(w.machine.counter(L.CNT_ARGO_EFAULT)).toBe(1);
    });

    it("unknown flag bits, unreadable struct, bad len, npages mismatch and pad are -EINVAL/-EFAULT", () => {
      const { w, reg } = setup();
      expect(reg(regRing(1, 1, 48), 1, 2)).toBe(-EINVAL);
      expect(w.argo.op(0, REG, 600 * 4096, RAW + 0x100, 1, 0)).toBe(-EFAULT);
      expect(reg(regRing(1, 1, 32))).toBe(-EINVAL); // < header + 2 slots
      expect(reg(regRing(1, 1, 40))).toBe(-EINVAL);
      expect(reg(regRing(1, 1, 52))).toBe(-EINVAL); // not a multiple of 16
      expect(reg(regRing(1, 1, L.XEN_ARGO_MAX_RING_SIZE + 16), 4097)).toBe(-EINVAL);
      expect(reg(regRing(1, 1, 4048), 1)).toBe(-EINVAL); // 4048 + 64 needs 2 pages
      expect(reg(regRing(1, 1, 4032), 2)).toBe(-EINVAL);
      expect(reg(regRing(1, 1, 48, 1))).toBe(-EINVAL);
      expect(reg(regRing(1, 1, 48))).toBe(0);
    });

    it("a missing partner is -ESRCH; a wildcard needs mac-permissive (-EPERM)", () => {
      const { reg } = setup();
      expect(reg(regRing(1, 9, 48))).toBe(-ESRCH);
      expect(reg(regRing(1, L.DOMID_SELF, 48))).toBe(-ESRCH);
      expect(reg(regRing(1, ANY, 48))).toBe(-EPERM);
      const p = world({ argo: { macPermissive: true } });
      expect(p.guest(0).register(p.ring(0, { aport: 1, partner: ANY, len: 48 }))).toBe(0);
    });

    it("every gfn must be the caller's writable RAM (-EINVAL)", () => {
      const { w, reg } = setup();
      const gfns = (g: (number | [number, number])[]) => w.machine.write(0, RAW + 0x100, gfnList(g));
      gfns([600]); // above RAM
      expect(reg(regRing(1, 1, 48))).toBe(-EINVAL);
      gfns([[RING_GFN, 1]]); // high half set
      expect(reg(regRing(1, 1, 48))).toBe(-EINVAL);
      const other = w.machine.populate(1, 5);
      expect(w.machine.p2mMap(0, 520, other, L.P2M_GRANT | L.P2MF_RO)).toBe(L.MST_OK);
      expect(w.machine.p2mMap(0, 521, other, L.P2M_GRANT)).toBe(L.MST_OK);
      gfns([520]);
      expect(reg(regRing(1, 1, 48))).toBe(-EINVAL);
      gfns([521]); // writable, but a grant mapping, not the caller's RAM
      expect(reg(regRing(1, 1, 48))).toBe(-EINVAL);
      gfns([RING_GFN + 1, 600]);
      expect(reg(regRing(1, 1, 4048), 2)).toBe(-EINVAL);
      expect(w.argo.rings(0)).toEqual([]);
    });

    it("at 128 rings further registrations, re-registration included, get -ENOSPC", () => {
      const { w, reg } = setup();
      for (let p = 0; p < 128; p++) expect(reg(regRing(p, 1, 48))).toBe(0);
      expect(reg(regRing(128, 1, 48))).toBe(-ENOSPC);
      expect(reg(regRing(5, 1, 48))).toBe(-ENOSPC);
      expect(w.argo.op(0, UNREG, RAW, 0, 0, 0)).toBe(0); // RAW still holds aport 5
      expect(reg(regRing(128, 1, 48))).toBe(0);
    });

    it("re-registration: -EEXIST with FAIL_EXIST or a new length", () => {
      const { reg } = setup();
      expect(reg(regRing(1, 1, 48))).toBe(0);
      expect(reg(regRing(1, 1, 48), 1, L.XEN_ARGO_REGISTER_FLAG_FAIL_EXIST)).toBe(-EEXIST);
      expect(reg(regRing(1, 1, 64))).toBe(-EEXIST);
      expect(reg(regRing(1, 1, 48))).toBe(0);
    });

    it("a domain without Argo state gets -ENODEV; a partner without it -ECONNREFUSED", () => {
      const deny = new TestPolicy((op, s) => op === "argo_enable" && s.domid === 2);
      const w = world({ xsm: deny });
      expect(w.argo.hasState(2)).toBe(false);
      expect(w.machine.counter(L.CNT_XSM_DENIED_ARGO_ENABLE)).toBe(1); // at domain creation
      w.hv.xsm = new DummyPolicy();
      expect(w.guest(2).register(w.ring(2, { aport: 1, partner: 1, len: 48 }))).toBe(-ENODEV);
      expect(w.guest(1).register(w.ring(1, { aport: 1, partner: 2, len: 48 }))).toBe(-ECONNREFUSED);
      expect(w.guest(2).unregister(1, 1)).toBe(-ENODEV);
      expect(w.guest(2).notify().rc).toBe(-ENODEV);
      expect(w.guest(2).sendv({ domid: 1, aport: 1 }, [])).toBe(-ENODEV);
      expect(w.guest(1).sendv({ domid: 2, aport: 1 }, [])).toBe(-ECONNREFUSED);
    });
  });

  it("re-registration moves the ring to new frames, keeps a valid tx_ptr and the waiters", () => {
    const w = world();
    const old = w.ring(0, { aport: 1, partner: 1, len: 64 });
    expect(w.guest(0).register(old)).toBe(0);
    expect(w.guest(1).send({ domid: 0, aport: 1 }, pattern(20, 1), BUF)).toBe(20);
    expect(w.guest(1).send({ domid: 0, aport: 1 }, pattern(20, 2), BUF)).toBe(-EAGAIN);
    const before = w.argo.ring(0, 1, 1)!;
    const oldTable = before.tableMfn;
    expect(before.tx).toBe(48);
    // The guest copies its ring (header included) to new frames and registers those.
    w.machine.write(0, (RING_GFN + 4) * 4096, w.machine.read(0, RING_GFN * 4096, 128));
    const moved = w.ring(0, { aport: 1, partner: 1, len: 64, baseGfn: RING_GFN + 4 });
    expect(w.guest(0).register(moved)).toBe(0);
    const r = w.argo.ring(0, 1, 1)!;
    expect(r.tx).toBe(48);
    expect(r.mfns).toEqual([w.machine.populate(0, RING_GFN + 4)]);
    expect(r.pending.get(1)).toBe(20);
    expect(w.machine.frameKind(oldTable)).toBe(L.FRAME_FREE);
    expect(w.machine.counter(L.CNT_ARGO_RINGS_REREGISTERED)).toBe(1);
    expect(moved.receive().map((m) => m.payload)).toEqual([pattern(20, 1)]);
    // Re-registering over frames whose header is garbage resets tx to the slot after rx.
    w.machine.write(0, (RING_GFN + 8) * 4096, Uint8Array.of(16, 0, 0, 0, 99, 0, 0, 0));
    expect(w.guest(0).register(w.ring(0, { aport: 1, partner: 1, len: 64, baseGfn: RING_GFN + 8 }))).toBe(0);
    expect(w.argo.ring(0, 1, 1)!.tx).toBe(16);
  });

  it("a failed re-registration drops the existing ring", () => {
    const w = world();
    expect(w.guest(0).register(w.ring(0, { aport: 1, partner: 1, len: 48 }))).toBe(0);
    expect(w.guest(0).register(w.ring(0, { aport: 1, partner: 1, len: 48, baseGfn: 700 }))).toBe(-EINVAL);
    expect(w.argo.ring(0, 1, 1)).toBeUndefined();
    expect(w.machine.counter(L.CNT_ARGO_RINGS_REMOVED)).toBe(1);
  });
});

describe("unregister_ring", () => {
  it("removes the ring, frees its table and drops its waiters", () => {
    const w = world();
    expect(w.guest(0).register(w.ring(0, { aport: 1, partner: 1, len: 48 }))).toBe(0);
    const table = w.argo.ring(0, 1, 1)!.tableMfn;
    expect(w.guest(1).send({ domid: 0, aport: 1 }, pattern(16, 0), BUF)).toBe(16);
    expect(w.guest(1).send({ domid: 0, aport: 1 }, pattern(16, 0), BUF)).toBe(-EAGAIN);
    expect(w.guest(0).unregister(1, 1)).toBe(0);
    expect(w.argo.ring(0, 1, 1)).toBeUndefined();
    expect(w.machine.frameKind(table)).toBe(L.FRAME_FREE);
    expect(w.machine.counter(L.CNT_ARGO_WAITERS_DROPPED)).toBe(1);
    expect(w.guest(0).unregister(1, 1)).toBe(-ENOENT);
    expect(w.guest(1).send({ domid: 0, aport: 1 }, pattern(16, 0), BUF)).toBe(-ECONNREFUSED);
  });

  it("checks arg2/arg3/arg4, the struct address and its pad", () => {
    const w = world();
    w.machine.write(0, RAW, regRing(1, 1, 0));
    expect(w.argo.op(0, UNREG, RAW, 8, 0, 0)).toBe(-EINVAL);
    expect(w.argo.op(0, UNREG, RAW, 0, 1, 0)).toBe(-EINVAL);
    expect(w.argo.op(0, UNREG, RAW, 0, 0, 1)).toBe(-EINVAL);
    expect(w.argo.op(0, UNREG, 700 * 4096, 0, 0, 0)).toBe(-EFAULT);
    w.machine.write(0, RAW, regRing(1, 1, 0, 3));
    expect(w.argo.op(0, UNREG, RAW, 0, 0, 0)).toBe(-EINVAL);
    w.machine.write(0, RAW, regRing(1, 1, 0));
    expect(w.argo.op(0, UNREG, RAW, 0, 0, 0)).toBe(-ENOENT);
  });
});

describe("sendv", () => {
  const setup = (len = 256, opts: Parameters<typeof world>[0] = {}) => {
    const w = world(opts);
    const ring = w.ring(0, { aport: 7, partner: 1, len });
    expect(w.guest(0).register(ring)).toBe(0);
    return { w, ring };
  };

  it("delivers header and payload, returns the length and raises VIRQ_ARGO in the receiver", () => {
    const { w, ring } = setup();
    const seen: [number, number][] = [];
    w.argo.onVirq = (d, v) => seen.push([d, v]);
    const p = pattern(37, 3);
    expect(w.guest(1).send({ domid: 0, aport: 7 }, p, BUF, { srcAport: 0x1234, messageType: 0xdeadbeef })).toBe(37);
    const hdr = new DataView(w.machine.read(0, RING_GFN * 4096 + 64, 16).buffer);
    expect(hdr.getUint32(0, true)).toBe(53);
    expect(hdr.getUint32(4, true)).toBe(0x1234);
    expect(hdr.getUint16(8, true)).toBe(1);
    expect(hdr.getUint32(12, true)).toBe(0xdeadbeef);
    expect(ring.txPtr).toBe(64); // 16 + 37 rounded up to 16
    expect(seen).toEqual([[0, L.VIRQ_ARGO]]);
    expect(w.argo.virqPending(0)).toBe(1);
    expect(w.argo.ackVirq(0)).toBe(1);
    expect(w.argo.virqPending(0)).toBe(0);
    const [m] = ring.receive();
    expect(m).toEqual({ source: { domid: 1, aport: 0x1234 }, messageType: 0xdeadbeef, payload: p });
    expect(ring.rxPtr).toBe(64);
    const c = (id: number) => w.machine.counter(id);
    expect([c(L.CNT_ARGO_MESSAGES), c(L.CNT_ARGO_BYTES_SENT), c(L.CNT_ARGO_RING_BYTES), c(L.CNT_ARGO_VIRQ_RAISED)]).toEqual([1, 37, 53, 1]);
    expect(c(L.CNT_ARGO_OP_SENDV)).toBe(1);
    expect(c(L.CNT_ARGO_PTR_STORES)).toBeGreaterThanOrEqual(1);
  });

  it("gathers up to 8 iovs, skipping empty ones, and accepts an empty message", () => {
    const { w, ring } = setup(1024);
    const parts = [5, 0, 17, 1, 64, 0, 3, 100].map((n, i) => pattern(n, i));
    let at = BUF;
    const iovs = parts.map((p) => {
      w.machine.write(1, at, p);
      const iov = { gpa: at, len: p.length };
      at += 4096 - 7; // straddle pages
      return iov;
    });
    expect(w.guest(1).sendv({ domid: 0, aport: 7 }, iovs)).toBe(190);
    expect(w.guest(1).sendv({ domid: 0, aport: 7 }, [])).toBe(0);
    const msgs = ring.receive();
    expect(msgs[0]!.payload).toEqual(Uint8Array.from(parts.flatMap((p) => [...p])));
    expect(msgs[1]!.payload).toEqual(new Uint8Array(0));
    expect(ring.txPtr).toBe(208 + 16);
  });

  it("wraps a payload (and one iov of it) at the ring end, byte-exact", () => {
    const { w, ring } = setup(256);
    const g1 = w.guest(1);
    expect(g1.send({ domid: 0, aport: 7 }, pattern(100, 1), BUF)).toBe(100); // [0,128)
    expect(ring.receive().length).toBe(1);
    const a = pattern(50, 2);
    const b = pattern(150, 3);
    w.machine.write(1, BUF, a);
    w.machine.write(1, BUF + 0x1000, b);
    // header at 128, a at 144..193, b at 194..255 then 0..87
    expect(g1.sendv({ domid: 0, aport: 7 }, [{ gpa: BUF, len: 50 }, { gpa: BUF + 0x1000, len: 150 }])).toBe(200);
    expect(ring.txPtr).toBe(96);
    const data = w.machine.read(0, RING_GFN * 4096 + 64, 256);
    expect(data.subarray(144, 194)).toEqual(a);
    expect(data.subarray(194, 256)).toEqual(b.subarray(0, 62));
    expect(data.subarray(0, 88)).toEqual(b.subarray(62));
    expect(ring.receive()[0]!.payload).toEqual(Uint8Array.from([...a, ...b]));
    expect(ring.rxPtr).toBe(96);
  });

  it("sizes: 224 (len - 32) fits an empty 256-byte ring, 225 and up are -EMSGSIZE and never wait", () => {
    const { w } = setup(256);
    const g1 = w.guest(1);
    expect(g1.send({ domid: 0, aport: 7 }, pattern(225, 0), BUF)).toBe(-EMSGSIZE);
    expect(g1.send({ domid: 0, aport: 7 }, pattern(240, 0), BUF)).toBe(-EMSGSIZE);
    expect(g1.send({ domid: 0, aport: 7 }, pattern(224, 0), BUF)).toBe(224);
    expect(w.argo.ring(0, 7, 1)!.pending.size).toBe(0);
    expect(g1.send({ domid: 0, aport: 7 }, pattern(1, 0), BUF)).toBe(-EAGAIN); // 16 bytes left
    expect(g1.send({ domid: 0, aport: 7 }, pattern(200, 0), BUF)).toBe(-EAGAIN);
    expect(w.argo.ring(0, 7, 1)!.pending.get(1)).toBe(200);
    expect(w.machine.counter(L.CNT_ARGO_EAGAIN)).toBe(2);
    expect(w.machine.counter(L.CNT_ARGO_WAITERS_QUEUED)).toBe(1);
  });

  it("checks the send_addr, niov, the iov array, pads and the source", () => {
    const { w } = setup();
    const op = (sa: Uint8Array, iovs: Uint8Array, niov: number, type = 0) => {
      w.machine.write(1, RAW, sa);
      w.machine.write(1, RAW + 0x100, iovs);
      return w.argo.op(1, SENDV, RAW, RAW + 0x100, niov, type);
    };
    const dst = { domid: 0, aport: 7 };
    const me = { domid: 1, aport: 0 };
    w.machine.write(1, BUF, pattern(64, 0));
    const one = iovList([{ gpa: BUF, len: 8 }]);
    expect(w.argo.op(1, SENDV, 700 * 4096, RAW + 0x100, 1, 0)).toBe(-EFAULT);
    expect(op(sendAddr(me, dst), one, 9)).toBe(-EINVAL);
    expect(w.argo.op(1, SENDV, RAW, 511 * 4096 + 4090, 1, 0)).toBe(-EFAULT); // iov array runs past RAM
    expect(op(sendAddr({ ...me, pad: 1 }, dst), one, 1)).toBe(-EINVAL);
    expect(op(sendAddr(me, { ...dst, pad: 1 }), one, 1)).toBe(-EINVAL);
    expect(op(sendAddr({ domid: 2, aport: 0 }, dst), one, 1)).toBe(-EPERM); // no spoofing
    expect(op(sendAddr(me, { domid: 9, aport: 7 }), one, 1)).toBe(-ESRCH);
    expect(op(sendAddr(me, { domid: ANY, aport: 7 }), one, 1)).toBe(-ESRCH);
    expect(op(sendAddr(me, { domid: 0, aport: 8 }), one, 1)).toBe(-ECONNREFUSED);
    expect(op(sendAddr(me, dst), iovList([{ gpa: BUF, len: 8, pad: 1 }]), 1)).toBe(-EINVAL);
    expect(op(sendAddr(me, dst), iovList([{ gpa: BUF, len: L.ARGO_MAX_MESSAGE_SIZE + 1 }]), 1)).toBe(-EINVAL);
    expect(op(sendAddr(me, dst), iovList([{ gpa: BUF, len: L.ARGO_MAX_MESSAGE_SIZE }, { gpa: BUF, len: 1 }]), 2)).toBe(-EMSGSIZE);
    expect(op(sendAddr(me, dst), iovList([{ gpa: BUF, len: L.ARGO_MAX_MESSAGE_SIZE }]), 1)).toBe(-EMSGSIZE); // ring too small
    expect(op(sendAddr({ domid: ANY, aport: 3 }, dst), one, 1, 0xffffffff)).toBe(8);
    expect(op(sendAddr(me, dst), one, 1)).toBe(8);
    expect(w.machine.counter(L.CNT_ARGO_MESSAGES)).toBe(2);
    expect(w.machine.counter(L.CNT_ARGO_OP_ERRORS)).toBe(13);
  });

  it("a buffer the sender cannot read is -EFAULT and leaves the ring untouched", () => {
    const { w, ring } = setup();
    const before = w.machine.read(0, RING_GFN * 4096, 320);
    expect(w.guest(1).sendv({ domid: 0, aport: 7 }, [{ gpa: BUF, len: 8 }, { gpa: 600 * 4096, len: 8 }])).toBe(-EFAULT);
    expect(w.guest(1).sendv({ domid: 0, aport: 7 }, [{ gpa: 2 ** 40, len: 8 }])).toBe(-EFAULT);
    expect(w.machine.read(0, RING_GFN * 4096, 320)).toEqual(before);
    expect(ring.txPtr).toBe(0);
    expect(w.argo.virqPending(0)).toBe(0);
    expect(w.machine.counter(L.CNT_ARGO_EFAULT)).toBe(2);
    expect(w.machine.counter(L.CNT_REFUSED_NOT_MAPPED)).toBe(1);
    expect(w.machine.counter(L.CNT_REFUSED_RANGE)).toBe(1);
  });

  it("prefers the sender's own ring over the wildcard ring on the same port", () => {
    const w = world({ argo: { macPermissive: true } });
    const any = w.ring(0, { aport: 5, partner: ANY, len: 256 });
    const own = w.ring(0, { aport: 5, partner: 1, len: 256, baseGfn: RING_GFN + 1 });
    expect(w.guest(0).register(any)).toBe(0);
    expect(w.guest(2).send({ domid: 0, aport: 5 }, pattern(10, 2), BUF)).toBe(10);
    expect(w.guest(1).send({ domid: 0, aport: 5 }, pattern(10, 1), BUF)).toBe(10);
    expect(w.guest(0).register(own)).toBe(0);
    expect(w.guest(1).send({ domid: 0, aport: 5 }, pattern(11, 1), BUF)).toBe(11);
    expect(any.receive().map((m) => [m.source.domid, m.payload.length])).toEqual([[2, 10], [1, 10]]);
    expect(own.receive().map((m) => [m.source.domid, m.payload.length])).toEqual([[1, 11]]);
  });
});

describe("full ring, waiters and notify", () => {
  it("EAGAIN queues a wait; the receiver consumes and notifies; the sender is woken and retries", () => {
    const w = world();
    const ring = w.ring(0, { aport: 7, partner: 1, len: 256 });
    const g0 = w.guest(0);
    const g1 = w.guest(1);
    expect(g0.register(ring)).toBe(0);
    const virqs: number[] = [];
    w.argo.onVirq = (d) => virqs.push(d);
    expect(g1.send({ domid: 0, aport: 7 }, pattern(100, 1), BUF)).toBe(100);
    expect(g1.send({ domid: 0, aport: 7 }, pattern(100, 2), BUF)).toBe(-EAGAIN);
    expect(virqs).toEqual([0]); // no signal on -EAGAIN
    expect(w.argo.ring(0, 7, 1)!.pending.get(1)).toBe(100);
    // Xen never watches rx_ptr: consuming alone wakes nobody.
    expect(ring.receive().length).toBe(1);
    expect(virqs).toEqual([0]);
    expect(g0.notify().rc).toBe(0);
    expect(virqs).toEqual([0, 1]);
    expect(w.argo.ring(0, 7, 1)!.pending.size).toBe(0);
    expect(w.machine.counter(L.CNT_ARGO_WAITERS_WOKEN)).toBe(1);
    expect(w.machine.counter(L.CNT_ARGO_VIRQ_RAISED)).toBe(2);
    expect(g1.send({ domid: 0, aport: 7 }, pattern(100, 2), BUF)).toBe(100);
    expect(g0.consume(ring).map((m) => m.payload)).toEqual([pattern(100, 2)]);
  });

  it("wakes only waiters whose size now fits; a larger retry enlarges the wait", () => {
    const w = world({ argo: { macPermissive: true } });
    const ring = w.ring(0, { aport: 7, partner: ANY, len: 512 });
    expect(w.guest(0).register(ring)).toBe(0);
    const send = (d: number, n: number) => w.guest(d).send({ domid: 0, aport: 7 }, pattern(n, d), BUF);
    expect(send(1, 100)).toBe(100); // [0, 128)
    expect(send(2, 300)).toBe(300); // [128, 448): 64 bytes left
    expect(send(1, 150)).toBe(-EAGAIN);
    expect(send(2, 100)).toBe(-EAGAIN);
    expect(send(1, 250)).toBe(-EAGAIN); // d1 now waits for 250
    expect([...w.argo.ring(0, 7, ANY)!.pending]).toEqual([[1, 250], [2, 100]]);
    const woken: number[] = [];
    w.argo.onVirq = (d) => woken.push(d);
    expect(w.guest(0).consume(ring, 1).length).toBe(1); // frees 128: 160 bytes of payload space
    expect(woken).toEqual([2]);
    expect(w.guest(0).consume(ring, 1).length).toBe(1); // empty: 480
    expect(woken).toEqual([2, 1]);
  });

  it("notify ring_data: EXISTS/SHARED/EMPTY/SUFFICIENT/EMSGSIZE flags, max_message_size, queued and cancelled waits", () => {
    const w = world({ argo: { macPermissive: true } });
    const ring = w.ring(0, { aport: 9, partner: ANY, len: 256 });
    expect(w.guest(0).register(ring)).toBe(0);
    const g1 = w.guest(1);
    const q = (aport: number, spaceRequired: number, domid = 0) => ({ ring: { domid, aport }, spaceRequired });
    let r = g1.notify([q(9, 10), q(9, 300), q(99, 1), q(9, 1, 77)]);
    expect(r.rc).toBe(0);
    const E = L.XEN_ARGO_RING_EXISTS, S = L.XEN_ARGO_RING_SHARED, M = L.XEN_ARGO_RING_EMPTY, OK = L.XEN_ARGO_RING_SUFFICIENT;
    expect(r.answers).toEqual([
      { flags: E | S | M | OK, maxMessageSize: 224 },
      { flags: E | S | M | L.XEN_ARGO_RING_EMSGSIZE, maxMessageSize: 224 },
      { flags: 0, maxMessageSize: 0 },
      { flags: 0, maxMessageSize: 0 },
    ]);
    expect(g1.send({ domid: 0, aport: 9 }, pattern(100, 0), BUF)).toBe(100);
    r = g1.notify([q(9, 200)]);
    expect(r.answers).toEqual([{ flags: E | S, maxMessageSize: 224 }]);
    expect(w.argo.ring(0, 9, ANY)!.pending.get(1)).toBe(200);
    expect(w.argo.payloadSpace(w.argo.ring(0, 9, ANY)!)).toBe(96);
    r = g1.notify([q(9, 96)]);
    expect(r.answers).toEqual([{ flags: E | S | OK, maxMessageSize: 224 }]);
    expect(w.argo.ring(0, 9, ANY)!.pending.size).toBe(0);
    expect(w.machine.counter(L.CNT_ARGO_NOTIFY_QUERIES)).toBe(6);
  });

  it("notify checks its arguments: arg2..4, the header, nent <= 256 (-EACCES), the entries", () => {
    const w = world();
    const n = (nent: number) => {
      w.machine.write(1, RAW, Uint8Array.of(nent & 0xff, nent >> 8, 0, 0, 0, 0, 0, 0));
      return w.argo.op(1, NOTIFY, RAW, 0, 0, 0);
    };
    expect(w.argo.op(1, NOTIFY, 0, 8, 0, 0)).toBe(-EINVAL);
    expect(w.argo.op(1, NOTIFY, 0, 0, 1, 0)).toBe(-EINVAL);
    expect(w.argo.op(1, NOTIFY, 0, 0, 0, 1)).toBe(-EINVAL);
    expect(w.argo.op(1, NOTIFY, 0, 0, 0, 0)).toBe(0);
    expect(w.argo.op(1, NOTIFY, 700 * 4096, 0, 0, 0)).toBe(-EFAULT);
    expect(n(257)).toBe(-EACCES);
    expect(n(256)).toBe(0);
    w.machine.write(1, 511 * 4096, Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0));
    expect(w.argo.op(1, NOTIFY, 511 * 4096, 0, 0, 0)).toBe(0);
    w.machine.write(1, 511 * 4096 + 4080, Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0));
    expect(w.argo.op(1, NOTIFY, 511 * 4096 + 4080, 0, 0, 0)).toBe(-EFAULT); // entries run past RAM
  });

  it("-EBUSY past 32 waiting senders; the ring_data query reports it as a flag instead", () => {
    const w = world({ argo: { macPermissive: true }, domUs: 34, ramPages: 200 });
    const ring = w.ring(0, { aport: 1, partner: ANY, len: 48 });
    expect(w.guest(0).register(ring)).toBe(0);
    const send = (d: number, n = 1) => w.guest(d).send({ domid: 0, aport: 1 }, pattern(n, d), BUF);
    expect(send(1, 16)).toBe(16);
    for (let d = 1; d <= 32; d++) expect(send(d)).toBe(-EAGAIN);
    expect(send(5, 16)).toBe(-EAGAIN); // an existing wait is enlarged, not added
    expect(w.argo.ring(0, 1, ANY)!.pending.get(5)).toBe(16);
    expect(send(33)).toBe(-EBUSY);
    expect(w.machine.counter(L.CNT_ARGO_EBUSY)).toBe(1);
    const r = w.guest(34).notify([{ ring: { domid: 0, aport: 1 }, spaceRequired: 16 }]);
    expect(r.rc).toBe(0);
    expect(r.answers[0]!.flags).toBe(L.XEN_ARGO_RING_EXISTS | L.XEN_ARGO_RING_SHARED | L.XEN_ARGO_RING_EBUSY);
    const woken: number[] = [];
    w.argo.onVirq = (d) => woken.push(d);
    expect(w.guest(0).consume(ring).length).toBe(1);
    expect(woken).toEqual(Array.from({ length: 32 }, (_, i) => i + 1)); // everyone whose size fits
  });
});

describe("domain teardown", () => {
  it("drops the dying domain's rings, rings it was the only sender of, and its waits elsewhere", () => {
    const w = world({ argo: { macPermissive: true }, domUs: 3 });
    const g = (d: number) => w.guest(d);
    expect(g(0).register(w.ring(0, { aport: 1, partner: ANY, len: 48 }))).toBe(0);
    expect(g(0).register(w.ring(0, { aport: 2, partner: 2, len: 48, baseGfn: RING_GFN + 1 }))).toBe(0);
    expect(g(1).register(w.ring(1, { aport: 3, partner: 2, len: 48 }))).toBe(0);
    expect(g(2).register(w.ring(2, { aport: 4, partner: 1, len: 48 }))).toBe(0);
    expect(g(3).send({ domid: 0, aport: 1 }, pattern(16, 0), BUF)).toBe(16);
    expect(g(2).send({ domid: 0, aport: 1 }, pattern(1, 0), BUF)).toBe(-EAGAIN);
    expect(g(3).send({ domid: 0, aport: 1 }, pattern(1, 0), BUF)).toBe(-EAGAIN);
    const tables = [w.argo.ring(2, 4, 1)!.tableMfn, w.argo.ring(1, 3, 2)!.tableMfn, w.argo.ring(0, 2, 2)!.tableMfn];
    w.argo.ackVirq(2);
    w.hv.destroyDomain(2);
    expect(w.argo.hasState(2)).toBe(false);
    expect(w.argo.rings(1)).toEqual([]);
    expect(w.argo.rings(0).map((r) => r.aport)).toEqual([1]);
    expect([...w.argo.ring(0, 1, ANY)!.pending.keys()]).toEqual([3]);
    for (const t of tables) expect(w.machine.frameKind(t)).toBe(L.FRAME_FREE);
    expect(w.machine.counter(L.CNT_ARGO_RINGS_REMOVED)).toBe(3);
    expect(w.machine.counter(L.CNT_ARGO_WAITERS_DROPPED)).toBe(1);
    // A restarted domain with the same id starts with fresh Argo state.
    w.hv.createDomain({ name: "again", domid: 2, ramPages: 64 });
    expect(w.argo.hasState(2)).toBe(true);
    expect(w.argo.rings(2)).toEqual([]);
  });
});
