// buildWorld beyond the matrix: where each transport's backend may run (dom0, a driver domain
// without privilege over the guest, the guest's device-model stub domain), every transport on
// every architecture, the domain list, mergeable rx buffers, and the JobSpec entry point.
import { describe, expect, it } from "vitest";
import { buildWorld, type BackendPlacement } from "../src/run/world.ts";
import { buildJob, runJobRounds, settle, worldOptionsFor } from "../src/run/job.ts";
import { TransportSetupError } from "../src/transports/types.ts";
import { TRANSPORTS } from "./helpers/matrix-model.ts";
import { ARCHES } from "../src/scenario/vocabulary.ts";
import { XEN_ARCH_OF } from "../src/run/world-hosts.ts";
import { MmioForeignTransport } from "../src/transports/mmio-foreign.ts";
import { GrantMapTransport } from "../src/transports/grant-map.ts";

/** Which placements each transport's privileges allow (docs/transports.md). */
const ALLOWED: Record<(typeof TRANSPORTS)[number], BackendPlacement[]> = {
  "kvm-ioeventfd": ["dom0"],
  "mmio-foreign": ["dom0", "stubdom"],
  "grant-map": ["dom0", "stubdom"],
  "grant-copy": ["dom0", "stubdom"],
  "grant-persistent": ["dom0", "stubdom"],
  "argo:buffered": ["dom0", "driver-domain", "stubdom"],
  "argo:sg": ["dom0", "driver-domain", "stubdom"],
  "pv-p2m": ["dom0"],
  "fat-virtqueue": ["dom0", "stubdom"],
  "preshared-bounce": ["dom0", "stubdom"],
};

const WHY: Record<string, RegExp> = {
  "kvm-ioeventfd": /VMM process in the host/,
  "mmio-foreign": /cannot be the device model of guest d1: create_ioreq_server .* -EPERM/,
  "grant-map": /cannot serve guest d1's register window: create_ioreq_server .* -EPERM/,
  "grant-copy": /cannot serve guest d1's register window/,
  "grant-persistent": /cannot serve guest d1's register window/,
  "pv-p2m": /only dom0 may map the guest's machine frames/,
  "fat-virtqueue": /may not map guest d1's memory \(XSM map_gmfn_foreign denied\)/,
  "preshared-bounce": /may not map guest d1's memory/,
};

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
      const job = buildJob(w, { transport, profile: "arm64-v8.1-lse", device: "rng", workload: { kind: "rng", readSize: 256 }, ios: 4, seed: 2 });
      runJobRounds(w, job);
      expect(job.failures()).toEqual([]);
      expect(job.rng!.reader.stats(1).bytes).toBe(4 * 256);
      w.close();
    });
  }
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
