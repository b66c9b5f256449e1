// Plain-TS reference of the guest upcall-handler scan (assembly/xen/evtchn.ts): the same walk
// through the guest's own mapping, using 32-bit halves of each 64-bit word (bit p of a
// little-endian xen_ulong_t array is bit p%32 of u32 word p/32, so the order is the same).
import type { Machine } from "./machine.ts";
import { CNT_EVTCHN_DISPATCHED, CNT_EVTCHN_SCANS, MST_RANGE, VCPU_INFO_EVTCHN_PENDING_SEL as SEL, VCPU_INFO_EVTCHN_UPCALL_PENDING } from "./layout.ts";
import { TsGuestMemory, type HostCounters } from "./ts-guest-memory.ts";
import { MAX_SCAN_PORTS, type Evtchn2lGpas } from "./evtchn.ts";

const REFUSED = -2; // the reference only knows that an access was refused (counted in its block)

export function evtchn2lScanRef(machine: Machine, domid: number, g: Evtchn2lGpas, cpuMask?: Uint32Array, counters?: HostCounters): number[] | number {
  if (Math.max(g.vcpuInfo, g.pending, g.mask) >= 2 ** 32) return MST_RANGE;
  const mem = new TsGuestMemory(machine, domid, counters);
  const c = mem.counters;
  c[CNT_EVTCHN_SCANS]!++;
  const ports: number[] = [];
  if (mem.addr(g.vcpuInfo, true) < 0) return REFUSED;
  do {
    mem.w8(g.vcpuInfo + VCPU_INFO_EVTCHN_UPCALL_PENDING, 0);
    const sel = [mem.r32(g.vcpuInfo + SEL), mem.r32(g.vcpuInfo + SEL + 4)];
    mem.w32(g.vcpuInfo + SEL, 0);
    mem.w32(g.vcpuInfo + SEL + 4, 0);
    for (let half = 0; half < 2; half++) {
      for (let sb = 0; sb < 32; sb++) {
        if (((sel[half]! >>> sb) & 1) === 0) continue;
        const w = half * 32 + sb;
        for (let h = 0; h < 2; h++) {
          const pa = g.pending + w * 8 + h * 4;
          const ma = g.mask + w * 8 + h * 4;
          if (mem.addr(pa, true) < 0 || mem.addr(ma, false) < 0) return REFUSED;
          const bits = (mem.r32(pa) & ~mem.r32(ma) & (cpuMask ? cpuMask[w * 2 + h]! : 0xffffffff)) >>> 0;
          for (let b = 0; b < 32; b++) {
            if (((bits >>> b) & 1) === 0) continue;
            const old = mem.r32(pa);
            mem.w32(pa, (old & ~(1 << b)) >>> 0);
            if (((old >>> b) & 1) === 1 && ports.length < MAX_SCAN_PORTS) ports.push(w * 64 + h * 32 + b);
          }
        }
      }
    }
  } while (mem.r8(g.vcpuInfo + VCPU_INFO_EVTCHN_UPCALL_PENDING) !== 0);
  c[CNT_EVTCHN_DISPATCHED]! += ports.length;
  return ports;
}
