// The standard comparison: every transport on every architecture for one virtio-blk 4 KiB
// random-read job and one virtio-net stream between two guests. One list of JobSpecs in a
// fixed order (device, architecture, transport), so rows never depend on scheduling.
import { SHIPPED_PROFILES } from "../cost/profile.ts";
import type { JobSpec } from "../run/result.ts";
import { TRANSPORT_SPELLINGS } from "../scenario/vocabulary.ts";
import { TRANSPORT_VARIANT_NAMES } from "../transports/registry.ts";

/** Each transport once, each variant of one that has them (argo:buffered, argo:sg). */
export const COMPARE_TRANSPORTS: readonly string[] = TRANSPORT_VARIANT_NAMES;

export interface CompareOptions {
  ios: number;
  seed: number;
  profiles?: readonly string[];
  transports?: readonly string[];
  devices?: readonly ("blk" | "net")[];
}

export const NET_MESSAGE_BYTES = 1400;

/** Pairs the comparison leaves out, and why: PV guests (the pv-p2m port's) exist on x86 only.
 *  The model can still run them (`vxsim job`), which studies of the mechanism may want. */
export function notCompared(transport: string, profile: string): string | undefined {
  if (transport === "pv-p2m" && profile !== "x86-64") return "pv-p2m needs a PV guest, which Xen supports on x86 only";
  return undefined;
}

export function compareJobs(o: CompareOptions): JobSpec[] {
  const profiles = o.profiles ?? SHIPPED_PROFILES;
  const transports = o.transports ?? COMPARE_TRANSPORTS;
  for (const t of transports) {
    if (!TRANSPORT_SPELLINGS.includes(t)) throw new RangeError(`unknown transport '${t}'; expected one of ${TRANSPORT_SPELLINGS.join(", ")}`);
  }
  const specs: JobSpec[] = [];
  for (const device of o.devices ?? ["blk", "net"]) {
    for (const profile of profiles) {
      for (const transport of transports) {
        if (notCompared(transport, profile)) continue;
        specs.push({
          transport, profile, device, ios: o.ios, seed: o.seed,
          workload: device === "blk"
            ? { kind: "fio", rw: "randread", bs: 4096, iodepth: 1 }
            : { kind: "netperf", test: "stream", messageSize: NET_MESSAGE_BYTES },
        });
      }
    }
  }
  return specs;
}
