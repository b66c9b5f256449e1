// The one counters block. Kernels only count; src/cost turns counts into time.
import { COUNTERS_BASE, COUNTERS_SLOTS } from "./layout";

@inline
export function count(id: u32, n: u64 = 1): void {
  const p = COUNTERS_BASE + (id << 3);
  store<u64>(p, load<u64>(p) + n);
}

export function countersReset(): void {
  memory.fill(COUNTERS_BASE, 0, COUNTERS_SLOTS << 3);
}
