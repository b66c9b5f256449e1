import { afterEach, describe, expect, it, vi } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../src/scenario/config-error.ts";
import { loadScenario, parseScenario } from "../src/scenario/scenario.ts";
import { scenarioJobs } from "../src/run/scenario-jobs.ts";
import { runJob } from "../src/run/run-job.ts";
import { runCommand } from "../src/cli/cmd-run.ts";
import type { JobResult, JobSpec } from "../src/run/result.ts";

const lines = (...l: string[]) => l.join("\n") + "\n";

describe("scenarioJobs", () => {
  it("maps scenarios/blk-randread.yaml to one blk job", () => {
    expect(scenarioJobs(loadScenario("scenarios/blk-randread.yaml"))).toEqual([{
      workload: "fio0",
      device: "guest/xvda",
      spec: {
        transport: "grant-map", profile: "arm64-v8.0", device: "blk",
        workload: { kind: "fio", rw: "randread", bs: 4096, iodepth: 16 },
        ios: 10000, seed: 1, blk: { sizeBytes: 256 << 20 }, options: { tlbFlushElision: false, backendDomain: "dom0", xsm: { module: "silo" }, labels: {} },
      },
    }]);
  });

  it("maps a disk's raw image file (target, resolved against the scenario) and access=ro into spec.blk", () => {
    const base = mkdtempSync(join(tmpdir(), "vxsim-sj-"));
    writeFileSync(join(base, "data.img"), new Uint8Array(64 * 1024));
    const s = parseScenario(lines(
      "machine: { profile: x86-64 }",
      "seed: 1",
      "domains:",
      "  - xl: |",
      "      name = 'g'",
      "      disk = [ 'format=raw, vdev=xvda, access=ro, specification=virtio, target=data.img', 'data.img,raw,xvdb,rw,specification=virtio' ]",
      "workloads:",
      "  - fio: { device: g/xvda, rw: randread, bs: 4k, iodepth: 1 }",
      "  - fio: { device: g/xvdb, rw: randwrite, bs: 4k, iodepth: 1 }",
      "duration: { ios: 5 }",
    ), { file: "img.yaml", baseDir: base });
    expect(scenarioJobs(s).map((j) => j.spec.blk)).toEqual([
      { image: join(base, "data.img"), readOnly: true },
      { image: join(base, "data.img") },
    ]);
  });

  it("maps each workload with its device's transport and backend; netperf rr sends its request size", () => {
    const s = parseScenario(lines(
      "machine: { profile: riscv64 }",
      "hypervisor: { tlb_flush_elision: true, argo: { enabled: true } }",
      "transport: argo:sg",
      "devices: { g/xvdb: { transport: argo:buffered } }",
      "domains:",
      "  - xl: |",
      "      name = 'drv'",
      "      driver_domain = 1",
      "  - xl: |",
      "      name = 'g'",
      "      disk = [ 'vdev=xvda,specification=virtio,vxsim_memdisk=1M', 'vdev=xvdb,specification=virtio,vxsim_memdisk=1M,backend=drv' ]",
      "      vif = [ 'model=virtio-net', 'model=virtio-net,vxsim_transport=grant-persistent' ]",
      "      virtio = [ 'type=virtio,device4' ]",
      "workloads:",
      "  - fio: { device: g/xvda, rw: randrw, bs: 8k, iodepth: 4, rwmixread: 70 }",
      "  - fio: { name: seq, device: g/xvdb, rw: write, bs: 64k, iodepth: 1 }",
      "  - netperf: { device: g/vif0, peer: g/vif1, test: stream, message_size: 16k }",
      "  - netperf: { name: lat, device: g/vif1, peer: loopback, test: rr, request_size: 64, response_size: 1k }",
      "  - rng: { device: g/virtio0, read_size: 32 }",
      "duration: { ios: 500 }",
      "seed: 42",
    ), { file: "inline.yaml", baseDir: tmpdir() });
    const jobs = scenarioJobs(s);
    expect(jobs.map((j) => [j.workload, j.device, j.spec.transport, j.spec.device, j.spec.options?.backendDomain])).toEqual([
      ["fio0", "g/xvda", "argo:sg", "blk", "dom0"],
      ["seq", "g/xvdb", "argo:buffered", "blk", "driver-domain"],
      ["netperf2", "g/vif0", "argo:sg", "net", "dom0"],
      ["lat", "g/vif1", "grant-persistent", "net", "dom0"],
      ["rng4", "g/virtio0", "argo:sg", "rng", "dom0"],
    ]);
    expect(jobs.map((j) => j.spec.workload)).toEqual([
      { kind: "fio", rw: "randrw", bs: 8192, iodepth: 4, rwmixread: 70 },
      { kind: "fio", rw: "write", bs: 65536, iodepth: 1 },
      { kind: "netperf", test: "stream", messageSize: 16384 },
      { kind: "netperf", test: "rr", messageSize: 64, responseSize: 1024 },
      { kind: "rng", readSize: 32 },
    ]);
    for (const j of jobs) expect(j.spec).toMatchObject({ profile: "riscv64", ios: 500, seed: 42, options: { tlbFlushElision: true } });
  });

  it("refuses at the device's line a backend the transport does not allow from a driver domain, naming the privilege", () => {
    const text = (transport: string, type = "pvh") => lines(
      "machine: { profile: x86-64 }",
      "hypervisor: { argo: { enabled: true } }",
      `transport: ${transport}`,
      "domains:",
      "  - xl: |",
      "      name = 'netdom'",
      "      driver_domain = 1",
      "  - xl: |",
      "      name = 'web'",
      `      type = '${type}'`,
      "      disk = [ 'vdev=xvda,specification=virtio,vxsim_memdisk=1M,backend=netdom' ]",
      "workloads: [ { fio: { device: web/xvda, rw: randread, bs: 4k, iodepth: 1 } } ]",
      "duration: { ios: 5 }",
      "seed: 1",
    );
    const jobs = (transport: string, type?: string) => scenarioJobs(parseScenario(text(transport, type), { file: "d.yaml", baseDir: tmpdir() }));
    // Under x86's default XSM (dummy) a driver domain that is not the guest's device-model
    // target may not run an IOREQ server, so the grant transports are refused too.
    const allowed = "use backend Domain-0, or a transport a driver domain can serve (argo:buffered, argo:sg, fat-virtqueue)";
    expect(() => jobs("mmio-foreign")).toThrow(new ConfigError("d.yaml", 11, "disk[0]",
      `web/xvda: backend 'netdom' cannot serve transport mmio-foreign: it may not map the memory of 'web', and the transport reaches buffers that way (Domain-0 may, and a stub domain whose target is 'web'); ${allowed}`));
    expect(() => jobs("pv-p2m", "pv")).toThrow(new ConfigError("d.yaml", 11, "disk[0]",
      `web/xvda: backend 'netdom' cannot serve transport pv-p2m: only Domain-0, the control domain, may serve it; ${allowed}`));
    expect(jobs("argo:sg")[0]!.spec).toMatchObject({ transport: "argo:sg", options: { backendDomain: "driver-domain" } });
    expect(() => jobs("grant-map")).toThrow(new ConfigError("d.yaml", 11, "disk[0]",
      "web/xvda: backend 'netdom' cannot serve transport grant-map: XSM DUMMY denies it (grant-map: 'netdom' cannot serve web's register window: " +
      `create_ioreq_server and its set-up returned -EPERM); ${allowed}, or an XSM policy that allows it (hypervisor.xsm: flask, xsm_policy: <file>)`));
  });

  it("passes a profile file by path", () => {
    const text = (duration: string) => lines(
      "machine: { profile: ../profiles/x86-64.yaml, arch: x86-64 }",
      "domains: [ { xl: [ \"name = 'g'\", \"virtio = [ 'type=virtio,device4' ]\" ] } ]",
      "workloads: [ { rng: { device: g/virtio0 } } ]",
      `duration: ${duration}`,
      "seed: 1",
    );
    const s = parseScenario(text("{ ios: 7 }"), { file: "p.yaml", baseDir: join(process.cwd(), "scenarios") });
    expect(scenarioJobs(s)[0]!.spec).toMatchObject({ profile: join(process.cwd(), "profiles/x86-64.yaml"), device: "rng", workload: { kind: "rng", readSize: 64 }, ios: 7 });
  });
});

