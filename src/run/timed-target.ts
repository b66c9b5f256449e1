// What the timed runner needs from a built setup: the machine whose counters it prices, the
// profile to price them with, and one or more lanes (a guest driver and workload over one
// transport), each saying which domain's vCPU runs its frontend and which runs its backend.
// World builders (src/run/world.ts, the tests' worlds) produce this; the runner owns nothing
// of it and never builds or tears down a transport.
import type { Profile } from "../cost/profile.ts";
import type { PricingTable } from "../cost/pricing-table.ts";
import type { Machine } from "../wasm/machine.ts";
import type { VirtioDriver } from "../virtio/driver.ts";
import type { GuestWorkload } from "../transports/harness.ts";
import type { Transport } from "../transports/types.ts";

/** A domain's vCPU as the timeline shows it. */
export interface TimedDomain {
  /** Domain name (`guest`, `Domain-0`, `vmm` for a host VMM): the key of cpuByDomain. */
  name: string;
  /** Xen domid; undefined for a host process (the KVM VMM). */
  domid: number | undefined;
  /** vCPU index (default 0). Lanes naming the same domain and vCPU share one CPU. */
  vcpu?: number;
  /** CPU track name (default `d<domid>v<vcpu>`, or `<name>v<vcpu>` without a domid). */
  cpu?: string;
}

export interface TimedLane<T = any> {
  /** Used in errors and process names (default `lane<i>`). */
  name?: string;
  driver: VirtioDriver<T>;
  transport: Transport;
  workload: GuestWorkload<T>;
  /** The guest vCPU that submits, kicks and handles the interrupt. */
  frontend: TimedDomain;
  /** The backend vCPU that runs `transport.service()`. */
  backend: TimedDomain;
  /** Requests in flight at most (default 1). */
  iodepth?: number;
  queue?: number;
  /** Decide on a kick after every submission instead of once per batch (as the harness). */
  kickEachSubmit?: boolean;
  /** Payload bytes the workload moved so far (default: the bytes devices read and wrote,
   *  CNT_TR_DEV_READ_BYTES + CNT_TR_DEV_WRITE_BYTES, which include request headers). */
  payloadBytes?: () => number;
}

export interface TimedTarget {
  machine: Machine;
  profile: Profile;
  lanes: TimedLane[];
  /** Pricing table (default PRICING). */
  table?: PricingTable;
}

export interface TimedOptions {
  /** Record every busy span (JobResult.timeline). */
  trace?: boolean;
  /** Refuse to run more events than this (default 50 million): a livelock becomes an error. */
  maxEvents?: number;
}

/** The CPU track name of a domain's vCPU. */
export function cpuName(d: TimedDomain): string {
  const v = d.vcpu ?? 0;
  if (d.cpu) return d.cpu;
  return d.domid === undefined ? `${d.name}v${v}` : `d${d.domid}v${v}`;
}
