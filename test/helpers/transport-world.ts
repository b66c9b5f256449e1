// Worlds for the transport tests: a guest with a blk device over kvm-ioeventfd or mmio-foreign,
// the generic driver brought up, counters read as deltas (gauges survive).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Machine } from "../../src/wasm/machine.ts";
import * as L from "../../src/wasm/layout.ts";
import { KvmVm } from "../../src/kvm/kvm.ts";
import { KvmIoeventfdTransport, type KvmIoeventfdOptions } from "../../src/transports/kvm-ioeventfd.ts";
import { VirtioBlk, type VirtioBlkOptions } from "../../src/devices/blk.ts";
import { FileDisk, MemDisk, type BlkBacking } from "../../src/devices/blk-backing.ts";
import { BLK_CONFIG_READS, BLK_DRIVER_FEATURES, BlkGuest, type BlkTag } from "../../src/devices/blk-guest.ts";
import { GuestPages } from "../../src/virtio/guest-pages.ts";
import { VirtioDriver } from "../../src/virtio/driver.ts";
import { driverFor as runDriverFor } from "../../src/run/world-transport.ts";
import type { Transport } from "../../src/transports/types.ts";

export const GUEST = 1;
export const GUEST_PAGES = 4096; // 16 MiB
export const DISK_BYTES = 1 << 20;

/** A raw image file in a fresh temporary directory (filled with a byte pattern). */
export function tempImage(bytes = DISK_BYTES): { path: string; cleanup: () => void; read: () => Uint8Array } {
  const dir = mkdtempSync(join(tmpdir(), "vxsim-blk-"));
  const path = join(dir, "disk.img");
  const init = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) init[i] = (i * 7 + 3) & 0xff;
  writeFileSync(path, init);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }), read: () => new Uint8Array(readFileSync(path)) };
}

export class Counters {
  readonly m: Machine;
  private base: Float64Array;
  constructor(m: Machine) {
    this.m = m;
    this.base = m.counters();
  }
  mark(): void {
    this.base = this.m.counters();
  }
  get(id: number): number {
    return this.m.counter(id) - this.base[id]!;
  }
  pick(ids: Record<string, number>): Record<string, number> {
    return Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, this.get(id)]));
  }
}

export interface BlkWorld<T extends Transport = Transport> {
  m: Machine;
  t: T;
  blk: VirtioBlk;
  backing: BlkBacking;
  driver: VirtioDriver<BlkTag<any>>;
  guest: BlkGuest<any>;
  pages: GuestPages;
  c: Counters;
}

export interface WorldOptions {
  build?: "release" | "debug";
  backing?: BlkBacking;
  blk?: Omit<VirtioBlkOptions, "backing">;
  eventIdx?: boolean;
  /** The driver accepts packed rings (the transport must offer them). */
  packed?: boolean;
  queueSize?: number;
  /** Run the driver's bring-up (default true). */
  init?: boolean;
  /** The guest's page allocator (share one between devices of one guest). */
  pages?: GuestPages;
}

/** The blk driver of `t` (rings where the transport wants them, ACCESS_PLATFORM for grants),
 *  as src/run builds it. */
export function driverFor(m: Machine, t: Transport, o: WorldOptions, pages: GuestPages): VirtioDriver<BlkTag<any>> {
  return runDriverFor<BlkTag<any>>(t, {
    machine: m, deviceFeatures: BLK_DRIVER_FEATURES, configReads: BLK_CONFIG_READS, eventIdx: o.eventIdx, packed: o.packed, queueSize: o.queueSize,
  }, pages);
}

export function finishWorld<T extends Transport>(m: Machine, t: T, blk: VirtioBlk, backing: BlkBacking, o: WorldOptions): BlkWorld<T> {
  const pages = o.pages ?? new GuestPages(t.guest, 16, 2048);
  const driver = driverFor(m, t, o, pages);
  const c = new Counters(m);
  if (o.init ?? true) driver.init();
  return { m, t, blk, backing, driver, guest: new BlkGuest(driver, pages), pages, c };
}

export function kvmWorld(o: WorldOptions & { kvm?: Omit<KvmIoeventfdOptions, "vm" | "device"> } = {}): BlkWorld<KvmIoeventfdTransport> {
  const m = new Machine({ build: o.build ?? "release" });
  m.createDomain(GUEST, GUEST_PAGES);
  const vm = new KvmVm(m, GUEST);
  const backing = o.backing ?? new MemDisk(DISK_BYTES);
  const blk = new VirtioBlk({ backing, ...o.blk });
  const t = new KvmIoeventfdTransport({ vm, device: blk, ...o.kvm });
  return finishWorld(m, t, blk, backing, o);
}

export { FileDisk, MemDisk, L };

// ---- mmio-foreign -------------------------------------------------------------------------
import { makeXenEnv, type XenEnv } from "../../src/transports/xen-env.ts";
import { MmioForeignTransport, type MmioForeignOptions } from "../../src/transports/mmio-foreign.ts";

export const DOM0 = 0;
export const STUBDOM = 2; // device-model target of the guest
export const DRIVER_DOM = 3; // a driver domain without privilege over the guest

