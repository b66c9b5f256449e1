import { describe, expect, it } from "vitest";
import { instantiate } from "../src/wasm/module.ts";
import * as L from "../src/wasm/layout.ts";

describe.each(["release", "debug"] as const)("layout constants agree with the %s Wasm build", (build) => {
  const exports = instantiate(build).exports as Record<string, unknown>;
  const globals = Object.entries(exports).filter(([, v]) => v instanceof WebAssembly.Global) as [string, WebAssembly.Global][];

  it("exports every TS constant with the same value", () => {
    for (const [name, value] of Object.entries(L)) {
      const g = exports[name];
      expect(g, `${name} missing from the Wasm exports`).toBeInstanceOf(WebAssembly.Global);
      expect(((g as WebAssembly.Global).value as number) >>> 0, name).toBe((value as number) >>> 0);
    }
  });

  it("mirrors every Wasm constant in TS", () => {
    const ts = L as Record<string, number>;
    for (const [name, g] of globals) {
      expect(ts[name], `${name} missing from src/wasm/layout.ts`).toBeDefined();
      expect((g.value as number) >>> 0, name).toBe(ts[name]! >>> 0);
    }
  });

  it("keeps the fixed regions in order and apart", () => {
    const regions: [string, number, number][] = [
      ["counters", L.COUNTERS_BASE, L.COUNTERS_SLOTS * 8],
      ["domains", L.DOMAINS_BASE, L.MAX_DOMAINS * L.DOMAIN_ENTRY_SIZE],
      ["machine", L.MACHINE_BASE, L.MACHINE_STATE_SIZE],
      ["queues", L.QUEUES_BASE, L.MAX_QUEUES * L.QUEUE_STATE_SIZE],
      ["io", L.IO_BASE, L.IO_SIZE],
      ["frame table", L.FRAME_TABLE_BASE, L.MAX_FRAMES * L.FRAME_ENTRY_SIZE],
    ];
    let end = L.FIXED_BASE;
    for (const [name, base, size] of regions) {
      expect(base, `${name} overlaps the region before it`).toBeGreaterThanOrEqual(end);
      end = base + size;
    }
    expect(end).toBeLessThanOrEqual(L.POOL_BASE);
    expect(L.POOL_BASE + L.MAX_FRAMES * L.PAGE_SIZE).toBeLessThanOrEqual(2 ** 32);
  });
});
