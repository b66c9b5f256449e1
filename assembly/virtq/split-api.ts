// Host boundary of the split virtqueue: numbers only; 64-bit addresses cross as two u32 halves
// (hi, lo), so a driver's address with bit 63 set arrives exactly.
import { u64of } from "./common";
import { splitDevReset, splitDevEnable, splitDevRestore, splitSetFlags } from "./split-setup";
import { splitPop } from "./split";
import { splitPush, splitNeedIrq, splitDevNotify } from "./split-used";
import { splitDrvInit, splitDrvAdd } from "./split-driver";
import { splitDrvKick, splitDrvReclaim, splitDrvEnableCb } from "./split-reclaim";

// ---- device side ----
export function vqs_dev_reset(q: u32, ringDomid: u32, maxSize: u32, aux: u32): void {
  splitDevReset(q, ringDomid, maxSize, aux);
}
export function vqs_dev_enable(
  q: u32, size: u32, descHi: u32, descLo: u32, availHi: u32, availLo: u32, usedHi: u32, usedLo: u32,
  features: u32, bufDomid: u32, maxSegs: u32, maxIndirect: u32,
): u32 {
  return splitDevEnable(q, size, u64of(descHi, descLo), u64of(availHi, availLo), u64of(usedHi, usedLo), features, bufDomid, maxSegs, maxIndirect);
}
export function vqs_dev_restore(q: u32, nextAvail: u32, nextUsed: u32): void { splitDevRestore(q, nextAvail, nextUsed); }
export function vqs_set_flags(q: u32, set: u32, clear: u32): void { splitSetFlags(q, set, clear); }
export function vqs_dev_pop(q: u32, out: u32, cap: u32, max: u32): u32 { return splitPop(q, out, cap, max); }
export function vqs_dev_push(q: u32, inp: u32, n: u32): u32 { return splitPush(q, inp, n, false); }
export function vqs_dev_push_chains(q: u32, chains: u32, n: u32): u32 { return splitPush(q, chains, n, true); }
export function vqs_dev_need_irq(q: u32): u32 { return splitNeedIrq(q); }
export function vqs_dev_notify(q: u32, enable: u32): u32 { return splitDevNotify(q, enable != 0); }

// ---- driver side ----
export function vqs_drv_init(
  q: u32, ringDomid: u32, size: u32, descHi: u32, descLo: u32, availHi: u32, availLo: u32, usedHi: u32, usedLo: u32, features: u32, aux: u32,
): u32 {
  return splitDrvInit(q, ringDomid, size, u64of(descHi, descLo), u64of(availHi, availLo), u64of(usedHi, usedLo), features, aux);
}
export function vqs_drv_add(q: u32, inp: u32, n: u32): u32 { return splitDrvAdd(q, inp, n); }
export function vqs_drv_kick(q: u32): u32 { return splitDrvKick(q); }
export function vqs_drv_reclaim(q: u32, out: u32, max: u32): u32 { return splitDrvReclaim(q, out, max); }
export function vqs_drv_enable_cb(q: u32, enable: u32): u32 { return splitDrvEnableCb(q, enable != 0); }
