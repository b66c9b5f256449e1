// XenbusState and the pieces of the PV device handshake that sit on xenstore: where the
// toolstack puts a device's two directories, who may read what, the legal state changes,
// and the base of the two driver ends (xenbus-drivers.ts). Each end writes only its own
// `state` node and watches the other end's.
import type { XsClient } from "./xenstore-client.ts";
import { all } from "./xenstore.ts";
import { domainPath } from "./xenstore-path.ts";
import { xsOk, type XsResult } from "./xenstore-wire.ts";
import * as L from "../wasm/layout.ts";

/** io/xenbus.h's enum xenbus_state, by the names the drivers use. */
export const XenbusState = {
  Unknown: L.XENBUS_STATE_UNKNOWN,
  Initialising: L.XENBUS_STATE_INITIALISING,
  InitWait: L.XENBUS_STATE_INIT_WAIT,
  Initialised: L.XENBUS_STATE_INITIALISED,
  Connected: L.XENBUS_STATE_CONNECTED,
  Closing: L.XENBUS_STATE_CLOSING,
  Closed: L.XENBUS_STATE_CLOSED,
  Reconfiguring: L.XENBUS_STATE_RECONFIGURING,
  Reconfigured: L.XENBUS_STATE_RECONFIGURED,
} as const;
export type XenbusStateValue = (typeof XenbusState)[keyof typeof XenbusState];

export function xenbusStateName(s: number): string {
  return Object.entries(XenbusState).find(([, v]) => v === s)?.[0] ?? `invalid(${s})`;
}

export interface XenbusDevice {
  /** Device class as in the paths: "vbd", "vif", "virtio", ... */
  type: string;
  devid: number;
  frontend: number;
  backend: number;
}

export const frontendPath = (d: XenbusDevice): string => `${domainPath(d.frontend)}/device/${d.type}/${d.devid}`;
export const backendPath = (d: XenbusDevice): string => `${domainPath(d.backend)}/backend/${d.type}/${d.frontend}/${d.devid}`;

/** Success, or what went wrong, as a value (a bad peer never throws). */
export type XenbusResult = { ok: true } | { ok: false; error: string };
const OK: XenbusResult = { ok: true };

// ---- the toolstack's part (libxl__device_generic_add and removal) ------------------------

/** Creates both directories at Initialising, in one transaction: each owned by its end and
 *  readable by the other, cross-linked (backend/backend-id, frontend/frontend-id), the
 *  backend `online`, plus any extra nodes for either side. */
export function toolstackAddDevice(
  ts: XsClient,
  dev: XenbusDevice,
  extra: { frontend?: Record<string, string>; backend?: Record<string, string> } = {},
): XsResult<void> {
  const fe = frontendPath(dev);
  const be = backendPath(dev);
  return ts.transaction((tx) => {
    const steps = [
      () => rmIfThere(ts, fe, tx),
      () => rmIfThere(ts, be, tx),
      () => ts.mkdir(fe, tx),
      () => ts.setPerms(fe, [`n${dev.frontend}`, `r${dev.backend}`], tx),
      () => ts.mkdir(be, tx),
      () => ts.setPerms(be, [`n${dev.backend}`, `r${dev.frontend}`], tx),
      () => ts.write(`${fe}/backend`, be, tx),
      () => ts.write(`${fe}/backend-id`, String(dev.backend), tx),
      () => ts.write(`${fe}/state`, String(XenbusState.Initialising), tx),
      () => ts.write(`${be}/frontend`, fe, tx),
      () => ts.write(`${be}/frontend-id`, String(dev.frontend), tx),
      () => ts.write(`${be}/online`, "1", tx),
      () => ts.write(`${be}/state`, String(XenbusState.Initialising), tx),
    ];
    for (const [k, v] of Object.entries(extra.frontend ?? {})) steps.push(() => ts.write(`${fe}/${k}`, v, tx));
    for (const [k, v] of Object.entries(extra.backend ?? {})) steps.push(() => ts.write(`${be}/${k}`, v, tx));
    return all(...steps);
  });
}

/** libxl's checked rm: a path that is already gone is fine. */
function rmIfThere(ts: XsClient, path: string, tx: number): XsResult<void> {
  const r = ts.rm(path, tx);
  return !r.ok && r.error === "ENOENT" ? xsOk(undefined) : r;
}

