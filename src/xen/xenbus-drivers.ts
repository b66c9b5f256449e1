// The two ends of a PV device on xenbus, following the canonical startup and teardown
// (reference section 8.2, io/blkif.h; Linux xen-blkfront/xen-blkback):
//
//   toolstack: both directories at Initialising
//   backend:   publishes its features, InitWait
//   frontend:  reads them, publishes ring-ref(s) + event-channel, Initialised
//   backend:   maps the ring, binds the channel, publishes device properties, Connected
//   frontend:  reads the properties, Connected
//   teardown:  either side Closing -> the other follows -> both Closed
//
// Ring mapping and event-channel binding are the transport's business: the backend calls
// the hooks it was given (grant maps and evtchn binds belong to other subsystems).
import type { XsClient } from "./xenstore-client.ts";
import {
  XenbusEnd, XenbusState, backendPath, frontendPath,
  type XenbusDevice, type XenbusResult, type XenbusSide, type XenbusStateValue,
} from "./xenbus.ts";

export interface FrontendConfig {
  /** Grant refs of the shared ring pages: one -> `ring-ref`; 2^n -> `ring-page-order` and
   *  `ring-ref0`..`ring-ref<2^n-1>`. */
  ringRefs: number[];
  eventChannel: number;
  /** More nodes published with the ring (`protocol`, `feature-*`...). */
  extra?: Record<string, string>;
  /** Publish the ring at probe instead of waiting for the backend's InitWait (for a
   *  backend that skips InitWait). */
  publishAtProbe?: boolean;
  /** Go Connected right after publishing, skipping Initialised (as netfront does). */
  skipInitialised?: boolean;
}

/** What a frontend published, as the backend read it. */
export interface FrontendRing {
  ringRefs: number[];
  ringPageOrder: number;
  eventChannel: number;
}

export interface BackendConfig {
  /** Published at probe, before InitWait (`feature-*`, `max-ring-page-order`...). */
  features?: Record<string, string>;
  /** Published when connecting (`sectors`, `info`, `sector-size`...). */
  properties?: Record<string, string>;
  /** Maps the frontend's ring and binds its channel; an error string refuses (device fatal). */
  connectRing?: (ring: FrontendRing) => string | undefined;
  disconnectRing?: (ring: FrontendRing) => void;
  /** Go Connected straight from Initialising (defaults: no features to negotiate). */
  skipInitWait?: boolean;
}

/** Nodes every backend directory has that are not device information. */
const BACKEND_BOOKKEEPING = new Set(["frontend", "frontend-id", "online", "state", "hotplug-status"]);

const u32 = (v: string | undefined): number | undefined =>
  v !== undefined && /^\d{1,10}$/.test(v) && Number(v) <= 0xffffffff ? Number(v) : undefined;

export class XenbusFrontend extends XenbusEnd {
  readonly side: XenbusSide = "frontend";
  readonly cfg: FrontendConfig;
  /** Backend nodes read before publishing the ring. */
  backendFeatures: Record<string, string> = {};
  /** Backend nodes read once the backend is Connected. */
  backendProperties: Record<string, string> = {};
  /** The backend's properties have been read (the device is usable). */
  connected = false;

  constructor(client: XsClient, dev: XenbusDevice, cfg: FrontendConfig) {
    const n = cfg.ringRefs.length;
    if (n === 0 || (n & (n - 1)) !== 0) throw new Error(`xenbus frontend ${dev.type}/${dev.devid}: ringRefs must be a power of two in number, got ${n}`);
    if (!cfg.ringRefs.every((r) => u32(String(r)) !== undefined)) throw new Error(`xenbus frontend ${dev.type}/${dev.devid}: ringRefs must be u32 grant refs`);
    if (u32(String(cfg.eventChannel)) === undefined) throw new Error(`xenbus frontend ${dev.type}/${dev.devid}: eventChannel must be a u32 port`);
    super(client, dev, frontendPath(dev));
    this.cfg = cfg;
  }

  protected get otherendKey(): string {
    return "backend";
  }

  override probe(): XenbusResult {
    const r = super.probe();
    if (!r.ok || !this.cfg.publishAtProbe) return r;
    return this.talkToBackend();
  }

  protected otherendChanged(peer: XenbusStateValue): void {
    switch (peer) {
      case XenbusState.InitWait:
        if (this.state === XenbusState.Initialising) this.talkToBackend();
        break;
      case XenbusState.Connected:
        // A backend that went Connected without our ring: publish first, as blkfront does.
        if (this.state === XenbusState.Initialising && !this.talkToBackend().ok) break;
        if (this.state === XenbusState.Initialised || (this.state === XenbusState.Connected && !this.connected)) {
          this.backendProperties = this.readBackend();
          this.connected = true;
          this.switchState(XenbusState.Connected);
        }
        break;
      case XenbusState.Closing:
      case XenbusState.Closed:
        if (this.state !== XenbusState.Closed) this.switchState(XenbusState.Closed);
        break;
      case XenbusState.Unknown:
        // The backend's directory (or domain) is gone: nothing to talk to any more.
        if (this.state !== XenbusState.Initialising && this.state !== XenbusState.Closed) this.switchState(XenbusState.Closed);
        break;
      default:
        break;
    }
  }

