// A small deterministic harness: the guest submits (up to `iodepth` in flight), the driver
// kicks, the backend runs one service pass, the guest handles its interrupt and completes.
// Rounds repeat until the workload is finished and nothing is in flight. There is no clock:
// the order of steps is the schedule, so a run is a pure function of its inputs.
import type { Completion, VirtioDriver } from "../virtio/driver.ts";
import type { Transport } from "./types.ts";

export interface GuestWorkload<T> {
  /** Submits up to `room` requests through the driver (driver.submit); returns how many. */
  submit(room: number): number;
  /** One request completed (in the order the used ring gave them). */
  complete(c: Completion<T>): void;
  /** True once the workload will submit nothing more. */
  readonly finished: boolean;
}

export interface HarnessOptions<T> {
  driver: VirtioDriver<T>;
  transport: Transport;
  workload: GuestWorkload<T>;
  /** Requests in flight at most (default 1). */
  iodepth?: number;
  /** Decide on a kick after every submission (as a driver without batching does) instead of
   *  once per round (blk-mq's `last` request). */
  kickEachSubmit?: boolean;
  queue?: number;
  /** Safety stop (default 1e6 rounds). */
  maxRounds?: number;
}

export interface HarnessResult {
  rounds: number;
  submitted: number;
  completed: number;
  /** Kicks the ring asked for (notifications sent). */
  kicks: number;
  interrupts: number;
}

export function runHarness<T>(o: HarnessOptions<T>): HarnessResult {
  const q = o.queue ?? 0;
  const depth = o.iodepth ?? 1;
  if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`iodepth must be a positive integer, got ${o.iodepth}`);
  const r: HarnessResult = { rounds: 0, submitted: 0, completed: 0, kicks: 0, interrupts: 0 };
  const maxRounds = o.maxRounds ?? 1_000_000;
  for (;;) {
    if (o.workload.finished && o.driver.inFlight(q) === 0) return r;
    if (++r.rounds > maxRounds) throw new Error(`harness: no end after ${maxRounds} rounds`);
    let added = 0;
    const room = depth - o.driver.inFlight(q);
    if (room > 0 && !o.workload.finished) {
      if (o.kickEachSubmit) {
        for (let i = 0; i < room; i++) {
          const n = o.workload.submit(1);
          if (n === 0) break;
          added += n;
          if (o.driver.kick(q)) r.kicks++;
        }
      } else {
        added = o.workload.submit(room);
        if (added > 0 && o.driver.kick(q)) r.kicks++;
      }
    }
    r.submitted += added;
    const served = o.transport.service();
    const done = o.driver.handleInterrupt();
    if (done) {
      r.interrupts++;
      for (const c of done) o.workload.complete(c);
      r.completed += done.length;
    }
    if (added === 0 && served === 0 && !done) {
      throw new Error(`harness stalled after ${r.rounds} rounds: ${o.driver.inFlight(q)} in flight, nothing submitted, served or completed`);
    }
  }
}
