// The hosts of a world: the machine, then either the Xen model with the subsystems the
// transport needs and its domains (Domain-0, the guest(s), a driver or stub domain when the
// backend runs there), or KVM VMs (the backend is a VMM in the host, no domain of its own).
import { Machine } from "../wasm/machine.ts";
import { PAGE_SIZE } from "../wasm/layout.ts";
import type { Arch, TransportChoice } from "../scenario/vocabulary.ts";
import type { XenArch } from "../xen/hypervisor.ts";
import { guestAtomicsFor } from "../xen/atomics.ts";
import { DummyPolicy, SiloPolicy, type XsmPolicy } from "../xen/xsm.ts";
import type { XsmSpec } from "./result.ts";
import { parseXsmPolicy } from "../xen/xsm-policy.ts";
import { GrantTables } from "../xen/grant-table.ts";
import { Argo } from "../xen/argo.ts";
import { Xenstore } from "../xen/xenstore.ts";
import { KvmVm } from "../kvm/kvm.ts";
import { makeXenEnv } from "../transports/xen-env.ts";
import { TRANSPORTS } from "../transports/registry.ts";
import type { XenWorldEnv } from "./world-transport.ts";
import type { BackendPlacement } from "./world.ts";

export type DomainRole = "guest" | "peer" | "backend" | "dm" | "control";

export interface WorldDomain {
  domid: number;
  name: string;
  role: DomainRole;
  vcpus: number;
}

export interface WorldHosts {
  machine: Machine;
  xenArch: XenArch | undefined;
  env: XenWorldEnv | undefined;
  /** KVM: one VM per guest (index as `guests`). */
  vms: (KvmVm | undefined)[];
  domains: WorldDomain[];
  /** Frontend domid and backend domid per guest. */
  guests: number[];
  backends: number[];
}

/** The Xen host architecture a scenario architecture runs on. Every transport builds on each;
 *  on riscv64 the IOREQ-served virtio-mmio transports are Arm's mechanism (an assumption: Xen
 *  4.17 has no IOREQ on RISC-V; src/transports/mmio-irq.ts). */
export const XEN_ARCH_OF: Readonly<Record<Arch, XenArch>> = {
  "x86-64": "x86-64", "arm64-v8.0": "arm64", "arm64-v8.1-lse": "arm64", riscv64: "riscv64",
};

export const DOM0 = 0;
export const GUEST = 1;
export const PEER = 2;
/** The driver domain, or the first stub domain (one per guest, from here up). */
export const BACKEND_DOM = 3;
/** RAM of Domain-0, driver and stub domains by default: 4 MiB, room for backend areas sized
 *  to 64 KiB jobs (a world with larger Argo rings asks for more: servicePagesFor). */
const SERVICE_PAGES = 1024;

/** Service-domain RAM for a world whose Argo rings are `argoRingLen` bytes, one transport per
 *  guest: each backend area (ring, send buffer, local buffers: 3 ring lengths, 16 pages of
 *  headers and scratch) after the first 16 gfns, plus the room the default leaves the rest. */
export function servicePagesFor(argoRingLen: number | undefined, guests: number): number {
  if (argoRingLen === undefined) return SERVICE_PAGES;
  const bufPages = Math.ceil(argoRingLen / PAGE_SIZE);
  return Math.max(SERVICE_PAGES, 16 + Math.max(96, 3 * bufPages + 16) * guests + 512);
}

const ALL_OPS = "grant_mapref,grant_copy,grant_setup,evtchn_interdomain,evtchn_send,map_gmfn_foreign,dm_op," +
  "argo_enable,argo_register_single_source,argo_register_any_source,argo_send,xenstore";
const PEER_OPS = "grant_mapref,grant_copy,evtchn_interdomain,evtchn_send,argo_send,argo_register_single_source";

/** The Flask policy a world with a driver domain runs under unless told otherwise: the
 *  driver domain (back_t) holds device-model rights over its guests (front_t) — dm_op, so it
 *  may run an IOREQ server for their virtio-mmio windows, drive their interrupt lines and
 *  acquire the ioreq pages, as a Flask policy's `hvm { dm }` grants — and grants, event
 *  channels and Argo with them, but NOT map_gmfn_foreign: it reaches only what a guest
 *  grants it (SUSE's grant DMA design). Domain-0 keeps every right. */
