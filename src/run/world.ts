// buildWorld: a complete simulated setup for one job: the machine, the hypervisor model (Xen
// with the subsystems the transport needs, or a KVM host), the domains, the device with its
// backend, the transport(s) and the generic guest driver(s) brought up. virtio-net joins two
// guests through a bridge in the backend (or reflects one guest's frames back: loopback).
// Every (driver, transport) pair is an Endpoint, so a runner can call each step on its own:
// submit/kick in the guest, service() in the backend, handleInterrupt() in the guest.
import type { Machine } from "../wasm/machine.ts";
import { parseTransport, TRANSPORT_SPELLINGS, type Arch, type DeviceKind, type TransportChoice } from "../scenario/vocabulary.ts";
import type { XenArch } from "../xen/hypervisor.ts";
import type { XsmPolicy } from "../xen/xsm.ts";
import type { BlkBacking } from "../devices/blk-backing.ts";
import type { ForeignMapMode } from "../transports/foreign-map.ts";
import type { VirtioDevice } from "../devices/types.ts";
import { TransportSetupError, type Exposure, type Transport } from "../transports/types.ts";
import type { VirtioDriver } from "../virtio/driver.ts";
import { GuestPages } from "../virtio/guest-pages.ts";
import { buildDevices, type WorldDevices } from "./world-devices.ts";
import { buildHosts, servicePagesFor, type WorldDomain, type WorldHosts } from "./world-hosts.ts";
import { createTransport, type XenWorldEnv } from "./world-transport.ts";
import { transportSizesOf, type TransportSizes } from "../transports/registry.ts";

export type BackendPlacement = "dom0" | "driver-domain" | "stubdom";

export interface WorldOptions extends TransportSizes {
  /** Scenario spelling: `grant-map`, `argo`, `argo:sg`, `kvm-ioeventfd`, ... */
  transport: string;
  arch: Arch;
  device: DeviceKind;
  /** Where the backend runs (default dom0): a driver domain (not dom0, no `target`: its rights
   *  over the guests come from XSM, by default DRIVER_DOMAIN_POLICY: device-model rights and
   *  grants, no foreign mapping; under `xsm: new DummyPolicy()` it has none), or the guest's
   *  device-model stub domain (`target` = the guest). KVM: only dom0 (the VMM is in the host). */
  backend?: BackendPlacement;
  /** XenServer's flush elision for unmap batches whose mappings were never touched. */
  tlbFlushElision?: boolean;
  /** How the backend's device moves blk data: its CPU (default) or a disk's DMA (see VirtioBlk). */
  backendDataPath?: "cpu" | "dma";
  /** mmio-foreign's buffer mapping (default "per-request"; foreign-map.ts). */
  foreignMap?: ForeignMapMode;
  build?: "release" | "debug";
  /** XSM module (default: Xen's dummy module on every arch, so driver domains are not denied by
   *  SILO; with a driver-domain backend, DRIVER_DOMAIN_POLICY). */
  xsm?: XsmPolicy;
  /** Flask types of Domain-0, the guests and the backend domain (defaults dom0_t, front_t, back_t). */
  labels?: { dom0?: string; guest?: string; backend?: string };
  /** virtio-blk's store: `backing`, else the raw image file `image` (opened here, closed with
   *  the world), else a memory disk of `sizeBytes`. */
  blk?: { backing?: BlkBacking; image?: string; sizeBytes?: number; readOnly?: boolean };
  net?: {
    /** Two guests through the backend's bridge (default), or one guest whose frames come back. */
    topology?: "pair" | "loopback";
    mtu?: number;
    /** Bytes of each posted rx buffer (default 12 + mtu + 18: one whole frame). */
    rxBufBytes?: number;
    /** Frames the device holds while no rx buffer is posted (default 256). */
    rxBacklog?: number;
  };
  rng?: { maxBytesPerRequest?: number };
  queueSize?: number;
  /** Puts a wrapper (a probe) between endpoint `i`'s transport and its device. */
  wrapDevice?: (device: VirtioDevice, endpoint: number) => VirtioDevice;
  eventIdx?: boolean;
  /** Seeds the rng device (default 1). */
  seed?: number;
  /** RAM of each guest in pages (default 4096: 16 MiB). */
  guestPages?: number;
}

/** One guest's driver joined to one transport, and who runs each side. */
export interface Endpoint {
  name: string;
  /** Domain (or KVM VM id) running the frontend driver. */
  frontendDomid: number;
  /** Domain running the backend; undefined for a host VMM (KVM). */
  backendDomid: number | undefined;
  transport: Transport;
  driver: VirtioDriver<any>;
  /** The guest's allocator for buffers (rings may live elsewhere, see ringPagesFor). */
  pages: GuestPages;
}

