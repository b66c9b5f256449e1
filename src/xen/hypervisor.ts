// The Xen model: domains over one Machine, the XSM policy, guest atomics, and the subsystems
// (grant tables, event channels, IOREQ, foreign mapping, Argo, xenstore) that register for
// domain lifecycle, hypercall numbers and memory_op sub-commands. `hypercall(caller, nr, ...)`
// is the one entry by hypercall number; each subsystem's own entry points (grantTableOp,
// eventChannelOp, ...) are what it dispatches to. createXen() (xen.ts) builds a complete one.
import { Machine } from "../wasm/machine.ts";
import * as L from "../wasm/layout.ts";
import { Domain, type DomainConfig } from "./domain.ts";
import { DummyPolicy, type XsmOp, type XsmPolicy } from "./xsm.ts";
import { X86GuestAtomics, type GuestAtomics } from "./atomics.ts";
import type { IoDir, MmioDone, MmioHandler, MmioResult } from "./mmio.ts";
import { XenConfigError } from "./config-error.ts";
import { MemoryOps, type MemoryOpTable } from "./memory-op.ts";
import { ENOSYS } from "./errno.ts";

export { XenConfigError } from "./config-error.ts";

/** The host architecture Xen runs on: decides architecture-specific guest outcomes (what an
 *  unclaimed MMIO access does). Atomics are chosen separately (HypervisorOptions.atomics). */
export type XenArch = "x86-64" | "arm64" | "riscv64";
export const XEN_ARCHES: readonly XenArch[] = ["x86-64", "arm64", "riscv64"];

/** A hypercall as a domain makes it: the caller's domid and up to five register arguments
 *  (guest-physical addresses for handles). Returns 0, a positive result, or -errno. */
export type HypercallHandler = (caller: number, a1: number, a2: number, a3: number, a4: number, a5: number) => number;

/** A part of the hypervisor that keeps per-domain state. */
export interface Subsystem {
  readonly name: string;
  domainCreated?(d: Domain): void;
  /** Called while the domain is dying, before its memory is released: drop mappings,
   *  close channels, unregister rings, as Xen's domain_relinquish_resources does. */
  domainDestroyed?(d: Domain): void;
  /** Hypercall numbers this subsystem serves (installed by Hypervisor.register). */
  hypercalls?(): Readonly<Record<number, HypercallHandler>>;
  /** memory_op sub-commands, physmap spaces and resource types it serves. */
  memoryOps?(): MemoryOpTable;
  /** send_guest_{vcpu,global}_virq (the event-channel subsystem): whether a port got it. */
  raiseVirq?(domid: number, virq: number, vcpu: number): boolean;
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
  readonly memory: MemoryOps;
  private readonly domains = new Map<number, Domain>();
  private readonly subsystems: Subsystem[] = [];
  private readonly crashed = new Map<number, string>();
  private readonly calls = new Map<number, HypercallHandler>();
  private mmio: MmioHandler | undefined;

  constructor(opts: HypervisorOptions = {}) {
    this.machine = opts.machine ?? new Machine();
    this.xsm = opts.xsm ?? new DummyPolicy();
    this.atomics = opts.atomics ?? new X86GuestAtomics(this.machine);
    const arch = opts.arch ?? "x86-64";
    if (!XEN_ARCHES.includes(arch)) throw new XenConfigError(`arch must be one of ${XEN_ARCHES.join(", ")}, got ${String(arch)}`);
    this.arch = arch;
    this.memory = new MemoryOps(this);
    this.calls.set(L.HYPERVISOR_MEMORY_OP, (c, cmd, gpa) => this.memoryOp(c, cmd, gpa));
    // XSA-295: a guest-safe atomic that timed out paused the sharing domain around its redo.
    this.atomics.onPause = (domid) => this.guestSafePause(domid);
  }

  register<T extends Subsystem>(s: T): T {
    const calls = s.hypercalls?.() ?? {};
    for (const nr of Object.keys(calls)) {
      if (this.calls.has(Number(nr))) throw new XenConfigError(`hypercall ${nr} is already served (registering ${s.name})`);
    }
    for (const [nr, h] of Object.entries(calls)) this.calls.set(Number(nr), h);
    const mem = s.memoryOps?.();
    if (mem) this.memory.install(s.name, mem);
    this.subsystems.push(s);
    for (const d of this.domains.values()) s.domainCreated?.(d);
    return s;
  }

  /** The registered subsystem called `name` (e.g. "evtchn"), if any. */
  subsystem<T extends Subsystem>(name: string): T | undefined {
    return this.subsystems.find((s) => s.name === name) as T | undefined;
  }

  // ---- hypercalls ------------------------------------------------------------------------

  /** The hypercall `nr` as domain `caller` makes it (HYPERVISOR_memory_op 12,
   *  grant_table_op 20, event_channel_op 32, argo_op 39, dm_op 41, ... as registered). A
   *  number nobody serves is -ENOSYS, as Xen's hypercall table. */
  hypercall(caller: number, nr: number, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
    const h = this.calls.get(nr);
    if (h) return h(caller, a1, a2, a3, a4, a5);
    this.liveCaller(caller, `hypercall ${nr}`);
    this.countHypercall();
    this.machine.bump(L.CNT_HC_UNKNOWN);
    return -ENOSYS;
  }

