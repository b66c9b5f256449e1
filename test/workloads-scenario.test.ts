import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../src/scenario/config-error.ts";
import { parseScenario } from "../src/scenario/scenario.ts";
import type { Scenario, Workload } from "../src/scenario/scenario-types.ts";
import { BLK_T_OUT, SECTOR, type BlkRequest } from "../src/workloads/blk-request.ts";
import { SeededByteStream } from "../src/workloads/byte-stream.ts";
import { formatMac } from "../src/workloads/eth.ts";
import { buildWorkloads, type WorkloadEnv, type WorkloadInstance } from "../src/workloads/from-scenario.ts";
import { getWire } from "../src/workloads/net-wire.ts";
import { MemDisk, runBlk } from "./helpers/workload-devices.ts";

const lines = (...l: string[]) => l.join("\n") + "\n";

/** A scenario with a guest holding two memory disks, two vifs (the second without a MAC,
 *  MTU 9000) and an rng; `workloads` are YAML list items. */
function scenario(workloads: string[], opts: { seed?: number; extraXl?: string[]; dir?: string } = {}): Scenario {
  const text = lines(
    "machine: { profile: x86-64 }",
    "domains:",
    "  - xl: |",
    "      name = 'g'",
    "      disk = [ 'vdev=xvda,specification=virtio,vxsim_memdisk=1M', 'vdev=xvdb,specification=virtio,vxsim_memdisk=2M' ]",
    "      vif = [ 'mac=00:16:3e:00:00:01,model=virtio-net', 'model=virtio-net,mtu=9000' ]",
    "      virtio = [ 'type=virtio,device4' ]",
    ...(opts.extraXl ?? []).map((l) => `      ${l}`),
    "workloads:",
    ...workloads.map((w) => `  - ${w}`),
    "duration: { ios: 100 }",
    `seed: ${opts.seed ?? 7}`,
  );
  return parseScenario(text, { file: "s.yaml", baseDir: opts.dir ?? tmpdir() });
}

function configError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error("expected a ConfigError");
}

const fio = (w: WorkloadInstance) => (w.kind === "fio" ? w.job : undefined)!;

