// The Xen model as one hypervisor (src/xen/xen.ts): hypercalls by number, the memory_op
// dispatcher, VIRQ_ARGO through event channels, xenstore's real store channel, XSA-295 pauses
// in the domain bookkeeping, and SILO seeing the caller.
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { createXen, type Xen, type XenOptions } from "../src/xen/xen.ts";
import { XenConfigError, type Subsystem } from "../src/xen/hypervisor.ts";
import { GuestEvtchn } from "../src/xen/evtchn-guest.ts";
import { GuestGrants } from "../src/xen/grant-guest.ts";
import { ArgoGuest, ArgoGuestRing } from "../src/xen/argo-guest.ts";
import { Privcmd } from "../src/xen/privcmd.ts";
import { EmulatedGuestAtomics } from "../src/xen/atomics.ts";
import { FlaskPolicy, parseXsmPolicy } from "../src/xen/xsm-policy.ts";
import * as E from "../src/xen/errno.ts";
import * as vxsim from "../src/index.ts";

const RAM = 64;
const TABLE = RAM; // each guest places grant-table frame 0 here
const WIN = RAM + 16; // mapping window
const SCRATCH = 40 * 4096; // hypercall arguments built by this test
const GG_SCRATCH = 48 * 4096; // GuestGrants' own argument area
const ARGO_SCRATCH = 52 * 4096;

/** dom0, two guests (1, 2), a driver domain (3) and guest 1's device-model stub (4). */
function world(opts: XenOptions = {}): Xen & { gg: (d: number) => GuestGrants } {
  const x = createXen({ argo: { enabled: true }, ...opts });
  x.hv.createDomain({ name: "dom0", ramPages: RAM, control: true });
  x.hv.createDomain({ name: "guest1", ramPages: RAM });
  x.hv.createDomain({ name: "guest2", ramPages: RAM });
  x.hv.createDomain({ name: "driver", ramPages: RAM, driverDomain: true });
  x.hv.createDomain({ name: "stub1", ramPages: RAM, target: 1 });
  const gg = new Map<number, GuestGrants>();
  return {
    ...x,
    gg(d) {
      if (!gg.has(d)) {
        const g = new GuestGrants(x.grants, d, { baseGfn: TABLE, scratchGpa: GG_SCRATCH });
        expect(g.setup(1)).toBe(0);
        gg.set(d, g);
      }
      return gg.get(d)!;
    },
  };
}

/** Writes a little-endian struct at SCRATCH (+off) of `domid`; returns its address. */
function put(x: Xen, domid: number, size: number, fill: (v: DataView) => void, off = 0): number {
  const v = new DataView(new ArrayBuffer(size));
  fill(v);
  x.machine.write(domid, SCRATCH + off, new Uint8Array(v.buffer));
  return SCRATCH + off;
}

const read = (x: Xen, domid: number, gpa: number, len: number) => new DataView(x.machine.read(domid, gpa, len).buffer);

function atp(x: Xen, caller: number, dom: number, space: number, idx: number, gpfn: number): number {
  const gpa = put(x, caller, L.ADD_TO_PHYSMAP_SIZE, (v) => {
    v.setUint16(L.ADD_TO_PHYSMAP_DOMID, dom, true);
    v.setUint32(L.ADD_TO_PHYSMAP_SPACE, space, true);
    v.setBigUint64(L.ADD_TO_PHYSMAP_IDX, BigInt(idx), true);
    v.setBigUint64(L.ADD_TO_PHYSMAP_GPFN, BigInt(gpfn), true);
  });
  return x.hv.hypercall(caller, L.HYPERVISOR_MEMORY_OP, L.XENMEM_ADD_TO_PHYSMAP, gpa);
}

