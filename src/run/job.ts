// From a JobSpec (result.ts) to a world and the GuestWorkload of each of its endpoints, and a
// simple round-robin driver for them. A timed runner uses `worldOptionsFor` + `buildJob` and
// calls the per-step operations itself (Endpoint: driver.submit via the load, driver.kick,
// transport.service, driver.handleInterrupt); `runJobRounds` runs them in the harness's order.
import { Rng } from "../sim/rng.ts";
import { isArch, type Arch } from "../scenario/vocabulary.ts";
import { runHarness, type GuestWorkload, type HarnessResult } from "../transports/harness.ts";
import { NET_TX_QUEUE } from "../devices/net.ts";
import { FioJob } from "../workloads/fio-job.ts";
import { parseMac } from "../workloads/eth.ts";
import type { NetFlow, Side } from "../workloads/net-flow.ts";
import { RrFlow } from "../workloads/net-rr.ts";
import { StreamFlow } from "../workloads/net-stream.ts";
import { RngReader } from "../workloads/rng-reader.ts";
import type { InitialImage } from "../workloads/blk-stamp.ts";
import type { JobSpec } from "./result.ts";
import { PAGE_SIZE, XEN_ARGO_MAX_RING_SIZE } from "../wasm/layout.ts";
import { macOf } from "./world-devices.ts";
import { FioLoad, NetLoad, RngLoad, type Clock } from "./job-loads.ts";
import type { World, WorldOptions } from "./world.ts";
import { xsmPolicyOf } from "./world-hosts.ts";
import type { TransportSizes } from "../transports/registry.ts";

/** The world a JobSpec asks for. `arch` is needed when `profile` is a profile file (its
 *  architecture is in the file); a built-in profile id is its own architecture. */
export function worldOptionsFor(spec: JobSpec, extra: Partial<WorldOptions> & { arch?: Arch } = {}): WorldOptions {
  const arch = extra.arch ?? (isArch(spec.profile) ? spec.profile : undefined);
  if (!arch) throw new RangeError(`profile '${spec.profile}' is not a built-in architecture: pass the architecture its file names`);
  return {
    transport: spec.transport, arch, device: spec.device, seed: spec.seed,
    backend: spec.options?.backendDomain, tlbFlushElision: spec.options?.tlbFlushElision,
    backendDataPath: spec.options?.backendDataPath, ...(spec.options?.foreignMap ? { foreignMap: spec.options.foreignMap } : {}),
    ...(spec.options?.xsm ? { xsm: xsmPolicyOf(spec.options.xsm) } : {}), ...(spec.options?.labels ? { labels: spec.options.labels } : {}),
    ...transportSizesFor(spec),
    ...(spec.blk ? { blk: { image: spec.blk.image, sizeBytes: spec.blk.sizeBytes, readOnly: spec.blk.readOnly } } : {}), ...extra,
  };
}

/** Default fat-virtqueue slot and argo ring sizes (the transports' own defaults). */
const DEFAULT_SLOT_BYTES = 4096;
const DEFAULT_ARGO_RING = 0x10000;
/** fat-virtqueue's slots and preshared-bounce's pool pages by default. */
const DEFAULT_SHARED_UNITS = 32;
/** grant-persistent's pool by default, and the most a job may ask for: Linux blkback's
 *  max_persistent_grants default (1056 grants per ring); beyond it requests fall back to
 *  per-request mapping, as blkback's do. */
const DEFAULT_PERSISTENT_POOL = 64;
const MAX_PERSISTENT_GRANTS = 1056;
/** The most a pool may take of the backend's 512-gfn grant-map window: the rest holds the rings
 *  and the per-request mappings of what overflows the pool. */
const MAX_POOL_IN_WINDOW = 512 - 64;
/** pv-p2m's map window by default. */
const DEFAULT_PV_MAP_WINDOW = 64;
/** Requests an argo ring holds at once when sized for the job. */
const ARGO_RING_REQUESTS = 4;

/** Transport sizes a job's largest buffer needs: a fat-virtqueue slot that holds it (Linaro
 *  sizes slots for the device's largest request) and an argo ring that holds a few messages
 *  carrying it (Xen refuses a message that does not fit the ring). Absent where the
 *  defaults already do. */
