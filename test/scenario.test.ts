import { describe, expect, it } from "vitest";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ConfigError } from "../src/scenario/config-error.ts";
import { loadScenario, parseScenario, type Scenario } from "../src/scenario/scenario.ts";
import { SCENARIO_SCHEMA } from "../src/scenario/schema-check.ts";
import { ARCHES, TRANSPORT_SPELLINGS } from "../src/scenario/vocabulary.ts";

/** A temporary directory holding `files`; `load` reads `s.yaml` from it. Messages come back
 *  with the directory stripped, so they read as a user would see them from inside it. */
function world(files: Record<string, string | Buffer>) {
  const dir = mkdtempSync(join(tmpdir(), "vxsim-scenario-"));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return {
    dir,
    load: (main = "s.yaml"): Scenario => loadScenario(join(dir, main)),
    error: (main = "s.yaml"): string => {
      try {
        loadScenario(join(dir, main));
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).message.replaceAll(`${dir}/`, "");
      }
      throw new Error("expected a ConfigError");
    },
  };
}

const lines = (...l: string[]) => l.join("\n") + "\n";

const GUEST = lines(
  "name = 'guest'",
  "memory = 256",
  "disk = [ 'file:images/guest.img, xvda, w, backendtype=standalone, specification=virtio' ]",
);
const IMAGE = Buffer.alloc(1 << 20); // 1 MiB raw image

/** A valid scenario; `patch` replaces whole top-level lines by key. */
function scenario(patch: Record<string, string> = {}): string {
  const base: Record<string, string> = {
    machine: "machine: { profile: x86-64 }",
    domains: "domains:\n  - cfg: guest.cfg",
    workloads: "workloads:\n  - fio: { device: guest/xvda, rw: randread, bs: 4k, iodepth: 8 }",
    duration: "duration: { ios: 100 }",
    seed: "seed: 7",
  };
  const merged = { ...base, ...patch };
  return Object.values(merged).filter((v) => v !== "").join("\n") + "\n";
}

describe("the committed example", () => {
  it("scenarios/blk-randread.yaml loads with guest.cfg beside it", () => {
    const s = loadScenario("scenarios/blk-randread.yaml");
    expect(s.name).toBe("blk-randread");
    expect(s.machine).toEqual({ profile: { kind: "builtin", id: "arm64-v8.0" }, arch: "arm64-v8.0" });
    expect(s.hypervisor).toEqual({
      kind: "xen", grantFrames: 64, maptrackFrames: 1024, tlbFlushElision: false, xsm: { module: "silo" },
      argo: { enabled: false, macPermissive: false },
    });
    expect(s.domains.map((d) => [d.domid, d.name, d.type, d.memoryMiB, d.vcpus, d.control])).toEqual([
      [0, "Domain-0", "pvh", 1024, 1, true],
      [1, "guest", "pvh", 512, 2, false],
    ]);
    expect(s.domains[1]!.xl!.ignored).toEqual(["kernel", "extra", "on_crash"]);
    expect(s.devices).toEqual([
      {
        id: "guest/xvda", kind: "blk", frontend: 1, backend: 0, grantUsage: undefined,
        site: { file: "scenarios/guest.cfg", line: 12, field: "disk[0]" },
        blk: { image: { kind: "memory" }, sizeBytes: 256 << 20, readonly: false },
        transport: { id: "grant-map" }, transportFrom: "scenario default",
        transportSite: { file: "scenarios/blk-randread.yaml", line: 10, field: "transport" },
      },
    ]);
    expect(s.workloads).toEqual([
      {
        kind: "fio", name: "fio0", device: "guest/xvda", rw: "randread", bs: 4096, iodepth: 16, size: 64 << 20,
        rwmixread: 50, verify: false, site: { file: "scenarios/blk-randread.yaml", line: 15, field: "workloads[0].fio" },
      },
    ]);
    expect(s.duration).toEqual({ kind: "ios", ios: 10000 });
    expect(s.seed).toBe(1);
    expect(s.warnings).toEqual([]);
  });
});

