// Wrapper over the Argo ring-insert kernel (assembly/xen/argo.ts), and the ring's mfn table:
// the hypervisor-owned frames that list a registered ring's machine frames (Xen's ring mfns).
import type { Machine } from "./machine.ts";
import * as L from "./layout.ts";

interface ArgoExports {
  argo_ring_insert(tableMfn: number, nmfns: number, owner: number, ringLen: number, tx: number,
    srcDom: number, srcAport: number, msgType: number, niov: number): number;
}

/** One sender buffer: a guest-physical address in the sender's space and a length. */
export interface ArgoIov {
  gpa: number;
  len: number;
}

/** Everything one sendv's copy needs once the hypervisor has decided it may happen. */
export interface ArgoInsert {
  tableMfn: number;
  nmfns: number;
  /** Domain that owns the ring frames (the receiver). */
  owner: number;
  ringLen: number;
  /** Xen's private tx (slot-aligned, < ringLen). */
  tx: number;
  srcDom: number;
  srcAport: number;
  msgType: number;
  iovs: readonly ArgoIov[];
}

/** The copy half of ringbuf_insert: returns the new tx, or a negative machine status. */
export interface ArgoRingCopier {
  insert(a: ArgoInsert): number;
}

export class WasmArgoCopier implements ArgoRingCopier {
  private readonly machine: Machine;
  private readonly x: ArgoExports;

  constructor(machine: Machine) {
    this.machine = machine;
    this.x = machine.raw<ArgoExports>();
  }

  insert(a: ArgoInsert): number {
    if (a.iovs.length > L.XEN_ARGO_MAXIOV) return L.MST_BAD_ARG;
    const dv = this.machine.dv;
    for (let i = 0; i < a.iovs.length; i++) {
      const e = L.IO_BASE + i * L.ARGO_IOV_SIZE;
      const { gpa, len } = a.iovs[i]!;
      dv.setUint32(e + L.ARGO_IOV_IOV_HND, gpa % 2 ** 32, true);
      dv.setUint32(e + L.ARGO_IOV_IOV_HND + 4, Math.floor(gpa / 2 ** 32), true);
      dv.setUint32(e + L.ARGO_IOV_IOV_LEN, len, true);
      dv.setUint32(e + L.ARGO_IOV_PAD, 0, true);
    }
    return this.x.argo_ring_insert(a.tableMfn, a.nmfns, a.owner, a.ringLen, a.tx, a.srcDom, a.srcAport,
      a.msgType >>> 0, a.iovs.length);
  }
}

/** Frames needed for a table of `nmfns` u32 entries. */
export function ringTableFrames(nmfns: number): number {
  return Math.max(1, Math.ceil((nmfns * 4) / L.PAGE_SIZE));
}

/** Writes a ring's mfn list into fresh hypervisor frames; returns the table's first mfn. */
export function allocRingTable(machine: Machine, mfns: readonly number[]): number {
  const frames = ringTableFrames(mfns.length);
  const first = frames === 1 ? machine.allocXenFrame() : machine.allocXenFrames(frames);
  const base = machine.frameAddr(first);
  const dv = machine.dv;
  for (let i = 0; i < mfns.length; i++) dv.setUint32(base + i * 4, mfns[i]!, true);
  return first;
}

export function freeRingTable(machine: Machine, tableMfn: number, nmfns: number): void {
  const frames = ringTableFrames(nmfns);
  for (let i = 0; i < frames; i++) machine.freeXenFrame(tableMfn + i);
}
