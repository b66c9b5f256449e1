// What a loaded scenario is: everything resolved (domids, backends, transports, sizes in
// bytes, times in ns), each part remembering where it was written.
import type { FlaskPolicy } from "../xen/xsm-policy.ts";
import type { Arch, DeviceKind, TransportChoice } from "./vocabulary.ts";
import type { DomainType, XlDomainConfig } from "./xlcfg.ts";
import type { YamlSource } from "./yaml-source.ts";

/** A place in a configuration file. */
export interface Site {
  file: string;
  line: number;
  field: string;
}

export type ProfileRef = { kind: "builtin"; id: Arch } | { kind: "file"; path: string };

export interface ScenarioMachine {
  profile: ProfileRef;
  arch: Arch;
}

export type XsmChoice =
  | { module: "dummy" }
  | { module: "silo" }
  | { module: "flask"; policyFile: string; policy: FlaskPolicy };

export interface ScenarioHypervisor {
  /** kvm when every device uses kvm-ioeventfd (the baseline), xen otherwise. */
  kind: "xen" | "kvm";
  /** gnttab_max_frames (Xen's default 64); a domain's max_grant_frames overrides it. */
  grantFrames: number;
  /** gnttab_max_maptrack_frames (Xen's default 1024). */
  maptrackFrames: number;
  /** Skip the unmap TLB flush when the grant mapping's accessed bit is clear. */
  tlbFlushElision: boolean;
  xsm: XsmChoice;
  argo: { enabled: boolean; macPermissive: boolean };
}

export interface ScenarioDomain {
  domid: number;
  name: string;
  type: DomainType;
  memoryMiB: number;
  maxmemMiB: number;
  vcpus: number;
  maxvcpus: number;
  /** Domain-0 only. */
  control: boolean;
  /** Set by driver_domain=1, or because the domain serves a device. */
  driverDomain: boolean;
  /** XSM (Flask) type: the third part of seclabel; undefined = the model's default. */
  label: string | undefined;
  maxGrantFrames: number;
  maxMaptrackFrames: number;
  /** The parsed xl.cfg (undefined for Domain-0). */
  xl: XlDomainConfig | undefined;
  /** Where the domain was declared. */
  site: Site;
}

export type TransportSource = "scenario device" | "device spec" | "domain" | "scenario default" | "xl default";

export type BlkImage = { kind: "file"; path: string } | { kind: "memory" };

export interface ScenarioDevice {
  /** `guest/xvda`, `guest/vif0`, `guest/virtio1`. */
  id: string;
  kind: DeviceKind;
  frontend: number;
  backend: number;
  transport: TransportChoice;
  /** Which setting chose the transport, and where it is written. */
  transportFrom: TransportSource;
  transportSite: Site;
  /** xl's grant_usage, when the file sets it. */
  grantUsage: boolean | undefined;
  /** The xl.cfg entry (disk[0], vif[1], virtio[2]). */
  site: Site;
  blk?: { image: BlkImage; sizeBytes: number; readonly: boolean };
  net?: { mac: string | undefined; bridge: string | undefined; mtu: number };
}

export type FioRw = "read" | "write" | "randread" | "randwrite" | "randrw";

export type Workload =
  | {
      kind: "fio"; name: string; device: string; rw: FioRw; bs: number; iodepth: number; size: number;
      rwmixread: number; verify: boolean; site: Site;
    }
  | {
      kind: "netperf"; name: string; device: string; peer: string; test: "stream" | "rr";
      messageSize: number; requestSize: number; responseSize: number; site: Site;
    }
  | { kind: "rng"; name: string; device: string; readSize: number; site: Site };

/** Requests each workload completes (its own job); there is no duration in virtual time. */
export type Duration = { kind: "ios"; ios: number };

export interface Scenario {
  file: string;
  name: string;
  machine: ScenarioMachine;
  hypervisor: ScenarioHypervisor;
  /** Domain-0 first, then the scenario's domains in order (domids 1, 2, ...). */
  domains: ScenarioDomain[];
  devices: ScenarioDevice[];
  workloads: Workload[];
  duration: Duration;
  seed: number;
  /** Parts of the configuration vxsim reads but does not simulate, with their location. */
  warnings: string[];
}

/** The scenario data after schema validation (keys as in the YAML file). */
export interface RawScenario {
  name?: string;
  description?: string;
  machine: { profile: string; arch?: Arch };
  hypervisor?: {
    grant_frames?: number; maptrack_frames?: number; tlb_flush_elision?: boolean;
    xsm?: "dummy" | "silo" | "flask"; xsm_policy?: string; argo?: { enabled?: boolean; mac_permissive?: boolean };
  };
  dom0?: { memory?: number; vcpus?: number };
  transport?: string;
  domains: Array<{ cfg?: string; xl?: string | string[] }>;
  devices?: Record<string, { transport: string }>;
  workloads: Array<{
    fio?: { name?: string; device: string; rw: FioRw; bs?: number | string; iodepth?: number; size?: number | string; rwmixread?: number; verify?: boolean };
    netperf?: { name?: string; device: string; peer: string; test: "stream" | "rr"; message_size?: number | string; request_size?: number | string; response_size?: number | string };
    rng?: { name?: string; device: string; read_size?: number | string };
  }>;
  duration: { ios: number };
  seed: number;
}

/** What the resolution steps share. */
export interface ScenarioContext {
  src: YamlSource;
  raw: RawScenario;
  /** Directory that relative paths of the scenario are relative to. */
  baseDir: string;
  warnings: string[];
}