/** Starts removal as libxl does: the backend goes offline and is told to close. */
export function toolstackRemoveDevice(ts: XsClient, dev: XenbusDevice): XsResult<void> {
  const be = backendPath(dev);
  return ts.transaction((tx) =>
    all(
      () => ts.write(`${be}/online`, "0", tx),
      () => ts.write(`${be}/state`, String(XenbusState.Closing), tx),
    ),
  );
}

/** Once the backend is Closed: both directories go. */
export function toolstackDestroyDevice(ts: XsClient, dev: XenbusDevice): XsResult<void> {
  return ts.transaction((tx) => all(() => rmIfThere(ts, frontendPath(dev), tx), () => rmIfThere(ts, backendPath(dev), tx)));
}

// ---- legal transitions -------------------------------------------------------------------

const NEXT: Record<number, number[]> = {
  [XenbusState.Unknown]: [1, 2, 3, 4, 5, 6],
  [XenbusState.Initialising]: [2, 3, 4, 5, 6],
  [XenbusState.InitWait]: [3, 4, 5, 6],
  [XenbusState.Initialised]: [4, 5, 6],
  [XenbusState.Connected]: [5, 6, 7],
  [XenbusState.Closing]: [6],
  // Closed -> Initialising (frontend) or InitWait (backend): reconnecting.
  [XenbusState.Closed]: [1, 2],
  [XenbusState.Reconfiguring]: [8, 5, 6],
  [XenbusState.Reconfigured]: [4, 5, 6],
};

export type XenbusSide = "frontend" | "backend";

/** Why `side` may not go from `from` to `to` while its peer is in `peer`, or undefined.
 *  Beyond the state graph: a frontend connects only once the backend has said what it offers
 *  (InitWait — netfront connects there, skipping Initialised — or Connected, as blkfront),
 *  and a backend only once the frontend has published its ring (Initialised or Connected). */
export function checkTransition(side: XenbusSide, from: number, to: number, peer: number): string | undefined {
  const what = `${side} ${xenbusStateName(from)} -> ${xenbusStateName(to)}`;
  if (!Number.isInteger(to) || to < 1 || to > 8) return `${what}: not a XenbusState`;
  if (!(NEXT[from] ?? []).includes(to)) return `${what}: not a legal transition`;
  if (to === XenbusState.Connected && from !== XenbusState.Reconfigured) {
    if (side === "frontend" && peer !== XenbusState.Connected && peer !== XenbusState.InitWait) {
      return `${what}: backend is ${xenbusStateName(peer)}, neither InitWait nor Connected`;
    }
    if (side === "backend" && peer !== XenbusState.Initialised && peer !== XenbusState.Connected) {
      return `${what}: frontend is ${xenbusStateName(peer)}, has not published its ring`;
    }
  }
  return undefined;
}

/** Parses a `state` node: a XenbusState, or undefined for anything else. */
export function parseState(v: string): XenbusStateValue | undefined {
  if (!/^\d$/.test(v)) return undefined;
  const n = Number(v);
  return n <= 8 ? (n as XenbusStateValue) : undefined;
}

// ---- one end of a device -------------------------------------------------------------------

export abstract class XenbusEnd {
  abstract readonly side: XenbusSide;
  readonly client: XsClient;
  readonly dev: XenbusDevice;
  readonly nodename: string;
  /** The other end's directory and domain (read at probe). */
  otherend = "";
  otherendId = -1;
  /** Our state as we last wrote it (Linux caches it the same way). */
  state: XenbusStateValue = XenbusState.Initialising;
  /** The peer's state as last read (Unknown: absent). */
  peer: XenbusStateValue = XenbusState.Unknown;
  /** Every refused transition, peer protocol error, or failed xenstore step, in order. */
  readonly errors: string[] = [];
  /** Our state changes, in order. */
  readonly transitions: [XenbusStateValue, XenbusStateValue][] = [];
  probed = false;

  constructor(client: XsClient, dev: XenbusDevice, nodename: string) {
    this.client = client;
    this.dev = dev;
    this.nodename = nodename;
  }

  /** The watch token of this end (one connection may carry many devices). */
  get token(): string {
    return `${this.side}:${this.nodename}`;
  }

  protected abstract get otherendKey(): string;

