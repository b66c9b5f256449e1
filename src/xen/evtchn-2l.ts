// The 2-level event-channel bitmaps in a domain's shared_info (xen/common/event_2l.c): Xen's
// side of set-pending, unmask and the upcall. Every read-modify-write goes through hv.atomics,
// because the guest can write the same words at the same time (XSA-295); guest_test_bit is a
// plain load. Raised upcalls are queued, never run inline, so a scheduler decides when the
// guest handles them.
import type { Hypervisor } from "./hypervisor.ts";
import { loadFrame32 } from "../wasm/evtchn.ts";
import * as L from "../wasm/layout.ts";
import { BITS_PER_EVTCHN_WORD, type DomainEvtchn, type Upcall } from "./evtchn-state.ts";

/** Bit `port` of a little-endian xen_ulong_t array is bit port%32 of u32 word port/32. */
function bitPos(base: number, port: number): [number, number] {
  return [base + (port >>> 5) * 4, port & 31];
}

export class Evtchn2l {
  private readonly hv: Hypervisor;
  private upcalls: Upcall[] = [];
  /** Called when an upcall is raised (after it is queued); a scheduler hooks in here. */
  onUpcall: ((domid: number, vcpu: number) => void) | undefined;

  constructor(hv: Hypervisor) {
    this.hv = hv;
  }

  /** Drains the queue of upcalls raised since the last call, oldest first. */
  takeUpcalls(): Upcall[] {
    const u = this.upcalls;
    this.upcalls = [];
    return u;
  }

  /** Drops the queued upcalls of a domain that goes away. */
  forget(domid: number): void {
    this.upcalls = this.upcalls.filter((u) => u.domid !== domid);
  }

  /** guest_test_bit(): a plain load. */
  testBit(ds: DomainEvtchn, base: number, port: number): boolean {
    const [off, bit] = bitPos(base, port);
    return ((loadFrame32(this.hv.machine, ds.siMfn, off) >>> bit) & 1) === 1;
  }

  isPending(ds: DomainEvtchn, port: number): boolean {
    return this.testBit(ds, L.SHARED_INFO_EVTCHN_PENDING, port);
  }

  isMasked(ds: DomainEvtchn, port: number): boolean {
    return this.testBit(ds, L.SHARED_INFO_EVTCHN_MASK, port);
  }

  /** evtchn_2l_set_pending() then vcpu_mark_events_pending(), in Xen's strict order. */
  setPending(ds: DomainEvtchn, vcpu: number, port: number): void {
    this.bump(L.CNT_EVTCHN_SET_PENDING);
    const [poff, bit] = bitPos(L.SHARED_INFO_EVTCHN_PENDING, port);
    if (this.hv.atomics.testAndSet(ds.d.domid, ds.siMfn, poff, bit)) {
      this.bump(L.CNT_EVTCHN_PENDING_MERGED);
      return;
    }
    // vCPUs past the legacy array have no vcpu_info in shared_info (Xen points them at a dummy
    // until the guest registers one): the port stays pending, nobody is told.
    if (vcpu >= L.XEN_LEGACY_MAX_VCPUS) return;
    if (this.isMasked(ds, port)) {
      this.bump(L.CNT_EVTCHN_MASKED);
      return;
    }
    if (this.testAndSetSel(ds, vcpu, port)) {
      this.bump(L.CNT_EVTCHN_SEL_MERGED);
      return;
    }
    this.markEventsPending(ds, vcpu);
  }

  /** evtchn_2l_unmask(): clear the mask; if it was masked and is pending, set the selector
   *  bit and, if that was newly set, raise the upcall. */
  unmask(ds: DomainEvtchn, vcpu: number, port: number): void {
    const [moff, bit] = bitPos(L.SHARED_INFO_EVTCHN_MASK, port);
    if (!this.hv.atomics.testAndClear(ds.d.domid, ds.siMfn, moff, bit)) return;
    if (!this.isPending(ds, port)) return;
    if (vcpu >= L.XEN_LEGACY_MAX_VCPUS) return;
    if (this.testAndSetSel(ds, vcpu, port)) return;
    this.bump(L.CNT_EVTCHN_UNMASK_RAISED);
    this.markEventsPending(ds, vcpu);
  }

  /** evtchn_2l_clear_pending(), also what a guest's handler does to one port it takes: a
   *  test-and-clear of the pending bit. Returns whether it was set. */
  clearPending(ds: DomainEvtchn, port: number): boolean {
    const [poff, bit] = bitPos(L.SHARED_INFO_EVTCHN_PENDING, port);
    return this.hv.atomics.testAndClear(ds.d.domid, ds.siMfn, poff, bit);
  }

  private markEventsPending(ds: DomainEvtchn, vcpu: number): void {
    const off = L.SHARED_INFO_VCPU_INFO + vcpu * L.VCPU_INFO_SIZE + L.VCPU_INFO_EVTCHN_UPCALL_PENDING;
    if (this.hv.atomics.testAndSet(ds.d.domid, ds.siMfn, off, 0)) {
      this.bump(L.CNT_EVTCHN_UPCALL_MERGED);
      return;
    }
    this.bump(L.CNT_EVTCHN_UPCALLS);
    this.upcalls.push({ domid: ds.d.domid, vcpu });
    this.onUpcall?.(ds.d.domid, vcpu);
  }

  private testAndSetSel(ds: DomainEvtchn, vcpu: number, port: number): boolean {
    const word = Math.floor(port / BITS_PER_EVTCHN_WORD);
    const off = L.SHARED_INFO_VCPU_INFO + vcpu * L.VCPU_INFO_SIZE + L.VCPU_INFO_EVTCHN_PENDING_SEL + (word >>> 5) * 4;
    return this.hv.atomics.testAndSet(ds.d.domid, ds.siMfn, off, word & 31);
  }

  private bump(id: number): void {
    this.hv.machine.bump(id);
  }
}