export function xenDomains(build: "release" | "debug" = "release"): XenEnv {
  const env = makeXenEnv({ machine: new Machine({ build }), arch: "arm64" });
  env.hv.createDomain({ domid: DOM0, name: "Domain-0", ramPages: 256, control: true });
  env.hv.createDomain({ domid: GUEST, name: "guest", ramPages: GUEST_PAGES });
  env.hv.createDomain({ domid: STUBDOM, name: "guest-dm", ramPages: 256, target: GUEST });
  env.hv.createDomain({ domid: DRIVER_DOM, name: "drv", ramPages: 256, driverDomain: true });
  return env;
}

export function foreignWorld(o: WorldOptions & { backend?: number; mf?: Partial<MmioForeignOptions>; env?: XenEnv } = {}): BlkWorld<MmioForeignTransport> & { env: XenEnv } {
  const env = o.env ?? xenDomains(o.build);
  const backing = o.backing ?? new MemDisk(DISK_BYTES);
  const blk = new VirtioBlk({ backing, ...o.blk });
  const t = new MmioForeignTransport({ env, guest: GUEST, backend: o.backend ?? DOM0, device: blk, ...o.mf });
  return { ...finishWorld(env.hv.machine, t, blk, backing, o), env };
}

// ---- grant-map ----------------------------------------------------------------------------
import { GrantTables } from "../../src/xen/grant-table.ts";
import { GrantMapTransport, type GrantMapOptions } from "../../src/transports/grant-map.ts";
import type { XsmPolicy } from "../../src/xen/xsm.ts";

export function grantDomains(build: "release" | "debug" = "release", xsm?: XsmPolicy): XenEnv & { gt: GrantTables } {
  const env = makeXenEnv({ machine: new Machine({ build }), arch: "arm64", xsm });
  const gt = new GrantTables(env.hv);
  env.hv.createDomain({ domid: DOM0, name: "Domain-0", ramPages: 256, control: true });
  env.hv.createDomain({ domid: GUEST, name: "guest", ramPages: GUEST_PAGES });
  env.hv.createDomain({ domid: STUBDOM, name: "guest-dm", ramPages: 256, target: GUEST });
  env.hv.createDomain({ domid: DRIVER_DOM, name: "drv", ramPages: 256, driverDomain: true });
  return { ...env, gt };
}

export function grantMapWorld(o: WorldOptions & { backend?: number; gm?: Partial<GrantMapOptions>; env?: XenEnv & { gt: GrantTables }; deviceFeatures?: bigint } = {}):
  BlkWorld<GrantMapTransport> & { env: XenEnv & { gt: GrantTables } } {
  const env = o.env ?? grantDomains(o.build);
  const backing = o.backing ?? new MemDisk(DISK_BYTES);
  const blk = new VirtioBlk({ backing, ...o.blk });
  const t = new GrantMapTransport({ env, gt: env.gt, guest: GUEST, backend: o.backend ?? DOM0, device: blk, ...o.gm });
  const pages = o.pages ?? new GuestPages(t.guest, 16, 2048);
  const driver = new VirtioDriver<BlkTag<any>>({
    machine: env.hv.machine, domid: t.guest, port: t.frontend, pages,
    deviceFeatures: o.deviceFeatures ?? (BLK_DRIVER_FEATURES | (1n << BigInt(L.VIRTIO_F_ACCESS_PLATFORM))),
    configReads: BLK_CONFIG_READS, eventIdx: o.eventIdx ?? true, queueSize: o.queueSize ?? 256,
  });
  const c = new Counters(env.hv.machine);
  if (o.init ?? true) driver.init();
  return { m: env.hv.machine, t, blk, backing, driver, guest: new BlkGuest(driver, pages), pages, c, env };
}

// ---- argo -----------------------------------------------------------------------------------
import { Argo } from "../../src/xen/argo.ts";
import { ArgoTransport, type ArgoTransportOptions, type ArgoVariant } from "../../src/transports/argo.ts";

export const ARGO_DOMU = 4; // an unprivileged domU backend (labelled back_t)

/** Xen with Argo on, dom0, the guest (front_t) and a domU that may serve it (back_t). */
export function argoDomains(o: { build?: "release" | "debug"; xsm?: XsmPolicy } = {}): XenEnv & { argo: Argo } {
  const env = makeXenEnv({ machine: new Machine({ build: o.build ?? "release" }), arch: "x86-64", xsm: o.xsm });
  const argo = env.hv.register(new Argo(env.hv, { enabled: true }));
  env.hv.createDomain({ domid: DOM0, name: "Domain-0", ramPages: 256, control: true, label: "dom0_t" });
  env.hv.createDomain({ domid: GUEST, name: "guest", ramPages: GUEST_PAGES, label: "front_t" });
  env.hv.createDomain({ domid: ARGO_DOMU, name: "blk-be", ramPages: 256, label: "back_t" });
  return { ...env, argo };
}

export function argoWorld(o: WorldOptions & { variant: ArgoVariant; backend?: number; env?: XenEnv & { argo: Argo }; at?: Partial<ArgoTransportOptions> }): BlkWorld<ArgoTransport> & { env: XenEnv & { argo: Argo } } {
  const env = o.env ?? argoDomains({ build: o.build });
  const backing = o.backing ?? new MemDisk(DISK_BYTES);
  const blk = new VirtioBlk({ backing, ...o.blk });
  const t = new ArgoTransport({ env, argo: env.argo, guest: GUEST, backend: o.backend ?? DOM0, device: blk, variant: o.variant, ...o.at });
  return { ...finishWorld(env.hv.machine, t, blk, backing, { eventIdx: false, ...o }), env };
}