function acquire(x: Xen, caller: number, f: { domid: number; type: number; id?: number; frame?: number; gfns?: number[]; nr?: number; pad?: number }): number {
  const gfns = f.gfns ?? [];
  if (gfns.length) put(x, caller, gfns.length * 8, (v) => gfns.forEach((g, i) => v.setBigUint64(i * 8, BigInt(g), true)), 256);
  const gpa = put(x, caller, L.MEM_ACQUIRE_RESOURCE_SIZE, (v) => {
    v.setUint16(L.MEM_ACQUIRE_RESOURCE_DOMID, f.domid, true);
    v.setUint16(L.MEM_ACQUIRE_RESOURCE_TYPE, f.type, true);
    v.setUint32(L.MEM_ACQUIRE_RESOURCE_ID, f.id ?? 0, true);
    v.setUint32(L.MEM_ACQUIRE_RESOURCE_NR_FRAMES, f.nr ?? gfns.length, true);
    v.setUint32(L.MEM_ACQUIRE_RESOURCE_PAD, f.pad ?? 0, true);
    v.setBigUint64(L.MEM_ACQUIRE_RESOURCE_FRAME, BigInt(f.frame ?? 0), true);
    v.setBigUint64(L.MEM_ACQUIRE_RESOURCE_FRAME_LIST, gfns.length ? BigInt(SCRATCH + 256) : 0n, true);
  });
  return x.hv.hypercall(caller, L.HYPERVISOR_MEMORY_OP, L.XENMEM_ACQUIRE_RESOURCE, gpa);
}

