// buildWorld beyond the matrix: where each transport's backend may run (dom0, a driver domain
// with device-model rights but no foreign mapping, or with no rights at all, the guest's
// device-model stub domain), every transport on
// every architecture, the domain list, mergeable rx buffers, and the JobSpec entry point.
import { describe, expect, it } from "vitest";
import { buildWorld, type BackendPlacement } from "../src/run/world.ts";
import { buildJob, runJobRounds, settle, worldOptionsFor } from "../src/run/job.ts";
import { TransportSetupError } from "../src/transports/types.ts";
import { TRANSPORTS } from "./helpers/matrix-model.ts";
import { ARCHES } from "../src/scenario/vocabulary.ts";
import { DRIVER_DOMAIN_POLICY, XEN_ARCH_OF } from "../src/run/world-hosts.ts";
import { MmioForeignTransport } from "../src/transports/mmio-foreign.ts";
import { GrantMapTransport } from "../src/transports/grant-map.ts";
import { DummyPolicy, type XsmOp } from "../src/xen/xsm.ts";
import { parseXsmPolicy } from "../src/xen/xsm-policy.ts";
import { runJob } from "../src/run/run-job.ts";
import type { JobSpec, PerIo } from "../src/run/result.ts";

/** Which placements each transport's privileges allow (docs/transports.md). The driver domain
 *  runs under DRIVER_DOMAIN_POLICY: device-model rights (dm_op) and grants over its guests, no
 *  foreign mapping. */
const ALLOWED: Record<(typeof TRANSPORTS)[number], BackendPlacement[]> = {
  "kvm-ioeventfd": ["dom0"],
  "mmio-foreign": ["dom0", "stubdom"],
  "grant-map": ["dom0", "driver-domain", "stubdom"],
  "grant-copy": ["dom0", "driver-domain", "stubdom"],
  "grant-persistent": ["dom0", "driver-domain", "stubdom"],
  "argo:buffered": ["dom0", "driver-domain", "stubdom"],
  "argo:sg": ["dom0", "driver-domain", "stubdom"],
  "pv-p2m": ["dom0"],
  "fat-virtqueue": ["dom0", "driver-domain", "stubdom"],
  "preshared-bounce": ["dom0", "stubdom"],
};

const NO_FOREIGN = /backend d3 \(driver\) may not map guest d1's memory \(XSM map_gmfn_foreign denied\)/;
const WHY: Record<string, RegExp> = {
  "kvm-ioeventfd": /VMM process in the host/,
  "mmio-foreign": NO_FOREIGN,
  "pv-p2m": /only dom0 may map the guest's machine frames/,
  "preshared-bounce": NO_FOREIGN,
};

/** A driver domain with no rights over the guest at all (Xen's dummy XSM: no dm_op, no foreign
 *  map) can serve only what needs neither: argo and fat-virtqueue (its ring is granted). */
const WHY_NO_RIGHTS: Record<string, RegExp> = {
  ...WHY,
  "mmio-foreign": /cannot be the device model of guest d1: create_ioreq_server .* -EPERM/,
  "grant-map": /cannot serve guest d1's register window: create_ioreq_server .* -EPERM/,
  "grant-copy": /cannot serve guest d1's register window/,
  "grant-persistent": /cannot serve guest d1's register window/,
  "preshared-bounce": /may not map guest d1's memory/,
};

const rngJob = (transport: string) => ({ transport, profile: "arm64-v8.1-lse", device: "rng" as const, workload: { kind: "rng" as const, readSize: 256 }, ios: 4, seed: 2 });

describe.each(TRANSPORTS)("%s: backend placement", (transport) => {
  for (const placement of ["dom0", "driver-domain", "stubdom"] as const) {
    const ok = ALLOWED[transport].includes(placement);
    it(`${placement}: ${ok ? "serves the guest (bytes verified)" : "is refused with the transport's TransportSetupError"}`, () => {
      const o = { transport, arch: "arm64-v8.1-lse" as const, device: "rng" as const, backend: placement };
      if (!ok) {
        expect(() => buildWorld(o)).toThrow(TransportSetupError);
        expect(() => buildWorld(o)).toThrow(WHY[transport.split(":")[0]!]!);
        return;
      }
      const w = buildWorld(o);
      const be = w.endpoints[0]!.backendDomid;
      const role = w.domains.find((d) => d.domid === be)?.role;
      expect(role).toBe(transport === "kvm-ioeventfd" ? undefined : placement === "dom0" ? "backend" : placement === "stubdom" ? "dm" : "backend");
      const job = buildJob(w, rngJob(transport));
      runJobRounds(w, job);
      expect(job.failures()).toEqual([]);
      expect(job.rng!.reader.stats(1).bytes).toBe(4 * 256);
      w.close();
    });
  }

  const bare = transport.startsWith("argo") || transport === "fat-virtqueue";
  it(`a driver domain without any right over the guest (dummy XSM): ${bare ? "serves it" : "is refused"}`, () => {
    const o = { transport, arch: "arm64-v8.1-lse" as const, device: "rng" as const, backend: "driver-domain" as const, xsm: new DummyPolicy() };
    if (!bare) {
      expect(() => buildWorld(o)).toThrow(TransportSetupError);
      expect(() => buildWorld(o)).toThrow(WHY_NO_RIGHTS[transport.split(":")[0]!]!);
      return;
    }
    const w = buildWorld(o);
    const job = buildJob(w, rngJob(transport));
    runJobRounds(w, job);
    expect(job.failures()).toEqual([]);
    w.close();
  });
});

