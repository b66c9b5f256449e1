// The Xen side a transport runs on: the hypervisor with the subsystems the transports use, a
// router for the event-channel upcall queue (a run's scheduler decides when a domain handles
// its upcall; here the transport that owns the domain's handler does, right after the access
// that raised it), and an allocator of gfns above a backend's RAM for the pages it maps.
import { Hypervisor, type HypervisorOptions } from "../xen/hypervisor.ts";
import { EventChannels, type Upcall } from "../xen/evtchn.ts";
import { IoreqServers } from "../xen/ioreq.ts";
import { ForeignMapping } from "../xen/foreign.ts";

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

/** Hands queued upcalls to per-domain handlers; upcalls of other domains are kept in
 *  `unrouted` for whoever schedules them. One router per EventChannels. */
export class UpcallRouter {
  private static readonly routers = new WeakMap<EventChannels, UpcallRouter>();
  readonly evtchn: EventChannels;
  private readonly handlers = new Map<number, () => void>();
  readonly unrouted: Upcall[] = [];

  private constructor(evtchn: EventChannels) {
    this.evtchn = evtchn;
  }

  static for(evtchn: EventChannels): UpcallRouter {
    let r = UpcallRouter.routers.get(evtchn);
    if (!r) UpcallRouter.routers.set(evtchn, (r = new UpcallRouter(evtchn)));
    return r;
  }

  on(domid: number, handler: () => void): void {
    if (this.handlers.has(domid)) throw new Error(`upcalls of domain ${domid} already have a handler`);
    this.handlers.set(domid, handler);
  }

  off(domid: number): void {
    this.handlers.delete(domid);
  }

  /** Runs handlers until no upcall is queued; returns how many upcalls were handled. */
  dispatch(): number {
    let n = 0;
    for (let ups = this.evtchn.takeUpcalls(); ups.length > 0; ups = this.evtchn.takeUpcalls()) {
      for (const u of ups) {
        const h = this.handlers.get(u.domid);
        if (h) {
          n++;
          h();
        } else this.unrouted.push(u);
      }
    }
    return n;
  }
}

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