  /** Reads the other end's location and watches its state (the watch fires once at once). */
  probe(): XenbusResult {
    const key = this.otherendKey;
    const id = this.client.read(`${this.nodename}/${key}-id`);
    const path = this.client.read(`${this.nodename}/${key}`);
    if (!id.ok || !path.ok || !/^\d+$/.test(id.value)) {
      return this.error(`${this.side} ${this.nodename}: cannot read ${key} details (${!id.ok ? id.error : !path.ok ? path.error : "bad id"})`);
    }
    this.otherendId = Number(id.value);
    this.otherend = path.value;
    const w = this.client.watch(`${this.otherend}/state`, this.token);
    if (!w.ok) return this.error(`${this.side} ${this.nodename}: watch on ${this.otherend}/state failed: ${w.error}`);
    this.probed = true;
    return OK;
  }

  /** Handles the watch events that arrived for this end: the driver loop body. Returns how
   *  many were handled. */
  step(): number {
    this.client.poll();
    const evs = this.client.takeEvents(this.token);
    for (const _ of evs) this.otherendChanged(this.readPeer());
    return evs.length;
  }

  /** The peer's state node: Unknown when absent (device or domain gone); a malformed value
   *  is a protocol error, reported, and read as Unknown. */
  readPeer(): XenbusStateValue {
    const r = this.client.read(`${this.otherend}/state`);
    let s: XenbusStateValue = XenbusState.Unknown;
    if (r.ok) {
      const p = parseState(r.value);
      if (p === undefined) this.errors.push(`${this.side} ${this.nodename}: peer state "${r.value}" is not a XenbusState`);
      else s = p;
    }
    this.peer = s;
    return s;
  }

  protected abstract otherendChanged(peer: XenbusStateValue): void;

  /** Writes our new state as Linux's xenbus_switch_state does: in a transaction that first
   *  checks the node still exists (never resurrecting a removed device), retrying on EAGAIN. */
  switchState(to: XenbusStateValue): XenbusResult {
    if (to === this.state) return OK;
    const bad = checkTransition(this.side, this.state, to, this.peer);
    if (bad) return this.error(bad);
    const path = `${this.nodename}/state`;
    const r = this.client.transaction((tx) => {
      const cur = this.client.read(path, tx);
      if (!cur.ok) return cur;
      return this.client.write(path, String(to), tx);
    });
    if (!r.ok) return this.error(`${this.side} ${this.nodename}: writing state ${xenbusStateName(to)} failed: ${r.error}`);
    this.transitions.push([this.state, to]);
    this.state = to;
    return OK;
  }

  /** Writes several nodes under our directory in one transaction. */
  protected publish(nodes: Record<string, string>): XenbusResult {
    const r = this.client.transaction((tx) =>
      all(...Object.entries(nodes).map(([k, v]) => () => this.client.write(`${this.nodename}/${k}`, v, tx))),
    );
    return r.ok ? OK : this.error(`${this.side} ${this.nodename}: publishing ${Object.keys(nodes).join(",")} failed: ${r.error}`);
  }

  /** Reads the nodes of the other end's directory (features or device properties), all
   *  but those named in `skip`. */
  protected readOtherend(skip: ReadonlySet<string> = new Set()): Record<string, string> {
    const out: Record<string, string> = {};
    const d = this.client.directory(this.otherend);
    if (!d.ok) return out;
    for (const k of d.value) {
      if (skip.has(k)) continue;
      const v = this.client.read(`${this.otherend}/${k}`);
      if (v.ok) out[k] = v.value;
    }
    return out;
  }

  /** xenbus_dev_fatal: records the error under error/<device> in our home, then Closing. */
  protected fatal(msg: string): void {
    this.errors.push(`${this.side} ${this.nodename}: ${msg}`);
    const home = domainPath(this.client.domid);
    const rel = this.nodename.startsWith(home + "/") ? this.nodename.slice(home.length + 1) : this.nodename.slice(1);
    this.client.write(`error/${rel}/error`, msg);
    this.switchState(XenbusState.Closing);
  }

  protected error(msg: string): XenbusResult {
    this.errors.push(msg);
    return { ok: false, error: msg };
  }
}

/** Steps every end until a whole round handles no event: the handshake's fixed point.
 *  Returns the number of rounds; throws if it has not settled after `maxRounds`. */
export function runXenbus(ends: XenbusEnd[], maxRounds = 64): number {
  for (let round = 1; round <= maxRounds; round++) {
    let handled = 0;
    for (const e of ends) handled += e.step();
    if (handled === 0) return round;
  }
  throw new Error(`xenbus: ${ends.length} ends still exchanging events after ${maxRounds} rounds`);
}
