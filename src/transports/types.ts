// The transport contract (DESIGN.md "Transports to model"): one module per id, each building
// a Transport that joins a guest's generic virtio driver (src/virtio/driver.ts, through the
// FrontendPort) to a backend that serves a VirtioDevice (src/devices/types.ts).
import type { FrontendPort } from "../virtio/port.ts";
import type { VirtioDevice } from "../devices/types.ts";

/** Every transport id, in the order tables list them; each has an entry in registry.ts. */
export const TRANSPORT_IDS = [
  "kvm-ioeventfd", "mmio-foreign", "grant-map", "grant-copy", "grant-persistent", "argo", "pv-p2m", "fat-virtqueue",
  "preshared-bounce",
] as const;
export type TransportId = (typeof TRANSPORT_IDS)[number];

/** Guest pages a backend can reach, now. */
export interface Exposure {
  /** Pages the backend may reach at will (all RAM when it may map any frame). */
  reachable: number;
  /** Pages it has mapped now (rings, cached or in-flight buffers; all RAM for a VMM). */
  mapped: number;
  /** The most it had mapped at once since bring-up. */
  mappedPeak: number;
}

export interface Transport {
  readonly id: TransportId;
  /** The guest domain (frontend) and the domain serving the device (undefined for a host VMM). */
  readonly guest: number;
  readonly backendDomid: number | undefined;
  readonly device: VirtioDevice;
  /** What the guest driver plugs into. */
  readonly frontend: FrontendPort;
  /** One backend pass: take notifications, serve every notified queue (pop, handle, push),
   *  send the interrupts the rings ask for. Returns the chains completed. */
  service(): number;
  exposure(): Exposure;
  /** Tears the backend down (unmaps, unregisters); the transport is unusable afterwards. */
  close(): void;
}

/** A transport cannot be set up as asked (privilege, architecture, configuration). */
export class TransportSetupError extends Error {
  readonly transport: TransportId;
  constructor(transport: TransportId, message: string) {
    super(`${transport}: ${message}`);
    this.name = "TransportSetupError";
    this.transport = transport;
  }
}