describe("scenario workloads -> generators", () => {
  it("builds one generator per workload with the scenario's options", () => {
    const s = scenario([
      "fio: { device: g/xvda, rw: randrw, bs: 8k, iodepth: 4, size: 512k, rwmixread: 30, verify: true }",
      "netperf: { device: g/vif0, peer: g/vif1, test: stream, message_size: 16k }",
      "netperf: { name: lat, device: g/vif1, peer: loopback, test: rr, request_size: 64, response_size: 1k }",
      "rng: { device: g/virtio0, read_size: 32 }",
    ]);
    const ws = buildWorkloads(s);
    expect(ws.map((w) => [w.kind, w.name, w.device])).toEqual([
      ["fio", "fio0", "g/xvda"], ["netperf", "netperf1", "g/vif0"], ["netperf", "lat", "g/vif1"], ["rng", "rng3", "g/virtio0"],
    ]);
    // fio: bs, size, iodepth and verify as written
    const reqs: BlkRequest[] = [];
    const j = fio(ws[0]!);
    for (let r = j.next(0); r; r = j.next(0)) reqs.push(r);
    expect(reqs.length).toBe(4);
    expect(reqs.every((r) => r.len === 8192 && r.sector * SECTOR + r.len <= 512 * 1024)).toBe(true);
    // netperf: MACs from the xl.cfg or drawn, MTU the smaller of the pair, loopback on one device
    const stream = ws[1]!;
    expect(stream).toMatchObject({ kind: "netperf", peer: "g/vif1", loopback: false });
    const frame = stream.kind === "netperf" ? stream.flow.next("a", 0)! : new Uint8Array();
    expect(formatMac(frame.subarray(6, 12))).toBe("00:16:3e:00:00:01");
    const drawn = frame.subarray(0, 6);
    expect(drawn[0]! & 3).toBe(2); // locally administered unicast
    expect(frame.length).toBe(14 + 1500);
    expect(getWire(frame, 14)).toMatchObject({ flow: 2, kind: 1, len: 1472 });
    const lat = ws[2]!;
    expect(lat).toMatchObject({ kind: "netperf", device: "g/vif1", peer: "g/vif1", loopback: true });
    const req = lat.kind === "netperf" ? lat.flow.next("a", 0)! : new Uint8Array();
    expect(formatMac(req.subarray(0, 6))).toBe(formatMac(drawn));
    expect(formatMac(req.subarray(6, 12))).toBe(formatMac(drawn));
    expect(lat.kind === "netperf" && lat.flow.test).toBe("rr");
    // rng: read size
    const rng = ws[3]!;
    expect(rng.kind === "rng" && rng.reader.next(0)).toEqual({ tag: 1, len: 32 });
  });

  it("forks each workload's randomness by name: adding one leaves the others unchanged", () => {
    const job = "fio: { name: j, device: g/xvdb, rw: randrw, size: 1M }";
    /** The first 20 requests, completed as they come (the plan does not depend on it). */
    const first = (w: WorkloadInstance) => {
      const out: string[] = [];
      const jb = fio(w);
      for (let i = 0; i < 20; i++) {
        const r = jb.next(i)!;
        out.push(`${r.type}:${r.sector}`);
        jb.complete(r.tag, r.type === BLK_T_OUT ? { status: 0 } : { status: 0, data: new Uint8Array(r.len) }, i);
      }
      return out;
    };
    const alone = first(buildWorkloads(scenario([job]))[0]!);
    expect(first(buildWorkloads(scenario([job]))[0]!)).toEqual(alone);
    expect(first(buildWorkloads(scenario(["rng: { device: g/virtio0 }", job]))[1]!)).toEqual(alone);
    expect(first(buildWorkloads(scenario([job], { seed: 8 }))[0]!)).not.toEqual(alone);
    expect(first(buildWorkloads(scenario([job.replace("name: j", "name: k")]))[0]!)).not.toEqual(alone);
  });

  it("passes an rng reference and the initial image of a file-backed disk", () => {
    const dir = mkdtempSync(join(tmpdir(), "vxsim-wl-"));
    const image = Buffer.alloc(1 << 20, 0x5a);
    writeFileSync(join(dir, "disk.img"), image);
    const s = scenario(["fio: { device: g/xvdc, rw: randread, iodepth: 2 }", "rng: { device: g/virtio0, read_size: 16 }"], {
      dir, extraXl: ["disk += [ 'disk.img,raw,xvdc,rw,specification=virtio' ]"],
    });
    const env: WorkloadEnv = {
      initialImage: (d) => (d.id === "g/xvdc" ? (sector) => new Uint8Array(image.subarray(sector * SECTOR, (sector + 1) * SECTOR)) : undefined),
      rngReference: () => new SeededByteStream(1),
    };
    const [f, r] = buildWorkloads(s, env);
    const job = fio(f!);
    const disk = new MemDisk(1 << 20, (sector) => image.subarray(sector * SECTOR, (sector + 1) * SECTOR));
    runBlk(job, disk, { stopAfter: 50 });
    expect(job.failures).toEqual([]);
    expect(job.stats(1).sectorsChecked).toBe(51 * 8);
    const reader = r!.kind === "rng" ? r!.reader : (undefined as never);
    const rq = reader.next(0)!;
    const dev = new SeededByteStream(1);
    expect(reader.complete(rq.tag, dev.take(16), 1)).toEqual([]);
    expect(reader.complete(reader.next(2)!.tag, new Uint8Array(16), 3).map((x) => x.kind)).toEqual(["mismatch"]);
  });

  it("allows several readers of one disk and flows sharing devices", () => {
    const ws = buildWorkloads(scenario([
      "fio: { device: g/xvda, rw: randread }",
      "fio: { device: g/xvda, rw: read }",
      "fio: { device: g/xvdb, rw: write }",
      "netperf: { device: g/vif0, peer: g/vif1, test: stream, message_size: 1k }",
      "netperf: { device: g/vif1, peer: g/vif0, test: rr }",
    ]));
    expect(ws.map((w) => w.kind === "netperf" && w.flow.flowId)).toEqual([false, false, false, 4, 5]);
  });
});

