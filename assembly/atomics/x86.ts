// Guest atomics with x86 semantics: a locked read-modify-write on guest-shared memory always
// completes in one step. Addresses are (mfn, byte offset); the access must be naturally
// aligned inside one live frame, else the result is ATOMIC_FAULT.
import { PAGE_SIZE, CNT_ATOMIC_OPS } from "../layout";
import { count } from "../counters";
import { frameAddr, frameLive } from "../machine/frames";

export const ATOMIC_FAULT: i64 = -1;

@inline function addr(mfn: u32, off: u32, size: u32): usize {
  if (off >= PAGE_SIZE || (off & (size - 1)) != 0 || !frameLive(mfn)) return 0;
  return frameAddr(mfn) + off;
}

/** Compare-and-swap of a 16/32/64-bit word; returns the old value (as i64) or ATOMIC_FAULT. */
export function cmpxchg(mfn: u32, off: u32, size: u32, expected: u64, desired: u64): i64 {
  const a = addr(mfn, off, size);
  if (a == 0) return ATOMIC_FAULT;
  count(CNT_ATOMIC_OPS);
  if (size == 2) {
    const old = <u64>load<u16>(a);
    if (old == (expected & 0xffff)) store<u16>(a, <u16>desired);
    return <i64>old;
  }
  if (size == 4) {
    const old = <u64>load<u32>(a);
    if (old == (expected & 0xffffffff)) store<u32>(a, <u32>desired);
    return <i64>old;
  }
  const old = load<u64>(a);
  if (old == expected) store<u64>(a, desired);
  return <i64>old;
}

/** Atomic fetch-and-op (0 = or, 1 = and, 2 = xor, 3 = add, 4 = xchg) on a 16/32/64-bit word. */
export function fetchOp(mfn: u32, off: u32, size: u32, op: u32, v: u64): i64 {
  const a = addr(mfn, off, size);
  if (a == 0) return ATOMIC_FAULT;
  count(CNT_ATOMIC_OPS);
  const old: u64 = size == 2 ? <u64>load<u16>(a) : size == 4 ? <u64>load<u32>(a) : load<u64>(a);
  let nv: u64 = old;
  if (op == 0) nv = old | v;
  else if (op == 1) nv = old & v;
  else if (op == 2) nv = old ^ v;
  else if (op == 3) nv = old + v;
  else nv = v;
  if (size == 2) store<u16>(a, <u16>nv);
  else if (size == 4) store<u32>(a, <u32>nv);
  else store<u64>(a, nv);
  return <i64>old;
}
