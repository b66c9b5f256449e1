// State and error bookkeeping shared by both sides of the TS reference split virtqueue
// (mirrors fail() in assembly/virtq/common.ts and refuse() in split-check.ts).
import type { Machine } from "../wasm/machine.ts";
import { TsGuestMemory, type HostCounters } from "../wasm/ts-guest-memory.ts";
import * as L from "../wasm/layout.ts";

/** The uapi vring_need_event(). */
export function needEvent(event: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - event - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}

/** State and error bookkeeping shared by both reference sides (mirrors fail() in common.ts). */
export class RefQueueBase {
  readonly machine: Machine;
  readonly counters: HostCounters;
  readonly mem: TsGuestMemory;
  flags = 0;
  error = 0;
  status = 0;
  size = 0;
  desc = 0;
  avail = 0;
  used = 0;

  constructor(machine: Machine, ringDomid: number, counters: HostCounters) {
    this.machine = machine;
    this.counters = counters;
    this.mem = new TsGuestMemory(machine, ringDomid, counters);
  }

  get broken(): boolean {
    return (this.flags & L.QF_BROKEN) !== 0;
  }

  /** A ring error: broken queue, first code kept, counted. Also this call's status. */
  protected broke(code: number): number {
    if (!this.broken) {
      this.flags |= L.QF_BROKEN;
      this.error = code;
    }
    this.counters[L.CNT_VQ_ERRORS]!++;
    this.counters[L.CNT_VIRTQ_ERR_BASE + code]!++;
    this.status = code;
    return code;
  }

  /** A refused call that leaves the queue usable. */
  protected refuse(code: number): void {
    this.status = code;
    this.counters[L.CNT_VIRTQ_ERR_BASE + code]!++;
  }

  protected count(id: number, n: number): void {
    this.counters[id]! += n;
  }
}