export interface World extends WorldDevices {
  readonly options: WorldOptions;
  readonly choice: TransportChoice;
  /** Spelling of the transport, normalised (`argo` -> `argo:buffered`). */
  readonly transportName: string;
  readonly arch: Arch;
  /** The host architecture the Xen model runs (undefined for KVM). */
  readonly xenArch: XenArch | undefined;
  readonly machine: Machine;
  readonly env: XenWorldEnv | undefined;
  readonly domains: readonly WorldDomain[];
  readonly endpoints: readonly Endpoint[];
  readonly transports: readonly Transport[];
  readonly drivers: readonly VirtioDriver<any>[];
  /** One backend pass of every transport; returns chains completed. */
  service(): number;
  /** Each guest's interrupt handler; returns completions per endpoint (null: no interrupt). */
  handleInterrupts(): (ReturnType<VirtioDriver<any>["handleInterrupt"]>)[];
  /** What every backend can reach, summed over the endpoints. */
  exposure(): Exposure;
  close(): void;
}

export const DEFAULT_GUEST_PAGES = 4096;

/** Parses the transport spelling, throwing a RangeError that lists the valid ones. */
export function transportChoice(text: string): TransportChoice {
  const c = parseTransport(text);
  if (!c) throw new RangeError(`unknown transport '${text}'; expected one of ${TRANSPORT_SPELLINGS.join(", ")}`);
  return c;
}

export function buildWorld(o: WorldOptions): World {
  const choice = transportChoice(o.transport);
  const transportName = choice.variant ? `${choice.id}:${choice.variant}` : choice.id;
  const placement = o.backend ?? "dom0";
  if (choice.id === "kvm-ioeventfd" && placement !== "dom0") {
    throw new TransportSetupError("kvm-ioeventfd", `a KVM backend is a VMM process in the host; there is no ${placement} to run it in`);
  }
  const guests = o.device === "net" && (o.net?.topology ?? "pair") === "pair" ? 2 : 1;
  const hosts: WorldHosts = buildHosts({ choice, arch: o.arch, placement, guests, build: o.build, xsm: o.xsm, labels: o.labels, servicePages: servicePagesFor(o.argoRingLen, guests), tlbFlushElision: o.tlbFlushElision, guestPages: o.guestPages ?? DEFAULT_GUEST_PAGES });
  const devs = buildDevices(o, guests);
  const endpoints: Endpoint[] = [];
  const slots = new Map<number, number>();
  try {
    for (let i = 0; i < guests; i++) {
      const guest = hosts.guests[i]!;
      const backend = hosts.backends[i]!;
      const slot = slots.get(backend) ?? 0;
      slots.set(backend, slot + 1);
      const transport = createTransport({
        choice, env: hosts.env, vm: hosts.vms[i], guest, backend, device: o.wrapDevice ? o.wrapDevice(devs.deviceOf(i), i) : devs.deviceOf(i), eventIdx: o.eventIdx, slot,
        ...transportSizesOf(o), dataPath: o.backendDataPath, foreignMap: o.foreignMap,
      });
      const pages = new GuestPages(guest, 16, 2048);
      const driver = devs.attach(i, hosts.machine, transport, pages, { eventIdx: o.eventIdx, queueSize: o.queueSize });
      endpoints.push({
        name: i === 0 ? "guest" : "peer", frontendDomid: guest, backendDomid: transport.backendDomid, transport, driver, pages,
      });
    }
  } catch (e) {
    for (const ep of endpoints) ep.transport.close();
    devs.close();
    throw e;
  }
  const transports = endpoints.map((e) => e.transport);
  return {
    ...devs.view,
    options: o, choice, transportName, arch: o.arch, xenArch: hosts.xenArch, machine: hosts.machine, env: hosts.env,
    domains: hosts.domains, endpoints, transports, drivers: endpoints.map((e) => e.driver),
    service: () => transports.reduce((n, t) => n + t.service(), 0),
    handleInterrupts: () => endpoints.map((e) => e.driver.handleInterrupt()),
    exposure: () => transports.map((t) => t.exposure()).reduce(
      (a, x) => ({ reachable: a.reachable + x.reachable, mapped: a.mapped + x.mapped, mappedPeak: a.mappedPeak + x.mappedPeak }),
      { reachable: 0, mapped: 0, mappedPeak: 0 },
    ),
    close: () => {
      for (const t of transports) t.close();
      devs.close();
    },
  };
}
