// A small Xen world for Argo tests: a machine, the hypervisor, Argo, dom0 and some domUs,
// and helpers that write raw argument structures into a guest's memory.
import { Machine } from "../../src/wasm/machine.ts";
import type { Build } from "../../src/wasm/module.ts";
import * as L from "../../src/wasm/layout.ts";
import { Hypervisor } from "../../src/xen/hypervisor.ts";
import { Argo, type ArgoOptions } from "../../src/xen/argo.ts";
import { ArgoGuest, ArgoGuestRing } from "../../src/xen/argo-guest.ts";
import type { XsmPolicy } from "../../src/xen/xsm.ts";
import type { Domain } from "../../src/xen/domain.ts";

export const SCRATCH = 0x80000; // gfns 128..135: argument structures made by ArgoGuest
export const RAW = 0x90000; // gfn 144..: raw structures built by tests
export const BUF = 0xa0000; // gfn 160..: payload buffers
export const RING_GFN = 16; // rings from gfn 16 up

export interface World {
  machine: Machine;
  hv: Hypervisor;
  argo: Argo;
  doms: Domain[];
  guest(domid: number): ArgoGuest;
  ring(domid: number, r: { aport: number; partner: number; len: number; baseGfn?: number }): ArgoGuestRing;
}

export function world(o: { build?: Build; argo?: ArgoOptions; xsm?: XsmPolicy; domUs?: number; ramPages?: number; labels?: string[] } = {}): World {
  const machine = new Machine({ build: o.build ?? "release" });
  const hv = new Hypervisor({ machine, xsm: o.xsm });
  const argo = hv.register(new Argo(hv, { enabled: true, ...o.argo }));
  const ramPages = o.ramPages ?? 512;
  const doms = [hv.createDomain({ name: "dom0", ramPages, control: true })];
  for (let i = 1; i <= (o.domUs ?? 2); i++) doms.push(hv.createDomain({ name: `d${i}`, ramPages, label: o.labels?.[i - 1] }));
  const guests = new Map<number, ArgoGuest>();
  return {
    machine, hv, argo, doms,
    guest(domid) {
      if (!guests.has(domid)) guests.set(domid, new ArgoGuest(argo, domid, SCRATCH));
      return guests.get(domid)!;
    },
    ring(domid, r) {
      return new ArgoGuestRing(argo, domid, { baseGfn: RING_GFN, ...r });
    },
  };
}

/** Little-endian struct builder. */
export function struct(size: number, fill: (v: DataView) => void): Uint8Array {
  const v = new DataView(new ArrayBuffer(size));
  fill(v);
  return new Uint8Array(v.buffer);
}

export function regRing(aport: number, partner: number, len: number, pad = 0): Uint8Array {
  return struct(L.ARGO_REGISTER_RING_SIZE, (v) => {
    v.setUint32(L.ARGO_REGISTER_RING_APORT, aport, true);
    v.setUint16(L.ARGO_REGISTER_RING_PARTNER_ID, partner, true);
    v.setUint16(L.ARGO_REGISTER_RING_PAD, pad, true);
    v.setUint32(L.ARGO_REGISTER_RING_LEN, len, true);
  });
}

export function gfnList(gfns: readonly (number | [number, number])[]): Uint8Array {
  return struct(Math.max(8, gfns.length * 8), (v) => gfns.forEach((g, i) => {
    const [lo, hi] = typeof g === "number" ? [g, 0] : g;
    v.setUint32(i * 8, lo, true);
    v.setUint32(i * 8 + 4, hi, true);
  }));
}

export function sendAddr(src: { aport: number; domid: number; pad?: number }, dst: { aport: number; domid: number; pad?: number }): Uint8Array {
  return struct(L.ARGO_SEND_ADDR_SIZE, (v) => {
    v.setUint32(L.ARGO_SEND_ADDR_SRC + L.ARGO_ADDR_APORT, src.aport, true);
    v.setUint16(L.ARGO_SEND_ADDR_SRC + L.ARGO_ADDR_DOMAIN_ID, src.domid, true);
    v.setUint16(L.ARGO_SEND_ADDR_SRC + L.ARGO_ADDR_PAD, src.pad ?? 0, true);
    v.setUint32(L.ARGO_SEND_ADDR_DST + L.ARGO_ADDR_APORT, dst.aport, true);
    v.setUint16(L.ARGO_SEND_ADDR_DST + L.ARGO_ADDR_DOMAIN_ID, dst.domid, true);
    v.setUint16(L.ARGO_SEND_ADDR_DST + L.ARGO_ADDR_PAD, dst.pad ?? 0, true);
  });
}

export function iovList(iovs: readonly { gpa: number; len: number; pad?: number }[]): Uint8Array {
  return struct(Math.max(16, iovs.length * 16), (v) => iovs.forEach((iov, i) => {
    v.setUint32(i * 16 + L.ARGO_IOV_IOV_HND, iov.gpa % 2 ** 32, true);
    v.setUint32(i * 16 + L.ARGO_IOV_IOV_HND + 4, Math.floor(iov.gpa / 2 ** 32), true);
    v.setUint32(i * 16 + L.ARGO_IOV_IOV_LEN, iov.len, true);
    v.setUint32(i * 16 + L.ARGO_IOV_PAD, iov.pad ?? 0, true);
  }));
}

/** A deterministic byte pattern. */
export function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + (i >> 8)) & 0xff);
}
