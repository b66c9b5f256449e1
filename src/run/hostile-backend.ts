// A hostile backend (the other half of C7's question): after a verified blk job, the backend
// tries to read and write guest memory that is not an in-flight request's buffer, with every
// means its domain has, and the machine's rights checks and Xen's checks decide:
//  - the mappings it holds between I/Os (its p2m entries naming the guest's frames; for KVM
//    the VMM's mapping of all guest RAM, which is the guest's own p2m);
//  - a new foreign mapping (xenforeignmemory_map), which Xen grants only to a domain with
//    privilege over the guest (dom0, or the guest's device-model stub domain);
//  - for the grant transports, the grant ref of a completed request (map, or copy for
//    grant-copy), which the guest has ended access to unless the ref is a persistent pool's.
// Two targets: a guest page that never held a request buffer, and the data buffer of the last
// completed read (what the guest's driver received): can the backend change it afterwards?
import { DoubleFetchProbe } from "../devices/double-fetch-probe.ts";
import { tapPort } from "./double-fetch.ts";
import { decodeGrantDma, GrantMapTransport } from "../transports/grant-map.ts";
import { TransportSetupError, type Exposure, type Transport } from "../transports/types.ts";
import { takeBackendGfns } from "../transports/xen-env.ts";
import type { DmaAddr } from "../virtio/dma-addr.ts";
import type { FrontendPort, GuestBuf } from "../virtio/port.ts";
import * as L from "../wasm/layout.ts";
import type { Machine } from "../wasm/machine.ts";
import { errnoName } from "../xen/errno.ts";
import { Privcmd } from "../xen/privcmd.ts";
import { DummyPolicy, type XsmOp } from "../xen/xsm.ts";
import type { Domain } from "../xen/domain.ts";
import type { Arch } from "../scenario/vocabulary.ts";
import { buildJob, runJobRounds, worldOptionsFor } from "./job.ts";
import type { JobSpec } from "./result.ts";
import { buildWorld, type BackendPlacement, type World } from "./world.ts";

const PAGE = L.PAGE_SIZE;

/** XSM as a Flask policy can set it up: the guest's device-model stub domain keeps its
 *  device-model operations (IOREQ server, dm_op) but may not map the guest's RAM; only the
 *  control domain may. */
export class NoForeignMapPolicy extends DummyPolicy {
  override readonly name: string = "dummy, map_gmfn_foreign for the control domain only";
  override check(op: XsmOp, subject: Domain, object?: Domain, caller?: Domain): boolean {
    if (op === "map_gmfn_foreign" && !subject.isControl) return false;
    return super.check(op, subject, object, caller);
  }
}

/** Where the backend runs, and whether XSM takes foreign mapping away from device models. */
export interface Placement {
  backend: BackendPlacement;
  noForeignMap: boolean;
}

export const placementName = (p: Placement) => (p.noForeignMap ? `${p.backend}, XSM without map_gmfn_foreign` : p.backend);

/** What one way of reaching a guest page gave the backend. */
export interface Attempt {
  /** The way was open (a mapping held, a map or copy Xen accepted). */
  open: boolean;
  /** Reads of the page's bytes that returned the guest's bytes, writes the guest then saw. */
  read: boolean;
  write: boolean;
  /** Xen's or the machine's answer when it was closed (errno, GNTST, machine status). */
  status: string;
}

export interface HostileBackendResult {
  transport: string;
  placement: Placement;
  backendDomid: number | undefined;
  /** What the backend could reach and had mapped (between I/Os, peak during one) after the job. */
  exposure: Exposure;
  /** A guest page that holds no request buffer. */
  probe: { held: Attempt; foreignMap: Attempt | undefined };
  /** The data buffer of the last completed read, after completion; `duringIo` uses the backend
   *  gfn that mapped it while the request was served (undefined: it was never mapped there). */
  completed: {
    duringIo: Attempt | undefined;
    /** grant transports: a mapping of the buffer's grant ref the backend made during the I/O
     *  and kept; `endAccessRefused` counts the guest's failed ends of access (Linux leaks the
     *  ref and the device is broken from then on, but the data already went to the caller). */
    kept: Attempt | undefined;
    endAccessRefused: number;
    held: Attempt; foreignMap: Attempt | undefined; grantRef: Attempt | undefined };
  /** Denials counted during the probe, by counter. */
  denials: { machine: number; readOnly: number; foreign: number; xsm: number; grant: number };
}

const DENIALS = { machine: L.CNT_ACCESS_REFUSED, readOnly: L.CNT_REFUSED_READ_ONLY, foreign: L.CNT_FOREIGN_DENIED, xsm: L.CNT_XSM_DENIED, grant: L.CNT_GNT_FAILED } as const;