export function transportSizesFor(spec: JobSpec): TransportSizes {
  const w = spec.workload;
  const largest = w.kind === "fio" ? w.bs : w.kind === "rng" ? w.readSize : 0; // net frames fit an MTU
  const out: TransportSizes = {};
  if (largest > DEFAULT_SLOT_BYTES) out.fatSlotBytes = Math.ceil(largest / 16) * 16;
  // Room for every request in flight: a blk request is 3 buffers (header, data, status), each
  // in its own slot, or a pool run of its data pages plus one page for the small ones.
  if (w.kind === "fio") {
    if (3 * w.iodepth > DEFAULT_SHARED_UNITS) out.fatSlots = 3 * w.iodepth;
    const pool = w.iodepth * (Math.ceil(w.bs / PAGE_SIZE) + 1);
    if (pool > DEFAULT_SHARED_UNITS) out.bouncePoolPages = pool;
    // The persistent pool gives each buffer pages of its own: the header's, the data's (one more
    // when it starts inside a page) and the status byte's, for every request in flight.
    const persistent = w.iodepth * (Math.ceil(w.bs / PAGE_SIZE) + 3);
    if (persistent > DEFAULT_PERSISTENT_POOL) out.persistentPoolPages = Math.min(persistent, MAX_PERSISTENT_GRANTS, MAX_POOL_IN_WINDOW);
    // pv-p2m maps every machine frame a request names into its window while it is served.
    if (persistent > DEFAULT_PV_MAP_WINDOW) out.pvMapWindowPages = persistent;
  }
  // A message: argo's slot header, the request header, the payload, a status byte, rounding;
  // whole pages (the ring is registered as a list of frames).
  const ring = Math.ceil((ARGO_RING_REQUESTS * (largest + 64)) / PAGE_SIZE) * PAGE_SIZE;
  if (ring > DEFAULT_ARGO_RING) out.argoRingLen = Math.min(ring, XEN_ARGO_MAX_RING_SIZE);
  return out;
}

export interface JobOptions {
  /** Requests in flight per endpoint (default: the fio iodepth; 1 for net and rng). */
  iodepth?: number;
  /** rx buffers each net guest keeps posted (default 8). */
  rxBuffers?: number;
  /** Virtual time for the generators' latency records (default 0: no clock). */
  clock?: Clock;
  /** fio: what a disk held before the run (default zeroes, as a fresh MemDisk). */
  initialImage?: InitialImage;
  /** fio: bytes of the region the job works in (default the whole disk). */
  size?: number;
  /** fio: read back every written block after the main phase (default true). A timed run
   *  turns it off and checks the disk image instead, so its I/Os are the job's own. */
  verifyPhase?: boolean;
}

export interface Job {
  readonly spec: JobSpec;
  /** One load per world endpoint, same order. */
  readonly loads: readonly GuestWorkload<any>[];
  /** The queue each endpoint's in-flight count is watched on (blk/rng 0, net tx 1). */
  readonly queue: number;
  readonly iodepth: number;
  readonly fio?: FioLoad;
  readonly net?: { flow: NetFlow; loads: NetLoad[] };
  readonly rng?: RngLoad;
  /** Work before the measured phase: net posts its rx buffers (then service the world once). */
  prime(): void;
  /** Failures the generators recorded (empty when every byte checked out). */
  failures(): string[];
}

