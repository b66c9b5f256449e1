// C7 end to end with the real worlds: a hostile guest rewrites its in-flight request between
// the backend's two reads; shared-memory transports show the change, copying ones do not.
import { describe, expect, it } from "vitest";
import { C7, COPYING, SHARED, c7Verdict } from "../src/experiments/c7-double-fetch.ts";
import { DoubleFetchProbe } from "../src/devices/double-fetch-probe.ts";
import { DeviceIoError, type Chain, type ChainIo, type VirtioDevice } from "../src/devices/types.ts";
import { runDoubleFetch } from "../src/run/double-fetch.ts";

describe("C7 double fetch (quick, real runner)", () => {
  const t = C7.run({ seed: 1, quick: true });
  const row = (tr: string) => t.rows.find((r) => r[0] === tr)!;

  it("finds every shared-memory transport exposed and every copying one immune: the claim holds", () => {
    expect(t.rows).toHaveLength(SHARED.length + COPYING.length);
    for (const tr of SHARED) {
      const r = row(tr);
      // 32 writes + their read-back: every probed request changed, every byte of it.
      expect(r[2]).toBeGreaterThanOrEqual(32);
      expect(r[3]).toBe(r[2]);
      expect(r[5]).toBe(r[4]);
      expect(r[8]).toBe("exposed");
    }
    for (const tr of COPYING) {
      expect(row(tr)[3]).toBe(0);
      expect(row(tr)[5]).toBe(0);
      expect(row(tr)[8]).toBe("immune");
    }
    // Each write request is a 16-byte header + 4 KiB of data, each read-back a header.
    expect(row("grant-map")[4]).toBe(32 * (16 + 4096) + (Number(row("grant-map")[2]) - 32) * 16);
    expect(t.verdict.holds).toBe(true);
    expect(t.verdict.text).toMatch(/never on grant-copy, argo:buffered, argo:sg/);
  });

  it("reports exposure next to the verdict: argo shares no page, a VMM reaches all RAM, grant-copy reaches its grants", () => {
    expect(row("argo:sg").slice(6, 8)).toEqual([0, 0]);
    expect(row("argo:buffered").slice(6, 8)).toEqual([0, 0]);
    expect(row("kvm-ioeventfd")[6]).toBe(4096);
    expect(Number(row("grant-copy")[6])).toBeGreaterThan(0);
  });

  it("the verdict fails on an observation that contradicts the claim, and on a failed job", () => {
    const r = runDoubleFetch({ transport: "grant-copy", profile: "arm64-v8.1-lse", device: "blk", workload: { kind: "fio", rw: "randwrite", bs: 512, iodepth: 1 }, ios: 4, seed: 2 });
    expect(r.observed.chains).toBeGreaterThanOrEqual(4);
    expect(r.bytesRewritten).toBeGreaterThan(0);
    const tampered = { ...r, observed: { ...r.observed, bytesChanged: 1, chainsChanged: 1 } };
    expect(c7Verdict([{ transport: "grant-copy", bs: 512, result: tampered }]).text).toMatch(/grant-copy 512 B: copying, yet 1 bytes changed/);
    expect(c7Verdict([{ transport: "grant-map", bs: 512, result: r }]).text).toMatch(/grant-map 512 B: shared memory, yet no byte changed/);
    expect(c7Verdict([{ transport: "pv-p2m", bs: 512, result: null, error: "boom" }]).holds).toBe(false);
    expect(c7Verdict([]).holds).toBe(false);
  });

  it("refuses a world with two guests", () => {
    expect(() => runDoubleFetch({ transport: "grant-map", profile: "arm64-v8.1-lse", device: "net", workload: { kind: "netperf", test: "stream", messageSize: 512 }, ios: 2, seed: 1 }))
      .toThrow(/one guest only, the net world has 2/);
  });
});

describe("DoubleFetchProbe", () => {
  const inner: VirtioDevice = {
    deviceId: 2, features: 0n, numQueues: 1, queueMax: 8, config: new Uint8Array(4),
    negotiated: () => {}, reset: () => {}, handle: (_q, _c, io) => ({ written: io.read(0, 4).length }),
  };
  const chain: Chain = { id: 0, segs: [{ addr: 0, len: 4, write: false }], readable: 4, writable: 0 };

  it("counts bytes that changed between the reads and leaves unreachable chains to the device", () => {
    const mem = Uint8Array.of(1, 2, 3, 4);
    const io: ChainIo = { read: (o, n) => mem.slice(o, o + n), write: () => 0 };
    const p = new DoubleFetchProbe(inner, { between: () => { mem[1] = 9; mem[3] = 9; }, after: () => { mem[1] = 2; mem[3] = 4; } });
    expect(p.deviceId).toBe(2);
    expect(p.handle(0, chain, io)).toEqual({ written: 4 });
    expect(p.observed).toEqual({ chains: 1, chainsChanged: 1, bytesProbed: 4, bytesChanged: 2 });
    const dead: ChainIo = { read: () => { throw new DeviceIoError("no"); }, write: () => 0 };
    expect(() => p.handle(0, chain, dead)).toThrow(DeviceIoError); // the inner device's own read
    expect(p.observed.chains).toBe(1);
  });
});