const namesOf = (prefix: string) => new Map(Object.entries(L).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [v as number, k]));
const MST_NAMES = namesOf("MST_");
const GNTST_NAMES = namesOf("GNTST_");
const mstName = (st: number) => MST_NAMES.get(st) ?? `machine status ${st}`;
const gntstName = (st: number) => GNTST_NAMES.get(st) ?? `GNTST ${st}`;

const closed = (status: string): Attempt => ({ open: false, read: false, write: false, status });

/** Reads `len` bytes at `gpa` of `domid` (the backend's view) and compares them with the
 *  guest's; then writes flipped bytes and asks whether the guest sees them; restores. */
function tryAccess(m: Machine, domid: number, gpa: number, guest: number, guestGpa: number, len: number): Attempt {
  const want = m.read(guest, guestGpa, len);
  const got = new Uint8Array(len);
  const rs = m.tryRead(domid, gpa, got);
  const read = rs === L.MST_OK && got.every((b, i) => b === want[i]);
  const ws = m.tryWrite(domid, gpa, want.map((b) => b ^ 0xff));
  const seen = m.read(guest, guestGpa, len);
  const write = ws === L.MST_OK && seen.every((b, i) => b === (want[i]! ^ 0xff));
  m.write(guest, guestGpa, want);
  const status = rs !== L.MST_OK ? mstName(rs) : ws !== L.MST_OK ? mstName(ws) : "ok";
  return { open: true, read, write, status };
}

const mfnOf = (m: Machine, domid: number, gfn: number) => m.p2mLookup(domid, gfn) >>> L.P2M_MFN_SHIFT;

/** The backend's p2m entry (grant or foreign) naming the guest frame behind `gfn`, if any. */
function heldGfn(m: Machine, backend: number, guest: number, gfn: number): number | undefined {
  const mfn = mfnOf(m, guest, gfn);
  const max = m.domainInfo(backend).maxGfn;
  for (let g = 0; g < max; g++) {
    const e = m.p2mLookup(backend, g);
    const type = e & L.P2M_TYPE_MASK;
    if (e > 0 && (type === L.P2M_GRANT || type === L.P2M_FOREIGN) && e >>> L.P2M_MFN_SHIFT === mfn) return g;
  }
  return undefined;
}

function held(w: World, t: Transport, gfn: number, off: number, len: number): Attempt {
  const m = w.machine;
  // KVM: the VMM process maps all guest RAM; its view is the guest's own p2m.
  if (t.backendDomid === undefined) return tryAccess(m, t.guest, gfn * PAGE + off, t.guest, gfn * PAGE + off, len);
  const at = heldGfn(m, t.backendDomid, t.guest, gfn);
  return at === undefined ? closed("no mapping") : tryAccess(m, t.backendDomid, at * PAGE + off, t.guest, gfn * PAGE + off, len);
}

/** The backend goes back to the gfn where it had the page mapped during the I/O: the
 *  machine's p2m check decides (refused and counted once the transport unmapped it). */
function staleMapping(w: World, t: Transport, at: number | undefined, gfn: number, off: number, len: number): Attempt | undefined {
  if (at === undefined || t.backendDomid === undefined) return undefined;
  const a = tryAccess(w.machine, t.backendDomid, at * PAGE + off, t.guest, gfn * PAGE + off, len);
  return a.read || a.write ? a : closed(a.status);
}

/** Maps the grant ref behind `addr` at a fresh backend gfn, and keeps it. */
function keepGrant(w: World, t: GrantMapTransport, addr: DmaAddr): { gfn: number; handle: number; status: number } {
  const g = decodeGrantDma(addr)!;
  const gfn = takeBackendGfns(w.env!.hv, t.backendDomid, 1);
  const { results } = t.backendGrants.map([{ dom: t.guest, ref: g.gref, hostAddr: gfn * PAGE, readonly: false }]);
  return { gfn, handle: results[0]!.handle, status: results[0]!.status };
}

/** Writes through the kept grant mapping after completion, then gives it back. */
function keptAccess(w: World, t: Transport, k: { gfn: number; handle: number; status: number } | undefined, gfn: number, off: number, len: number): Attempt | undefined {
  if (!k || !(t instanceof GrantMapTransport)) return undefined;
  if (k.status !== L.GNTST_OKAY) return closed(gntstName(k.status));
  const a = tryAccess(w.machine, t.backendDomid, k.gfn * PAGE + off, t.guest, gfn * PAGE + off, len);
  t.backendGrants.unmap([{ handle: k.handle, hostAddr: k.gfn * PAGE }]);
  return a;
}

/** The backend's own privcmd, as a hostile device model would open it. */
function privcmdOf(w: World, backend: number): { pc: Privcmd; at: number } {
  const env = w.env!;
  const pc = new Privcmd({ ioreq: env.ioreq, foreign: env.foreign, domid: backend, scratchGfn: env.hv.domain(backend)!.ramPages - 1 });
  return { pc, at: takeBackendGfns(env.hv, backend, 1) };
}

