import { describe, expect, it } from "vitest";
import { runJob, resolveProfile } from "../src/run/run-job.ts";
import type { JobSpec } from "../src/run/result.ts";
import { price } from "../src/cost/price.ts";

const fio = (transport: string, profile = "arm64-v8.0", bs = 4096): JobSpec => ({
  transport, profile, device: "blk", workload: { kind: "fio", rw: "randrw", bs, iodepth: 1 }, ios: 24, seed: 5,
});

describe("runJob: one JobSpec to one verified, timed JobResult", () => {
  it.each(["kvm-ioeventfd", "grant-map", "argo:sg", "preshared-bounce"])("blk over %s: every I/O done, bytes checked, price consistent", (t) => {
    const r = runJob(fio(t));
    expect(r.format).toBe("vxsim-result/1");
    expect(r.ios).toBe(24);
    expect(r.bytes).toBe(24 * 4096);
    // Reads checked against what the job wrote, then every written sector read off the disk.
    expect(r.bytesVerified).toBeGreaterThan(0);
    expect(r.latency.count).toBe(24);
    expect(r.cyclesPerIo * r.ios).toBeCloseTo(r.price.cycles, 6);
    expect(r.price).toEqual(price(r.counters, resolveProfile("arm64-v8.0")));
    expect(r.iops).toBeCloseTo(24 / (r.elapsedNs / 1e9), 6);
    expect(r.timeline).toBeUndefined();
  });

  it("net stream between two guests and rng reads complete with their payload verified", () => {
    const net = runJob({ transport: "grant-copy", profile: "x86-64", device: "net", workload: { kind: "netperf", test: "stream", messageSize: 1000 }, ios: 20, seed: 2 });
    expect(net).toMatchObject({ ios: 20, bytes: 20_000, bytesVerified: 20_000 });
    expect(net.cpuByDomain).toHaveProperty("guest");
    expect(net.cpuByDomain).toHaveProperty("peer");
    const rr = runJob({ transport: "argo:buffered", profile: "riscv64", device: "net", workload: { kind: "netperf", test: "rr", messageSize: 64, responseSize: 256 }, ios: 10, seed: 2 });
    expect(rr.bytesVerified).toBe(10 * (64 + 256));
    const rng = runJob({ transport: "fat-virtqueue", profile: "arm64-v8.1-lse", device: "rng", workload: { kind: "rng", readSize: 256 }, ios: 16, seed: 9 });
    expect(rng).toMatchObject({ ios: 16, bytes: 16 * 256, bytesVerified: 16 * 256 });
  });

  it("is a pure function of the spec: same seed, same result, timeline included", () => {
    const a = runJob(fio("grant-copy"), { trace: true });
    const b = runJob(fio("grant-copy"), { trace: true });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.timeline!.length).toBeGreaterThan(24);
    const busy = a.timeline!.reduce((s, x) => s + x.durNs, 0);
    expect(busy).toBeCloseTo(a.cpu.reduce((s, c) => s + c.busyNs, 0), 3);
  });

  it("prices the same mechanism differently per architecture", () => {
    const x = runJob(fio("kvm-ioeventfd", "x86-64"));
    const a = runJob(fio("kvm-ioeventfd", "arm64-v8.0"));
    expect(x.counters).toEqual(a.counters);
    expect(x.elapsedNs).not.toBe(a.elapsedNs);
  });

  it("mmio-foreign's mapping modes through options.foreignMap: per request (default) vs all guest RAM mapped at set-up", () => {
    const withMode = (foreignMap?: "per-request" | "all-ram") => runJob({ ...fio("mmio-foreign"), ...(foreignMap ? { options: { foreignMap } } : {}) });
    const per = withMode();
    expect(withMode("per-request").counters).toEqual(per.counters);
    // header/status slot page + data page mapped, unmapped (one flush each) per I/O
    expect(per.perIo).toMatchObject({ maps: 2, unmaps: 2, tlbFlushes: 2, traps: 3, hypercalls: 8, copies: 0 });
    expect(per.exposure).toEqual({ reachable: 4096, mapped: 3, mappedPeak: 5 });
    const all = withMode("all-ram");
    expect(all.perIo).toMatchObject({ maps: 0, unmaps: 0, tlbFlushes: 0, traps: 3, hypercalls: 5, copies: 0 });
    expect(all.exposure).toEqual({ reachable: 4096, mapped: 4096, mappedPeak: 4096 });
    expect(all.bytesVerified).toBe(per.bytesVerified);
    expect(all.cyclesPerIo).toBeLessThan(per.cyclesPerIo);
  });

  it("refuses unknown profiles and transports with a clear message", () => {
    expect(() => runJob(fio("grant-map", "sparc"))).toThrow(/profile 'sparc' is neither a built-in profile \(x86-64, arm64-v8.0, arm64-v8.1-lse, riscv64\) nor a file/);
    expect(() => runJob(fio("virtio-pigeon"))).toThrow(/unknown transport 'virtio-pigeon'; expected one of/);
  });
});
