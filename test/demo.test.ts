import { describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { runRingDemo } from "../src/cli/demo.ts";

describe("ring demo (npm start)", () => {
  it.each(["split", "packed"] as const)("moves and verifies every request through the %s ring with exact counts", (format) => {
    const r = runRingDemo({ format, requests: 200, seed: 3, queueSize: 32 });
    expect(r.verified).toBe(200);
    expect(r.bytesIn).toBe(r.bytesOut);
    const c = r.counters;
    expect([c["chains added"], c["chains popped"], c["used pushed"], c["chains reclaimed"]]).toEqual([200, 200, 200, 200]);
    expect(c["descriptors walked"]).toBe(400); // one readable + one writable descriptor each
    // Each request takes 2 of the 32 descriptors: the guest adds 16 per round and kicks once;
    // the backend drains the ring each round and interrupts once (the driver re-arms).
    const rounds = Math.ceil(200 / 16);
    expect(c["kicks sent"] + c["kicks suppressed"]).toBe(rounds);
    expect(c["interrupts sent"]).toBe(rounds);
    expect(c["ring errors"]).toBe(0);
    expect(c["refused accesses"]).toBe(0);
  });

  it("is deterministic for a seed", () => {
    expect(runRingDemo({ format: "split", requests: 50, seed: 9 })).toEqual(runRingDemo({ format: "split", requests: 50, seed: 9 }));
    expect(runRingDemo({ format: "split", requests: 50, seed: 9 }).bytesOut).not.toBe(runRingDemo({ format: "split", requests: 50, seed: 10 }).bytesOut);
  });

  it("the CLI prints the table, JSON, and rejects bad options with exit code 2", () => {
    const out = execFileSync("npx", ["tsx", "src/cli/main.ts", "demo", "--requests", "20", "--format", "packed"], { encoding: "utf8" });
    expect(out).toMatch(/requests verified\s*│\s*20\/20/);
    const json = JSON.parse(execFileSync("npx", ["tsx", "src/cli/main.ts", "demo", "--requests", "5", "--json"], { encoding: "utf8" }));
    expect(json.map((r: { format: string }) => r.format)).toEqual(["split", "packed"]);
    const bad = spawnSync("npx", ["tsx", "src/cli/main.ts", "demo", "--requests", "0"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--requests must be an integer/);
    const badFormat = spawnSync("npx", ["tsx", "src/cli/main.ts", "demo", "--format", "ring"], { encoding: "utf8" });
    expect(badFormat.status).toBe(2);
    expect(badFormat.stderr).toMatch(/--format must be split, packed or both/);
  });
});
