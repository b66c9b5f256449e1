// The transport test worlds as TimedTargets: one guest lane running a verifying BlkPattern over
// kvm-ioeventfd, mmio-foreign, grant-map (map/copy/persistent) or argo (buffered/sg).
import { loadShippedProfile, type Profile } from "../../src/cost/profile.ts";
import type { TimedDomain, TimedTarget } from "../../src/run/timed-target.ts";
import type { Machine } from "../../src/wasm/machine.ts";
import { BlkPattern } from "./blk-pattern.ts";
import { argoWorld, DISK_BYTES, DOM0, foreignWorld, GUEST, grantMapWorld, kvmWorld, type BlkWorld } from "./transport-world.ts";

export type WorldKind = "kvm" | "mmio-foreign" | "grant-map" | "grant-copy" | "grant-persistent" | "argo-buffered" | "argo-sg";
export const WORLD_KINDS: WorldKind[] = ["kvm", "mmio-foreign", "grant-map", "grant-copy", "grant-persistent", "argo-buffered", "argo-sg"];

export interface TimedWorld {
  target: TimedTarget;
  world: BlkWorld;
  pattern: BlkPattern;
  /** Checks every byte the guest wrote on the disk; returns the bytes checked. */
  verifyDisk(): number;
}

const GUEST_DOM: TimedDomain = { name: "guest", domid: GUEST };
const DOM0_DOM: TimedDomain = { name: "Domain-0", domid: DOM0 };

function build(kind: WorldKind): { world: BlkWorld; backend: TimedDomain } {
  switch (kind) {
    case "kvm":
      return { world: kvmWorld(), backend: { name: "vmm", domid: undefined, cpu: "vmm-io" } };
    case "mmio-foreign":
      return { world: foreignWorld(), backend: DOM0_DOM };
    case "grant-map":
      return { world: grantMapWorld({ gm: { mode: "map" } }), backend: DOM0_DOM };
    case "grant-copy":
      return { world: grantMapWorld({ gm: { mode: "copy" } }), backend: DOM0_DOM };
    case "grant-persistent":
      return { world: grantMapWorld({ gm: { mode: "persistent" } }), backend: DOM0_DOM };
    case "argo-buffered":
      return { world: argoWorld({ variant: "buffered" }), backend: DOM0_DOM };
    case "argo-sg":
      return { world: argoWorld({ variant: "sg" }), backend: DOM0_DOM };
  }
}

/** A world of `kind` with `writes` seeded writes (then a read of each) at `iodepth`. */
export function timedWorld(kind: WorldKind, o: { profile?: string | Profile; writes?: number; seed?: number; iodepth?: number } = {}): TimedWorld {
  const { world, backend } = build(kind);
  const pattern = new BlkPattern(world.guest, DISK_BYTES, o.writes ?? 16, o.seed ?? 7);
  const profile = typeof o.profile === "object" ? o.profile : loadShippedProfile(o.profile ?? "x86-64");
  const machine: Machine = world.m;
  const target: TimedTarget = {
    machine,
    profile,
    lanes: [{ name: kind, driver: world.driver, transport: world.t, workload: pattern, frontend: GUEST_DOM, backend, iodepth: o.iodepth ?? 1 }],
  };
  return { target, world, pattern, verifyDisk: () => pattern.verifyImage(world.backing.read(0, DISK_BYTES)) };
}