function foreignMap(w: World, t: Transport, gfn: number, off: number, len: number): Attempt | undefined {
  if (t.backendDomid === undefined || !w.env) return undefined;
  const { pc, at } = privcmdOf(w, t.backendDomid);
  const r = pc.mapForeign(t.guest, [gfn], [at]);
  const rc = typeof r === "number" ? r : r[0]!;
  if (rc !== 0) return closed(errnoName(rc));
  const a = tryAccess(w.machine, t.backendDomid, at * PAGE + off, t.guest, gfn * PAGE + off, len);
  pc.unmapGfn(at);
  return a;
}

/** The grant ref a completed buffer's descriptor carried, used again by the backend. */
function grantRef(w: World, t: Transport, addr: DmaAddr, gpa: number, len: number): Attempt | undefined {
  const g = decodeGrantDma(addr);
  if (!g || !(t instanceof GrantMapTransport)) return undefined;
  const m = w.machine;
  const grants = t.backendGrants;
  const { pc, at } = privcmdOf(w, t.backendDomid);
  if (t.id === "grant-copy") {
    // A GNTTABOP_copy out of the ref into one of the backend's RAM pages (does it get the guest's
    // bytes?), then one from that page into the ref (does the guest then read what it wrote?).
    const scratch = pc.scratch / PAGE;
    const want = m.read(t.guest, gpa, len);
    m.write(t.backendDomid, scratch * PAGE, new Uint8Array(len));
    const mine = { gmfn: scratch, offset: 0 };
    const theirs = { domid: t.guest, ref: g.gref, offset: g.offset };
    const stIn = grants.copy([{ source: theirs, dest: mine, len }]).statuses[0]!;
    const read = stIn === L.GNTST_OKAY && m.read(t.backendDomid, scratch * PAGE, len).every((b, i) => b === want[i]);
    m.write(t.backendDomid, scratch * PAGE, want.map((b) => b ^ 0xff));
    const stOut = grants.copy([{ source: mine, dest: theirs, len }]).statuses[0]!;
    const write = stOut === L.GNTST_OKAY && m.read(t.guest, gpa, len).every((b, i) => b === (want[i]! ^ 0xff));
    m.write(t.guest, gpa, want);
    if (stIn !== L.GNTST_OKAY && stOut !== L.GNTST_OKAY) return closed(gntstName(stIn));
    return { open: true, read, write, status: "ok" };
  }
  const { results } = grants.map([{ dom: t.guest, ref: g.gref, hostAddr: at * PAGE, readonly: false }]);
  const r = results[0]!;
  if (r.status !== L.GNTST_OKAY) return closed(gntstName(r.status));
  const a = tryAccess(m, t.backendDomid, at * PAGE + g.offset, t.guest, gpa, len);
  grants.unmap([{ handle: r.handle, hostAddr: at * PAGE }]);
  return a;
}

/** Taps the driver's port: the device-written buffers of at least `min` bytes (a read's data)
 *  in flight, with their descriptor addresses, and the last one that completed. */
class DataTap {
  readonly live = new Map<string, { buf: GuestBuf; addr: DmaAddr }>();
  last: { buf: GuestBuf; addr: DmaAddr } | undefined;

  constructor(port: FrontendPort, min: number) {
    tapPort(port, {
      exposed: (buf, addr) => {
        if (buf.write && buf.len >= min) this.live.set(String(addr), { buf, addr });
      },
      unexposed: (_buf, addr) => {
        const d = this.live.get(String(addr));
        if (d) this.last = d;
        this.live.delete(String(addr));
      },
    });
  }
}

/** The job the probe follows: fio writes, then the verify phase reads them back. */
export function hostileBackendSpec(transport: string, profile: string, seed = 1): JobSpec {
  return { transport, profile, device: "blk", workload: { kind: "fio", rw: "write", bs: 4096, iodepth: 1 }, ios: 4, seed };
}

/** Runs the job with the backend in `placement`, then the hostile backend's attempts (on the
 *  grant transports a second run in which the backend keeps a grant mapping of the last read's
 *  buffer past its completion). Throws TransportSetupError when the transport cannot be served
 *  from there. */
export function runHostileBackend(spec: JobSpec, placement: Placement, arch?: Arch): HostileBackendResult {
  const r = probeRun(spec, placement, arch, false);
  if (r.completed.grantRef === undefined) return r;
  // Keeping a mapping breaks the guest's device and leaks the page: a run of its own.
  const k = probeRun(spec, placement, arch, true);
  return { ...r, completed: { ...r.completed, kept: k.completed.kept, endAccessRefused: k.completed.endAccessRefused } };
}