describe("scenario workloads -> generators: refused combinations", () => {
  const loaded = (ws: string[], env?: WorkloadEnv, extraXl?: string[]) => configError(() => buildWorkloads(scenario(ws, { extraXl }), env));
  /** A loaded scenario whose first workload is replaced by `w` (what a library user might build). */
  const handmade = (w: Record<string, unknown> & { kind: string }, patch: (s: Scenario) => void = () => undefined) => {
    const s = scenario(["fio: { device: g/xvda, rw: randrw }"]);
    s.workloads = [{ ...s.workloads[0]!, ...w } as unknown as Workload];
    patch(s);
    return configError(() => buildWorkloads(s));
  };

  it("verify on a job that writes nothing", () => {
    expect(loaded(["fio: { device: g/xvda, rw: randread, verify: true }"])).toBe(
      "s.yaml:9: workloads[0].fio.verify: verify reads back what the job wrote, and rw: randread writes nothing (its reads are checked anyway)",
    );
  });

  it("a disk backed by an image file, without its initial image", () => {
    const dir = mkdtempSync(join(tmpdir(), "vxsim-wl-"));
    writeFileSync(join(dir, "disk.img"), Buffer.alloc(1 << 20));
    const s = scenario(["fio: { device: g/xvdc, rw: randread }"], { dir, extraXl: ["disk += [ 'disk.img,raw,xvdc,rw,specification=virtio' ]"] });
    const message = `s.yaml:10: workloads[0].fio.device: g/xvdc is backed by the image file '${join(dir, "disk.img")}': pass initialImage for it, so that reads of blocks the job did not write can be checked`;
    expect(configError(() => buildWorkloads(s))).toBe(message);
    expect(configError(() => buildWorkloads(s, { initialImage: () => undefined }))).toBe(message);
  });

  it("two jobs on one disk when one of them writes", () => {
    expect(loaded(["fio: { name: a, device: g/xvda, rw: randread }", "fio: { name: b, device: g/xvda, rw: randwrite }"])).toBe(
      "s.yaml:10: workloads[1].fio.device: g/xvda is also used by workload 'a' (s.yaml:9) and one of them writes; their regions overlap, so neither could verify what it reads",
    );
    expect(loaded(["fio: { name: a, device: g/xvda, rw: write }", "fio: { name: b, device: g/xvda, rw: read }"])).toMatch(/^s\.yaml:10: workloads\[1\]\.fio\.device: g\/xvda is also used by workload 'a'/);
  });

  it("two readers of one rng device", () => {
    expect(loaded(["rng: { device: g/virtio0 }", "rng: { name: second, device: g/virtio0 }"])).toBe(
      "s.yaml:10: workloads[1].rng.device: g/virtio0 is already read by workload 'rng0' (s.yaml:9); two readers cannot both check the device's stream",
    );
  });

  it("two net devices with one MAC", () => {
    const s = scenario(["netperf: { device: g/vif0, peer: g/vif1, test: rr }"]);
    s.devices.find((d) => d.id === "g/vif1")!.net!.mac = "00:16:3e:00:00:01";
    expect(configError(() => buildWorkloads(s))).toBe(
      "s.yaml:9: workloads[0].netperf.peer: g/vif0 and g/vif1 have the same MAC 00:16:3e:00:00:01: frames could not be told apart",
    );
    const same = scenario(["netperf: { device: g/vif0, peer: g/vif1, test: rr }"]);
    expect(configError(() => buildWorkloads(same, { mac: () => "00:16:3e:00:00:01" }))).toMatch(/have the same MAC 00:16:3e:00:00:01/);
  });

  it("an invalid MAC from the environment", () => {
    expect(loaded(["netperf: { device: g/vif0, peer: g/vif1, test: stream, message_size: 1k }"], { mac: () => "nope" })).toBe(
      "s.yaml:9: workloads[0].netperf: g/vif1: invalid MAC 'nope' (expected six hex bytes such as 00:16:3e:12:34:56)",
    );
  });

  it("hand-built workloads: unknown kind, unknown or wrong devices, a read-only disk, bad generator options", () => {
    expect(handmade({ kind: "trace" })).toBe("s.yaml:9: workloads[0].fio: unknown workload kind 'trace' (expected fio, netperf or rng)");
    expect(handmade({ kind: "fio", device: "g/xvdz" })).toBe("s.yaml:9: workloads[0].fio.device: unknown device 'g/xvdz'");
    expect(handmade({ kind: "fio", device: "g/vif0" })).toBe("s.yaml:9: workloads[0].fio.device: fio needs a blk device; 'g/vif0' is a net device");
    expect(handmade({ kind: "rng", device: "g/xvda", readSize: 8 })).toBe("s.yaml:9: workloads[0].fio.device: rng needs a rng device; 'g/xvda' is a blk device");
    const net = { kind: "netperf", device: "g/vif0", test: "stream", messageSize: 100, requestSize: 0, responseSize: 0 } as const;
    expect(handmade({ ...net, peer: "g/vif9" })).toBe("s.yaml:9: workloads[0].fio.peer: unknown device 'g/vif9'");
    expect(handmade({ ...net, peer: "g/virtio0" })).toBe("s.yaml:9: workloads[0].fio.peer: netperf needs a net device; 'g/virtio0' is a rng device");
    expect(handmade({ ...net, peer: "g/vif0" })).toBe("s.yaml:9: workloads[0].fio.peer: the peer must be another net device (or loopback)");
    expect(handmade({ kind: "fio" }, (s) => (s.devices[0]!.blk!.readonly = true))).toBe("s.yaml:9: workloads[0].fio.rw: rw: randrw writes, but g/xvda is read-only");
    expect(handmade({ kind: "fio", iodepth: 0 })).toBe("s.yaml:9: workloads[0].fio: fio job: iodepth must be an integer >= 1, got 0");
    expect(handmade({ kind: "fio", size: 4 << 20 })).toBe("s.yaml:9: workloads[0].fio: fio job: offset + size (4194304) is beyond the disk's 1048576 bytes");
    expect(handmade({ ...net, peer: "g/vif1", messageSize: 0 })).toBe("s.yaml:9: workloads[0].fio: messageSize must be an integer >= 1, got 0");
    expect(handmade({ kind: "rng", device: "g/virtio0", readSize: 0 })).toBe("s.yaml:9: workloads[0].fio: rng reads: readSize must be an integer >= 1, got 0");
  });
});
