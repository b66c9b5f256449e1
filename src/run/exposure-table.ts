// The exposure and hostile-peer table (`vxsim exposure`, docs/transports.md): for every
// transport, small real blk jobs measure what the backend reaches and maps, whether a hostile
// frontend's rewrite reaches the backend's device between two reads (C7's double-fetch run),
// and what a hostile backend can do to guest memory that is not a request's buffer, or to a
// request's data once it completed (src/run/hostile-backend.ts). Every cell is read off a run.
import { TRANSPORT_VARIANT_NAMES } from "../transports/registry.ts";
import { runDoubleFetch, type DoubleFetchResult } from "./double-fetch.ts";
import { hostileBackendSpec, runHostileBackend, runHostileBackendLeastPrivileged, placementName, type Attempt, type HostileBackendResult } from "./hostile-backend.ts";

/** Every transport spelling, in the registry's order. */
export const EXPOSURE_TRANSPORTS: readonly string[] = TRANSPORT_VARIANT_NAMES;

/** The architecture of the runs: every transport runs there (as C7). */
export const EXPOSURE_PROFILE = "arm64-v8.1-lse";

export interface ExposureRow {
  transport: string;
  /** The least privileged backend placement the transport accepts, and the ones refused. */
  backend: HostileBackendResult;
  refused: { placement: string; why: string }[];
  /** The same probe with the backend in dom0 (undefined when that is the placement above). */
  asDom0: HostileBackendResult | undefined;
  doubleFetch: DoubleFetchResult;
}

export interface ExposureOptions {
  seed?: number;
  transports?: readonly string[];
  onProgress?: (done: number, total: number) => void;
}

export function runExposure(o: ExposureOptions = {}): ExposureRow[] {
  const seed = o.seed ?? 1;
  const list = o.transports ?? EXPOSURE_TRANSPORTS;
  return list.map((transport, i) => {
    const { result, refused } = runHostileBackendLeastPrivileged(hostileBackendSpec(transport, EXPOSURE_PROFILE, seed));
    const asDom0 = result.placement.backend === "dom0" ? undefined : runHostileBackend(hostileBackendSpec(transport, EXPOSURE_PROFILE, seed), { backend: "dom0", noForeignMap: false });
    const doubleFetch = runDoubleFetch({ ...hostileBackendSpec(transport, EXPOSURE_PROFILE, seed), workload: { kind: "fio", rw: "randwrite", bs: 4096, iodepth: 1 } });
    o.onProgress?.(i + 1, list.length);
    return { transport, backend: result, refused, asDom0, doubleFetch };
  });
}

export const EXPOSURE_COLUMNS = [
  "transport", "backend in", "reachable (transport)", "mapped", "peak", "hostile frontend: double fetch", "other page: held mappings", "other page: foreign map",
  "as dom0: other page",
] as const;

/** The second table: a completed read's data buffer, after the guest took the completion. */
export const COMPLETED_COLUMNS = ["transport", "I/O-time mapping", "kept grant map", "end of access refused", "held mappings", "foreign map", "grant ref"] as const;

/** One attempt as a cell: what it could do, or why it was refused ("" when it does not apply). */
export function attemptCell(a: Attempt | undefined, none = "no Xen"): string {
  if (!a) return none;
  if (!a.open) return `denied (${a.status})`;
  if (a.read && a.write) return "read+write";
  if (a.read || a.write) return a.read ? "read only" : "write only";
  return "mapped, not this page";
}

/** For the completed buffer what matters is whether the guest's bytes took the write. */
const changed = (a: Attempt | undefined) => (a?.write ? "CHANGED" : attemptCell(a, "-"));

function doubleFetchCell(d: DoubleFetchResult): string {
  const o = d.observed;
  return `${o.bytesChanged > 0 ? "seen" : "not seen"} (${o.bytesChanged}/${o.bytesProbed} B)`;
}

const placementCell = (r: HostileBackendResult) => (r.backendDomid === undefined ? "host VMM" : `d${r.backendDomid} ${placementName(r.placement)}`);

export function exposureCells(r: ExposureRow): string[] {
  const b = r.backend;
  return [
    r.transport, placementCell(b), String(b.exposure.reachable), String(b.exposure.mapped), String(b.exposure.mappedPeak), doubleFetchCell(r.doubleFetch),
    attemptCell(b.probe.held), attemptCell(b.probe.foreignMap), r.asDom0 ? attemptCell(r.asDom0.probe.foreignMap) : "(same)",
  ];
}

export function completedCells(r: ExposureRow): string[] {
  const c = r.backend.completed;
  return [
    r.transport, changed(c.duringIo), changed(c.kept), c.kept ? String(c.endAccessRefused) : "-", changed(c.held), changed(c.foreignMap), changed(c.grantRef),
  ];
}

function aligned(columns: readonly string[], rows: string[][]): string[] {
  const all = [[...columns], ...rows];
  const width = columns.map((_, k) => Math.max(...all.map((r) => r[k]!.length)));
  const text = (r: string[]) => r.map((c, k) => c.padEnd(width[k]!)).join("  ").trimEnd();
  return [text(all[0]!), text(width.map((n) => "-".repeat(n))), ...rows.map(text)];
}

/** The plain-text tables (what the command prints and docs/transports.md holds). */
export function formatExposure(rows: readonly ExposureRow[]): string {
  const spec = hostileBackendSpec(EXPOSURE_TRANSPORTS[0], EXPOSURE_PROFILE);
  const wl = spec.workload as { bs: number; iodepth: number };
  return [
    ...aligned(EXPOSURE_COLUMNS, rows.map(exposureCells)), "",
    `blk on ${EXPOSURE_PROFILE}: ${spec.ios} fio writes of ${wl.bs} B then their read-back, iodepth ${wl.iodepth}, the backend in the least privileged domain`,
    "the transport accepts (tried in turn: a driver domain; the guest's device-model stub domain under an XSM policy without map_gmfn_foreign, then with it; dom0).",
    "reachable (transport): guest pages the transport lets the backend reach; mapped: what it had mapped between I/Os; peak: the most during one.",
    "double fetch: bytes the device read twice that changed under it while a hostile guest rewrote them between the reads (C7's run, randwrite).",
    "other page: a guest page that never held a request buffer, read and written through the mappings the backend holds and a new foreign mapping;",
    "as dom0: the same foreign mapping from a backend in dom0.",
    "",
    "A hostile backend and a completed read's data buffer (after the guest took the completion):",
    "",
    ...aligned(COMPLETED_COLUMNS, rows.map(completedCells)), "",
    "I/O-time mapping: the backend gfn that mapped the buffer while the request was served; kept grant map: a mapping of the buffer's grant ref the",
    "backend made during the I/O and kept (a run of its own; the guest's end of access then fails, counted); held mappings: what it has mapped now;",
    "foreign map: a new one; grant ref: the request's ref used again. CHANGED: the guest's buffer took the write; -: the way does not exist there.",
  ].join("\n");
}
