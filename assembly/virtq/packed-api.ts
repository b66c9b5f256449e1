// Host boundary of the packed virtqueue kernels (numbers only; 64-bit addresses as u32 halves).
// A queue state block holds one side: configure it (which resets it), then enable/init it.
import {
  QUEUE_STATE_SIZE, Q_FLAGS, Q_RING_DOMID, Q_BUF_DOMID, Q_AUX, Q_MAX_SEGS, Q_NEXT_AVAIL, Q_NEXT_USED,
  Q_AVAIL_WRAP, Q_USED_WRAP, QF_PACKED, QF_DRIVER_OK, QF_READY, QF_BROKEN, PK_DEV_AUX_BYTES,
} from "../layout";
import { qBlock, u64of } from "./common";
import { ringSetup } from "./packed";
import { devPop, devPush, devPopPush, devNeedIrq, devNotifyEnable, devNotifyDisable } from "./packed-device";
import { drvInit, drvAdd, drvKickPrepare, drvGetUsed, drvEnableCb, drvDisableCb } from "./packed-driver";

/** Resets queue `q` as the device side of a packed ring. `aux` is the linear address of
 *  PK_DEV_AUX_BYTES of host-allocated frames (the buffer-id table), cleared here. `flags` are
 *  the negotiated QF_* bits (QF_PACKED is implied; READY, BROKEN and DRIVER_OK are dropped). */
export function vqp_dev_config(q: u32, ringDomid: u32, bufDomid: u32, aux: u32, flags: u32, maxSegs: u32): void {
  const qb = qBlock(q);
  memory.fill(qb, 0, QUEUE_STATE_SIZE);
  store<u32>(qb, (flags | QF_PACKED) & ~(QF_READY | QF_BROKEN | QF_DRIVER_OK), Q_FLAGS);
  store<u32>(qb, ringDomid, Q_RING_DOMID);
  store<u32>(qb, bufDomid, Q_BUF_DOMID);
  store<u32>(qb, aux, Q_AUX);
  store<u32>(qb, maxSegs, Q_MAX_SEGS);
  memory.fill(<usize>aux, 0, PK_DEV_AUX_BYTES);
}

/** QueueReady = 1: validates the ring (E1..E3) and starts both cursors at slot 0, wrap 1. */
export function vqp_dev_enable(q: u32, size: u32, descHi: u32, descLo: u32, drvHi: u32, drvLo: u32, devHi: u32, devLo: u32): u32 {
  const qb = qBlock(q);
  const err = ringSetup(qb, size, u64of(descHi, descLo), u64of(drvHi, drvLo), u64of(devHi, devLo), true);
  if (err != 0) return err;
  store<u16>(qb, 0, Q_NEXT_AVAIL);
  store<u8>(qb, 1, Q_AVAIL_WRAP);
  store<u16>(qb, 0, Q_NEXT_USED);
  store<u8>(qb, 1, Q_USED_WRAP);
  return 0;
}

/** The device status gained DRIVER_OK: from now on the queue may be used. */
export function vqp_dev_driver_ok(q: u32): void {
  const qb = qBlock(q);
  store<u32>(qb, load<u32>(qb, Q_FLAGS) | QF_DRIVER_OK, Q_FLAGS);
}

export function vqp_dev_pop(q: u32, out: u32, outLen: u32, max: u32): i32 { return devPop(q, out, outLen, max); }
export function vqp_dev_push(q: u32, src: u32, n: u32): i32 { return devPush(q, src, n); }
export function vqp_dev_pop_push(q: u32, out: u32, outLen: u32, max: u32): i32 { return devPopPush(q, out, outLen, max); }
export function vqp_dev_need_irq(q: u32): bool { return devNeedIrq(q); }
export function vqp_dev_notify_enable(q: u32): bool { return devNotifyEnable(q); }
export function vqp_dev_notify_disable(q: u32): void { devNotifyDisable(q); }

/** Resets queue `q` as the driver side of a packed ring; `aux` holds Q * 10 bytes. */
export function vqp_drv_config(q: u32, ringDomid: u32, aux: u32, flags: u32): void {
  const qb = qBlock(q);
  memory.fill(qb, 0, QUEUE_STATE_SIZE);
  store<u32>(qb, (flags | QF_PACKED) & ~(QF_READY | QF_BROKEN | QF_DRIVER_OK), Q_FLAGS);
  store<u32>(qb, ringDomid, Q_RING_DOMID);
  store<u32>(qb, aux, Q_AUX);
}

export function vqp_drv_init(q: u32, size: u32, descHi: u32, descLo: u32, drvHi: u32, drvLo: u32, devHi: u32, devLo: u32): u32 {
  return drvInit(q, size, u64of(descHi, descLo), u64of(drvHi, drvLo), u64of(devHi, devLo));
}
/** `indirect` 0: a direct chain; otherwise (tableHi, tableLo) is the address of the indirect
 *  table (used with QF_INDIRECT). */
export function vqp_drv_add(q: u32, segs: u32, nsegs: u32, indirect: u32, tableHi: u32, tableLo: u32): i32 {
  return drvAdd(q, segs, nsegs, indirect != 0, u64of(tableHi, tableLo));
}
export function vqp_drv_kick_prepare(q: u32): bool { return drvKickPrepare(q); }
export function vqp_drv_get_used(q: u32, out: u32, max: u32): i32 { return drvGetUsed(q, out, max); }
export function vqp_drv_enable_cb(q: u32): bool { return drvEnableCb(q); }
export function vqp_drv_disable_cb(q: u32): void { drvDisableCb(q); }