export const DRIVER_DOMAIN_POLICY = [
  "# driver domain: device model of its guests by policy, no foreign mapping of their RAM",
  `allow dom0_t * ${ALL_OPS}`,
  `allow * self ${ALL_OPS}`,
  "deny back_t front_t map_gmfn_foreign",
  `allow back_t front_t dm_op,${PEER_OPS}`,
  `allow front_t back_t ${PEER_OPS}`,
  `allow * dom0_t ${PEER_OPS}`,
  "allow * xen_t argo_enable,evtchn_send,evtchn_interdomain",
  "default deny",
].join("\n");

/** The XSM module a JobSpec names. */
export function xsmPolicyOf(x: XsmSpec): XsmPolicy {
  if (x.module === "flask") return parseXsmPolicy(x.policy, x.file);
  return x.module === "silo" ? new SiloPolicy() : new DummyPolicy();
}

/** The XSM module of a world: the caller's, else the driver-domain policy when the backend
 *  runs in one, else Xen's dummy module. */
export function worldXsm(placement: BackendPlacement, xsm: XsmPolicy | undefined): XsmPolicy {
  if (xsm) return xsm;
  return placement === "driver-domain" ? parseXsmPolicy(DRIVER_DOMAIN_POLICY, "driver-domain.xsm") : new DummyPolicy();
}

export interface HostOptions {
  choice: TransportChoice;
  arch: Arch;
  placement: BackendPlacement;
  guests: number;
  build?: "release" | "debug";
  xsm?: XsmPolicy;
  labels?: { dom0?: string; guest?: string; backend?: string };
  /** RAM pages of Domain-0 and the backend domains (default SERVICE_PAGES). */
  servicePages?: number;
  tlbFlushElision?: boolean;
  guestPages: number;
}

export function buildHosts(o: HostOptions): WorldHosts {
  const machine = new Machine({ build: o.build ?? "release" });
  const guestIds = [GUEST, PEER].slice(0, o.guests);
  const names = ["guest", "peer"];
  if (o.choice.id === "kvm-ioeventfd") {
    const vms = guestIds.map((id) => {
      machine.createDomain(id, o.guestPages);
      return new KvmVm(machine, id);
    });
    const domains = guestIds.map((domid, i) => ({ domid, name: names[i]!, role: (i === 0 ? "guest" : "peer") as DomainRole, vcpus: 1 }));
    return { machine, xenArch: undefined, env: undefined, vms, domains, guests: guestIds, backends: guestIds.map(() => -1) };
  }

  const xenArch = XEN_ARCH_OF[o.arch];
  const env: XenWorldEnv = makeXenEnv({ machine, arch: xenArch, xsm: worldXsm(o.placement, o.xsm), atomics: guestAtomicsFor(o.arch, machine) });
  const id = o.choice.id;
  const needs = TRANSPORTS[id].needs;
  if (needs.includes("grant-tables")) {
    env.gt = new GrantTables(env.hv);
    env.gt.elideUnaccessedFlush = o.tlbFlushElision ?? false;
  }
  if (needs.includes("argo")) env.argo = env.hv.register(new Argo(env.hv, { enabled: true }));
  if (needs.includes("xenstore")) env.xenstore = env.hv.register(new Xenstore(env.hv, { evtchn: env.evtchn }));

  const domains: WorldDomain[] = [];
  const add = (domid: number, name: string, role: DomainRole, cfg: { ramPages: number; control?: boolean; driverDomain?: boolean; target?: number; label?: string }) => {
    const d = env.hv.createDomain({ domid, name, ...cfg });
    domains.push({ domid, name, role, vcpus: d.vcpus });
  };
  add(DOM0, "Domain-0", o.placement === "dom0" ? "backend" : "control", { ramPages: o.servicePages ?? SERVICE_PAGES, control: true, label: o.labels?.dom0 ?? "dom0_t" });
  guestIds.forEach((domid, i) => add(domid, names[i]!, i === 0 ? "guest" : "peer", { ramPages: o.guestPages, label: o.labels?.guest ?? "front_t" }));
  let backends: number[];
  if (o.placement === "dom0") backends = guestIds.map(() => DOM0);
  else if (o.placement === "driver-domain") {
    add(BACKEND_DOM, "driver", "backend", { ramPages: o.servicePages ?? SERVICE_PAGES, driverDomain: true, label: o.labels?.backend ?? "back_t" });
    backends = guestIds.map(() => BACKEND_DOM);
  } else {
    // A device-model stub domain per guest: privileged over that guest only.
    backends = guestIds.map((g, i) => {
      add(BACKEND_DOM + i, `${names[i]}-dm`, "dm", { ramPages: o.servicePages ?? SERVICE_PAGES, target: g, label: o.labels?.backend ?? "back_t" });
      return BACKEND_DOM + i;
    });
  }
  return { machine, xenArch, env, vms: [], domains, guests: guestIds, backends };
}
