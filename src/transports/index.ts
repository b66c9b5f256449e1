// Public exports of the transport layer, the generic guest driver, the devices and KVM model
// it ships with (re-exported by src/index.ts).
export { TRANSPORT_IDS, TransportSetupError, type Exposure, type Transport, type TransportId } from "./types.ts";
export { TRANSPORTS, TRANSPORT_VARIANT_NAMES, transportEntry, type TransportChoice, type TransportEntry, type TransportSite, type XenSubsystem, type XenWorldEnv } from "./registry.ts";
export { KvmIoeventfdTransport, type KvmIoeventfdOptions } from "./kvm-ioeventfd.ts";
export { MmioForeignTransport, type MmioForeignOptions } from "./mmio-foreign.ts";
export { GrantMapTransport, decodeGrantDma, grantDmaAddr, type GrantMapOptions, type GrantMode } from "./grant-map.ts";
export { GrantCopyChainIo } from "./grant-copy-io.ts";
export { ArgoTransport, type ArgoTransportOptions, type ArgoVariant } from "./argo.ts";
export { PresharedBounceTransport, type PresharedBounceOptions } from "./preshared-bounce.ts";
export { FatVirtqueueTransport, type FatVirtqueueOptions } from "./fat-virtqueue.ts";
export { PvP2mTransport, type PvP2mOptions } from "./pv-p2m.ts";
export { ForeignBufferMap, type ForeignMapPolicy } from "./foreign-map.ts";
export { makeXenEnv, takeBackendGfns, UpcallRouter, type PortHandler, type XenEnv } from "./xen-env.ts";
export { VirtioBackend, type BackendHooks, type BackendOptions, type OpenChain, type RingPlacement } from "./backend.ts";
export { MmioRegs, type MmioFault, type MmioFaultCode, type MmioRegsHooks } from "./mmio-regs.ts";
export { SegmentChainIo, type Reach, type Reached } from "./chain-io.ts";
export { runHarness, type GuestWorkload, type HarnessOptions, type HarnessResult } from "./harness.ts";
export { VirtioDriver, type Completion as DriverCompletion, type VirtioDriverOptions } from "../virtio/driver.ts";
export { DriverError, type ConfigField, type ProbeResult } from "../virtio/driver-probe.ts";
export type { FrontendPort, GuestBuf } from "../virtio/port.ts";
export { GuestPages } from "../virtio/guest-pages.ts";
export { allocQueueId, freeQueueId, reserveQueueId } from "../virtio/queue-ids.ts";
export { openDeviceRing, openDriverRing, ringAreaBytes, type DeviceRing, type DriverRing, type RingAddrs } from "../virtio/rings.ts";
export { Eventfd, KvmVm } from "../kvm/kvm.ts";
export { VirtioBlk, type BlkStats, type VirtioBlkOptions } from "../devices/blk.ts";
export { FileDisk, MemDisk, type BlkBacking, type FileDiskOptions } from "../devices/blk-backing.ts";
export { BLK_CONFIG_READS, BLK_DRIVER_FEATURES, BlkGuest, encodeRanges, type BlkRange, type BlkResult, type BlkTag } from "../devices/blk-guest.ts";
export { DeviceIoError, type Chain, type ChainIo, type Completion, type Segment, type VirtioDevice } from "../devices/types.ts";
