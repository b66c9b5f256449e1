// Wrappers for the event-channel area: the guest upcall-handler scan kernel, and plain loads
// of hypervisor-side words (Xen's guest_test_bit is a plain load, not an atomic).
import type { Machine } from "./machine.ts";
import { IO_BASE, MST_RANGE } from "./layout.ts";

interface EvtchnExports {
  evtchn_2l_scan(domid: number, vcpuInfoGpa: number, pendingGpa: number, maskGpa: number, cpuMask: number, out: number, max: number): number;
}

/** Where the 2-level bitmaps of one vCPU sit in a guest's physical address space. */
export interface Evtchn2lGpas {
  vcpuInfo: number;
  pending: number;
  mask: number;
}

export const MAX_SCAN_PORTS = 4096;
/** A guest's per-vCPU bitmap of the ports bound to that vCPU: 4096 bits as 128 u32 words. */
export const CPU_MASK_WORDS = MAX_SCAN_PORTS / 32;
const CPU_MASK_AT = IO_BASE + MAX_SCAN_PORTS * 4;

/** The guest's handler scan in Wasm: returns the ports to dispatch, in the order found, or a
 *  negative machine status when the guest cannot reach its shared_info. `cpuMask` (the ports
 *  bound to this vCPU, bit p of word p/32) filters as Linux's cpu_evtchn_mask does. */
export function evtchn2lScan(machine: Machine, domid: number, g: Evtchn2lGpas, cpuMask?: Uint32Array): number[] | number {
  if (Math.max(g.vcpuInfo, g.pending, g.mask) >= 2 ** 32) return MST_RANGE;
  if (cpuMask) {
    if (cpuMask.length !== CPU_MASK_WORDS) throw new RangeError(`cpuMask must have ${CPU_MASK_WORDS} words, got ${cpuMask.length}`);
    const dv = machine.dv;
    for (let i = 0; i < CPU_MASK_WORDS; i++) dv.setUint32(CPU_MASK_AT + i * 4, cpuMask[i]!, true);
  }
  const n = machine.raw<EvtchnExports>().evtchn_2l_scan(domid, g.vcpuInfo, g.pending, g.mask, cpuMask ? CPU_MASK_AT : 0, IO_BASE, MAX_SCAN_PORTS);
  if (n < 0) return n;
  const dv = machine.dv;
  const ports: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) ports[i] = dv.getUint32(IO_BASE + i * 4, true);
  return ports;
}

/** Plain 32-bit load from a live machine frame (no rights, no counting: Xen reading its own
 *  view of a shared page). */
export function loadFrame32(machine: Machine, mfn: number, off: number): number {
  return machine.dv.getUint32(machine.frameAddr(mfn) + off, true);
}

export function loadFrame8(machine: Machine, mfn: number, off: number): number {
  return machine.dv.getUint8(machine.frameAddr(mfn) + off);
}
