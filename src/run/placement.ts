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
import { buildWorld, type BackendPlacement } from "./world.ts";

/** What a driver domain lacks for a transport. */
export type MissingPrivilege =
  /** Mapping the guest's memory (foreign mapping): Domain-0's, or a stub domain's over its target. */
  | "foreign-map"
  /** Domain-0's own: no other domain can serve the transport. */
  | "control";

const refusals = new Map<string, string | undefined>();

/** The model's TransportSetupError message for this placement, or undefined if it builds. */
function refusal(transport: string, arch: Arch, device: DeviceKind, backend: BackendPlacement): string | undefined {
  const key = `${transport} ${arch} ${device} ${backend}`;
  if (!refusals.has(key)) {
    let why: string | undefined;
    try {
      buildWorld({ transport, arch, device, backend }).close();
    } catch (e) {
      if (!(e instanceof TransportSetupError)) throw e;
      why = e.message;
    }
    refusals.set(key, why);
  }
  return refusals.get(key);
}

/** undefined when a driver domain may serve `device` over `transport` on `arch`; else the
 *  privilege it lacks. */
export function driverDomainLacks(transport: string, arch: Arch, device: DeviceKind): MissingPrivilege | undefined {
  if (refusal(transport, arch, device, "driver-domain") === undefined) return undefined;
  return refusal(transport, arch, device, "stubdom") === undefined ? "foreign-map" : "control";
}

/** The transports a driver domain may serve `device` over on `arch` (spellings, sorted;
 *  bare `argo` is left out as it is `argo:buffered`). */
export function driverDomainTransports(arch: Arch, device: DeviceKind): string[] {
  return TRANSPORT_SPELLINGS.filter((t) => t !== "argo" && driverDomainLacks(t, arch, device) === undefined);
}
