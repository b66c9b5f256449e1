// Whether a backend outside Domain-0 can serve a device over a transport, decided by the code
// that refuses it at run time: a world is built with the backend in a driver domain (each
// transport's set-up asks the Xen model for the privileges it needs: ioreq server, foreign
// mapping, machine frames, grants, Argo) and torn down at once. When the driver domain is
// refused, the placement the model does accept tells which privilege is missing. A driver domain
// holds device-model rights and grants over its guests by policy (DRIVER_DOMAIN_POLICY) but may
// not map their memory; a device-model stub domain (whose `target` is the guest) may also map
// its guest's memory; Domain-0 may map every guest's and is the only one that may map machine
// frames.
import { TRANSPORT_SPELLINGS, type Arch, type DeviceKind } from "../scenario/vocabulary.ts";
import { TransportSetupError } from "../transports/types.ts";
import { XenConfigError } from "../xen/config-error.ts";
import type { XsmSpec } from "./result.ts";
import { buildWorld, type BackendPlacement } from "./world.ts";
import { xsmPolicyOf } from "./world-hosts.ts";

/** The scenario's XSM module and its domains' Flask types (undefined: the model's defaults). */
export interface PlacementXsm {
  xsm?: XsmSpec;
  labels?: { dom0?: string; guest?: string; backend?: string };
}

/** What a driver domain lacks for a transport. */
export type MissingPrivilege =
  /** The scenario's XSM module denies what a driver domain with device-model rights could do. */
  | "policy"
  /** Mapping the guest's memory (foreign mapping): Domain-0's, or a stub domain's over its target. */
  | "foreign-map"
  /** Domain-0's own: no other domain can serve the transport. */
  | "control";

const refusals = new Map<string, string | undefined>();

/** The model's refusal of a driver domain for the transport under `x`, for messages. */
export function driverDomainRefusal(transport: string, arch: Arch, device: DeviceKind, x: PlacementXsm): string | undefined {
  return refusal(transport, arch, device, "driver-domain", x);
}

/** The model's TransportSetupError message for this placement, or undefined if it builds. */
function refusal(transport: string, arch: Arch, device: DeviceKind, backend: BackendPlacement, x: PlacementXsm = {}): string | undefined {
  const key = JSON.stringify([transport, arch, device, backend, x.xsm, x.labels]);
  if (!refusals.has(key)) {
    let why: string | undefined;
    try {
      buildWorld({ transport, arch, device, backend, ...(x.xsm ? { xsm: xsmPolicyOf(x.xsm) } : {}), ...(x.labels ? { labels: x.labels } : {}) }).close();
    } catch (e) {
      // A policy that keeps a domain from starting (its xenstore channel denied, say) is the
      // scenario's to fix too: a refusal, not a host error.
      if (!(e instanceof TransportSetupError) && !(e instanceof XenConfigError)) throw e;
      why = e.message;
    }
    refusals.set(key, why);
  }
  return refusals.get(key);
}

/** undefined when a driver domain may serve `device` over `transport` on `arch` (under the
 *  scenario's XSM, when given); else the privilege it lacks. */
export function driverDomainLacks(transport: string, arch: Arch, device: DeviceKind, x: PlacementXsm = {}): MissingPrivilege | undefined {
  if (refusal(transport, arch, device, "driver-domain", x) === undefined) return undefined;
  if (x.xsm && refusal(transport, arch, device, "driver-domain") === undefined) return "policy";
  return refusal(transport, arch, device, "stubdom") === undefined ? "foreign-map" : "control";
}

/** The transports a driver domain may serve `device` over on `arch` (spellings, sorted;
 *  bare `argo` is left out as it is `argo:buffered`). */
export function driverDomainTransports(arch: Arch, device: DeviceKind, x: PlacementXsm = {}): string[] {
  return TRANSPORT_SPELLINGS.filter((t) => t !== "argo" && driverDomainLacks(t, arch, device, x) === undefined);
}
