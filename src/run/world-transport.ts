// One transport instance from its scenario spelling (through its entry in
// src/transports/registry.ts), and the generic guest driver joined to it: where the driver must
// put the rings and which platform features it is offered.
import type { Machine } from "../wasm/machine.ts";
import { KvmVm } from "../kvm/kvm.ts";
import { TRANSPORTS, type TransportSite, type XenWorldEnv } from "../transports/registry.ts";
import type { Transport } from "../transports/types.ts";
import { VirtioDriver } from "../virtio/driver.ts";
import type { ConfigField } from "../virtio/driver-probe.ts";
import { GuestPages } from "../virtio/guest-pages.ts";

export type { TransportSite, XenWorldEnv };

/** Builds the transport named by `s.choice` (its registry entry). Throws the transport's
 *  TransportSetupError when the backend may not serve the guest that way. */
export function createTransport(s: TransportSite): Transport {
  return TRANSPORTS[s.choice.id].create(s);
}

export interface DriverSpec {
  machine: Machine;
  deviceFeatures: bigint;
  configReads?: ConfigField[];
  numQueues?: number;
  eventIdx?: boolean;
  packed?: boolean;
  queueSize?: number;
}

/** Where the driver of `t` must allocate its rings: inside the transport's shared region or
 *  published ring pages when it has them, else from the guest's own allocator. */
export function ringPagesFor(t: Transport, pages: GuestPages): GuestPages {
  const own = (t as Partial<{ ringPages: GuestPages }>).ringPages;
  return own instanceof GuestPages ? own : pages;
}

/** The generic virtio driver of `t`'s guest, offered the device's features plus the platform's
 *  (grant transports add ACCESS_PLATFORM). */
export function driverFor<T>(t: Transport, d: DriverSpec, pages: GuestPages): VirtioDriver<T> {
  const platform = TRANSPORTS[t.id].platformFeatures;
  return new VirtioDriver<T>({
    machine: d.machine, domid: t.guest, port: t.frontend, pages: ringPagesFor(t, pages), deviceFeatures: d.deviceFeatures | platform,
    configReads: d.configReads, numQueues: d.numQueues, eventIdx: d.eventIdx ?? true, packed: d.packed, queueSize: d.queueSize ?? 256,
  });
}

export { KvmVm };