/** A stand-in runner for the argument plumbing of `vxsim run` only: it echoes the spec into
 *  a result-shaped object so the test can see what reached the runner and what is printed. */
function echoRunner(seen: JobSpec[]) {
  return (spec: JobSpec): JobResult => {
    seen.push(spec);
    return {
      spec, profile: spec.profile, arch: spec.profile, ios: spec.ios, bytes: spec.ios * 10, elapsedNs: 1000, iops: spec.ios * 2, throughputMBps: 1.5,
      cyclesPerIo: 123.456, latency: { count: spec.ios, mean: 5, min: 1, p50: 4, p90: 8, p99: 9, max: 10 },
      perIo: { copies: 1, copiesGuest: 0, copiesHv: 1, copiesBackend: 0, copyBytes: 4096, grantOps: 2, maps: 1, unmaps: 1, tlbFlushes: 0.5, tlbFlushesElided: 0, traps: 0, ioreqs: 0, hypercalls: 2, notifications: 1, notificationsSuppressed: 0, interrupts: 1, evtchnSends: 1, atomics: 0 },
      cpuByDomain: { guest: { total: 700 }, "Domain-0": { total: 300 } },
    } as unknown as JobResult;
  };
}

describe("vxsim run (plumbing)", () => {
  afterEach(() => vi.restoreAllMocks());

  it("runs each scenario job through the runner and writes JSON, CSV and a table", async () => {
    const seen: JobSpec[] = [];
    const out = join(mkdtempSync(join(tmpdir(), "vxsim-run-")), "r.json");
    expect(await runCommand("scenarios/blk-randread.yaml", { out, quiet: true }, () => echoRunner(seen))).toBe(0);
    expect(seen).toEqual(scenarioJobs(loadScenario("scenarios/blk-randread.yaml")).map((j) => j.spec));
    const doc = JSON.parse(readFileSync(out, "utf8"));
    expect(doc.scenario).toBe("blk-randread");
    expect(doc.jobs.map((j: { workload: string; device: string; result: { iops: number } }) => [j.workload, j.device, j.result.iops])).toEqual([["fio0", "guest/xvda", 20000]]);

    const csvFile = out.replace(/json$/, "csv");
    await runCommand("scenarios/blk-randread.yaml", { out: csvFile, csv: true, quiet: true }, () => echoRunner([]));
    const [head, row] = readFileSync(csvFile, "utf8").trimEnd().split("\n");
    expect(head!.split(",").slice(0, 8)).toEqual(["workload", "device", "transport", "profile", "arch", "ios", "bytes", "elapsedNs"]);
    expect(head).toContain(",latency.p99,latency.max,perIo.copies,");
    expect(head!.endsWith(",cpuNs.guest,cpuNs.Domain-0")).toBe(true);
    expect(row!.startsWith("fio0,guest/xvda,grant-map,arm64-v8.0,arm64-v8.0,10000,100000,1000,20000,1.5,123.456,10000,5,1,4,8,9,10,1,0,1,0,4096,")).toBe(true);

    const printed: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((s) => (printed.push(String(s)), true));
    await runCommand("scenarios/blk-randread.yaml", { quiet: true }, () => echoRunner([]));
    expect(printed.join("")).toMatch(/│ fio0\s+│ guest\/xvda │ grant-map\s+│ arm64-v8.0 │\s+20000 │\s+1.5 │\s+4 │\s+9 │\s+123.5 │\s+1 │\s+1 │\s+0.5 │\s+0 │\s+1 │/);
  });

  it("--seed replaces the scenario's seed in every job and in the output", async () => {
    const seen: JobSpec[] = [];
    const out = join(mkdtempSync(join(tmpdir(), "vxsim-run-")), "r.json");
    expect(await runCommand("scenarios/blk-randread.yaml", { out, quiet: true, seed: 77 }, () => echoRunner(seen))).toBe(0);
    expect(seen.map((s) => s.seed)).toEqual([77]);
    expect(JSON.parse(readFileSync(out, "utf8")).seed).toBe(77);
  });

  it("reports a bad scenario before loading the runner", async () => {
    const load = vi.fn(() => echoRunner([]));
    await expect(runCommand("scenarios/guest.cfg", { quiet: true }, load)).rejects.toBeInstanceOf(ConfigError);
    expect(load).not.toHaveBeenCalled();
  });
});