export function buildJob(world: World, spec: JobSpec, o: JobOptions = {}): Job {
  const now = o.clock ?? (() => 0);
  const rng = new Rng(spec.seed);
  const w = spec.workload;
  switch (w.kind) {
    case "fio": {
      const blk = world.blk;
      if (!blk || spec.device !== "blk") throw new RangeError(`a fio workload needs a blk device, the world has ${world.device}`);
      const disk = blk.backing.size;
      const writes = w.rw !== "read" && w.rw !== "randread";
      const job = new FioJob({
        rw: w.rw, bs: w.bs, iodepth: w.iodepth, size: o.size ?? disk, rwmixread: w.rwmixread ?? 50, verify: writes && (o.verifyPhase ?? true), rng: rng.fork("fio"),
        numberIos: spec.ios, capacity: disk, initialImage: o.initialImage,
      });
      const fio = new FioLoad(job, blk.guest, now);
      return {
        spec, loads: [fio], queue: 0, iodepth: o.iodepth ?? w.iodepth, fio, prime: () => {},
        failures: () => job.failures.map((f) => f.detail),
      };
    }
    case "netperf": {
      const net = world.net;
      if (!net || spec.device !== "net") throw new RangeError(`a netperf workload needs a net device, the world has ${world.device}`);
      const loop = net.topology === "loopback";
      const common = { flowId: 1, rng: rng.fork("netperf"), a: parseMac(macOf(0)), b: parseMac(macOf(loop ? 0 : 1)), mtu: net.devices[0]!.mtu };
      const flow: NetFlow = w.test === "stream"
        ? new StreamFlow({ ...common, messageSize: w.messageSize, messages: spec.ios })
        : new RrFlow({ ...common, requestSize: w.messageSize, responseSize: w.responseSize ?? w.messageSize, transactions: spec.ios });
      const plays: Side[][] = loop ? [["a", "b"]] : [["a"], ["b"]];
      const loads = net.guests.map((g, i) => new NetLoad(flow, g, plays[i]!, o.rxBuffers ?? 8, now));
      return {
        spec, loads, queue: NET_TX_QUEUE, iodepth: o.iodepth ?? 1, net: { flow, loads },
        prime: () => loads.forEach((l) => l.prime()),
        failures: () => flow.failures.map((f) => f.detail),
      };
    }
    case "rng": {
      const r = world.rng;
      if (!r || spec.device !== "rng") throw new RangeError(`an rng workload needs an rng device, the world has ${world.device}`);
      const reader = new RngReader({ readSize: w.readSize, iodepth: o.iodepth ?? 1, numberIos: spec.ios, reference: r.reference() });
      const load = new RngLoad(reader, r.guest, now);
      return {
        spec, loads: [load], queue: 0, iodepth: o.iodepth ?? 1, rng: load, prime: () => {},
        failures: () => reader.failures.map((f) => f.detail),
      };
    }
  }
}

/** Backend passes and interrupt handling until nothing moves (at most `passes`): what is left
 *  in flight after the loads finished (a refilled rx buffer) reaches its backend. */
export function settle(world: World, job: Job, passes = 8): number {
  let moved = 0;
  for (let i = 0; i < passes; i++) {
    const served = world.service();
    let done = 0;
    world.endpoints.forEach((e, k) => {
      for (const c of e.driver.handleInterrupt() ?? []) {
        job.loads[k]!.complete(c);
        done++;
      }
    });
    moved += served + done;
    if (served === 0 && done === 0) break;
  }
  return moved;
}

/** Runs the job to the end in rounds: with one endpoint exactly runHarness; with several
 *  (virtio-net between two guests) the same round for each: every guest submits and kicks,
 *  every backend serves, every guest handles its interrupt. Then settles. Call prime() (and
 *  settle) first to keep set-up out of a measurement. */
export function runJobRounds(world: World, job: Job, maxRounds = 1_000_000): HarnessResult {
  const eps = world.endpoints;
  let r: HarnessResult;
  if (eps.length === 1) {
    r = runHarness({ driver: eps[0]!.driver, transport: eps[0]!.transport, workload: job.loads[0]!, iodepth: job.iodepth, queue: job.queue, maxRounds });
  } else {
    r = { rounds: 0, submitted: 0, completed: 0, kicks: 0, interrupts: 0 };
    const q = job.queue;
    for (;;) {
      if (job.loads.every((l, i) => l.finished && eps[i]!.driver.inFlight(q) === 0)) break;
      if (++r.rounds > maxRounds) throw new Error(`job: no end after ${maxRounds} rounds`);
      let added = 0;
      eps.forEach((e, i) => {
        const l = job.loads[i]!;
        const room = job.iodepth - e.driver.inFlight(q);
        if (room <= 0 || l.finished) return;
        const n = l.submit(room);
        added += n;
        if (n > 0 && e.driver.kick(q)) r.kicks++;
      });
      r.submitted += added;
      const served = world.service();
      let done = 0;
      eps.forEach((e, i) => {
        const got = e.driver.handleInterrupt();
        if (!got) return;
        r.interrupts++;
        for (const c of got) job.loads[i]!.complete(c);
        done += got.length;
      });
      r.completed += done;
      if (added === 0 && served === 0 && done === 0) throw new Error(`job stalled after ${r.rounds} rounds: nothing submitted, served or completed`);
    }
  }
  settle(world, job);
  return r;
}
