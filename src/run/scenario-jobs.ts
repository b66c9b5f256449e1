// A scenario as jobs: one JobSpec per workload, with the transport and backend of the device
// it drives, the machine's profile, the hypervisor's TLB-flush elision, the duration and the
// seed (each workload is its own job of duration.ios requests), and a disk's image (its file,
// or the size of an in-memory one) and read-only mode. A backend outside Domain-0 that the
// transport does not allow is a ConfigError at the device's line. Settings a JobSpec has no
// field for (fio size and verify, the netperf peer, grant-frame limits, XSM) do not reach the job.
import { ConfigError } from "../scenario/config-error.ts";
import type { Scenario, ScenarioDevice, Workload } from "../scenario/scenario-types.ts";
import { transportName } from "../scenario/vocabulary.ts";
import { driverDomainLacks, driverDomainTransports } from "./placement.ts";
import type { JobSpec } from "./result.ts";

export interface ScenarioJob {
  /** The workload's name in the scenario. */
  workload: string;
  /** The device it drives, `<domain>/<vdev>`. */
  device: string;
  spec: JobSpec;
}

/** Refuses, at the device's line, a backend outside Domain-0 that the run would refuse: the
 *  transport needs a privilege the driver domain does not hold (placement.ts asks the model). */
function checkPlacement(s: Scenario, dev: ScenarioDevice): void {
  if (dev.backend === 0) return;
  const t = transportName(dev.transport);
  const missing = driverDomainLacks(t, s.machine.arch, dev.kind);
  if (!missing) return;
  const backend = s.domains[dev.backend]!.name;
  const guest = s.domains[dev.frontend]!.name;
  const lacks = missing === "foreign-map"
    ? `it may not map the memory of '${guest}', and the transport reaches buffers that way (Domain-0 may, and a stub domain whose target is '${guest}')`
    : "only Domain-0, the control domain, may serve it";
  const others = driverDomainTransports(s.machine.arch, dev.kind);
  throw new ConfigError(dev.site.file, dev.site.line, dev.site.field,
    `${dev.id}: backend '${backend}' cannot serve transport ${t}: ${lacks}; ` +
    `use backend Domain-0${others.length > 0 ? `, or a transport a driver domain can serve (${others.join(", ")})` : ""}`);
}

export function scenarioJobs(s: Scenario): ScenarioJob[] {
  for (const dev of s.devices) checkPlacement(s, dev);
  const ios = s.duration.ios;
  const profile = s.machine.profile.kind === "builtin" ? s.machine.profile.id : s.machine.profile.path;
  return s.workloads.map((w) => {
    const dev = s.devices.find((d) => d.id === w.device);
    // The scenario loader has already bound every workload to a device of the right kind.
    if (!dev) throw new Error(`scenarioJobs: workload ${w.name} names unknown device ${w.device}`);
    const spec: JobSpec = {
      transport: transportName(dev.transport),
      profile,
      device: dev.kind,
      workload: jobWorkload(w),
      ios,
      seed: s.seed,
      ...(dev.blk ? { blk: blkOf(dev.blk) } : {}),
      options: {
        tlbFlushElision: s.hypervisor.tlbFlushElision,
        backendDomain: dev.backend === 0 ? "dom0" : "driver-domain",
      },
    };
    return { workload: w.name, device: w.device, spec };
  });
}

/** xl's disk target (a raw image file, its path resolved by the loader) or vxsim_memdisk size,
 *  and `access=ro` / `r`. */
function blkOf(b: NonNullable<ScenarioDevice["blk"]>): NonNullable<JobSpec["blk"]> {
  const where = b.image.kind === "file" ? { image: b.image.path } : { sizeBytes: b.sizeBytes };
  return { ...where, ...(b.readonly ? { readOnly: true } : {}) };
}

function jobWorkload(w: Workload): JobSpec["workload"] {
  switch (w.kind) {
    case "fio":
      return { kind: "fio", rw: w.rw, bs: w.bs, iodepth: w.iodepth, ...(w.rw === "randrw" ? { rwmixread: w.rwmixread } : {}) };
    case "netperf":
      return w.test === "stream"
        ? { kind: "netperf", test: "stream", messageSize: w.messageSize }
        : { kind: "netperf", test: "rr", messageSize: w.requestSize, responseSize: w.responseSize };
    case "rng":
      return { kind: "rng", readSize: w.readSize };
  }
}
