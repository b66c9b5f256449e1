// Counter ids and their names, read from the layout mirror so that a counter added to
// assembly/layout.ts is known here without a second list. `_BASE` constants name ranges.
import * as L from "../wasm/layout.ts";

const names = new Map<number, string>();
for (const [name, value] of Object.entries(L)) {
  if (!name.startsWith("CNT_") || name.endsWith("_BASE") || typeof value !== "number") continue;
  if (!names.has(value)) names.set(value, name);
}

/** Every named counter id (ascending). */
export const COUNTER_IDS: readonly number[] = [...names.keys()].sort((a, b) => a - b);

/** The layout name of a counter id, or `counter <id>` for an id inside a range without a name. */
export function counterName(id: number): string {
  return names.get(id) ?? `counter ${id}`;
}

export const COUNTER_SLOTS = L.COUNTERS_SLOTS;
