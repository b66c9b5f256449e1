// The Xen model: domains over one Machine, the XSM policy, guest atomics, and the subsystems
// (grant tables, event channels, IOREQ, Argo, xenstore) that register for domain lifecycle.
import { Machine } from "../wasm/machine.ts";
import { CNT_HYPERCALLS, CNT_XSM_DENIED, MAX_DOMAINS } from "../wasm/layout.ts";
import { Domain, type DomainConfig } from "./domain.ts";
import { DummyPolicy, type XsmOp, type XsmPolicy } from "./xsm.ts";
import { X86GuestAtomics, type GuestAtomics } from "./atomics.ts";

/** A part of the hypervisor that keeps per-domain state. */
export interface Subsystem {
  readonly name: string;
  domainCreated?(d: Domain): void;
  /** Called while the domain is dying, before its memory is released: drop mappings,
   *  close channels, unregister rings, as Xen's domain_relinquish_resources does. */
  domainDestroyed?(d: Domain): void;
}

/** The user-facing error of the hypervisor model (bad configuration, not a guest outcome). */
export class XenConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XenConfigError";
  }
}

export interface HypervisorOptions {
  machine?: Machine;
  xsm?: XsmPolicy;
  atomics?: GuestAtomics;
}

export class Hypervisor {
  readonly machine: Machine;
  xsm: XsmPolicy;
  readonly atomics: GuestAtomics;
  private readonly domains = new Map<number, Domain>();
  private readonly subsystems: Subsystem[] = [];

  constructor(opts: HypervisorOptions = {}) {
    this.machine = opts.machine ?? new Machine();
    this.xsm = opts.xsm ?? new DummyPolicy();
    this.atomics = opts.atomics ?? new X86GuestAtomics(this.machine);
  }

  register<T extends Subsystem>(s: T): T {
    this.subsystems.push(s);
    for (const d of this.domains.values()) s.domainCreated?.(d);
    return s;
  }

  /** Counts one hypercall (every model entry point a guest calls does this). */
  hypercall(): void {
    this.machine.bump(CNT_HYPERCALLS);
  }

  /** Runs an XSM hook; a denial is counted. */
  xsmCheck(op: XsmOp, subject: Domain, object?: Domain): boolean {
    const ok = this.xsm.check(op, subject, object);
    if (!ok) this.machine.bump(CNT_XSM_DENIED);
    return ok;
  }

  createDomain(cfg: DomainConfig): Domain {
    let domid = cfg.domid;
    if (domid === undefined) {
      domid = 0;
      while (this.domains.has(domid)) domid++;
    }
    if (!Number.isInteger(domid) || domid < 0 || domid >= MAX_DOMAINS) {
      throw new XenConfigError(`domain ${cfg.name}: domid ${domid} out of range 0..${MAX_DOMAINS - 1}`);
    }
    if (this.domains.has(domid)) throw new XenConfigError(`domain ${cfg.name}: domid ${domid} is in use`);
    if (!Number.isInteger(cfg.ramPages) || cfg.ramPages < 1) {
      throw new XenConfigError(`domain ${cfg.name}: ramPages must be a positive integer, got ${cfg.ramPages}`);
    }
    if (cfg.target !== undefined && !this.domains.has(cfg.target)) {
      throw new XenConfigError(`domain ${cfg.name}: target domain ${cfg.target} does not exist`);
    }
    this.machine.createDomain(domid, cfg.ramPages);
    const d = new Domain(domid, cfg);
    this.domains.set(domid, d);
    for (const s of this.subsystems) s.domainCreated?.(d);
    return d;
  }

  domain(domid: number): Domain | undefined {
    return this.domains.get(domid);
  }

  /** A live domain or undefined (dying and destroyed domains do not take part in hypercalls). */
  live(domid: number): Domain | undefined {
    const d = this.domains.get(domid);
    return d && d.alive ? d : undefined;
  }

  get allDomains(): Domain[] {
    return [...this.domains.values()];
  }

  pause(domid: number): void {
    const d = this.mustGet(domid);
    d.pauseCount++;
    if (d.state === "running") d.state = "paused";
  }

  unpause(domid: number): void {
    const d = this.mustGet(domid);
    if (d.pauseCount === 0) throw new XenConfigError(`domain ${domid} is not paused`);
    d.pauseCount--;
    if (d.pauseCount === 0 && d.state === "paused") d.state = "running";
  }

  /** Tears a domain down: subsystems release what it holds, then its frames go back to the
   *  machine (frames other domains still map stay alive until unmapped). */
  destroyDomain(domid: number): void {
    const d = this.mustGet(domid);
    d.state = "dying";
    for (const s of [...this.subsystems].reverse()) s.domainDestroyed?.(d);
    this.machine.destroyDomain(domid);
    d.state = "destroyed";
    this.domains.delete(domid);
    for (const other of this.domains.values()) if (other.target === domid) other.target = undefined;
  }

  /** Destroys and re-creates a domain with the same configuration and domid. */
  restartDomain(domid: number): Domain {
    const cfg = this.mustGet(domid).config;
    this.destroyDomain(domid);
    return this.createDomain(cfg);
  }

  private mustGet(domid: number): Domain {
    const d = this.domains.get(domid);
    if (!d) throw new XenConfigError(`no domain ${domid}`);
    return d;
  }
}
