// Host boundary of the guest atomics: values cross as f64 (exact for 32-bit words and for
// 64-bit words below 2^53; event bitmaps use 64-bit words, accessed by the host per 32-bit half).
import { cmpxchg, fetchOp } from "./x86";

export function atomic_cmpxchg(mfn: u32, off: u32, size: u32, expected: f64, desired: f64): f64 {
  return <f64>cmpxchg(mfn, off, size, <u64>expected, <u64>desired);
}
export function atomic_fetch_op(mfn: u32, off: u32, size: u32, op: u32, v: f64): f64 {
  return <f64>fetchOp(mfn, off, size, op, <u64>v);
}