describe("runJob with the backend in a driver domain (JobSpec.options.backendDomain)", () => {
  const spec = (transport: string, backendDomain: "dom0" | "driver-domain"): JobSpec => ({
    transport, profile: "x86-64", device: "blk", workload: { kind: "fio", rw: "randrw", bs: 4096, iodepth: 1 }, ios: 16, seed: 4, options: { backendDomain },
  });
  // Per 4 KiB request at iodepth 1: the dom0 figures, unchanged (docs/transports.md).
  const PER_IO: Record<string, Partial<PerIo>> = {
    "grant-map": { copies: 0, grantOps: 6, maps: 3, unmaps: 3, tlbFlushes: 1, traps: 3, hypercalls: 7, notifications: 1, interrupts: 1, evtchnSends: 3 },
    "grant-copy": { copies: 3, copyBytes: 4113, grantOps: 3, maps: 0, unmaps: 0, tlbFlushes: 0, traps: 3, hypercalls: 7, interrupts: 1 },
    "grant-persistent": { copies: 3, copyBytes: 4113, grantOps: 0, maps: 0, unmaps: 0, traps: 3, hypercalls: 5, interrupts: 1 },
    "argo:sg": { copies: 3, copyBytes: 5394, grantOps: 0, maps: 0, traps: 0, hypercalls: 4, notifications: 1, interrupts: 1 },
    "argo:buffered": { copies: 6, copyBytes: 12339, grantOps: 0, maps: 0, traps: 0, hypercalls: 4, notifications: 1, interrupts: 1 },
  };
  it.each(Object.keys(PER_IO))("%s: the same counters as from dom0, the driver domain's CPU charged, bytes verified", (t) => {
    const d0 = runJob(spec(t, "dom0"));
    const dd = runJob(spec(t, "driver-domain"));
    expect(dd.perIo).toMatchObject(PER_IO[t]!);
    expect(dd.perIo).toEqual(d0.perIo);
    expect(dd.counters).toEqual(d0.counters);
    expect(dd.exposure).toEqual(d0.exposure);
    expect(dd.bytesVerified).toBe(d0.bytesVerified);
    expect(dd.bytesVerified).toBeGreaterThan(0);
    expect(Object.keys(dd.cpuByDomain).sort()).toEqual(["driver", "guest"]);
    expect(Object.keys(d0.cpuByDomain).sort()).toEqual(["Domain-0", "guest"]);
  });

  it("mmio-foreign from that driver domain is refused before any I/O: it may run the IOREQ server but not map guest RAM", () => {
    expect(() => runJob(spec("mmio-foreign", "driver-domain"))).toThrow(TransportSetupError);
    expect(() => runJob(spec("mmio-foreign", "driver-domain"))).toThrow(
      "mmio-foreign: backend d3 (driver) may not map guest d1's memory (XSM map_gmfn_foreign denied)",
    );
  });

  it("the policy is a Flask file: dm_op and grants from back_t to front_t, map_gmfn_foreign denied", () => {
    const p = parseXsmPolicy(DRIVER_DOMAIN_POLICY);
    const w = buildWorld({ transport: "grant-map", arch: "arm64-v8.0", device: "blk", backend: "driver-domain" });
    const [drv, g] = [w.env!.hv.domain(3)!, w.env!.hv.domain(1)!];
    expect([drv.label, g.label, drv.target]).toEqual(["back_t", "front_t", undefined]);
    expect(["dm_op", "grant_mapref", "map_gmfn_foreign"].map((op) => p.check(op as XsmOp, drv, g))).toEqual([true, true, false]);
    expect(w.env!.hv.xsm.name).toBe("flask");
    w.close();
  });
});

