// What one simulated job produces: the shape every consumer (CLI tables, experiments, sweeps,
// the HTML report, the trace and profile exporters, library users) reads. Plain data only, so a
// result crosses worker threads and JSON files unchanged.
import type { Component } from "../cost/primitives.ts";
import type { Price } from "../cost/price.ts";
import type { LatencySummary } from "../sim/stats.ts";
import type { Exposure } from "../transports/types.ts";

export const RESULT_FORMAT = "vxsim-result/1";

export type DeviceKind = "blk" | "net" | "rng";

/** One job to simulate: a device over a transport on an architecture, driven by a workload. */
export interface JobSpec {
  /** Transport spelling as in scenarios: `grant-map`, `argo:sg`, `kvm-ioeventfd`, ... */
  transport: string;
  /** Built-in profile id (`x86-64`, `arm64-v8.0`, `arm64-v8.1-lse`, `riscv64`) or a profile file. */
  profile: string;
  device: DeviceKind;
  /** blk: fio-like job; net: netperf-like; rng: reads. Sizes in bytes. */
  workload:
    | { kind: "fio"; rw: "read" | "write" | "randread" | "randwrite" | "randrw"; bs: number; iodepth: number; rwmixread?: number }
    | { kind: "netperf"; test: "stream" | "rr"; messageSize: number; responseSize?: number }
    | { kind: "rng"; readSize: number };
  /** Requests (I/Os, messages, reads) to complete in the measured phase. */
  ios: number;
  seed: number;
  /** virtio-blk's backing: a raw disk-image file (`image`: it must exist, its size is the
   *  disk's, a multiple of 512 bytes; vxsim never creates one) or, without it, a 1 MiB memory
   *  disk of `sizeBytes` (default 1 MiB). `readOnly` offers VIRTIO_BLK_F_RO and answers every
   *  write with IOERR (as xl's `access=ro`); the file is then opened read-only. */
  blk?: { image?: string; sizeBytes?: number; readOnly?: boolean };
  /** Hypervisor switches that change behaviour (default: off / the architecture's default). */
  options?: {
    tlbFlushElision?: boolean;
    /** Where the backend runs (default dom0). "driver-domain": a domain other than dom0 whose
     *  rights over the guest come from XSM (DRIVER_DOMAIN_POLICY: device-model rights and
     *  grants, no foreign mapping): grant-map/copy/persistent and argo run there, mmio-foreign
     *  and the other foreign-mapping transports are refused (docs/transports.md). */
    backendDomain?: "dom0" | "driver-domain";
    /** mmio-foreign: how the device model reaches buffers. "per-request" (default, xen-troops'
     *  virtio-disk): map each request's pages, unmap after; "cache": keep small segments'
     *  pages mapped (LRU); "all-ram": map all guest RAM once at set-up, 0 maps per I/O. */
    foreignMap?: "per-request" | "cache" | "all-ram";
    /** blk data moved by the backend's CPU (default) or by a disk's DMA on the reached pages. */
    backendDataPath?: "cpu" | "dma";
    /** The hypervisor's XSM module (default: dummy, or DRIVER_DOMAIN_POLICY with a driver-domain
     *  backend). A Flask policy comes as its text (and the file it was read from, for messages). */
    xsm?: XsmSpec;
    /** Flask types of the world's domains (default dom0_t, front_t for the guests, back_t for a
     *  driver or stub domain), as xl's seclabel gives them. */
    labels?: { dom0?: string; guest?: string; backend?: string };
  };
}

export type XsmSpec = { module: "dummy" } | { module: "silo" } | { module: "flask"; file: string; policy: string };

/** A busy interval of one simulated CPU, for traces and timelines. */
export interface TimelineSpan {
  /** CPU track, e.g. `d1v0` (domain 1 vCPU 0), `d0v0`, `xen-pcpu0`. */
  cpu: string;
  /** Owning domain name, e.g. `guest`, `Domain-0`, `xen`. */
  domain: string;
  component: Component;
  /** What the CPU was doing: `submit+kick`, `service`, `interrupt`, `hypercall:grant_table_op` ... */
  label: string;
  startNs: number;
  durNs: number;
}

export interface CpuUse {
  cpu: string;
  domain: string;
  busyNs: number;
  utilisation: number;
  byComponent: Record<Component, number>;
}

/** The mechanism counts a reader compares transports by, per completed I/O. */
export interface PerIo {
  /** Payload copies the transport adds, all parties, then by who makes them. */
  copies: number;
  copiesGuest: number;
  copiesHv: number;
  copiesBackend: number;
  copyBytes: number;
  grantOps: number;
  maps: number;
  unmaps: number;
  tlbFlushes: number;
  tlbFlushesElided: number;
  traps: number;
  /** IOREQs Xen sent to a device model (trapped accesses forwarded to an emulator). */
  ioreqs: number;
  hypercalls: number;
  notifications: number;
  notificationsSuppressed: number;
  interrupts: number;
  evtchnSends: number;
  atomics: number;
}

export interface JobResult {
  format: typeof RESULT_FORMAT;
  spec: JobSpec;
  /** Resolved profile name and architecture. */
  profile: string;
  arch: string;
  /** I/Os completed and payload bytes moved (every one verified). */
  ios: number;
  bytes: number;
  bytesVerified: number;
  /** Virtual time of the measured phase and what it gives. */
  elapsedNs: number;
  iops: number;
  throughputMBps: number;
  latency: LatencySummary;
  perIo: PerIo;
  /** Priced cycles of the measured phase (all CPUs), and per I/O. */
  price: Price;
  cyclesPerIo: number;
  cpu: CpuUse[];
  /** Busy ns by domain name and component, with a total. */
  cpuByDomain: Record<string, Record<Component | "total", number>>;
  /** Guest pages the backend can reach / has mapped at the end of the run. */
  exposure: Exposure;
  /** The counters block delta over the measured phase (one value per slot). */
  counters: number[];
  /** Busy spans, present when the job ran with tracing on. */
  timeline?: TimelineSpan[];
}