describe("valid scenarios", () => {
  it("reads an image file next to the xl.cfg, with defaults (x86 pv guest, dummy XSM, xl-derived transport)", () => {
    const w = world({ "s.yaml": scenario(), "guest.cfg": GUEST, "images/guest.img": IMAGE });
    const s = w.load();
    expect(s.name).toBe("s");
    expect(s.hypervisor.xsm).toEqual({ module: "dummy" });
    expect(s.domains[0]!.type).toBe("pv");
    expect(s.domains[1]!.type).toBe("pv");
    expect(s.devices[0]).toMatchObject({
      blk: { image: { kind: "file", path: join(w.dir, "images/guest.img") }, sizeBytes: 1 << 20, readonly: false },
      transport: { id: "mmio-foreign" }, transportFrom: "xl default",
      transportSite: { file: join(w.dir, "guest.cfg"), line: 3, field: "disk[0]" },
    });
    expect(s.workloads[0]).toMatchObject({ bs: 4096, iodepth: 8, size: 1 << 20, rwmixread: 50, verify: false });
  });

  it("resolves the transport by precedence: scenario device, device spec, domain, scenario default, xl", () => {
    const cfg = lines(
      "name = 'g'",
      "vxsim_transport = 'grant-copy'",
      "disk = [ 'vdev=xvda,specification=virtio,vxsim_memdisk=1M,vxsim_transport=argo:sg',",
      "         'vdev=xvdb,specification=virtio,vxsim_memdisk=1M',",
      "         'vdev=xvdc,specification=virtio,vxsim_memdisk=1M' ]",
    );
    const other = lines(
      "name = 'h'",
      "disk = [ 'vdev=xvda,specification=virtio,vxsim_memdisk=1M',",
      "         'vdev=xvdb,specification=virtio,vxsim_memdisk=1M,grant_usage=1',",
      "         'vdev=xvdc,specification=virtio,vxsim_memdisk=1M,backend=g' ]",
    );
    const w = world({
      "s.yaml": scenario({
        hypervisor: "hypervisor: { argo: { enabled: true } }",
        domains: "domains:\n  - cfg: g.cfg\n  - cfg: h.cfg",
        devices: "devices:\n  g/xvdc: { transport: fat-virtqueue }",
        workloads: "workloads:\n  - fio: { device: g/xvda, rw: read }",
      }),
      "g.cfg": cfg,
      "h.cfg": other,
    });
    const s = w.load();
    const t = (id: string) => {
      const d = s.devices.find((x) => x.id === id)!;
      return [d.transport, d.transportFrom, d.transportSite.line, d.transportSite.field];
    };
    expect(t("g/xvda")).toEqual([{ id: "argo", variant: "sg" }, "device spec", 3, "disk[0]"]);
    expect(t("g/xvdb")).toEqual([{ id: "grant-copy" }, "domain", 2, "vxsim_transport"]);
    expect(t("g/xvdc")).toEqual([{ id: "fat-virtqueue" }, "scenario device", 11, "devices.g/xvdc.transport"]);
    expect(t("h/xvda")).toEqual([{ id: "mmio-foreign" }, "xl default", 2, "disk[0]"]);
    expect(t("h/xvdb")).toEqual([{ id: "grant-map" }, "xl default", 3, "disk[1]"]); // grant_usage=1
    expect(t("h/xvdc")).toEqual([{ id: "grant-map" }, "xl default", 4, "disk[2]"]); // backend outside dom0
    expect(s.devices.find((x) => x.id === "h/xvdc")!.backend).toBe(1);
    expect(s.domains[1]!.driverDomain).toBe(true); // g serves h/xvdc
    const s2 = world({
      "s.yaml": scenario({ transport: "transport: preshared-bounce", domains: "domains:\n  - cfg: h.cfg", workloads: "workloads:\n  - fio: { device: h/xvda, rw: read }" }),
      "h.cfg": lines("name = 'h'", "disk = [ 'vdev=xvda,specification=virtio,vxsim_memdisk=1M' ]"),
    }).load();
    expect([s2.devices[0]!.transport, s2.devices[0]!.transportFrom]).toEqual([{ id: "preshared-bounce" }, "scenario default"]);
  });

  it("takes inline xl.cfg as a literal block or a list, a driver domain, net pairs, rng and a Flask policy", () => {
    const w = world({
      "s.yaml": lines(
        "name: net-and-rng",
        "machine: { profile: arm64-v8.1-lse }",
        "hypervisor:",
        "  grant_frames: 32",
        "  maptrack_frames: 256",
        "  tlb_flush_elision: true",
        "  xsm: flask",
        "  xsm_policy: policies/argo.xsm",
        "  argo: { enabled: true, mac_permissive: true }",
        "dom0: { memory: 2048, vcpus: 4 }",
        "transport: argo",
        "domains:",
        "  - xl: |",
        "      name = 'netdom'",
        "      driver_domain = 1",
        "      seclabel = 'system_u:system_r:backend_t'",
        "  - xl: |",
        "      name = 'a'",
        "      max_grant_frames = 8",
        "      vif = [ 'mac=00:16:3e:00:00:0a,bridge=br0,backend=netdom,model=virtio-net' ]",
        "      virtio = [ 'type=virtio,device4', 'type=virtio,device22' ]",
        "  - xl:",
        "      - name = 'b'",
        "      - vif = [ 'bridge=br0,backend=netdom,vxsim_transport=grant-copy,mtu=9000' ]",
        "      - disk = [ 'phy:/dev/xvdb,xvdb,w' ]",
        "workloads:",
        "  - netperf: { device: a/vif0, peer: b/vif0, test: stream, message_size: 16k }",
        "  - netperf: { name: lat, device: b/vif0, peer: loopback, test: rr, request_size: 64, response_size: 1k }",
        "  - rng: { device: a/virtio0, read_size: 32 }",
        "duration: { ios: 250 }",
        "seed: 4294967295",
      ),
      "policies/argo.xsm": lines("default allow"),
    });
    const s = w.load();
    expect(s.hypervisor).toMatchObject({ grantFrames: 32, maptrackFrames: 256, tlbFlushElision: true, argo: { enabled: true, macPermissive: true } });
    expect(s.hypervisor.xsm).toMatchObject({ module: "flask", policyFile: join(w.dir, "policies/argo.xsm") });
    expect(s.domains.map((d) => [d.domid, d.name, d.type, d.driverDomain, d.label, d.maxGrantFrames, d.maxMaptrackFrames])).toEqual([
      [0, "Domain-0", "pvh", false, undefined, 32, 256],
      [1, "netdom", "pvh", true, "backend_t", 32, 256],
      [2, "a", "pvh", false, undefined, 8, 256],
      [3, "b", "pvh", false, undefined, 32, 256],
    ]);
    expect(s.domains[0]).toMatchObject({ memoryMiB: 2048, vcpus: 4 });
    expect(s.devices.map((d) => [d.id, d.kind, d.frontend, d.backend, d.transport, d.site.file, d.site.line])).toEqual([
      ["a/vif0", "net", 2, 1, { id: "argo", variant: "buffered" }, join(w.dir, "s.yaml"), 20],
      ["a/virtio0", "rng", 2, 0, { id: "argo", variant: "buffered" }, join(w.dir, "s.yaml"), 21],
      ["b/vif0", "net", 3, 1, { id: "grant-copy" }, join(w.dir, "s.yaml"), 24],
    ]);
    expect(s.devices[0]!.net).toEqual({ mac: "00:16:3e:00:00:0a", bridge: "br0", mtu: 1500 });
    expect(s.devices[2]!.net).toEqual({ mac: undefined, bridge: "br0", mtu: 9000 });
    expect(s.workloads).toEqual([
      { kind: "netperf", name: "netperf0", device: "a/vif0", peer: "b/vif0", test: "stream", messageSize: 16384, requestSize: 0, responseSize: 0, site: expect.anything() },
      { kind: "netperf", name: "lat", device: "b/vif0", peer: "loopback", test: "rr", messageSize: 0, requestSize: 64, responseSize: 1024, site: expect.anything() },
      { kind: "rng", name: "rng2", device: "a/virtio0", readSize: 32, site: expect.anything() },
    ]);
    expect(s.duration).toEqual({ kind: "ios", ios: 250 });
    expect(s.seed).toBe(4294967295);
    const file = "s.yaml";
    expect(s.warnings.map((x) => x.replaceAll(`${w.dir}/`, ""))).toEqual([
      `${file}:21: virtio[1]: virtio,device22 is not a device vxsim simulates (virtio,device1 net, virtio,device2 block, virtio,device4 rng)`,
      `${file}:25: disk[0]: a Xen PV disk (blkfront) is not simulated; vxsim simulates disks with specification=virtio`,
    ]);
  });

  it("accepts a profile file with its arch, and the KVM baseline", () => {
    const w = world({
      "s.yaml": scenario({ machine: "machine: { profile: profiles/mine.yaml, arch: riscv64 }", transport: "transport: kvm-ioeventfd" }),
      "profiles/mine.yaml": readFileSync("profiles/riscv64.yaml", "utf8"), // validated at load
      "guest.cfg": GUEST,
      "images/guest.img": IMAGE,
    });
    const s = w.load();
    expect(s.machine).toEqual({ profile: { kind: "file", path: join(w.dir, "profiles/mine.yaml") }, arch: "riscv64" });
    expect(s.hypervisor.kind).toBe("kvm");
    expect(s.hypervisor.xsm).toEqual({ module: "dummy" });
    expect(s.domains[1]!.type).toBe("pvh");
  });

  it("warns that SILO (the Arm default) cuts a guest off from a backend outside Domain-0", () => {
    const w = world({
      "s.yaml": scenario({ machine: "machine: { profile: arm64-v8.0 }", domains: "domains:\n  - xl: name = 'drv'\n  - cfg: g.cfg", workloads: "workloads:\n  - rng: { device: g/virtio0 }" }),
      "g.cfg": lines("name = 'g'", "virtio = [ 'type=virtio,device4,backend=drv' ]"),
    });
    const s = w.load();
    expect(s.hypervisor.xsm).toEqual({ module: "silo" });
    expect(s.devices[0]).toMatchObject({ backend: 1, transport: { id: "grant-map" }, transportFrom: "xl default" });
    expect(s.workloads[0]).toMatchObject({ readSize: 64 });
    expect(s.warnings.map((x) => x.replaceAll(`${w.dir}/`, ""))).toEqual([
      "g.cfg:2: virtio[0]: XSM SILO denies grants, event channels and Argo between two unprivileged domains, and g/virtio0's backend drv is not Domain-0 (set hypervisor.xsm to dummy or flask to allow it)",
    ]);
  });

  it("parses a scenario given as text with a base directory", () => {
    const w = world({ "guest.cfg": GUEST, "images/guest.img": IMAGE });
    const s = parseScenario(scenario(), { file: "inline.yaml", baseDir: w.dir });
    expect(s.devices[0]!.id).toBe("guest/xvda");
    expect(s.name).toBe("inline");
  });

  it("keeps the schema's enums in step with the vocabulary", () => {
    const defs = SCENARIO_SCHEMA.definitions;
    expect([...defs.transport.enum].sort()).toEqual([...TRANSPORT_SPELLINGS]);
    expect(SCENARIO_SCHEMA.properties.machine.properties.arch.enum).toEqual([...ARCHES]);
  });
});