  private talkToBackend(): XenbusResult {
    this.backendFeatures = this.readBackend();
    const refs = this.cfg.ringRefs;
    const nodes: Record<string, string> = {};
    if (refs.length === 1) {
      nodes["ring-ref"] = String(refs[0]);
    } else {
      nodes["ring-page-order"] = String(Math.log2(refs.length));
      refs.forEach((r, i) => (nodes[`ring-ref${i}`] = String(r)));
    }
    nodes["event-channel"] = String(this.cfg.eventChannel);
    Object.assign(nodes, this.cfg.extra);
    const r = this.publish(nodes);
    if (!r.ok) return r;
    return this.switchState(this.cfg.skipInitialised ? XenbusState.Connected : XenbusState.Initialised);
  }

  private readBackend(): Record<string, string> {
    return this.readOtherend(BACKEND_BOOKKEEPING);
  }

  /** Frontend-initiated teardown (the guest unplugs the device). */
  close(): XenbusResult {
    return this.switchState(XenbusState.Closing);
  }
}

export class XenbusBackend extends XenbusEnd {
  readonly side: XenbusSide = "backend";
  readonly cfg: BackendConfig;
  /** The frontend's ring while connected. */
  ring: FrontendRing | undefined;
  /** The device is finished (frontend gone, or closed while offline): the toolstack may
   *  remove its directories. */
  unregistered = false;

  constructor(client: XsClient, dev: XenbusDevice, cfg: BackendConfig = {}) {
    super(client, dev, backendPath(dev));
    this.cfg = cfg;
  }

  protected get otherendKey(): string {
    return "frontend";
  }

  override probe(): XenbusResult {
    const r = super.probe();
    if (!r.ok) return r;
    if (this.cfg.features && Object.keys(this.cfg.features).length > 0) {
      const p = this.publish(this.cfg.features);
      if (!p.ok) return p;
    }
    return this.cfg.skipInitWait ? r : this.switchState(XenbusState.InitWait);
  }

  protected otherendChanged(peer: XenbusStateValue): void {
    switch (peer) {
      case XenbusState.Initialising:
        if (this.state === XenbusState.Closed) this.switchState(XenbusState.InitWait); // reconnect
        break;
      case XenbusState.Initialised:
      case XenbusState.Connected:
        if (this.state !== XenbusState.Connected && this.state !== XenbusState.Closing && this.state !== XenbusState.Closed) this.connect();
        break;
      case XenbusState.Closing:
        this.disconnect();
        this.switchState(XenbusState.Closing);
        break;
      case XenbusState.Closed:
        this.disconnect();
        this.switchState(XenbusState.Closed);
        if (!this.online()) this.unregistered = true;
        break;
      case XenbusState.Unknown:
        // The frontend's directory (or domain) is gone: unregister, which closes us.
        this.disconnect();
        this.switchState(XenbusState.Closed);
        this.unregistered = true;
        break;
      default:
        break;
    }
  }

  private connect(): void {
    const fe = this.otherend;
    const read = (k: string) => {
      const r = this.client.read(`${fe}/${k}`);
      return r.ok ? r.value : undefined;
    };
    const orderNode = read("ring-page-order");
    const order = orderNode === undefined ? 0 : u32(orderNode);
    const maxOrder = u32(this.cfg.features?.["max-ring-page-order"]) ?? 0;
    if (order === undefined || order > maxOrder) return this.fatal(`ring-page-order "${orderNode}" not supported (max ${maxOrder})`);
    const refs: number[] = [];
    const keys = order === 0 ? ["ring-ref"] : Array.from({ length: 2 ** order }, (_, i) => `ring-ref${i}`);
    for (const k of keys) {
      const v = read(k);
      const ref = u32(v);
      if (ref === undefined) return this.fatal(`reading ${k}: ${v === undefined ? "missing" : `"${v}" is not a grant ref`}`);
      refs.push(ref);
    }
    const ev = read("event-channel");
    const port = u32(ev);
    if (port === undefined) return this.fatal(`reading event-channel: ${ev === undefined ? "missing" : `"${ev}" is not a port`}`);
    const ring: FrontendRing = { ringRefs: refs, ringPageOrder: order, eventChannel: port };
    const err = this.cfg.connectRing?.(ring);
    if (err !== undefined) return this.fatal(`mapping ring: ${err}`);
    this.ring = ring;
    if (this.cfg.properties && Object.keys(this.cfg.properties).length > 0 && !this.publish(this.cfg.properties).ok) return;
    this.switchState(XenbusState.Connected);
  }

  private disconnect(): void {
    if (!this.ring) return;
    this.cfg.disconnectRing?.(this.ring);
    this.ring = undefined;
  }

  private online(): boolean {
    const r = this.client.read(`${this.nodename}/online`);
    return r.ok && r.value === "1";
  }
}
