// Every transport vxsim models, one entry each: how a world builds it and the facts about it the
// rest of the code asks (which Xen subsystems it needs, whether its backend works on the guest's
// memory or on a copy, what the platform adds to the device's features). Adding a transport is
// its module plus its id in types.ts and an entry here; `Record<TransportId, …>` makes the
// compiler ask for the entry, and the id lists of the scenario vocabulary, `vxsim compare` and C7
// are derived from this table.
import * as L from "../wasm/layout.ts";
import type { VirtioDevice } from "../devices/types.ts";
import type { KvmVm } from "../kvm/kvm.ts";
import type { Argo } from "../xen/argo.ts";
import type { GrantTables } from "../xen/grant-table.ts";
import type { Xenstore } from "../xen/xenstore.ts";
import { ARGO_VARIANTS, ArgoTransport, type ArgoVariant } from "./argo.ts";
import { FatVirtqueueTransport } from "./fat-virtqueue.ts";
import type { ForeignMapMode } from "./foreign-map.ts";
import { GrantMapTransport } from "./grant-map.ts";
import { KvmIoeventfdTransport } from "./kvm-ioeventfd.ts";
import { MmioForeignTransport } from "./mmio-foreign.ts";
import { PresharedBounceTransport } from "./preshared-bounce.ts";
import { PvP2mTransport } from "./pv-p2m.ts";
import { TRANSPORT_IDS, TransportSetupError, type Transport, type TransportId } from "./types.ts";
import type { XenEnv } from "./xen-env.ts";

/** The Xen model a world runs on: the env every transport uses plus the optional subsystems. */
export interface XenWorldEnv extends XenEnv {
  gt?: GrantTables;
  argo?: Argo;
  xenstore?: Xenstore;
}

/** A transport as configured: `argo` alone means the buffered variant. */
export interface TransportChoice {
  id: TransportId;
  /** Only for argo: buffered (3 copies) or sg (scatter-gather source, 1 copy). */
  variant?: ArgoVariant;
}

/** What a job sizes in its transport (absent: the transport's own default). */
export interface TransportSizes {
  /** fat-virtqueue: bytes of each payload slot (default 4096; the design sizes slots for the
   *  device's largest buffer). */
  fatSlotBytes?: number;
  /** fat-virtqueue slots and preshared-bounce pool pages (defaults: the transports' 32). */
  fatSlots?: number;
  bouncePoolPages?: number;
  /** grant-persistent: pages the guest grants once for the pool (default the transport's 64). */
  persistentPoolPages?: number;
  /** pv-p2m: backend gfns for mapping requests' machine frames, and the guest's swiotlb pool
   *  pages (default the transport's 64 each). */
  pvMapWindowPages?: number;
  /** argo: data bytes of each side's ring (default 64 KiB); a message must fit whole. */
  argoRingLen?: number;
}

const SIZE_KEYS = ["fatSlotBytes", "fatSlots", "bouncePoolPages", "persistentPoolPages", "pvMapWindowPages", "argoRingLen"] as const satisfies readonly (keyof TransportSizes)[];

