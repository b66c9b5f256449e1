// One transport instance from its scenario spelling, and the generic guest driver joined to
// it: the one place that knows each transport's constructor, what its backend needs from the
// Xen model, where its driver must put the rings and which platform features it requires.
import * as L from "../wasm/layout.ts";
import type { Machine } from "../wasm/machine.ts";
import type { TransportChoice } from "../scenario/vocabulary.ts";
import type { VirtioDevice } from "../devices/types.ts";
import { KvmVm } from "../kvm/kvm.ts";
import type { Argo } from "../xen/argo.ts";
import type { GrantTables } from "../xen/grant-table.ts";
import type { Xenstore } from "../xen/xenstore.ts";
import { ArgoTransport } from "../transports/argo.ts";
import { FatVirtqueueTransport } from "../transports/fat-virtqueue.ts";
import { GrantMapTransport } from "../transports/grant-map.ts";
import { KvmIoeventfdTransport } from "../transports/kvm-ioeventfd.ts";
import { MmioForeignTransport } from "../transports/mmio-foreign.ts";
import type { ForeignMapMode } from "../transports/foreign-map.ts";
import { PresharedBounceTransport } from "../transports/preshared-bounce.ts";
import { PvP2mTransport } from "../transports/pv-p2m.ts";
import { TransportSetupError, type Transport } from "../transports/types.ts";
import type { XenEnv } from "../transports/xen-env.ts";
import { VirtioDriver } from "../virtio/driver.ts";
import type { ConfigField } from "../virtio/driver-probe.ts";
import { GuestPages } from "../virtio/guest-pages.ts";

/** The Xen model a world runs on: the env every transport uses plus the optional subsystems. */
export interface XenWorldEnv extends XenEnv {
  gt?: GrantTables;
  argo?: Argo;
  xenstore?: Xenstore;
}

export interface TransportSite {
  choice: TransportChoice;
  /** Xen transports: the env (with the subsystem the transport needs registered). */
  env?: XenWorldEnv;
  /** kvm-ioeventfd: the VM of the guest. */
  vm?: KvmVm;
  guest: number;
  /** Backend domain (ignored for kvm-ioeventfd, whose VMM runs in the host). */
  backend: number;
  device: VirtioDevice;
  /** Offer EVENT_IDX where the transport lets the backend choose (default true). */
  eventIdx?: boolean;
  /** Queues the device has: transports that reserve ring pages reserve 3 per queue. */
  numQueues?: number;
  /** The k-th transport of this kind in one backend domain (keeps their private areas apart). */
  slot?: number;
  /** fat-virtqueue slot bytes and argo ring bytes (defaults: the transports' own). */
  fatSlotBytes?: number;
  fatSlots?: number;
  bouncePoolPages?: number;
  argoRingLen?: number;
  /** grant-map: the device's data moves by DMA (the backend unmaps those pages apart). */
  dataPath?: "cpu" | "dma";
  /** mmio-foreign's buffer mapping (default per request). */
  foreignMap?: ForeignMapMode;
}

const need = <T>(v: T | undefined, id: string, what: string): T => {
  if (v === undefined) throw new TransportSetupError(id as Transport["id"], `the world has no ${what} for it`);
  return v;
};

/** Builds the transport named by `s.choice`. Throws the transport's TransportSetupError when
 *  the backend may not serve the guest that way. */
export function createTransport(s: TransportSite): Transport {
  const { guest, backend, device } = s;
  const id = s.choice.id;
  const env = () => need(s.env, id, "Xen model");
  const rings = 3 * (s.numQueues ?? device.numQueues);
  switch (id) {
    case "kvm-ioeventfd":
      return new KvmIoeventfdTransport({ vm: need(s.vm, id, "KVM VM"), device, eventIdx: s.eventIdx });
    case "mmio-foreign":
      return new MmioForeignTransport({ env: env(), guest, backend, device, eventIdx: s.eventIdx, ...(s.foreignMap ? { mapping: { mode: s.foreignMap } } : {}) });
    case "grant-map":
    case "grant-copy":
    case "grant-persistent": {
      const e = env();
      const mode = id === "grant-map" ? "map" : id === "grant-copy" ? "copy" : "persistent";
      return new GrantMapTransport({ env: e, gt: need(e.gt, id, "grant tables"), guest, backend, device, mode, eventIdx: s.eventIdx, dataPath: s.dataPath });
    }
    case "argo": {
      const e = env();
      const variant = s.choice.variant ?? "buffered";
      // Each argo transport of one backend gets its own backend area (ring, send buffer, local
      // buffers, header and scratch pages): 96 pages at the default 64 KiB ring.
      const bufPages = Math.ceil((s.argoRingLen ?? 0x10000) / L.PAGE_SIZE);
      const backendGfn = 16 + Math.max(96, 3 * bufPages + 16) * (s.slot ?? 0);
      return new ArgoTransport({ env: e, argo: need(e.argo, id, "Argo"), guest, backend, device, variant, backendGfn, ringLen: s.argoRingLen });
    }
    case "pv-p2m": {
      const e = env();
      const xs = need(e.xenstore, id, "xenstore");
      // ring-page-order: the smallest power of two of pages holding 3 per queue (2 for one queue).
      const ringPageOrder = Math.ceil(Math.log2(rings));
      const ramPages = e.hv.domain(guest)?.ramPages ?? 0;
      // Below the guest's xenstore page (its last RAM page).
      return new PvP2mTransport({ env: e, xenstore: xs, guest, backend, device, eventIdx: s.eventIdx, ringPageOrder, ringGfn: ramPages - 1 - 2 ** ringPageOrder });
    }
    case "fat-virtqueue":
      return new FatVirtqueueTransport({ env: env(), gt: need(s.env?.gt, id, "grant tables"), guest, backend, device, eventIdx: s.eventIdx, ringPages: rings, slotBytes: s.fatSlotBytes, slots: s.fatSlots });
    case "preshared-bounce":
      return new PresharedBounceTransport({ env: env(), guest, backend, device, eventIdx: s.eventIdx, ringPages: rings, poolPages: s.bouncePoolPages });
  }
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

/** The generic virtio driver of `t`'s guest; grant transports add ACCESS_PLATFORM (Linux's
 *  grant DMA ops are used only for a device that offers it). */
export function driverFor<T>(t: Transport, d: DriverSpec, pages: GuestPages): VirtioDriver<T> {
  const platform = t instanceof GrantMapTransport ? 1n << BigInt(L.VIRTIO_F_ACCESS_PLATFORM) : 0n;
  return new VirtioDriver<T>({
    machine: d.machine, domid: t.guest, port: t.frontend, pages: ringPagesFor(t, pages), deviceFeatures: d.deviceFeatures | platform,
    configReads: d.configReads, numQueues: d.numQueues, eventIdx: d.eventIdx ?? true, packed: d.packed, queueSize: d.queueSize ?? 256,
  });
}

export { KvmVm };