describe("buildWorld", () => {
  it("lists the domains with their roles; a net pair shares one driver domain", () => {
    const w = buildWorld({ transport: "argo:sg", arch: "x86-64", device: "net", backend: "driver-domain" });
    expect(w.domains).toEqual([
      { domid: 0, name: "Domain-0", role: "control", vcpus: 1 },
      { domid: 1, name: "guest", role: "guest", vcpus: 1 },
      { domid: 2, name: "peer", role: "peer", vcpus: 1 },
      { domid: 3, name: "driver", role: "backend", vcpus: 1 },
    ]);
    expect(w.endpoints.map((e) => [e.name, e.frontendDomid, e.backendDomid])).toEqual([["guest", 1, 3], ["peer", 2, 3]]);
    expect(w.xenArch).toBe("x86-64");
    expect(w.exposure()).toEqual({ reachable: 0, mapped: 0, mappedPeak: 0 });
  });

  it("maps each scenario architecture to the Xen host the model runs; every transport builds on every architecture", () => {
    expect(buildWorld({ transport: "pv-p2m", arch: "riscv64", device: "blk" }).xenArch).toBe("riscv64");
    expect(buildWorld({ transport: "grant-map", arch: "arm64-v8.0", device: "blk" }).xenArch).toBe("arm64");
    expect(buildWorld({ transport: "kvm-ioeventfd", arch: "x86-64", device: "blk" }).xenArch).toBeUndefined();
    // The virtio-mmio transports served through IOREQ wire their interrupt the architecture's way.
    const LINE = { "x86-64": ["isa", 5], "arm64-v8.0": ["spi", 33], "arm64-v8.1-lse": ["spi", 33], riscv64: ["spi", 33] } as const;
    for (const arch of ARCHES) {
      for (const t of TRANSPORTS) {
        const w = buildWorld({ transport: t, arch, device: "blk" });
        expect(w.xenArch).toBe(t === "kvm-ioeventfd" ? undefined : XEN_ARCH_OF[arch]);
        const tr = w.transports[0]!;
        if (tr instanceof MmioForeignTransport || tr instanceof GrantMapTransport) expect([tr.irq.kind, tr.irq.line]).toEqual(LINE[arch]);
        w.close();
      }
    }
    expect(() => buildWorld({ transport: "argo:zero", arch: "x86-64", device: "blk" })).toThrow(/unknown transport 'argo:zero'; expected one of/);
  });

  it("mergeable rx buffers: 512-byte buffers, each 1042-byte frame spans 3 of them and is put back together", () => {
    for (const transport of ["grant-map", "argo:buffered", "fat-virtqueue", "pv-p2m"]) {
      const w = buildWorld({ transport, arch: "arm64-v8.0", device: "net", net: { rxBufBytes: 512 } });
      const job = buildJob(w, { transport, profile: "arm64-v8.0", device: "net", workload: { kind: "netperf", test: "stream", messageSize: 1000 }, ios: 6, seed: 1 }, { rxBuffers: 16 });
      job.prime();
      settle(w, job);
      runJobRounds(w, job);
      expect(job.failures()).toEqual([]);
      expect(job.net!.flow.stats(1).bytes).toBe(6 * 1000);
      expect(w.net!.devices[1]!.stats).toMatchObject({ rxFrames: 6, rxBuffers: 18 });
    }
  });

  it("worldOptionsFor: a JobSpec's transport, profile architecture and options", () => {
    const spec = { transport: "grant-map", profile: "arm64-v8.0", device: "blk" as const, workload: { kind: "fio" as const, rw: "randrw" as const, bs: 4096, iodepth: 4 }, ios: 16, seed: 3, options: { tlbFlushElision: true, backendDomain: "dom0" as const } };
    expect(worldOptionsFor(spec)).toEqual({ transport: "grant-map", arch: "arm64-v8.0", device: "blk", seed: 3, backend: "dom0", tlbFlushElision: true });
    expect(() => worldOptionsFor({ ...spec, profile: "my-board.yaml" })).toThrow(/pass the architecture/);
    const w = buildWorld(worldOptionsFor(spec));
    expect(w.env!.gt!.elideUnaccessedFlush).toBe(true);
    const job = buildJob(w, spec);
    runJobRounds(w, job);
    expect(job.failures()).toEqual([]);
    expect(job.fio!.job.completed).toBe(16);
    expect(job.fio!.verifyImage((o, l) => w.blk!.backing.read(o, l))).toBeGreaterThan(0);
  });
});