describe("the scenario's XSM module governs its jobs", () => {
  const base = mkdtempSync(join(tmpdir(), "vxsim-xsm-"));
  // stordom (back_t) may be app's device model and map or copy its grants; never map its memory.
  const policy = (dm: boolean) => lines(
    "default deny",
    "allow dom0_t * grant_mapref,grant_copy,grant_setup,evtchn_interdomain,evtchn_send,map_gmfn_foreign,dm_op,xenstore",
    "allow front_t dom0_t evtchn_interdomain,evtchn_send,xenstore",
    "allow back_t dom0_t evtchn_interdomain,evtchn_send,xenstore",
    "allow front_t self grant_setup",
    "allow front_t back_t evtchn_interdomain,evtchn_send",
    `allow back_t front_t evtchn_interdomain,evtchn_send,grant_mapref,grant_copy${dm ? ",dm_op" : ""}`,
  );
  const scenario = (xsm: string, transport = "grant-map") => parseScenario(lines(
    "machine: { profile: arm64-v8.1-lse }",
    `hypervisor: { ${xsm} }`,
    `transport: ${transport}`,
    "domains:",
    "  - xl: [ \"name = 'stordom'\", 'driver_domain = 1', \"seclabel = 'system_u:system_r:back_t'\" ]",
    "  - xl: [ \"name = 'app'\", \"seclabel = 'system_u:system_r:front_t'\", \"disk = [ 'vdev=xvda,specification=virtio,vxsim_memdisk=1M,backend=stordom' ]\" ]",
    "workloads: [ { fio: { device: app/xvda, rw: write, bs: 4k, iodepth: 1 } } ]",
    "duration: { ios: 4 }",
    "seed: 1",
  ), { file: "x.yaml", baseDir: base });

  it("a Flask policy that makes the driver domain app's device model lets it serve grant-map; the job carries the policy and the seclabels", () => {
    writeFileSync(join(base, "dm.xsm"), policy(true));
    const [job] = scenarioJobs(scenario("xsm: flask, xsm_policy: dm.xsm"));
    expect(job!.spec.options).toEqual({
      tlbFlushElision: false, backendDomain: "driver-domain",
      xsm: { module: "flask", file: join(base, "dm.xsm"), policy: policy(true) }, labels: { guest: "front_t", backend: "back_t" },
    });
  });

  it("the same policy without dm_op refuses it at the disk's line, naming the policy file", () => {
    writeFileSync(join(base, "nodm.xsm"), policy(false));
    expect(() => scenarioJobs(scenario("xsm: flask, xsm_policy: nodm.xsm"))).toThrow(
      /^x\.yaml:6: disk\[0\]: app\/xvda: backend 'stordom' cannot serve transport grant-map: the Flask policy nodm\.xsm denies it \(grant-map: 'stordom' cannot serve app's register window: create_ioreq_server and its set-up returned -EACCES\)/);
  });

  it("runJob enforces the job's policy: the allowing one runs and verifies, the same job under the one without dm_op is refused", () => {
    writeFileSync(join(base, "dm.xsm"), policy(true));
    const [job] = scenarioJobs(scenario("xsm: flask, xsm_policy: dm.xsm"));
    expect(runJob(job!.spec).bytesVerified).toBeGreaterThan(0);
    const denied: JobSpec = { ...job!.spec, options: { ...job!.spec.options, xsm: { module: "flask", file: "nodm.xsm", policy: policy(false) } } };
    expect(() => runJob(denied)).toThrow(/grant-map: backend d3 \(driver\) cannot serve guest d1's register window: create_ioreq_server and its set-up returned -EACCES/);
  });

  it("SILO (Arm's default) denies Argo between two unprivileged domains, so argo from a driver domain is refused", () => {
    expect(() => scenarioJobs(scenario("argo: { enabled: true }", "argo:sg"))).toThrow(
      /cannot serve transport argo:sg: XSM SILO denies it \(argo: 'stordom' could not register its ring for 'app': -EPERM/);
    expect(scenarioJobs(scenario("xsm: dummy, argo: { enabled: true }", "argo:sg"))[0]!.spec.options).toMatchObject({ xsm: { module: "dummy" } });
  });
});
