// A guest MMIO/PIO access that trapped to Xen, through an IOREQ server (xen/common/ioreq.c):
// select the server, write the request into the vCPU's slot, notify the emulator through the
// Xen-consumed channel and block the vCPU; when the emulator notifies back, wait_for_io()
// checks the slot's state machine and completes the access (or crashes the guest on a
// backwards transition, as Xen does).
import { XenConfigError } from "./hypervisor.ts";
import type { IoDir, MmioDone, MmioResult } from "./mmio.ts";
import * as L from "../wasm/layout.ts";
import {
  MAX_NR_IOREQ_SERVERS, ioreqState, ones, withIoreqState, type IoreqCore, type Server, type TargetState,
} from "./ioreq-state.ts";

const U64_MAX = (1n << 64n) - 1n;

export function ioAccess(core: IoreqCore, space: "mmio" | "pio", domid: number, vcpu: number, addr: number, size: number, dir: IoDir, data: bigint | number, done?: MmioDone): MmioResult {
  const hv = core.hv;
  const t = core.targets.get(domid);
  const d = hv.domain(domid);
  if (!t || !d || d.state !== "running") throw new XenConfigError(`${space} access: domain ${domid} is not running`);
  if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= d.vcpus) throw new XenConfigError(`${space} access: domain ${domid} has no vCPU ${vcpu}`);
  if (t.blocked[vcpu]) throw new XenConfigError(`${space} access: vCPU ${vcpu} of domain ${domid} is blocked on an earlier access`);
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new XenConfigError(`${space} access: size must be 1, 2, 4 or 8, got ${size}`);
  if (!Number.isSafeInteger(addr) || addr < 0) throw new XenConfigError(`${space} access: bad address ${addr}`);
  if (dir !== "read" && dir !== "write") throw new XenConfigError(`${space} access: dir must be "read" or "write"`);
  if (space === "pio" && hv.arch !== "x86-64") throw new XenConfigError(`port I/O does not exist on ${hv.arch}`);
  const value = BigInt.asUintN(size * 8, BigInt(data));
  core.bump(L.CNT_IOREQ_MMIO_TRAPS);

  const type = space === "pio" ? L.XEN_DMOP_IO_RANGE_PORT : L.XEN_DMOP_IO_RANGE_MEMORY;
  const first = BigInt(addr);
  const last = first + BigInt(size) - 1n;
  let s: Server | undefined;
  for (let id = MAX_NR_IOREQ_SERVERS - 1; id >= 0 && !s; id--) {
    const c = t.servers[id];
    if (c && c.enabled && c.ranges[type]!.containsRange(first, last)) s = c;
  }
  if (!s) {
    core.bump(L.CNT_IOREQ_UNCLAIMED);
    if (hv.arch === "x86-64") return { kind: "done", value: dir === "read" ? ones(size) : 0n };
    core.bump(L.CNT_IOREQ_FAULTS); // Arm: the data abort is injected into the guest
    return { kind: "fault" };
  }
  // ioreq_send(): the slot must be free and carry the right port, else Xen will not use it
  // and the access is unhandled (Arm: data abort; x86: #GP).
  const sv = s.vcpus[vcpu]!;
  const slot = vcpu * L.IOREQ_SIZE;
  const m = hv.machine;
  const cur = m.readMfn(s.ioreqMfn, slot, L.IOREQ_SIZE);
  const cdv = new DataView(cur.buffer);
  if (ioreqState(cur[L.IOREQ_STATE_BYTE]!) !== L.STATE_IOREQ_NONE || cdv.getUint32(L.IOREQ_VP_EPORT, true) !== sv.port) {
    core.bump(L.CNT_IOREQ_FAULTS);
    return { kind: "fault" };
  }
  const req = new DataView(new ArrayBuffer(L.IOREQ_SIZE));
  req.setBigUint64(L.IOREQ_ADDR, first, true);
  req.setBigUint64(L.IOREQ_DATA, dir === "write" ? value : 0n, true);
  req.setUint32(L.IOREQ_COUNT, 1, true);
  req.setUint32(L.IOREQ_SIZE_OFF, size, true);
  req.setUint32(L.IOREQ_VP_EPORT, sv.port, true);
  const dirBit = dir === "read" ? L.IOREQ_READ : L.IOREQ_WRITE;
  const dirByte = dirBit << L.IOREQ_DIR_SHIFT;
  req.setUint8(L.IOREQ_STATE_BYTE, withIoreqState(dirByte, L.STATE_IOREQ_NONE));
  req.setUint8(L.IOREQ_TYPE, space === "pio" ? L.IOREQ_TYPE_PIO : L.IOREQ_TYPE_COPY);
  m.writeMfn(s.ioreqMfn, slot, new Uint8Array(req.buffer));
  // The request is complete before the state says READY (the emulator may look any time).
  m.writeMfn(s.ioreqMfn, slot + L.IOREQ_STATE_BYTE, Uint8Array.of(withIoreqState(dirByte, L.STATE_IOREQ_READY)));
  Object.assign(sv, { pending: true, prevState: L.STATE_IOREQ_READY, dir, size, data: value, done });
  t.blocked[vcpu] = 1;
  core.bump(L.CNT_IOREQ_SENT);
  core.bump(dir === "read" ? L.CNT_IOREQ_READS : L.CNT_IOREQ_WRITES);
  core.bump(L.CNT_IOREQ_VCPU_BLOCKED);
  core.evtchn.notifyXen(domid, sv.port);
  return { kind: "pending", server: s.id };
}

/** The Xen-consumed channel of (server `id`, vCPU) was notified: the waiting vCPU looks at its
 *  slot again (wait_for_io). */
export function wakeVcpu(core: IoreqCore, t: TargetState, id: number, vcpu: number): void {
  const s = t.servers[id];
  const sv = s?.vcpus[vcpu];
  if (!s || !sv || !sv.pending) return;
  const m = core.hv.machine;
  const slot = vcpu * L.IOREQ_SIZE;
  let state = ioreqState(m.readMfn(s.ioreqMfn, slot + L.IOREQ_STATE_BYTE, 1)[0]!);
  let data = U64_MAX; // what a vCPU gets when the emulator resets the slot to NONE
  while (state !== L.STATE_IOREQ_NONE) {
    if (state < sv.prevState || state > L.STATE_IORESP_READY) {
      // Xen: "Weird HVM ioreq state transition" -> domain_crash().
      sv.pending = false;
      t.blocked[vcpu] = 0;
      core.bump(L.CNT_IOREQ_BAD_STATE);
      core.hv.crashDomain(t.d.domid, `ioreq: state ${sv.prevState} -> ${state} on vCPU ${vcpu}`);
      return;
    }
    sv.prevState = state;
    if (state !== L.STATE_IORESP_READY) return; // READY/INPROCESS: keep waiting
    const b = m.readMfn(s.ioreqMfn, slot, L.IOREQ_SIZE);
    data = new DataView(b.buffer).getBigUint64(L.IOREQ_DATA, true);
    m.writeMfn(s.ioreqMfn, slot + L.IOREQ_STATE_BYTE, Uint8Array.of(withIoreqState(b[L.IOREQ_STATE_BYTE]!, L.STATE_IOREQ_NONE)));
    state = L.STATE_IOREQ_NONE;
  }
  core.bump(L.CNT_IOREQ_COMPLETIONS);
  core.finish(t, vcpu, sv, sv.dir === "read" ? data & ones(sv.size) : 0n);
}
