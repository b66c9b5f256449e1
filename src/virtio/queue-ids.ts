// Queue state blocks (QUEUES_BASE) are a machine-wide resource: every virtqueue side (a
// driver's or a device's) takes one id. One allocator per machine, lowest free id first.
import type { Machine } from "../wasm/machine.ts";
import { MAX_QUEUES } from "../wasm/layout.ts";

const inUse = new WeakMap<Machine, Uint8Array>();

function table(m: Machine): Uint8Array {
  let t = inUse.get(m);
  if (!t) inUse.set(m, (t = new Uint8Array(MAX_QUEUES)));
  return t;
}

/** Takes the lowest free queue id of the machine. */
export function allocQueueId(m: Machine): number {
  const t = table(m);
  const q = t.indexOf(0);
  if (q < 0) throw new Error(`all ${MAX_QUEUES} queue state blocks of the machine are in use`);
  t[q] = 1;
  return q;
}

/** Marks ids the caller manages itself (tests that fix queue ids) as taken. */
export function reserveQueueId(m: Machine, q: number): void {
  const t = table(m);
  if (!Number.isInteger(q) || q < 0 || q >= MAX_QUEUES) throw new RangeError(`queue id must be an integer in [0, ${MAX_QUEUES}), got ${q}`);
  if (t[q]) throw new Error(`queue id ${q} is already in use`);
  t[q] = 1;
}

export function freeQueueId(m: Machine, q: number): void {
  const t = table(m);
  if (!t[q]) throw new Error(`queue id ${q} is not in use`);
  t[q] = 0;
}
