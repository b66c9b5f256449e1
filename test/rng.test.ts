import { describe, expect, it } from "vitest";
import { Rng } from "../src/sim/rng.ts";

describe("Rng", () => {
  it("is fixed by its seed", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 100 }, () => a.int(0, 1000));
    expect(Array.from({ length: 100 }, () => b.int(0, 1000))).toEqual(xs);
    expect(Array.from({ length: 100 }, () => new Rng(43).int(0, 1000))).not.toEqual(xs);
  });

  it("draws within bounds and covers them", () => {
    const r = new Rng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(3, 9);
      expect(v).toBeGreaterThanOrEqual(3);
      expect(v).toBeLessThanOrEqual(9);
      seen.add(v);
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
    }
    expect(seen.size).toBe(7);
  });

  it("forks independent, reproducible streams by label", () => {
    const r = new Rng(7);
    const x = r.fork("blk0").int(0, 2 ** 30);
    expect(new Rng(7).fork("blk0").int(0, 2 ** 30)).toBe(x);
    expect(new Rng(7).fork("net0").int(0, 2 ** 30)).not.toBe(x);
    expect(() => new Rng(1.5)).toThrow(RangeError);
  });

  it("fills bytes deterministically", () => {
    const a = new Rng(9).bytes(new Uint8Array(13));
    expect(new Rng(9).bytes(new Uint8Array(13))).toEqual(a);
    expect(a.some((v) => v !== 0)).toBe(true);
  });
});
