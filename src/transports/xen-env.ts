// The Xen side a transport runs on: the hypervisor with the subsystems the transports use, a
// router for the event-channel upcall queue (a run's scheduler decides when a domain handles
// its upcall; here the transport that owns the domain's handler does, right after the access
// that raised it), and an allocator of gfns above a backend's RAM for the pages it maps.
import { Hypervisor, type HypervisorOptions } from "../xen/hypervisor.ts";
import { EventChannels, type Upcall } from "../xen/evtchn.ts";
import { IoreqServers } from "../xen/ioreq.ts";
import { ForeignMapping } from "../xen/foreign.ts";
import { GuestEvtchn } from "../xen/evtchn-guest.ts";

export interface XenEnv {
  hv: Hypervisor;
  evtchn: EventChannels;
  ioreq: IoreqServers;
  foreign: ForeignMapping;
}

/** A hypervisor with event channels, IOREQ servers and foreign mapping registered. */
export function makeXenEnv(opts: HypervisorOptions & { nrSpis?: number } = {}): XenEnv {
  const hv = new Hypervisor(opts);
  const evtchn = new EventChannels(hv);
  const ioreq = new IoreqServers(hv, evtchn, { nrSpis: opts.nrSpis });
  const foreign = new ForeignMapping(hv);
  return { hv, evtchn, ioreq, foreign };
}

/** Hands queued upcalls to the handlers attached to a domain. A backend domain's kernel scans
 *  its event channels once per upcall (one scan, one GuestEvtchn that knows every attached
 *  port) and gives each handler the ports left by the ones before it, as one kernel serves
 *  several device-model processes. Upcalls of domains nobody attached to are kept in
 *  `unrouted` for whoever schedules them. One router per EventChannels. */
export class UpcallRouter {
  private static readonly routers = new WeakMap<EventChannels, UpcallRouter>();
  readonly evtchn: EventChannels;
  private readonly doms = new Map<number, { scanner: GuestEvtchn; handlers: PortHandler[] }>();
  readonly unrouted: Upcall[] = [];
  /** Ports no handler took. */
  readonly unclaimed: { domid: number; port: number }[] = [];

  private constructor(evtchn: EventChannels) {
    this.evtchn = evtchn;
  }

  static for(evtchn: EventChannels): UpcallRouter {
    let r = UpcallRouter.routers.get(evtchn);
    if (!r) UpcallRouter.routers.set(evtchn, (r = new UpcallRouter(evtchn)));
    return r;
  }

  /** Routes `ports` of `domid` (handled on vCPU 0) to `handler`, which returns the ports it
   *  did not take. Returns the detach function. */
  attach(domid: number, ports: number[], handler: PortHandler): () => void {
    let d = this.doms.get(domid);
    if (!d) this.doms.set(domid, (d = { scanner: new GuestEvtchn(this.evtchn, domid, 0), handlers: [] }));
    for (const p of ports) d.scanner.setPortVcpu(p, 0);
    d.handlers.push(handler);
    const dom = d;
    return () => {
      for (const p of ports) dom.scanner.setPortVcpu(p, undefined);
      dom.handlers.splice(dom.handlers.indexOf(handler), 1);
      if (dom.handlers.length === 0) this.doms.delete(domid);
    };
  }

  /** Runs handlers until no upcall is queued; returns how many upcalls were handled. */
  dispatch(): number {
    let n = 0;
    for (let ups = this.evtchn.takeUpcalls(); ups.length > 0; ups = this.evtchn.takeUpcalls()) {
      for (const u of ups) {
        const d = this.doms.get(u.domid);
        if (!d || u.vcpu !== 0) {
          this.unrouted.push(u);
          continue;
        }
        n++;
        let ports = d.scanner.handleUpcall(0);
        for (const h of d.handlers) ports = h(ports);
        for (const port of ports) this.unclaimed.push({ domid: u.domid, port });
      }
    }
    return n;
  }
}

export type PortHandler = (ports: number[]) => number[];

const nextGfn = new WeakMap<Hypervisor, Map<number, number>>();

/** `n` gfns above `domid`'s RAM that no other transport of this hypervisor has taken (the
 *  space where foreign, grant and resource mappings go). Starts 256 pages above RAM. */
export function takeBackendGfns(hv: Hypervisor, domid: number, n: number): number {
  const d = hv.domain(domid);
  if (!d) throw new Error(`no domain ${domid}`);
  let per = nextGfn.get(hv);
  if (!per) nextGfn.set(hv, (per = new Map()));
  const first = per.get(domid) ?? d.ramPages + 256;
  const maxGfn = hv.machine.domainInfo(domid).maxGfn;
  if (first + n > maxGfn - 1) throw new Error(`domain ${domid}: no room for ${n} more mapping gfns below its p2m limit ${maxGfn}`);
  per.set(domid, first + n);
  return first;
}
