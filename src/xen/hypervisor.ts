// The Xen model: domains over one Machine, the XSM policy, guest atomics, and the subsystems
// (grant tables, event channels, IOREQ, Argo, xenstore) that register for domain lifecycle.
import { Machine } from "../wasm/machine.ts";
import { CNT_HYPERCALLS, CNT_XSM_DENIED, MAX_DOMAINS } from "../wasm/layout.ts";
import { Domain, type DomainConfig } from "./domain.ts";
import { DummyPolicy, type XsmOp, type XsmPolicy } from "./xsm.ts";
import { X86GuestAtomics, type GuestAtomics } from "./atomics.ts";
import type { IoDir, MmioDone, MmioHandler, MmioResult } from "./mmio.ts";

/** The host architecture Xen runs on: decides architecture-specific guest outcomes (what an
 *  unclaimed MMIO access does). Atomics are chosen separately (HypervisorOptions.atomics). */
export type XenArch = "x86-64" | "arm64" | "riscv64";
export const XEN_ARCHES: readonly XenArch[] = ["x86-64", "arm64", "riscv64"];

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
  /** Defaults to "x86-64". */
  arch?: XenArch;
}

export class Hypervisor {
  readonly machine: Machine;
  xsm: XsmPolicy;
  readonly atomics: GuestAtomics;
  readonly arch: XenArch;
  private readonly domains = new Map<number, Domain>();
  private readonly subsystems: Subsystem[] = [];
  private readonly crashed = new Map<number, string>();
  private mmio: MmioHandler | undefined;

  constructor(opts: HypervisorOptions = {}) {
    this.machine = opts.machine ?? new Machine();
    this.xsm = opts.xsm ?? new DummyPolicy();
    this.atomics = opts.atomics ?? new X86GuestAtomics(this.machine);
    const arch = opts.arch ?? "x86-64";
    if (!XEN_ARCHES.includes(arch)) throw new XenConfigError(`arch must be one of ${XEN_ARCHES.join(", ")}, got ${String(arch)}`);
    this.arch = arch;
  }

  /** The subsystem that turns guest MMIO/PIO accesses into IOREQs (src/xen/ioreq.ts). */
  setMmioHandler(h: MmioHandler): void {
    if (this.mmio && this.mmio !== h) throw new XenConfigError("an MMIO handler (IOREQ subsystem) is already registered");
    this.mmio = h;
  }

  /** A guest vCPU's load (dir "read") or store of `size` bytes at guest-physical `addr` that
   *  trapped to Xen (no p2m mapping there). */
  mmioAccess(domid: number, vcpu: number, addr: number, size: number, dir: IoDir, data: bigint | number = 0n, done?: MmioDone): MmioResult {
    if (!this.mmio) throw new XenConfigError("mmioAccess: no IOREQ subsystem registered");
    return this.mmio.ioAccess("mmio", domid, vcpu, addr, size, dir, data, done);
  }

  /** x86 port I/O (in/out) that trapped to Xen. */
  pioAccess(domid: number, vcpu: number, port: number, size: number, dir: IoDir, data: bigint | number = 0n, done?: MmioDone): MmioResult {
    if (!this.mmio) throw new XenConfigError("pioAccess: no IOREQ subsystem registered");
    return this.mmio.ioAccess("pio", domid, vcpu, port, size, dir, data, done);
  }

  /** domain_crash(): the guest did something Xen treats as fatal. Its vCPUs stop (the domain
   *  stays paused, unpause cannot resume it) until the toolstack destroys or restarts it. */
  crashDomain(domid: number, reason: string): void {
    const d = this.mustGet(domid);
    if (!d.alive || this.crashed.has(domid)) return;
    this.crashed.set(domid, reason);
    d.state = "paused";
  }

  /** Why the domain crashed, or undefined while it has not. */
  crashReason(domid: number): string | undefined {
    return this.crashed.get(domid);
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
    if (d.pauseCount === 0 && d.state === "paused" && !this.crashed.has(domid)) d.state = "running";
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
    this.crashed.delete(domid);
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