function probeRun(spec: JobSpec, placement: Placement, arch: Arch | undefined, keep: boolean): HostileBackendResult {
  // While the device handles a request (C7's probe device gives the moment: between its two
  // reads), note where the backend has the in-flight data pages mapped.
  let note = () => {};
  const w = buildWorld({
    ...worldOptionsFor(spec, arch ? { arch } : {}), backend: placement.backend, ...(placement.noForeignMap ? { xsm: new NoForeignMapPolicy() } : {}),
    wrapDevice: (d) => new DoubleFetchProbe(d, { between: () => note() }),
  });
  try {
    const ep = w.endpoints[0]!;
    const t = ep.transport;
    const tap = new DataTap(ep.driver.port, 512);
    const mappedAt = new Map<number, number>();
    let reads = 0;
    let kept: { gfn: number; handle: number; status: number } | undefined;
    if (t.backendDomid !== undefined) {
      const be = t.backendDomid;
      note = () => {
        if (tap.live.size > 0) reads++;
        for (const { buf, addr } of tap.live.values()) {
          const g = heldGfn(w.machine, be, t.guest, Math.floor(buf.gpa / PAGE));
          if (g !== undefined) mappedAt.set(buf.gpa, g);
          // The last read of the job: a grant backend maps the data buffer's ref itself and
          // keeps the mapping past the completion (the guest's end of access then fails).
          if (keep && reads === spec.ios && !kept && t instanceof GrantMapTransport && decodeGrantDma(addr)) kept = keepGrant(w, t, addr);
        }
      };
    }
    const busy = w.machine.counter(L.CNT_GM_END_BUSY);
    const job = buildJob(w, spec);
    runJobRounds(w, job);
    const failures = job.failures();
    if (failures.length > 0) throw new Error(`${spec.transport}: ${failures.length} verification failure(s): ${failures[0]}`);
    const done = tap.last;
    if (!done) throw new Error(`${spec.transport}: no read completed`);
    // The page no request used: the guest fills it (its own RAM, never exposed).
    const probeGfn = ep.pages.alloc(1);
    w.machine.write(t.guest, probeGfn * PAGE, new Uint8Array(PAGE).map((_, i) => (i * 7 + 3) & 0xff));
    const before = w.machine.counters();
    const gfn = Math.floor(done.buf.gpa / PAGE);
    const off = done.buf.gpa % PAGE;
    const len = Math.min(done.buf.len, PAGE - off);
    const result: HostileBackendResult = {
      transport: w.transportName, placement, backendDomid: t.backendDomid, exposure: w.exposure(),
      probe: { held: held(w, t, probeGfn, 0, PAGE), foreignMap: foreignMap(w, t, probeGfn, 0, PAGE) },
      completed: {
        duringIo: staleMapping(w, t, mappedAt.get(done.buf.gpa), gfn, off, len), kept: keep ? keptAccess(w, t, kept, gfn, off, len) : undefined,
        endAccessRefused: w.machine.counter(L.CNT_GM_END_BUSY) - busy, held: held(w, t, gfn, off, len), foreignMap: foreignMap(w, t, gfn, off, len), grantRef: grantRef(w, t, done.addr, done.buf.gpa, len) },
      denials: { machine: 0, readOnly: 0, foreign: 0, xsm: 0, grant: 0 },
    };
    const after = w.machine.counters();
    for (const [k, id] of Object.entries(DENIALS) as [keyof typeof DENIALS, number][]) result.denials[k] = after[id]! - before[id]!;
    return result;
  } finally {
    w.close();
  }
}

/** The least privileged placement the transport accepts, first of: a driver domain; the
 *  guest's device-model stub domain without, then with, foreign mapping; dom0 (KVM: the host
 *  VMM). With the refusals met on the way. */
export function runHostileBackendLeastPrivileged(spec: JobSpec, arch?: Arch): { result: HostileBackendResult; refused: { placement: string; why: string }[] } {
  const refused: { placement: string; why: string }[] = [];
  const order: Placement[] = spec.transport.startsWith("kvm")
    ? [{ backend: "dom0", noForeignMap: false }]
    : [{ backend: "driver-domain", noForeignMap: false }, { backend: "stubdom", noForeignMap: true }, { backend: "stubdom", noForeignMap: false }, { backend: "dom0", noForeignMap: false }];
  for (const placement of order) {
    try {
      return { result: runHostileBackend(spec, placement, arch), refused };
    } catch (e) {
      if (!(e instanceof TransportSetupError)) throw e;
      refused.push({ placement: placementName(placement), why: e.message });
    }
  }
  throw new Error(`${spec.transport}: no placement serves it: ${refused.map((r) => `${r.placement}: ${r.why}`).join("; ")}`);
}