describe("invalid scenarios: file, line and field", () => {
  const base = { "guest.cfg": GUEST, "images/guest.img": IMAGE, "s.yaml": scenario() };
  const cases: Array<[string, Record<string, string | Buffer>, string]> = [
    // YAML and schema
    ["empty file", { "s.yaml": "" }, "s.yaml:1: expected a mapping, got nothing"],
    ["not a mapping", { "s.yaml": "- a\n- b\n" }, "s.yaml:1: expected a mapping, got a list"],
    ["YAML syntax", { "s.yaml": "machine: { profile: x86-64\nseed: 1\n" }, "s.yaml:2: YAML syntax: Flow map in block collection must be sufficiently indented and end with a }"],
    ["duplicate key", { "s.yaml": scenario() + "seed: 8\n" }, "s.yaml:8: YAML syntax: Map keys must be unique"],
    ["unknown top-level key", { "s.yaml": scenario({ seeds: "seeds: 1" }) }, "s.yaml:8: seeds: unknown key 'seeds' (did you mean 'seed'? expected one of: name, description, machine, hypervisor, dom0, transport, domains, devices, workloads, duration, seed)"],
    ["missing seed", { ...base, "s.yaml": scenario({ seed: "" }) }, "s.yaml:1: seed: missing (a required key)"],
    ["wrong type", { ...base, "s.yaml": scenario({ seed: "seed: one" }) }, "s.yaml:7: seed: expected an integer, got 'one'"],
    ["seed too large", { ...base, "s.yaml": scenario({ seed: "seed: 4294967296" }) }, "s.yaml:7: seed: must be at most 4294967295, got 4294967296"],
    ["bad transport", { ...base, "s.yaml": scenario({ transport: "transport: grant" }) }, `s.yaml:8: transport: unknown value 'grant' (expected one of: ${TRANSPORT_SPELLINGS.join(", ")})`],
    ["unknown hypervisor key", { ...base, "s.yaml": scenario({ hypervisor: "hypervisor:\n  grant_frame: 8" }) }, "s.yaml:9: hypervisor.grant_frame: unknown key 'grant_frame' (did you mean 'grant_frames'? expected one of: grant_frames, maptrack_frames, tlb_flush_elision, xsm, xsm_policy, argo)"],
    ["grant frames zero", { ...base, "s.yaml": scenario({ hypervisor: "hypervisor: { grant_frames: 0 }" }) }, "s.yaml:8: hypervisor.grant_frames: must be at least 1, got 0"],
    ["bad xsm", { ...base, "s.yaml": scenario({ hypervisor: "hypervisor: { xsm: selinux }" }) }, "s.yaml:8: hypervisor.xsm: unknown value 'selinux' (expected one of: dummy, silo, flask)"],
    ["empty domains", { ...base, "s.yaml": scenario({ domains: "domains: []" }) }, "s.yaml:2: domains: needs at least 1 entry"],
    ["domain entry with both", { ...base, "s.yaml": scenario({ domains: "domains:\n  - { cfg: guest.cfg, xl: \"name = 'x'\" }" }) }, "s.yaml:3: domains[0]: expected exactly one of: cfg, xl (found: cfg, xl)"],
    ["workload with two kinds", { ...base, "s.yaml": scenario({ workloads: "workloads:\n  - fio: { device: guest/xvda, rw: read }\n    rng: { device: guest/xvda }" }) }, "s.yaml:5: workloads[0]: expected exactly one of: fio, netperf, rng (found: fio, rng)"],
    ["bad rw", { ...base, "s.yaml": scenario({ workloads: "workloads:\n  - fio: { device: guest/xvda, rw: rw }" }) }, "s.yaml:5: workloads[0].fio.rw: unknown value 'rw' (expected one of: read, write, randread, randwrite, randrw)"],
    ["missing rw", { ...base, "s.yaml": scenario({ workloads: "workloads:\n  - fio: { device: guest/xvda }" }) }, "s.yaml:5: workloads[0].fio.rw: missing (a required key)"],
    ["duration in virtual time", { ...base, "s.yaml": scenario({ duration: "duration: { time: 10ms }" }) }, "s.yaml:6: duration.ios: missing (a required key)\ns.yaml:6: duration.time: unknown key 'time' (expected one of: ios)"],
    ["devices entry without transport", { ...base, "s.yaml": scenario({ devices: "devices:\n  guest/xvda: {}" }) }, "s.yaml:9: devices.guest/xvda.transport: missing (a required key)"],
    [
      "several schema errors at once, in line order",
      { "s.yaml": scenario({ seed: "seed: -1", machine: "machine: { profile: x86-64, cpu: 4 }" }) },
      [
        "s.yaml:1: machine.cpu: unknown key 'cpu' (expected one of: profile, arch)",
        "s.yaml:7: seed: must be at least 0, got -1",
      ].join("\n"),
    ],
    // machine and hypervisor
    ["unknown profile", { ...base, "s.yaml": scenario({ machine: "machine: { profile: arm64 }" }) }, "s.yaml:1: machine.profile: unknown profile 'arm64' (expected one of: x86-64, arm64-v8.0, arm64-v8.1-lse, riscv64, or the path of a profile file)"],
    ["profile typo", { ...base, "s.yaml": scenario({ machine: "machine: { profile: x86_64 }" }) }, "s.yaml:1: machine.profile: unknown profile 'x86_64' (did you mean 'x86-64'? expected one of: x86-64, arm64-v8.0, arm64-v8.1-lse, riscv64, or the path of a profile file)"],
    ["profile file missing", { ...base, "s.yaml": scenario({ machine: "machine: { profile: p/none.yaml, arch: x86-64 }" }) }, "s.yaml:1: machine.profile: profile file 'p/none.yaml' not found"],
    ["profile file without arch", { ...base, "p.yaml": "x: 1\n", "s.yaml": scenario({ machine: "machine:\n  profile: p.yaml" }) }, "s.yaml:2: machine.arch: missing (a profile file needs arch: one of x86-64, arm64-v8.0, arm64-v8.1-lse, riscv64)"],
    ["arch contradicts profile", { ...base, "s.yaml": scenario({ machine: "machine: { profile: x86-64, arch: riscv64 }" }) }, "s.yaml:1: machine.arch: 'riscv64' contradicts the built-in profile 'x86-64' (give arch only with a profile file)"],
    ["flask without policy", { ...base, "s.yaml": scenario({ hypervisor: "hypervisor:\n  xsm: flask" }) }, "s.yaml:9: hypervisor.xsm: flask needs a policy file (xsm_policy: <file>)"],
    ["policy file missing", { ...base, "s.yaml": scenario({ hypervisor: "hypervisor: { xsm: flask, xsm_policy: none.xsm }" }) }, "s.yaml:8: hypervisor.xsm_policy: cannot read policy file 'none.xsm' (ENOENT)"],
    ["error inside the policy file", { ...base, "a.xsm": "default allow\nallow * * argo_sned\n", "s.yaml": scenario({ hypervisor: "hypervisor: { xsm: flask, xsm_policy: a.xsm }" }) }, "a.xsm:2: operation: unknown operation 'argo_sned'"],
    ["policy without flask", { ...base, "s.yaml": scenario({ hypervisor: "hypervisor: { xsm_policy: a.xsm }" }) }, "s.yaml:8: hypervisor.xsm_policy: only used with xsm: flask (xsm is dummy, the default on x86-64)"],
    ["mac-permissive without argo", { ...base, "s.yaml": scenario({ hypervisor: "hypervisor:\n  argo:\n    mac_permissive: true" }) }, "s.yaml:10: hypervisor.argo.mac_permissive: has no effect while Argo is disabled (set enabled: true)"],
    // domains
    ["cfg file missing", { "s.yaml": scenario({ domains: "domains:\n  - cfg: nope.cfg" }) }, "s.yaml:3: domains[0].cfg: cannot read xl.cfg file 'nope.cfg' (ENOENT)"],
    ["error inside the cfg file", { ...base, "guest.cfg": "name = 'guest'\nmemory = 256\n\nvcpus = 'two'\n" }, "guest.cfg:4: vcpus: expected an integer, got 'two'"],
    ["misspelt key in a cfg disk", { ...base, "guest.cfg": "name = 'guest'\ndisk = [ 'file:images/guest.img,xvda,specifcation=virtio' ]\n" }, "guest.cfg:2: disk[0]: unknown key 'specifcation' (did you mean 'specification'? expected one of: access, active-disk, backend, backendtype, cdrom, colo, colo-export, colo-host, colo-port, devtype, direct-io-safe, discard, format, grant_usage, hidden-disk, no-colo, no-discard, script, specification, target, transport, trusted, untrusted, vdev, vxsim_memdisk, vxsim_transport)"],
    ["error in an inline block", { "s.yaml": scenario({ domains: "domains:\n  - xl: |\n      name = 'g'\n      memory = 12x" }) }, "s.yaml:5: memory: malformed number '12x' (xl numbers are decimal or 0x hexadecimal, without units)"],
    ["error in an inline list", { "s.yaml": scenario({ domains: "domains:\n  - xl:\n    - name = 'g'\n\n    - typo = 1" }) }, "s.yaml:6: typo: unknown key 'typo' (did you mean 'type'?)"],
    ["multi-line quoted inline xl", { "s.yaml": scenario({ domains: "domains:\n  - xl: \"name = 'g'\n      memory = 5\"" }) }, "s.yaml:3: domains[0].xl: write multi-line xl.cfg as a literal block (xl: |) or a list of lines, so that line numbers are kept"],
    ["duplicate domain names", { ...base, "s.yaml": scenario({ domains: "domains:\n  - cfg: guest.cfg\n  - xl: name = 'guest'" }) }, "s.yaml:4: name: domain name 'guest' is already used by domains[0] (guest.cfg)"],
    ["hvm on Arm", { ...base, "guest.cfg": GUEST + "type = 'hvm'\n", "s.yaml": scenario({ machine: "machine: { profile: arm64-v8.0 }" }) }, "guest.cfg:4: type: hvm guests do not exist on arm64-v8.0 (Arm and RISC-V guests are pvh)"],
    ["memory too large", { ...base, "guest.cfg": GUEST.replace("memory = 256", "memory = 8192") }, "guest.cfg:2: memory: 8192 MiB does not fit: vxsim's guest-physical space is 4 GiB with grant and foreign mappings above RAM (at most 4095 MiB)"],
    // devices and transports
    ["unknown backend", { ...base, "guest.cfg": lines("name = 'guest'", "disk = [ 'vdev=xvda,specification=virtio,vxsim_memdisk=1M,backend=drv' ]") }, "guest.cfg:2: disk[0]: backend 'drv' is not a domain of this scenario (expected one of: Domain-0, guest)"],
    ["backend is itself", { ...base, "guest.cfg": lines("name = 'guest'", "disk = [ 'vdev=xvda,specification=virtio,vxsim_memdisk=1M,backend=1' ]") }, "guest.cfg:2: disk[0]: backend '1' is the domain itself"],
    ["image missing", { "guest.cfg": GUEST, "s.yaml": scenario() }, "guest.cfg:3: disk[0]: image 'images/guest.img' not found (a virtio disk needs a raw image file, or vxsim_memdisk=SIZE for an in-memory image)"],
    ["image of odd size", { ...base, "images/guest.img": Buffer.alloc(1000), "s.yaml": scenario() }, "guest.cfg:3: disk[0]: image 'images/guest.img' is 1000 bytes, not a positive multiple of 512 (the sector size)"],
    ["image is a directory", { "guest.cfg": GUEST, "images/guest.img/x": "", "s.yaml": scenario() }, "guest.cfg:3: disk[0]: image 'images/guest.img' is not a regular file (vxsim reads disk images from files)"],
    ["qcow2 image", { ...base, "guest.cfg": lines("name = 'guest'", "disk = [ 'qcow2:images/guest.img,xvda,specification=virtio' ]") }, "guest.cfg:2: disk[0]: format qcow2 is not simulated (vxsim reads raw images)"],
    ["virtio block without memdisk", { ...base, "guest.cfg": lines("name = 'guest'", "virtio = [ 'type=virtio,device2' ]") }, "guest.cfg:2: virtio[0]: a block device from the virtio list needs vxsim_memdisk=SIZE (it names no image file)"],
    ["unsimulated virtio with a transport", { ...base, "guest.cfg": GUEST + "virtio = [ 'type=virtio,device22,vxsim_transport=grant-map' ]\n" }, "guest.cfg:4: virtio[0]: virtio,device22 is not a device vxsim simulates (virtio,device1 net, virtio,device2 block, virtio,device4 rng)"],
    ["unknown device override", { ...base, "s.yaml": scenario({ devices: "devices:\n  guest/xvdz: { transport: grant-map }" }) }, "s.yaml:9: devices.guest/xvdz: unknown device 'guest/xvdz' (expected one of: guest/xvda)"],
    ["argo not enabled", { ...base, "s.yaml": scenario({ transport: "transport: argo:sg" }) }, "s.yaml:8: transport: guest/xvda: transport argo:sg needs Argo: set hypervisor.argo.enabled: true"],
    ["pv-p2m on a pvh guest", { ...base, "guest.cfg": GUEST + "type = 'pvh'\nvxsim_transport = 'pv-p2m'\n" }, "guest.cfg:5: vxsim_transport: guest/xvda: transport pv-p2m needs a pv guest (the guest writes machine frame numbers into the ring); 'guest' is pvh"],
    [
      "KVM baseline mixed with Xen",
      { ...base, "guest.cfg": GUEST.replace("' ]", "', 'vdev=xvdb,specification=virtio,vxsim_memdisk=1M,vxsim_transport=kvm-ioeventfd' ]") },
      "guest.cfg:3: disk[1]: guest/xvdb: transport kvm-ioeventfd cannot share a scenario with guest/xvda's mmio-foreign: kvm-ioeventfd is the KVM baseline, the others run on Xen",
    ],
    // workloads
    ["unknown workload device", { ...base, "s.yaml": scenario({ workloads: "workloads:\n  - fio: { device: guest/xvdb, rw: read }" }) }, "s.yaml:5: workloads[0].fio.device: unknown device 'guest/xvdb' (expected one of: guest/xvda)"],
    ["fio on an rng", { ...base, "guest.cfg": GUEST + "virtio = [ 'type=virtio,device4' ]\n", "s.yaml": scenario({ workloads: "workloads:\n  - fio: { device: guest/virtio0, rw: read }" }) }, "s.yaml:5: workloads[0].fio.device: fio needs a blk device; 'guest/virtio0' is a rng device"],
    ["bs not a sector multiple", { ...base, "s.yaml": scenario({ workloads: "workloads:\n  - fio: { device: guest/xvda, rw: read, bs: 1000 }" }) }, "s.yaml:5: workloads[0].fio.bs: must be a positive multiple of 512 bytes (the virtio-blk sector), got 1000"],
    ["bad size string", { ...base, "s.yaml": scenario({ workloads: "workloads:\n  - fio: { device: guest/xvda, rw: read, bs: 4 KB please }" }) }, "s.yaml:5: workloads[0].fio.bs: invalid size '4 KB please' (expected bytes, or a number with a K, M, G or T suffix such as 4k or 64M)"],
    ["size beyond the disk", { ...base, "s.yaml": scenario({ workloads: "workloads:\n  - fio:\n      device: guest/xvda\n      rw: read\n      size: 2M" }) }, "s.yaml:8: workloads[0].fio.size: 2097152 bytes is more than guest/xvda holds (1048576 bytes)"],
    ["size not a multiple of bs", { ...base, "s.yaml": scenario({ workloads: "workloads:\n  - fio: { device: guest/xvda, rw: read, bs: 4k, size: 6k }" }) }, "s.yaml:5: workloads[0].fio.size: must be a positive multiple of bs (4096), got 6144"],
    ["rwmixread without randrw", { ...base, "s.yaml": scenario({ workloads: "workloads:\n  - fio: { device: guest/xvda, rw: randread, rwmixread: 70 }" }) }, "s.yaml:5: workloads[0].fio.rwmixread: only applies to rw: randrw (rw is randread)"],
    ["writes to a read-only disk", { ...base, "guest.cfg": GUEST.replace(", w,", ", r,"), "s.yaml": scenario({ workloads: "workloads:\n  - fio: { device: guest/xvda, rw: randrw }" }) }, "s.yaml:5: workloads[0].fio.rw: randrw writes, but guest/xvda is read-only (access=ro in guest.cfg:3)"],
    ["iodepth too deep", { ...base, "s.yaml": scenario({ workloads: "workloads:\n  - fio: { device: guest/xvda, rw: read, iodepth: 4096 }" }) }, "s.yaml:5: workloads[0].fio.iodepth: must be at most 1024, got 4096"],
    ["stream without message size", { ...base, "guest.cfg": GUEST + "vif = [ 'model=virtio-net' ]\n", "s.yaml": scenario({ workloads: "workloads:\n  - netperf: { device: guest/vif0, peer: loopback, test: stream }" }) }, "s.yaml:5: workloads[0].netperf.message_size: missing (stream needs message_size)"],
    ["rr with a message size", { ...base, "guest.cfg": GUEST + "vif = [ 'model=virtio-net' ]\n", "s.yaml": scenario({ workloads: "workloads:\n  - netperf: { device: guest/vif0, peer: loopback, test: rr, message_size: 1k }" }) }, "s.yaml:5: workloads[0].netperf.message_size: only applies to test: stream (use request_size and response_size for rr)"],
    ["peer is the device", { ...base, "guest.cfg": GUEST + "vif = [ 'model=virtio-net' ]\n", "s.yaml": scenario({ workloads: "workloads:\n  - netperf: { device: guest/vif0, peer: guest/vif0, test: rr }" }) }, "s.yaml:5: workloads[0].netperf.peer: the peer must be another net device (or loopback)"],
    ["peer is a disk", { ...base, "guest.cfg": GUEST + "vif = [ 'model=virtio-net' ]\n", "s.yaml": scenario({ workloads: "workloads:\n  - netperf: { device: guest/vif0, peer: guest/xvda, test: rr }" }) }, "s.yaml:5: workloads[0].netperf.peer: netperf's peer needs a net device; 'guest/xvda' is a blk device"],
    ["rng read too large", { ...base, "guest.cfg": GUEST + "virtio = [ 'type=virtio,device4' ]\n", "s.yaml": scenario({ workloads: "workloads:\n  - rng: { device: guest/virtio0, read_size: 1M }" }) }, "s.yaml:5: workloads[0].rng.read_size: must be 1 to 65536 bytes, got 1048576"],
    ["duplicate workload names", { ...base, "s.yaml": scenario({ workloads: "workloads:\n  - fio: { name: a, device: guest/xvda, rw: read }\n  - fio: { name: a, device: guest/xvda, rw: read }" }) }, "s.yaml:6: workloads[1].fio.name: workload name 'a' is already used by workloads[0]"],
    ["bad duration", { ...base, "s.yaml": scenario({ duration: "duration: { ios: 0 }" }) }, "s.yaml:6: duration.ios: must be at least 1, got 0"],
  ];

  it("has at least 20 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)("%s", (_what, files, expected) => {
    expect(world(files).error()).toBe(expected);
  });

  it("carries file, line and field on the error (and every error of a pass)", () => {
    const w = world({ "s.yaml": scenario({ seed: "seed: -1", machine: "machine: { profile: x86-64, cpu: 4 }" }) });
    try {
      w.load();
      expect.unreachable();
    } catch (e) {
      const err = e as ConfigError;
      expect([err.file, err.line, err.field]).toEqual([join(w.dir, "s.yaml"), 1, "machine.cpu"]);
      expect(err.all.map((x) => [x.line, x.field])).toEqual([[1, "machine.cpu"], [7, "seed"]]);
    }
  });

  it("names an unreadable scenario file", () => {
    expect(() => loadScenario("/nonexistent/s.yaml")).toThrow("/nonexistent/s.yaml: cannot read the scenario file (ENOENT)");
  });
});
