// Guest side of the 2-level event-channel ABI: what a Linux upcall handler does
// (__xen_evtchn_do_upcall + evtchn_2l_handle_events) through the guest's own p2m mapping of
// shared_info. Wasm is single-threaded, so each read-modify-write here is atomic as the guest's
// locked ops are. The offsets of vcpu_info, pending and mask come from the host (they are ABI-
// and architecture-dependent); inside vcpu_info it uses layout.ts's offsets (the same on x86_64
// and Arm64). Port p is bit p%64 of 64-bit word p/64, and selector bit w covers pending word w.
import {
  MST_RANGE, PAGE_MASK, PAGE_SHIFT, CNT_EVTCHN_SCANS, CNT_EVTCHN_DISPATCHED, VCPU_INFO_EVTCHN_PENDING_SEL,
  VCPU_INFO_EVTCHN_UPCALL_PENDING,
} from "../layout";
import { count } from "../counters";
import { accessStatus, translate } from "../machine/access";

/** Linear address of guest byte `gpa` (the caller keeps gpas below 4 GiB), 0 when refused. */
@inline function gaddr(domid: u32, gpa: u64, write: bool): usize {
  const base = translate(domid, <u32>(gpa >> PAGE_SHIFT), write);
  return base == 0 ? 0 : base + (<u32>gpa & PAGE_MASK);
}

/** Scans the vCPU's selector and dispatches every pending, unmasked port it covers: clears
 *  upcall_pending, swaps the selector with 0, and for each flagged word test-and-clears the
 *  pending bit of each unmasked port bound to this vCPU (`cpuMask`: the guest's private
 *  bitmap of such ports, Linux's cpu_evtchn_mask; 0 = every port), writing the port (u32) to
 *  `out`. Repeats while Xen set upcall_pending again. Returns the number of ports written (at
 *  most `max`) or a negative machine status when the guest cannot reach its shared_info. */
export function evtchn2lScan(domid: u32, vcpuInfoGpa: u64, pendingGpa: u64, maskGpa: u64, cpuMask: usize, out: usize, max: u32): i32 {
  if (((vcpuInfoGpa | pendingGpa | maskGpa) >> 32) != 0) return MST_RANGE;
  count(CNT_EVTCHN_SCANS);
  let n: u32 = 0;
  const vi = gaddr(domid, vcpuInfoGpa, true);
  if (vi == 0) return accessStatus;
  do {
    store<u8>(vi + VCPU_INFO_EVTCHN_UPCALL_PENDING, 0); // before looking at the selector
    let sel = load<u64>(vi + VCPU_INFO_EVTCHN_PENDING_SEL);
    store<u64>(vi + VCPU_INFO_EVTCHN_PENDING_SEL, 0);
    while (sel != 0) {
      const w = <u32>ctz(sel);
      sel &= sel - 1;
      const pw = gaddr(domid, pendingGpa + (<u64>w << 3), true);
      const mw = gaddr(domid, maskGpa + (<u64>w << 3), false);
      if (pw == 0 || mw == 0) return accessStatus;
      let bits = load<u64>(pw) & ~load<u64>(mw);
      if (cpuMask != 0) bits &= load<u64>(cpuMask + (w << 3));
      while (bits != 0) {
        const b = <u32>ctz(bits);
        bits &= bits - 1;
        const bit: u64 = <u64>1 << b;
        const old = load<u64>(pw);
        store<u64>(pw, old & ~bit);
        if ((old & bit) != 0 && n < max) {
          store<u32>(out + (n << 2), (w << 6) | b);
          n++;
        }
      }
    }
  } while (load<u8>(vi + VCPU_INFO_EVTCHN_UPCALL_PENDING) != 0);
  count(CNT_EVTCHN_DISPATCHED, n);
  return <i32>n;
}
