// Event-channel state Xen keeps per domain (struct evtchn and the port table), with the
// model-only sizes of that table. The guest-visible ABI is in layout.ts.
import type { Domain } from "./domain.ts";
import * as L from "../wasm/layout.ts";

/** Xen grows a domain's port space in buckets (PAGE_SIZE / sizeof(struct evtchn) = 64). */
export const EVTCHNS_PER_BUCKET = 64;
/** Bits in one pending/mask word of the 2-level ABI (a xen_ulong_t). */
export const BITS_PER_EVTCHN_WORD = L.ULONG_SIZE * 8;

// Channel states (struct evtchn.state).
export const ECS_FREE = 0;
export const ECS_RESERVED = 1;
export const ECS_UNBOUND = 2;
export const ECS_INTERDOMAIN = 3;
export const ECS_VIRQ = 5;
export const ECS_IPI = 6;

/** A Xen-side consumer of a channel (xen_event_channel_notification_t): called when the
 *  remote end sends, instead of marking the port pending for the guest. */
export type XenConsumer = (vcpu: number, port: number) => void;

export interface Channel {
  state: number;
  notifyVcpu: number;
  /** Unbound: the domain allowed to bind. Interdomain: the peer. */
  remoteDomid: number;
  remotePort: number;
  virq: number;
  xen: XenConsumer | undefined;
}

/** One domain's event-channel state: its shared_info frame and its port table. */
export interface DomainEvtchn {
  readonly d: Domain;
  readonly siMfn: number;
  readonly siGfn: number;
  readonly maxPort: number;
  /** Valid ports (port_is_valid): grown one bucket at a time. */
  readonly chans: Channel[];
  /** virq_to_evtchn per vCPU (0 = not bound; port 0 is never a VIRQ port). */
  readonly virqToPort: Int32Array[];
}

export interface EvtchnStatus {
  status: number; // EVTCHNSTAT_*
  vcpu: number;
  /** Unbound: the allowed remote domain; interdomain: the peer. */
  dom?: number;
  port?: number;
  virq?: number;
}

export interface Upcall {
  domid: number;
  vcpu: number;
}

export function newChannel(state = ECS_FREE): Channel {
  return { state, notifyVcpu: 0, remoteDomid: 0, remotePort: 0, virq: 0, xen: undefined };
}

/** A new bucket of free channels (port 0 of the first one is reserved by the caller). */
export function newBucket(): Channel[] {
  return Array.from({ length: EVTCHNS_PER_BUCKET }, () => newChannel());
}

/** virq_is_global(): per-vCPU VIRQs are TIMER, DEBUG, XENOPROF and XENPMU; the rest,
 *  architecture VIRQs included, are global and bind on vCPU0. */
export function virqIsGlobal(virq: number): boolean {
  return virq !== L.VIRQ_TIMER && virq !== L.VIRQ_DEBUG && virq !== L.VIRQ_XENOPROF && virq !== L.VIRQ_XENPMU;
}

/** port_is_valid(). */
export function portValid(ds: DomainEvtchn, port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port < ds.chans.length;
}

/** What EVTCHNOP_status reports for a channel. */
export function describe(c: Channel): EvtchnStatus {
  switch (c.state) {
    case ECS_UNBOUND:
      return { status: L.EVTCHNSTAT_UNBOUND, vcpu: c.notifyVcpu, dom: c.remoteDomid };
    case ECS_INTERDOMAIN:
      return { status: L.EVTCHNSTAT_INTERDOMAIN, vcpu: c.notifyVcpu, dom: c.remoteDomid, port: c.remotePort };
    case ECS_VIRQ:
      return { status: L.EVTCHNSTAT_VIRQ, vcpu: c.notifyVcpu, virq: c.virq };
    case ECS_IPI:
      return { status: L.EVTCHNSTAT_IPI, vcpu: c.notifyVcpu };
    default:
      return { status: L.EVTCHNSTAT_CLOSED, vcpu: c.notifyVcpu };
  }
}