describe.each(["release", "debug"] as const)("the Xen model wired together (%s)", (build) => {
  it("createXen registers every subsystem and serves each hypercall number", () => {
    const x = world({ build });
    expect(["evtchn", "grant-table", "foreign", "ioreq", "argo", "xenstore"].map((n) => x.hv.subsystem(n)?.name)).toEqual(
      ["evtchn", "grant-table", "foreign", "ioreq", "argo", "xenstore"],
    );
    const before = x.machine.counter(L.CNT_HYPERCALLS);
    // grant_table_op 20: query_size of itself.
    const q = put(x, 1, L.GNTTAB_QUERY_SIZE_SIZE, (v) => v.setUint16(L.GNTTAB_QUERY_SIZE_DOM, L.DOMID_SELF, true));
    expect(x.hv.hypercall(1, L.HYPERVISOR_GRANT_TABLE_OP, L.GNTTABOP_QUERY_SIZE, q, 1)).toBe(0);
    expect(read(x, 1, q, L.GNTTAB_QUERY_SIZE_SIZE).getUint32(L.GNTTAB_QUERY_SIZE_MAX_NR_FRAMES, true)).toBe(64);
    // event_channel_op 32: alloc_unbound for guest 2.
    const au = put(x, 1, L.EVTCHN_ALLOC_UNBOUND_SIZE, (v) => {
      v.setUint16(L.EVTCHN_ALLOC_UNBOUND_DOM, L.DOMID_SELF, true);
      v.setUint16(L.EVTCHN_ALLOC_UNBOUND_REMOTE_DOM, 2, true);
    });
    expect(x.hv.hypercall(1, L.HYPERVISOR_EVENT_CHANNEL_OP, L.EVTCHNOP_ALLOC_UNBOUND, au)).toBe(0);
    const port = read(x, 1, au, 8).getUint32(L.EVTCHN_ALLOC_UNBOUND_PORT, true);
    expect(x.evtchn.portStatus(1, port)).toMatchObject({ status: L.EVTCHNSTAT_UNBOUND, dom: 2 });
    // argo_op 39: notify with no ring data.
    expect(x.hv.hypercall(1, L.HYPERVISOR_ARGO_OP, L.XEN_ARGO_OP_NOTIFY)).toBe(0);
    // dm_op 41: HYPERVISOR_dm_op(domid, nr_bufs, bufs) -> create an ioreq server for guest 1.
    const op = put(x, 4, L.DM_OP_SIZE, (v) => v.setUint32(L.DM_OP_OP, L.XEN_DMOP_CREATE_IOREQ_SERVER, true));
    const bufs = put(x, 4, L.DM_OP_BUF_SIZE, (v) => {
      v.setBigUint64(L.DM_OP_BUF_H, BigInt(op), true);
      v.setBigUint64(L.DM_OP_BUF_SIZE_OFF, BigInt(L.DM_OP_SIZE), true);
    }, 64);
    expect(x.hv.hypercall(4, L.HYPERVISOR_DM_OP, 1, 1, bufs)).toBe(0);
    expect(x.ioreq.servers(1).map((s) => s.emulator)).toEqual([4]);
    expect(x.hv.hypercall(4, L.HYPERVISOR_DM_OP, 1, 3, bufs)).toBe(-E.E2BIG);
    expect(x.hv.hypercall(4, L.HYPERVISOR_DM_OP, 1, 1, 200 * 4096)).toBe(-E.EFAULT); // bufs unreadable
    expect(x.hv.hypercall(4, L.HYPERVISOR_DM_OP, 1, 0, 0)).toBe(-E.EFAULT); // no buffer: size 0
    expect(x.hv.hypercall(3, L.HYPERVISOR_DM_OP, 1, 1, bufs)).toBe(-E.EPERM); // no device-model privilege (checked before the buffer)
    // A number nobody serves.
    expect(x.hv.hypercall(1, L.HYPERVISOR_SCHED_OP, 0, 0)).toBe(-E.ENOSYS);
    expect(x.machine.counter(L.CNT_HC_UNKNOWN)).toBe(1);
    expect(x.machine.counter(L.CNT_HYPERCALLS) - before).toBe(9); // one per call, whoever served it
    expect(() => x.hv.hypercall(9, L.HYPERVISOR_SCHED_OP)).toThrow(XenConfigError);
  });

  it("refuses a hypercall number or memory_op part served twice", () => {
    const x = createXen({ build, xenstore: false });
    const dup: Subsystem = { name: "dup", hypercalls: () => ({ [L.HYPERVISOR_ARGO_OP]: () => 0 }) };
    expect(() => x.hv.register(dup)).toThrow("hypercall 39 is already served (registering dup)");
    const dupMem: Subsystem = { name: "dup2", memoryOps: () => ({ physmapSpaces: { [L.XENMAPSPACE_GRANT_TABLE]: () => 0 } }) };
    expect(() => x.hv.register(dupMem)).toThrow("memory_op: physmap space 1 is already served (registering dup2)");
    expect(() => createXen({ build, xsm: "flask" as "silo" })).toThrow(XenConfigError);
  });

  it("memory_op: add_to_physmap by space, foreign batch and removal, unknown commands", () => {
    const x = world({ build });
    const m = x.machine;
    // XENMAPSPACE_grant_table goes to the grant tables.
    expect(atp(x, 1, L.DOMID_SELF, L.XENMAPSPACE_GRANT_TABLE, 0, TABLE + 3)).toBe(0);
    expect(x.grants.info(1).frameGfns).toEqual([TABLE + 3]);
    expect(atp(x, 1, L.DOMID_SELF, L.XENMAPSPACE_GRANT_TABLE, 70, TABLE + 4)).toBe(-E.EINVAL); // beyond max frames
    expect(atp(x, 1, L.DOMID_SELF, L.XENMAPSPACE_GMFN_FOREIGN, 0, TABLE + 4)).toBe(-E.ENOSYS); // batch only
    expect(atp(x, 1, L.DOMID_SELF, L.XENMAPSPACE_SHARED_INFO, 0, TABLE + 4)).toBe(-E.EOPNOTSUPP);
    expect(atp(x, 1, 99, L.XENMAPSPACE_GRANT_TABLE, 0, TABLE + 4)).toBe(-E.ESRCH);
    const denied = m.counter(L.CNT_XSM_DENIED);
    expect(atp(x, 1, 2, L.XENMAPSPACE_GRANT_TABLE, 0, TABLE + 4)).toBe(-E.EPERM);
    expect(m.counter(L.CNT_XSM_DENIED)).toBe(denied + 1);
    expect(atp(x, 4, 1, L.XENMAPSPACE_GRANT_TABLE, 0, TABLE + 5)).toBe(0); // guest 1's device model may
    expect(x.hv.hypercall(1, L.HYPERVISOR_MEMORY_OP, L.XENMEM_ADD_TO_PHYSMAP, 300 * 4096)).toBe(-E.EFAULT);
    // A removed table frame is gone from the guest; placing it again maps it again.
    const rm = (caller: number, gfn: number) => x.hv.hypercall(caller, L.HYPERVISOR_MEMORY_OP, L.XENMEM_REMOVE_FROM_PHYSMAP,
      put(x, caller, L.REMOVE_FROM_PHYSMAP_SIZE, (v) => {
        v.setUint16(L.REMOVE_FROM_PHYSMAP_DOMID, L.DOMID_SELF, true);
        v.setBigUint64(L.REMOVE_FROM_PHYSMAP_GPFN, BigInt(gfn), true);
      }));
    expect(rm(1, TABLE + 5)).toBe(0);
    expect(x.grants.info(1).frameGfns).toEqual([-1]);
    expect(atp(x, 1, L.DOMID_SELF, L.XENMAPSPACE_GRANT_TABLE, 0, TABLE + 5)).toBe(0);
    expect(m.p2mLookup(1, TABLE + 5) & L.P2M_TYPE_MASK).toBe(L.P2M_XEN);
    // Foreign mapping through the same dispatcher.
    const batch = put(x, 0, L.ADD_TO_PHYSMAP_BATCH_SIZE, (v) => {
      v.setUint16(L.ADD_TO_PHYSMAP_BATCH_DOMID, L.DOMID_SELF, true);
      v.setUint16(L.ADD_TO_PHYSMAP_BATCH_SPACE, L.XENMAPSPACE_GMFN_FOREIGN, true);
      v.setUint16(L.ADD_TO_PHYSMAP_BATCH_SIZE_OFF, 1, true);
      v.setUint16(L.ADD_TO_PHYSMAP_BATCH_FOREIGN_DOMID, 2, true);
      v.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_IDXS, BigInt(SCRATCH + 64), true);
      v.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_GPFNS, BigInt(SCRATCH + 72), true);
      v.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_ERRS, BigInt(SCRATCH + 80), true);
    });
    put(x, 0, 16, (v) => { v.setBigUint64(0, 5n, true); v.setBigUint64(8, BigInt(WIN), true); }, 64);
    m.write(2, 5 * 4096, Uint8Array.of(0xab));
    expect(x.hv.hypercall(0, L.HYPERVISOR_MEMORY_OP, L.XENMEM_ADD_TO_PHYSMAP_BATCH, batch)).toBe(0);
    expect(read(x, 0, SCRATCH + 80, 4).getInt32(0, true)).toBe(0);
    expect(m.read(0, WIN * 4096, 1)[0]).toBe(0xab);
    expect(rm(0, WIN)).toBe(0);
    expect(rm(0, WIN)).toBe(-E.ENOENT);
    expect(x.hv.hypercall(0, L.HYPERVISOR_MEMORY_OP, 99, 0)).toBe(-E.ENOSYS);
    expect(m.counter(L.CNT_HC_MEMORY_OPS)).toBe(14);
    expect(m.counter(L.CNT_HC_MEMORY_OP_ERRORS)).toBe(8);
  });

  it("memory_op: acquire_resource of ioreq pages and of a guest's grant-table frames", () => {
    const x = world({ build });
    const m = x.machine;
    const pc = new Privcmd({ ioreq: x.ioreq, foreign: x.foreign, domid: 4, scratchGfn: 30 });
    const id = pc.createIoreqServer(1);
    expect(acquire(x, 4, { domid: 1, type: L.XENMEM_RESOURCE_IOREQ_SERVER, id, frame: 1, gfns: [WIN] })).toBe(0);
    expect(m.p2mLookup(4, WIN) >>> L.P2M_MFN_SHIFT).toBe(x.ioreq.servers(1)[0]!.ioreqMfn);
    // Grant-table frames: guest 1 grants, dom0 (privileged) reads the entry through the frame it acquired.
    const g1 = x.gg(1);
    g1.grantAccess(8, 0, 3);
    expect(acquire(x, 0, { domid: 1, type: L.XENMEM_RESOURCE_GRANT_TABLE, nr: 0 })).toBe(0); // size query
    expect(read(x, 0, SCRATCH, L.MEM_ACQUIRE_RESOURCE_SIZE).getUint32(L.MEM_ACQUIRE_RESOURCE_NR_FRAMES, true)).toBe(64);
    expect(acquire(x, 0, { domid: 1, type: L.XENMEM_RESOURCE_GRANT_TABLE, gfns: [WIN, WIN + 1] })).toBe(0); // grows to 2
    expect(x.grants.info(1).nrFrames).toBe(2);
    const e = read(x, 0, WIN * 4096 + 8 * L.GRANT_ENTRY_V1_SIZE, 8);
    expect([e.getUint16(L.GRANT_ENTRY_V1_FLAGS, true), e.getUint16(L.GRANT_ENTRY_V1_DOMID, true), e.getUint32(L.GRANT_ENTRY_V1_FRAME, true)])
      .toEqual([L.GTF_PERMIT_ACCESS, 0, 3]);
    expect(acquire(x, 0, { domid: 1, type: L.XENMEM_RESOURCE_GRANT_TABLE, id: L.XENMEM_RESOURCE_GRANT_TABLE_ID_STATUS, gfns: [WIN + 2] })).toBe(-E.EINVAL);
    expect(acquire(x, 0, { domid: 1, type: L.XENMEM_RESOURCE_GRANT_TABLE, frame: 63, gfns: [WIN + 2, WIN + 3] })).toBe(-E.EINVAL);
    expect(acquire(x, 0, { domid: 1, type: L.XENMEM_RESOURCE_GRANT_TABLE, gfns: [5] })).toBe(-E.EINVAL); // RAM
    expect(acquire(x, 0, { domid: 1, type: L.XENMEM_RESOURCE_GRANT_TABLE, gfns: [WIN + 2, WIN] })).toBe(-E.EIO); // second is taken
    expect(acquire(x, 0, { domid: 1, type: L.XENMEM_RESOURCE_GRANT_TABLE, nr: 0, gfns: [] , pad: 1 })).toBe(-E.EINVAL);
    expect(acquire(x, 2, { domid: 1, type: L.XENMEM_RESOURCE_GRANT_TABLE, gfns: [WIN] })).toBe(-E.EPERM); // no dm privilege
    expect(acquire(x, 1, { domid: 1, type: L.XENMEM_RESOURCE_GRANT_TABLE, gfns: [WIN + 9] })).toBe(-E.EPERM); // itself
    expect(acquire(x, 0, { domid: 9, type: L.XENMEM_RESOURCE_GRANT_TABLE, gfns: [WIN + 9] })).toBe(-E.ESRCH);
    expect(acquire(x, 0, { domid: 1, type: L.XENMEM_RESOURCE_VMTRACE_BUF, gfns: [WIN + 9] })).toBe(-E.EOPNOTSUPP);
    // The guest dies with nothing pinned: its table frames leave dom0's p2m before they are freed.
    x.hv.destroyDomain(1);
    expect([m.p2mLookup(0, WIN), m.p2mLookup(0, WIN + 1), m.p2mLookup(0, WIN + 2)]).toEqual([0, 0, 0]);
  });

  it("VIRQ_ARGO reaches the port a guest bound; a guest that bound none only has the count", () => {
    const x = world({ build });
    const ev1 = new GuestEvtchn(x.evtchn, 1, 20);
    const port = ev1.bindVirq(L.VIRQ_ARGO);
    expect(port).toBeGreaterThan(0);
    x.evtchn.takeUpcalls();
    const a1 = new ArgoGuest(x.argo, 1, ARGO_SCRATCH);
    const a2 = new ArgoGuest(x.argo, 2, ARGO_SCRATCH);
    const ring1 = new ArgoGuestRing(x.argo, 1, { aport: 7, partner: 2, len: 256, baseGfn: 10 });
    const ring2 = new ArgoGuestRing(x.argo, 2, { aport: 7, partner: 1, len: 256, baseGfn: 10 });
    expect(a1.register(ring1)).toBe(0);
    expect(a2.register(ring2)).toBe(0);
    const virqs = x.machine.counter(L.CNT_EVTCHN_VIRQS);
    expect(a2.send({ domid: 1, aport: 7 }, Uint8Array.of(1, 2, 3), 12 * 4096)).toBe(3);
    expect(x.evtchn.isPending(1, port)).toBe(true);
    expect(x.evtchn.takeUpcalls()).toEqual([{ domid: 1, vcpu: 0 }]);
    expect(ev1.handleUpcall()).toEqual([port]);
    expect(x.machine.counter(L.CNT_EVTCHN_VIRQS)).toBe(virqs + 1);
    // Guest 2 never bound VIRQ_ARGO: Argo counts the signal, no port is pending, no upcall.
    expect(a1.send({ domid: 2, aport: 7 }, Uint8Array.of(4), 12 * 4096)).toBe(1);
    expect(x.argo.virqPending(2)).toBe(1);
    expect(x.machine.counter(L.CNT_ARGO_VIRQ_RAISED)).toBe(2);
    expect(x.machine.counter(L.CNT_EVTCHN_VIRQS)).toBe(virqs + 1);
    expect(x.evtchn.takeUpcalls()).toEqual([]);
    expect(x.hv.raiseVirq(2, L.VIRQ_ARGO)).toBe(false);
    expect(x.hv.raiseVirq(1, L.VIRQ_ARGO)).toBe(true);
  });

  it("xenstore's store channel is a real event channel: toolstack-allocated, bound by xenstored, kicked both ways", () => {
    const x = world({ build });
    const xs = x.xenstore!;
    const conn = xs.connection(1)!;
    // The toolstack allocated the guest's port for dom0; INTRODUCE made xenstored bind it.
    expect(conn.port).toBeGreaterThan(0);
    expect(x.evtchn.portStatus(1, conn.port)).toEqual({ status: L.EVTCHNSTAT_INTERDOMAIN, vcpu: 0, dom: 0, port: conn.serverPort });
    expect(x.evtchn.portStatus(0, conn.serverPort)).toEqual({ status: L.EVTCHNSTAT_INTERDOMAIN, vcpu: 0, dom: 1, port: conn.port });
    const ev1 = new GuestEvtchn(x.evtchn, 1, 20);
    ev1.setPortVcpu(conn.port, 0);
    ev1.handleUpcall();
    x.evtchn.takeUpcalls();
    const sends = x.machine.counter(L.CNT_EVTCHN_SENDS);
    const before = xs.stats(1);
    expect(xs.client(1).read("name")).toEqual({ ok: true, value: "guest1" });
    const after = xs.stats(1);
    const toServer = after.notifyToServer - before.notifyToServer;
    const toGuest = after.notifyToGuest - before.notifyToGuest;
    expect([toServer, toGuest]).toEqual([1, 2]); // request produced; request consumed, reply written
    expect(x.machine.counter(L.CNT_EVTCHN_SENDS) - sends).toBe(toServer + toGuest); // each kick is one EVTCHNOP_send
    expect(x.evtchn.isPending(0, conn.serverPort)).toBe(true); // xenstored was kicked
    expect(ev1.handleUpcall()).toEqual([conn.port]); // and kicked the guest back
    // A re-INTRODUCE with another port rebinds; one xenstored cannot bind refuses.
    const p2 = x.evtchn.allocUnbound(0, 1, 0);
    expect(xs.toolstack.introduce(1, RAM - 1, p2)).toEqual({ ok: true, value: undefined });
    expect(x.evtchn.portStatus(0, conn.serverPort)?.dom).toBe(1);
    expect(x.evtchn.portStatus(1, p2)?.status).toBe(L.EVTCHNSTAT_INTERDOMAIN);
    expect(xs.toolstack.introduce(1, RAM - 1, 4000)).toEqual({ ok: false, error: "EINVAL" });
    // RELEASE (at destruction) closes xenstored's end.
    const guest2 = xs.connection(2)!;
    const local = guest2.serverPort;
    x.hv.destroyDomain(2);
    expect(x.evtchn.portStatus(0, local)?.status).toBe(L.EVTCHNSTAT_CLOSED);
    // xenstored's own domain dies: its ends go with it, and the guest's end is unbound again.
    x.hv.destroyDomain(0);
    expect(conn.serverPort).toBe(0);
    expect(x.evtchn.portStatus(1, p2)).toMatchObject({ status: L.EVTCHNSTAT_UNBOUND, dom: 0 });
  });

  it("xenstore without event channels only counts kicks (port 0: no channel)", () => {
    const x = createXen({ build, xenstore: { storePort: () => 0 } });
    x.hv.createDomain({ name: "dom0", ramPages: RAM, control: true });
    x.hv.createDomain({ name: "g", ramPages: RAM });
    const conn = x.xenstore!.connection(1)!;
    expect([conn.port, conn.serverPort]).toEqual([0, 0]);
    const sends = x.machine.counter(L.CNT_EVTCHN_SENDS);
    expect(x.xenstore!.client(1).read("domid").ok).toBe(true);
    expect(x.machine.counter(L.CNT_EVTCHN_SENDS)).toBe(sends);
    expect(x.xenstore!.stats(1).notifyToServer).toBeGreaterThan(0);
  });

  it("XSA-295: a guest-safe atomic that paused the granter shows in the domain's pause bookkeeping", () => {
    const x = world({ build, atomics: "arm64-v8.0", xenstore: false });
    expect(x.hv.arch).toBe("arm64");
    const at = x.hv.atomics as EmulatedGuestAtomics;
    const g1 = x.gg(1);
    g1.grantAccess(8, 0, 3);
    // Guest 1 keeps storing to entry 9, in the same 64-byte granule as entry 8.
    const mfn = x.grants.info(1).frameMfns[0]!;
    at.hostile(1, mfn, 9 * L.GRANT_ENTRY_V1_SIZE, { value: 1, flip: 1 });
    const d1 = x.hv.domain(1)!;
    x.hv.pause(1); // the toolstack holds it paused too: nesting survives
    const r = x.gg(0).map([{ dom: 1, ref: 8, hostAddr: WIN * 4096 }]).results[0]!;
    at.calm();
    expect(r.status).toBe(L.GNTST_OKAY);
    expect(d1.xsa295Pauses).toBe(1);
    expect(d1.pauses).toBe(2);
    expect(x.machine.counter(L.CNT_DOMAIN_PAUSES_XSA295)).toBe(1);
    expect(x.machine.counter(L.CNT_DOMAIN_PAUSES)).toBe(2);
    expect(x.machine.counter(L.CNT_ATOMIC_PAUSES)).toBe(1);
    expect([d1.pauseCount, d1.state]).toEqual([1, "paused"]);
    x.hv.unpause(1);
    expect(d1.state).toBe("running");
    // x86 never pauses anyone.
    const y = world({ build, xenstore: false });
    y.gg(1).grantAccess(8, 0, 3);
    expect(y.gg(0).map([{ dom: 1, ref: 8, hostAddr: WIN * 4096 }]).results[0]!.status).toBe(L.GNTST_OKAY);
    expect(y.hv.domain(1)!.pauses).toBe(0);
  });

  it("SILO sees the caller: dom0 copies between two guests' grants and sets up their channel; guests cannot", () => {
    const x = world({ build, xsm: "silo" });
    const m = x.machine;
    m.write(1, 3 * 4096, Uint8Array.of(9, 8, 7, 6));
    x.gg(1).grantAccess(8, 0, 3, true);
    x.gg(2).grantAccess(8, 0, 4);
    x.gg(2).grantAccess(9, 1, 5);
    const copy = (caller: number, src: { domid: number; ref: number } | { gmfn: number }, dst: { domid: number; ref: number }) =>
      x.gg(caller).copy([{ source: { ...src, offset: 0 }, dest: { ...dst, offset: 100 }, len: 4 }]).statuses[0];
    expect(copy(0, { domid: 1, ref: 8 }, { domid: 2, ref: 8 })).toBe(L.GNTST_OKAY);
    expect([...m.read(2, 4 * 4096 + 100, 4)]).toEqual([9, 8, 7, 6]);
    expect(copy(1, { gmfn: 3 }, { domid: 2, ref: 9 })).toBe(L.GNTST_PERMISSION_DENIED);
    // dom0 allocates a port of guest 1 for guest 2 (as a toolstack would)...
    const p = x.evtchn.allocUnbound(0, 1, 2);
    expect(p).toBeGreaterThan(0);
    // ...but SILO still refuses the guests' own bind, with the caller a guest.
    expect(x.evtchn.bindInterdomain(2, 1, p)).toBe(-E.EPERM);
    expect(x.evtchn.allocUnbound(1, L.DOMID_SELF, 2)).toBe(-E.EPERM);
    // Flask rules see subject and object only.
    const flask = parseXsmPolicy("allow dom0_t domU_t grant_copy\n");
    expect(flask).toBeInstanceOf(FlaskPolicy);
    const [d0, d1, d2] = [0, 1, 2].map((d) => x.hv.domain(d)!) as [vxsim.Domain, vxsim.Domain, vxsim.Domain];
    expect(flask.check("grant_copy", d1, d2, d0)).toBe(false);
    expect(flask.check("grant_copy", d0, d2, d1)).toBe(true);
  });

  it("defaults to Xen's XSM module per architecture: SILO on arm64, dummy on x86-64 and riscv64", () => {
    expect(createXen({ build, arch: "arm64" }).hv.xsm.name).toBe("silo");
    expect(createXen({ build, atomics: "arm64-v8.0" }).hv.xsm.name).toBe("silo");
    expect(createXen({ build }).hv.xsm.name).toBe("dummy");
    expect(createXen({ build, arch: "riscv64" }).hv.xsm.name).toBe("dummy");
    expect(createXen({ build, arch: "arm64", xsm: "dummy" }).hv.xsm.name).toBe("dummy");
    expect(() => createXen({ build, xsm: "flask" as "silo" })).toThrow(XenConfigError);
  });

  it("exports the Xen model from the package entry point", () => {
    const x = vxsim.createXen({ build, xenstore: false, xsm: new vxsim.SiloPolicy() });
    expect(x.hv).toBeInstanceOf(vxsim.Hypervisor);
    expect(x.grants).toBeInstanceOf(vxsim.GrantTables);
    expect(x.evtchn).toBeInstanceOf(vxsim.EventChannels);
    expect(x.argo).toBeInstanceOf(vxsim.Argo);
    expect(vxsim.errno.errnoName(-vxsim.errno.EPERM)).toBe("-EPERM");
    expect(vxsim.layout.HYPERVISOR_ARGO_OP).toBe(39);
    expect(vxsim.XenbusState.Connected).toBe(4);
  });
});
