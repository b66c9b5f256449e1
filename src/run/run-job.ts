// The simulation entry point: one JobSpec in, one JobResult out. Builds the world the spec
// asks for, the workload of each guest, runs them in virtual time under the profile, checks
// every byte where it landed, and tears the world down. A pure function of the spec.
import { existsSync } from "node:fs";
import { loadProfile, loadShippedProfile, SHIPPED_PROFILES, type Profile } from "../cost/profile.ts";
import type { AtomicsModel } from "../cost/primitives.ts";
import type { Arch } from "../scenario/vocabulary.ts";
import { FileDisk } from "../devices/blk-backing.ts";
import type { InitialImage } from "../workloads/blk-stamp.ts";
import { buildJob, settle, worldOptionsFor, type Job } from "./job.ts";
import { RESULT_FORMAT, type JobResult, type JobSpec } from "./result.ts";
import { runTimed } from "./timed.ts";
import type { TimedDomain, TimedLane } from "./timed-target.ts";
import { buildWorld, type World, type WorldOptions } from "./world.ts";

export interface RunJobOptions {
  /** Record every busy span (JobResult.timeline). */
  trace?: boolean;
  /** Use this profile instead of resolving `spec.profile`. */
  profile?: Profile;
  /** World settings a JobSpec does not carry (disk size, net topology, build). */
  world?: Partial<WorldOptions>;
}

/** The scenario architecture whose behaviour a profile's atomics model simulates. */
const ARCH_OF_ATOMICS: Record<AtomicsModel, Arch> = {
  "x86": "x86-64", "arm-llsc": "arm64-v8.0", "arm-lse": "arm64-v8.1-lse", "riscv": "riscv64",
};

/** A built-in profile id, or a profile file's path. */
export function resolveProfile(ref: string): Profile {
  if ((SHIPPED_PROFILES as readonly string[]).includes(ref)) return loadShippedProfile(ref);
  if (existsSync(ref)) return loadProfile(ref);
  throw new RangeError(`profile '${ref}' is neither a built-in profile (${SHIPPED_PROFILES.join(", ")}) nor a file`);
}

function domainOf(world: World, domid: number | undefined, vmm: boolean): TimedDomain {
  if (domid === undefined) return { name: "vmm", domid: undefined };
  const d = world.domains.find((x) => x.domid === domid);
  // A KVM guest is a VM, not a Xen domain: name it as the host sees it.
  return { name: d?.name ?? (vmm ? `vm${domid}` : `d${domid}`), domid };
}

/** Payload bytes each lane moved so far (net: the flow counts both directions once). */
function payloadOf(job: Job, lane: number): () => number {
  if (job.fio) return () => (s => s.bytesRead + s.bytesWritten)(job.fio!.job.stats(0));
  if (job.rng) return () => job.rng!.reader.stats(0).bytes;
  return () => (lane === 0 ? job.net!.flow.stats(0).bytes : 0);
}

/** What an image file held before the run, so that reads of blocks the job did not write are
 *  checked against it (a memory disk starts as zeroes, fio's default). Read once, whole. */
function imageBefore(world: World): InitialImage | undefined {
  const b = world.blk?.backing;
  if (!(b instanceof FileDisk)) return undefined;
  const before = b.read(0, b.size);
  return (sector) => before.slice(sector * 512, sector * 512 + 512);
}

/** Bytes checked where they landed; throws if any byte did not arrive as written. */
function verify(world: World, job: Job): number {
  const failures = job.failures();
  if (failures.length > 0) throw new Error(`${job.spec.transport}/${job.spec.device}: ${failures.length} verification failure(s): ${failures.slice(0, 3).join("; ")}`);
  if (job.fio) {
    const s = job.fio.job.stats(0);
    const b = world.blk!.backing;
    return s.sectorsChecked * 512 + job.fio.verifyImage((off, len) => b.read(off, len));
  }
  if (job.rng) return job.rng.reader.stats(0).bytes;
  return job.net!.flow.stats(0).bytes;
}

export function runJob(spec: JobSpec, opts: RunJobOptions = {}): JobResult {
  const profile = opts.profile ?? resolveProfile(spec.profile);
  const arch = ARCH_OF_ATOMICS[profile.atomics];
  const world = buildWorld({ ...worldOptionsFor(spec, { arch }), ...opts.world });
  try {
    const job = buildJob(world, spec, { verifyPhase: false, initialImage: imageBefore(world) });
    // Set-up (rx buffers posted) is not part of the measured phase.
    job.prime();
    settle(world, job);
    const kvm = world.env === undefined;
    const lanes: TimedLane[] = world.endpoints.map((e, i) => ({
      name: e.name,
      driver: e.driver,
      transport: e.transport,
      workload: job.loads[i]!,
      frontend: domainOf(world, e.frontendDomid, kvm),
      backend: domainOf(world, e.backendDomid, kvm),
      iodepth: job.iodepth,
      queue: job.queue,
      kickEachSubmit: true,
      payloadBytes: payloadOf(job, i),
    }));
    const t = runTimed({ machine: world.machine, profile, lanes }, { trace: opts.trace });
    const bytesVerified = verify(world, job);
    const { chargedCycles: _c, steps: _s, ...timing } = t;
    return { format: RESULT_FORMAT, spec, ...timing, bytesVerified, exposure: world.exposure() };
  } finally {
    world.close();
  }
}