/** The sizing fields of `o`, the ones it sets. */
export function transportSizesOf(o: TransportSizes): TransportSizes {
  const out: TransportSizes = {};
  for (const k of SIZE_KEYS) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** Where a transport is built: the world's pieces and the job's sizing. */
export interface TransportSite extends TransportSizes {
  choice: TransportChoice;
  /** Xen transports: the env (with the subsystems the entry `needs` registered). */
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
  /** grant-map: the device's data moves by DMA (the backend unmaps those pages apart). */
  dataPath?: "cpu" | "dma";
  /** mmio-foreign's buffer mapping (default per request). */
  foreignMap?: ForeignMapMode;
}

/** A Xen subsystem a world starts only for the transports that use it. */
export type XenSubsystem = "grant-tables" | "argo" | "xenstore";

export interface TransportEntry {
  /** The design it models (DESIGN.md's seed names). */
  seed: string;
  /** Spellings `id:variant` a configuration may use; the first is what the bare id means. */
  variants?: readonly string[];
  /** Whether the backend's device reads the guest's buffers where they are ("shared": the guest
   *  can change them under it) or a private copy ("copied"). C7 tests this against a run. */
  data: "shared" | "copied";
  needs: readonly XenSubsystem[];
  /** Virtio feature bits the platform adds to the device's offer (grant DMA needs ACCESS_PLATFORM:
   *  Linux uses its grant DMA ops only for a device that offers it). */
  platformFeatures: bigint;
  /** Builds it; throws its TransportSetupError when the backend may not serve the guest so. */
  create(s: TransportSite): Transport;
}

const need = <T>(v: T | undefined, id: TransportId, what: string): T => {
  if (v === undefined) throw new TransportSetupError(id, `the world has no ${what} for it`);
  return v;
};
const xen = (s: TransportSite) => need(s.env, s.choice.id, "Xen model");
const ringPagesOf = (s: TransportSite) => 3 * (s.numQueues ?? s.device.numQueues);
const ACCESS_PLATFORM = 1n << BigInt(L.VIRTIO_F_ACCESS_PLATFORM);

function grantTransport(mode: "map" | "copy" | "persistent", data: TransportEntry["data"]): TransportEntry {
  return {
    seed: mode === "persistent" ? "blkback's persistent grants applied to virtio" : "VirtIO-SuSE (grant DMA)",
    data, needs: ["grant-tables"], platformFeatures: ACCESS_PLATFORM,
    create: (s) => {
      const env = xen(s);
      return new GrantMapTransport({ env, gt: need(env.gt, s.choice.id, "grant tables"), guest: s.guest, backend: s.backend, device: s.device, mode, eventIdx: s.eventIdx, dataPath: s.dataPath, ...(mode === "persistent" && s.persistentPoolPages ? { poolPages: s.persistentPoolPages } : {}) });
    },
  };
}

export const TRANSPORTS: Readonly<Record<TransportId, TransportEntry>> = {
  "kvm-ioeventfd": {
    seed: "KVM baseline", data: "shared", needs: [], platformFeatures: 0n,
    create: (s) => new KvmIoeventfdTransport({ vm: need(s.vm, s.choice.id, "KVM VM"), device: s.device, eventIdx: s.eventIdx }),
  },
  "mmio-foreign": {
    seed: "VirtIO-EPAM", data: "shared", needs: [], platformFeatures: 0n,
    create: (s) => new MmioForeignTransport({ env: xen(s), guest: s.guest, backend: s.backend, device: s.device, eventIdx: s.eventIdx, ...(s.foreignMap ? { mapping: { mode: s.foreignMap } } : {}) }),
  },
  "grant-map": grantTransport("map", "shared"),
  "grant-copy": grantTransport("copy", "copied"),
  "grant-persistent": grantTransport("persistent", "shared"),
  argo: {
    seed: "VirtIO-Argo", variants: ARGO_VARIANTS, data: "copied", needs: ["argo"], platformFeatures: 0n,
    create: (s) => {
      const env = xen(s);
      // Each argo transport of one backend gets its own backend area (ring, send buffer, local
      // buffers, header and scratch pages): 96 pages at the default 64 KiB ring.
      const bufPages = Math.ceil((s.argoRingLen ?? 0x10000) / L.PAGE_SIZE);
      const backendGfn = 16 + Math.max(96, 3 * bufPages + 16) * (s.slot ?? 0);
      return new ArgoTransport({ env, argo: need(env.argo, "argo", "Argo"), guest: s.guest, backend: s.backend, device: s.device, variant: s.choice.variant ?? ARGO_VARIANTS[0], backendGfn, ringLen: s.argoRingLen });
    },
  },
  "pv-p2m": {
    seed: "VirtIO-Xen-GSoC", data: "shared", needs: ["xenstore"], platformFeatures: 0n,
    create: (s) => {
      const env = xen(s);
      // ring-page-order: the smallest power of two of pages holding 3 per queue (2 for one queue).
      const ringPageOrder = Math.ceil(Math.log2(ringPagesOf(s)));
      const ramPages = env.hv.domain(s.guest)?.ramPages ?? 0;
      // Below the guest's xenstore page (its last RAM page).
      return new PvP2mTransport({ env, xenstore: need(env.xenstore, "pv-p2m", "xenstore"), guest: s.guest, backend: s.backend, device: s.device, eventIdx: s.eventIdx, ringPageOrder, ringGfn: ramPages - 1 - 2 ** ringPageOrder,
        // The map window and the guest's swiotlb pool both hold every request in flight.
        windowPages: s.pvMapWindowPages, swiotlbPages: s.pvMapWindowPages });
    },
  },
  "fat-virtqueue": {
    seed: "Linaro Fat Virtqueue", data: "shared", needs: ["grant-tables"], platformFeatures: 0n,
    create: (s) => {
      const env = xen(s);
      return new FatVirtqueueTransport({ env, gt: need(env.gt, "fat-virtqueue", "grant tables"), guest: s.guest, backend: s.backend, device: s.device, eventIdx: s.eventIdx, ringPages: ringPagesOf(s), slotBytes: s.fatSlotBytes, slots: s.fatSlots });
    },
  },
  "preshared-bounce": {
    seed: "Wind River / OpenAMP pre-shared memory", data: "shared", needs: [], platformFeatures: 0n,
    create: (s) => new PresharedBounceTransport({ env: xen(s), guest: s.guest, backend: s.backend, device: s.device, eventIdx: s.eventIdx, ringPages: ringPagesOf(s), poolPages: s.bouncePoolPages }),
  },
};

/** Every configurable spelling of every transport, in TRANSPORT_IDS order (a transport with
 *  variants is listed once per variant). */
export const TRANSPORT_VARIANT_NAMES: readonly string[] = TRANSPORT_IDS.flatMap((id) => TRANSPORTS[id].variants?.map((v) => `${id}:${v}`) ?? [id]);

/** The entry behind a spelling (`argo:sg` is argo's). */
export const transportEntry = (spelling: string): TransportEntry | undefined =>
  TRANSPORTS[spelling.split(":")[0] as TransportId];
