// From a loaded scenario's workloads to generator instances. Each workload gets its own Rng,
// forked from the scenario seed by the workload's name, so adding a workload leaves the others'
// draws unchanged. Combinations the generators cannot verify are refused here, at the
// workload's place in the scenario file.
import { Rng } from "../sim/rng.ts";
import { ConfigError } from "../scenario/config-error.ts";
import type { Scenario, ScenarioDevice, Site, Workload } from "../scenario/scenario-types.ts";
import type { InitialImage } from "./blk-stamp.ts";
import type { ByteSource } from "./byte-stream.ts";
import { formatMac, parseMac, sameMac, type Mac } from "./eth.ts";
import { FioJob } from "./fio-job.ts";
import type { NetFlow } from "./net-flow.ts";
import { RrFlow } from "./net-rr.ts";
import { StreamFlow } from "./net-stream.ts";
import { RngReader } from "./rng-reader.ts";

export interface WorkloadEnv {
  /** What a disk backed by an image file held before the run (needed by fio on such a disk:
   *  the workload cannot know it). In-memory disks start as zeroes. */
  initialImage?: (device: ScenarioDevice) => InitialImage | undefined;
  /** The stream an rng device draws from, when the runner knows it (else lengths and the
   *  digest are all that is checked). */
  rngReference?: (device: ScenarioDevice) => ByteSource | undefined;
  /** The MAC of a net device whose vif names none (default: a locally administered MAC drawn
   *  from the seed and the device id). */
  mac?: (device: ScenarioDevice) => string | undefined;
}

export type WorkloadInstance =
  | { kind: "fio"; name: string; device: string; job: FioJob }
  /** `peer` is the device of side b (the same as `device` for loopback). */
  | { kind: "netperf"; name: string; device: string; peer: string; loopback: boolean; flow: NetFlow }
  | { kind: "rng"; name: string; device: string; reader: RngReader };

type ScenarioPart = Pick<Scenario, "seed" | "devices" | "workloads">;

const WRITES = new Set(["write", "randwrite", "randrw"]);

export function buildWorkloads(s: ScenarioPart, env: WorkloadEnv = {}): WorkloadInstance[] {
  checkSharing(s.workloads);
  const byId = new Map(s.devices.map((d) => [d.id, d]));
  const root = new Rng(s.seed);
  return s.workloads.map((w, i) => build(w, i, byId, root, env));
}

function build(w: Workload, index: number, byId: Map<string, ScenarioDevice>, root: Rng, env: WorkloadEnv): WorkloadInstance {
  const err = (reason: string, key?: string) => locate(w.site, reason, key);
  const device = (id: string, kind: ScenarioDevice["kind"], key: string): ScenarioDevice => {
    const d = byId.get(id);
    if (!d) throw err(`unknown device '${id}'`, key);
    if (d.kind !== kind) throw err(`${w.kind} needs a ${kind} device; '${id}' is a ${d.kind} device`, key);
    return d;
  };
  const rng = root.fork(`workload/${w.name}`);
  const generator = <T>(make: () => T): T => {
    try {
      return make();
    } catch (e) {
      if (e instanceof RangeError) throw err(e.message);
      throw e;
    }
  };

  switch (w.kind) {
    case "fio": {
      const d = device(w.device, "blk", "device");
      const blk = d.blk!;
      if (w.verify && !WRITES.has(w.rw)) throw err(`verify reads back what the job wrote, and rw: ${w.rw} writes nothing (its reads are checked anyway)`, "verify");
      if (blk.readonly && WRITES.has(w.rw)) throw err(`rw: ${w.rw} writes, but ${d.id} is read-only`, "rw");
      let initialImage: InitialImage | undefined;
      if (blk.image.kind === "file") {
        initialImage = env.initialImage?.(d);
        if (!initialImage) throw err(`${d.id} is backed by the image file '${blk.image.path}': pass initialImage for it, so that reads of blocks the job did not write can be checked`, "device");
      }
      const job = generator(() => new FioJob({
        rw: w.rw, bs: w.bs, iodepth: w.iodepth, size: w.size, rwmixread: w.rwmixread, verify: w.verify, rng, capacity: blk.sizeBytes, initialImage,
      }));
      return { kind: "fio", name: w.name, device: d.id, job };
    }
    case "netperf": {
      const d = device(w.device, "net", "device");
      const loopback = w.peer === "loopback";
      const p = loopback ? d : device(w.peer, "net", "peer");
      if (!loopback && p.id === d.id) throw err("the peer must be another net device (or loopback)", "peer");
      const a = mac(d, root, env, err);
      const b = loopback ? a : mac(p, root, env, err);
      if (!loopback && sameMac(a, b)) throw err(`${d.id} and ${p.id} have the same MAC ${formatMac(a)}: frames could not be told apart`, "peer");
      const mtu = Math.min(d.net!.mtu, p.net!.mtu);
      const common = { flowId: index + 1, rng, a, b, mtu };
      const flow: NetFlow = generator(() => w.test === "stream"
        ? new StreamFlow({ ...common, messageSize: w.messageSize })
        : new RrFlow({ ...common, requestSize: w.requestSize, responseSize: w.responseSize }));
      return { kind: "netperf", name: w.name, device: d.id, peer: p.id, loopback, flow };
    }
    case "rng": {
      const d = device(w.device, "rng", "device");
      const reader = generator(() => new RngReader({ readSize: w.readSize, reference: env.rngReference?.(d) }));
      return { kind: "rng", name: w.name, device: d.id, reader };
    }
    default: {
      const k = (w as { kind: unknown }).kind;
      throw err(`unknown workload kind '${String(k)}' (expected fio, netperf or rng)`);
    }
  }
}

/** Workloads that would disturb each other's verification. fio jobs of a scenario all start at
 *  offset 0, so two on one disk overlap, and a writer invalidates the other's map; two readers
 *  of one rng device split its stream between them in an order neither can predict. */
function checkSharing(workloads: readonly Workload[]): void {
  const seen = new Map<string, Workload>();
  for (const w of workloads) {
    if (w.kind !== "fio" && w.kind !== "rng") continue;
    const key = `${w.kind}:${w.device}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, w);
      continue;
    }
    if (w.kind === "rng") throw locate(w.site, `${w.device} is already read by workload '${first.name}' (${first.site.file}:${first.site.line}); two readers cannot both check the device's stream`, "device");
    if (w.kind === "fio" && first.kind === "fio" && (WRITES.has(w.rw) || WRITES.has(first.rw))) {
      throw locate(w.site, `${w.device} is also used by workload '${first.name}' (${first.site.file}:${first.site.line}) and one of them writes; their regions overlap, so neither could verify what it reads`, "device");
    }
  }
}

function mac(d: ScenarioDevice, root: Rng, env: WorkloadEnv, err: (reason: string, key?: string) => ConfigError): Mac {
  const text = d.net!.mac ?? env.mac?.(d);
  if (text !== undefined) {
    try {
      return parseMac(text);
    } catch (e) {
      throw err(`${d.id}: ${(e as Error).message}`);
    }
  }
  const m = root.fork(`mac/${d.id}`).bytes(new Uint8Array(6));
  m[0] = (m[0]! & 0xfc) | 0x02; // locally administered, unicast
  return m;
}

function locate(site: Site, reason: string, key?: string): ConfigError {
  return new ConfigError(site.file, site.line, key ? `${site.field}.${key}` : site.field, reason);
}
