// Host boundary of the event-channel kernels: guest addresses cross as f64.
import { evtchn2lScan } from "./evtchn";

export function evtchn_2l_scan(domid: u32, vcpuInfoGpa: f64, pendingGpa: f64, maskGpa: f64, cpuMask: usize, out: usize, max: u32): i32 {
  return evtchn2lScan(domid, <u64>vcpuInfoGpa, <u64>pendingGpa, <u64>maskGpa, cpuMask, out, max);
}
