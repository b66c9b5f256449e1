// The event channel the shared-memory transports (preshared-bounce, fat-virtqueue, pv-p2m)
// kick and interrupt through: the guest offers it (alloc_unbound), the backend binds it, and
// each side's kernel scans its ports on an upcall (UpcallRouter). The backend's handler marks
// every ready queue notified; the guest's records the interrupt for the driver's handler.
// Also the ring placement those transports share: the rings must lie in one shared region of
// guest RAM that the backend mapped at `beBase`.
import * as L from "../wasm/layout.ts";
import { gpaRing, ringAreaBytes, type RingAddrs } from "../virtio/rings.ts";
import { errnoName } from "../xen/errno.ts";
import { UpcallRouter, type XenEnv } from "./xen-env.ts";
import { TransportSetupError, type TransportId } from "./types.ts";
import type { RingPlacement, VirtioBackend } from "./backend.ts";
import type { Machine } from "../wasm/machine.ts";
import type { FrontendPort } from "../virtio/port.ts";

const PAGE = 4096;

export class EvtchnLink {
  readonly readyQueues = new Set<number>();
  guestPort = -1;
  backendPort = -1;
  /** The backend took a kick for ready queue `q`. */
  onKick: (q: number) => void = () => {};
  private readonly env: XenEnv;
  private readonly id: TransportId;
  private readonly guest: number;
  private readonly backendDomid: number;
  private readonly router: UpcallRouter;
  private readonly detaches: (() => void)[] = [];
  private irqPending = false;

  constructor(env: XenEnv, id: TransportId, guest: number, backend: number) {
    this.env = env;
    this.id = id;
    this.guest = guest;
    this.backendDomid = backend;
    this.router = UpcallRouter.for(env.evtchn);
  }

  /** Offer and bind at once (both ends known at set-up); `undo` runs before a failure throws. */
  static connect(env: XenEnv, id: TransportId, guest: number, backend: number, o: { undo: () => void }): EvtchnLink {
    const link = new EvtchnLink(env, id, guest, backend);
    const fail = (msg: string): never => {
      link.detach();
      o.undo();
      throw new TransportSetupError(id, msg);
    };
    const gp = link.offer();
    if (gp < 0) fail(`alloc_unbound returned ${errnoName(gp)}`);
    const bp = link.bind(gp);
    if (bp < 0) fail(`bind_interdomain returned ${errnoName(bp)}`);
    link.settle();
    return link;
  }

  /** The guest allocates its port for the backend and routes it; the port or -errno. */
  offer(): number {
    const port = this.env.evtchn.allocUnbound(this.guest, this.guest, this.backendDomid);
    if (port < 0) return port;
    this.guestPort = port;
    this.detaches.push(this.router.attach(this.guest, [port], (ports) => {
      if (!ports.includes(port)) return ports;
      this.irqPending = true;
      return ports.filter((p) => p !== port);
    }));
    return port;
  }

  /** The backend binds the guest's `remotePort` and routes its end; the port or -errno. */
  bind(remotePort: number): number {
    const port = this.env.evtchn.bindInterdomain(this.backendDomid, this.guest, remotePort);
    if (port < 0) return port;
    this.backendPort = port;
    this.detaches.push(this.router.attach(this.backendDomid, [port], (ports) => {
      if (!ports.includes(port)) return ports;
      for (const q of [...this.readyQueues].sort((a, b) => a - b)) this.onKick(q);
      return ports.filter((p) => p !== port);
    }));
    return port;
  }

  /** Takes the pending flags bind_interdomain leaves; no interrupt is owed for them. */
  settle(): void {
    this.router.dispatch();
    this.irqPending = false;
  }

  /** The guest's kick: a send on its port, and the backend's kernel takes the event. */
  kick(): void {
    const rc = this.env.evtchn.send(this.guest, this.guestPort);
    if (rc < 0) throw new Error(`${this.id}: evtchn send by guest d${this.guest} returned ${errnoName(rc)}`);
    this.router.dispatch();
  }

  /** The backend's interrupt: a send on its port, and the guest's kernel takes the upcall. */
  interrupt(): void {
    const rc = this.env.evtchn.send(this.backendDomid, this.backendPort);
    if (rc < 0) throw new TransportSetupError(this.id, `evtchn send by the backend returned ${errnoName(rc)}`);
    this.router.dispatch();
  }

  takeInterrupt(): boolean {
    const was = this.irqPending;
    this.irqPending = false;
    return was;
  }

  /** Stops routing both ends (before their ports close). */
  detach(): void {
    for (const d of this.detaches.splice(0)) d();
  }

  /** Closes the backend's end, then the guest's. */
  close(): void {
    if (this.backendPort >= 0) this.env.evtchn.close(this.backendDomid, this.backendPort);
    if (this.guestPort >= 0) this.env.evtchn.close(this.guest, this.guestPort);
  }
}

/** The frontend port of a transport whose register block is untrapped shared memory and whose
 *  kicks and interrupts travel on `link`; `buffers` says what a descriptor address is. */
export function linkFrontend(link: EvtchnLink, backend: () => VirtioBackend, machine: Machine, kickCounter: number,
  buffers: Pick<FrontendPort, "expose" | "unexpose">): FrontendPort {
  return {
    isrRegisters: false,
    readReg: (off, size) => backend().regs.read(off, size),
    writeReg: (off, size, value) => backend().regs.write(off, size, value),
    ...buffers,
    notify: () => {
      machine.bump(kickCounter);
      link.kick();
    },
    takeInterrupt: () => link.takeInterrupt(),
  };
}

/** A region of guest RAM holding the rings, mapped by the backend at gfn `beBase`. */
export interface RingRegion {
  gpa: number;
  /** End (gpa) of the part rings may use. */
  ringEnd: number;
  beBase: number;
}

/** placeRing for a transport whose rings live in `region`: E1 for a bad size, E3 for a ring
 *  anywhere else (out of the backend's reach), else the ring in the backend's space. */
export function placeRingInRegion(link: EvtchnLink, backend: number, queueMax: number, region: RingRegion,
  q: number, ring: RingAddrs, packed: boolean): RingPlacement | number {
  if (ring.size < 1 || ring.size > queueMax) return L.VQ_E1_BAD_SIZE;
  const sizes = ringAreaBytes(ring.size, packed);
  const r = gpaRing(ring);
  const areas = [r.desc, r.driver, r.device];
  if (areas.some((a, i) => a < region.gpa || a + sizes[i]! > region.ringEnd)) return L.VQ_E3_RING_OUTSIDE_RAM;
  const tr = (a: number) => a - region.gpa + region.beBase * PAGE;
  link.readyQueues.add(q);
  return { ringDomid: backend, ring: { size: ring.size, desc: tr(r.desc), driver: tr(r.driver), device: tr(r.device) } };
}
