// A scenario as jobs: one JobSpec per workload, with the transport and backend of the device
// it drives, the machine's profile, the hypervisor's TLB-flush elision, the duration and the
// seed (each workload is its own job of duration.ios requests), and a disk's image (its file,
// or the size of an in-memory one) and read-only mode. A backend outside Domain-0 that the
// transport does not allow is a ConfigError at the device's line. Settings a JobSpec has no
// field for (fio size and verify, the netperf peer, grant-frame limits) do not reach the job; the
// XSM module (a Flask policy as its text) and the domains' seclabels do, and the run enforces them.
import { ConfigError } from "../scenario/config-error.ts";
import type { Scenario, ScenarioDevice, Workload } from "../scenario/scenario-types.ts";
import { transportName } from "../scenario/vocabulary.ts";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { driverDomainLacks, driverDomainRefusal, driverDomainTransports, type PlacementXsm } from "./placement.ts";
import type { JobSpec, XsmSpec } from "./result.ts";

export interface ScenarioJob {
  /** The workload's name in the scenario. */
  workload: string;
  /** The device it drives, `<domain>/<vdev>`. */
  device: string;
  spec: JobSpec;
}

/** Refuses, at the device's line, a backend outside Domain-0 that the run would refuse: the
 *  transport needs a privilege the driver domain does not hold (placement.ts asks the model). */
function checkPlacement(s: Scenario, dev: ScenarioDevice, xsm: XsmSpec): void {
  if (dev.backend === 0) return;
  const t = transportName(dev.transport);
  const x = placementXsm(s, dev, xsm);
  const missing = driverDomainLacks(t, s.machine.arch, dev.kind, x);
  if (!missing) return;
  const backend = s.domains[dev.backend]!.name;
  const guest = s.domains[dev.frontend]!.name;
  const policy = s.hypervisor.xsm.module === "flask" ? `the Flask policy ${basename(s.hypervisor.xsm.policyFile)}` : `XSM ${s.hypervisor.xsm.module.toUpperCase()}`;
  const lacks = missing === "policy"
    ? `${policy} denies it (${inXlNames(driverDomainRefusal(t, s.machine.arch, dev.kind, x)!, guest, backend)})`
    : missing === "foreign-map"
    ? `it may not map the memory of '${guest}', and the transport reaches buffers that way (Domain-0 may, and a stub domain whose target is '${guest}')`
    : "only Domain-0, the control domain, may serve it";
  const others = driverDomainTransports(s.machine.arch, dev.kind, x);
  throw new ConfigError(dev.site.file, dev.site.line, dev.site.field,
    `${dev.id}: backend '${backend}' cannot serve transport ${t}: ${lacks}; ` +
    `use backend Domain-0${others.length > 0 ? `, or a transport a driver domain can serve (${others.join(", ")})` : ""}` +
    (missing === "policy" ? ", or an XSM policy that allows it (hypervisor.xsm: flask, xsm_policy: <file>)" : ""));
}

export function scenarioJobs(s: Scenario): ScenarioJob[] {
  const xsm = xsmOf(s); // a Flask policy file is read once
  for (const dev of s.devices) checkPlacement(s, dev, xsm);
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
        ...placementXsm(s, dev, xsm),
      },
    };
    return { workload: w.name, device: w.device, spec };
  });
}

/** The model's message with the world's domain ids replaced by the scenario's names. */
function inXlNames(why: string, guest: string, backend: string): string {
  const name = (n: string) => (_m: string, poss?: string) => (poss ? `${n}'s` : `'${n}'`);
  return why.replace(/\bguest d\d+('s)?/g, name(guest)).replace(/\bbackend d\d+(?: \([^)]*\))?('s)?/g, name(backend));
}

/** The scenario's XSM module as a JobSpec carries it (a Flask policy as its text). */
function xsmOf(s: Scenario): XsmSpec {
  const x = s.hypervisor.xsm;
  return x.module === "flask" ? { module: "flask", file: x.policyFile, policy: readFileSync(x.policyFile, "utf8") } : { module: x.module };
}

/** The XSM module and the Flask types (xl's seclabel) of Domain-0, the device's frontend and,
 *  outside Domain-0, its backend: what the run's Xen model enforces. */
function placementXsm(s: Scenario, dev: ScenarioDevice, xsm: XsmSpec): Required<PlacementXsm> {
  const labels: { dom0?: string; guest?: string; backend?: string } = {};
  const dom0 = s.domains[0]?.label, guest = s.domains[dev.frontend]?.label, backend = dev.backend === 0 ? undefined : s.domains[dev.backend]?.label;
  if (dom0) labels.dom0 = dom0;
  if (guest) labels.guest = guest;
  if (backend) labels.backend = backend;
  return { xsm, labels };
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
