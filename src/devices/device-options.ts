// Checks of device options shared by the device models (bad user input -> an Error naming it).
import { VIRTQ_MAX_SIZE } from "../wasm/layout.ts";

/** QueueNumMax: a power of two up to the split-ring limit (VIRTQ_MAX_SIZE). */
export function checkQueueMax(queueMax: number, what: string): number {
  if (!Number.isInteger(queueMax) || queueMax < 1 || queueMax > VIRTQ_MAX_SIZE || (queueMax & (queueMax - 1)) !== 0) {
    throw new RangeError(`${what}: queueMax must be a power of two in 1..32768, got ${queueMax}`);
  }
  return queueMax;
}