  /** HYPERVISOR_memory_op(cmd, arg) as `caller` makes it (see memory-op.ts). */
  memoryOp(caller: number, cmd: number, argGpa: number): number {
    const c = this.liveCaller(caller, "memory_op");
    this.countHypercall();
    this.machine.bump(L.CNT_HC_MEMORY_OPS);
    const rc = this.memory.call(c, cmd, argGpa);
    if (rc < 0) this.machine.bump(L.CNT_HC_MEMORY_OP_ERRORS);
    return rc;
  }

  /** Counts one hypercall (every model entry point a guest calls does this once). */
  countHypercall(): void {
    this.machine.bump(L.CNT_HYPERCALLS);
  }

  /** The live domain making a call; a dead one cannot trap, so that is a config error. */
  liveCaller(domid: number, what: string): Domain {
    const d = this.live(domid);
    if (!d) throw new XenConfigError(`${what}: caller ${domid} is not a live domain`);
    return d;
  }

  // ---- XSM -------------------------------------------------------------------------------

  /** Runs an XSM hook; a denial is counted. `caller` is the domain making the hypercall
   *  (current->domain), which SILO consults; it defaults to `subject`. */
  xsmCheck(op: XsmOp, subject: Domain, object?: Domain, caller: Domain = subject): boolean {
    const ok = this.xsm.check(op, subject, object, caller);
    if (!ok) this.machine.bump(L.CNT_XSM_DENIED);
    return ok;
  }

  /** The dummy module's XSM_TARGET rule, which every policy keeps for these checks (physmap
   *  edits, event channels of another domain): the domain itself, its device model or the
   *  control domain. A denial is counted. */
  targetCheck(subject: Domain, object: Domain): boolean {
    if (subject === object || subject.isPrivilegedOver(object.domid)) return true;
    this.machine.bump(L.CNT_XSM_DENIED);
    return false;
  }

  // ---- VIRQs and MMIO --------------------------------------------------------------------

  /** send_guest_global_virq / send_guest_vcpu_virq through the event-channel subsystem:
   *  true when the domain had bound the VIRQ to a port (now pending). */
  raiseVirq(domid: number, virq: number, vcpu = 0): boolean {
    let delivered = false;
    for (const s of this.subsystems) if (s.raiseVirq?.(domid, virq, vcpu)) delivered = true;
    return delivered;
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

  // ---- domains ---------------------------------------------------------------------------

  createDomain(cfg: DomainConfig): Domain {
    let domid = cfg.domid;
    if (domid === undefined) {
      domid = 0;
      while (this.domains.has(domid)) domid++;
    }
    if (!Number.isInteger(domid) || domid < 0 || domid >= L.MAX_DOMAINS) {
      throw new XenConfigError(`domain ${cfg.name}: domid ${domid} out of range 0..${L.MAX_DOMAINS - 1}`);
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
    this.machine.bump(L.CNT_DOMAINS_CREATED);
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

  /** domain_pause(): nested; the domain runs again when every pause is undone. */
  pause(domid: number): void {
    const d = this.mustGet(domid);
    d.pauseCount++;
    d.pauses++;
    this.machine.bump(L.CNT_DOMAIN_PAUSES);
    if (d.state === "running") d.state = "paused";
  }

  unpause(domid: number): void {
    const d = this.mustGet(domid);
    if (d.pauseCount === 0) throw new XenConfigError(`domain ${domid} is not paused`);
    d.pauseCount--;
    if (d.pauseCount === 0 && d.state === "paused" && !this.crashed.has(domid)) d.state = "running";
  }

  /** XSA-295: Xen's guest-safe helper ran out of bounded attempts on a word shared with
   *  `domid`, paused the domain (domain_pause_nosync), redid the operation and unpaused it.
   *  The engine reports it after the operation, so the pause is recorded as a pair. The
   *  engine priced it (CNT_ATOMIC_PAUSES); CNT_DOMAIN_PAUSES_XSA295 takes back the charge
   *  pause() makes, so it is counted exactly when pause() is. */
  private guestSafePause(domid: number): void {
    const d = this.domains.get(domid);
    if (!d) return; // an engine-level sharer that is not a modelled domain
    this.machine.bump(L.CNT_DOMAIN_PAUSES_XSA295);
    d.xsa295Pauses++;
    this.pause(domid);
    this.unpause(domid);
  }

  /** domain_crash(): the guest did something Xen treats as fatal. Its vCPUs stop (the domain
   *  stays paused, unpause cannot resume it) until the toolstack destroys or restarts it. */
  crashDomain(domid: number, reason: string): void {
    const d = this.mustGet(domid);
    if (!d.alive || this.crashed.has(domid)) return;
    this.crashed.set(domid, reason);
    this.machine.bump(L.CNT_DOMAINS_CRASHED);
    d.state = "paused";
  }

  /** Why the domain crashed, or undefined while it has not. */
  crashReason(domid: number): string | undefined {
    return this.crashed.get(domid);
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
    this.machine.bump(L.CNT_DOMAINS_DESTROYED);
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
