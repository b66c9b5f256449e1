// A Xen domain as the hypervisor model sees it. Memory lives in the Machine (p2m, frames);
// this object holds identity, privilege and lifecycle.

export type DomainState = "running" | "paused" | "dying" | "destroyed";

export interface DomainConfig {
  /** Fixed domid; the first free one when omitted (0 is taken by the first control domain). */
  domid?: number;
  name: string;
  /** Guest RAM in 4 KiB pages. */
  ramPages: number;
  vcpus?: number;
  /** The control domain (dom0): may foreign-map any guest and issue dm_ops. */
  control?: boolean;
  /** Device-model target: this domain is privileged over that guest only (xc_domain_set_target). */
  target?: number;
  /** A driver domain: hosts backends without control-domain privilege. */
  driverDomain?: boolean;
  /** XSM label (Flask type); defaults to dom0_t / domU_t. */
  label?: string;
}

export class Domain {
  readonly domid: number;
  readonly name: string;
  readonly ramPages: number;
  readonly vcpus: number;
  readonly isControl: boolean;
  target: number | undefined;
  readonly isDriverDomain: boolean;
  readonly label: string;
  state: DomainState = "running";
  /** Nested pause count (domain_pause / domain_unpause). */
  pauseCount = 0;
  /** Times paused so far, and how many of those were XSA-295 guest-safe atomics pausing it. */
  pauses = 0;
  xsa295Pauses = 0;
  readonly config: DomainConfig;

  constructor(domid: number, cfg: DomainConfig) {
    this.domid = domid;
    this.name = cfg.name;
    this.ramPages = cfg.ramPages;
    this.vcpus = cfg.vcpus ?? 1;
    this.isControl = cfg.control ?? false;
    this.target = cfg.target;
    this.isDriverDomain = cfg.driverDomain ?? false;
    this.label = cfg.label ?? (this.isControl ? "dom0_t" : "domU_t");
    this.config = { ...cfg, domid };
  }

  /** May this domain act as the device model of `guest` (foreign map, dm_op)? */
  isPrivilegedOver(guest: number): boolean {
    return this.isControl || this.target === guest;
  }

  get alive(): boolean {
    return this.state === "running" || this.state === "paused";
  }
}
