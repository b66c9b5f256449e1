// runJob over a raw disk-image file (JobSpec.blk.image): the bytes a write job leaves are read
// back from the file itself with fs, a read job reads what the file held before the run, and a
// read-only image (blk.readOnly, xl's access=ro) answers writes with IOERR.
import { afterAll, describe, expect, it } from "vitest";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as L from "../src/wasm/layout.ts";
import { runJob } from "../src/run/run-job.ts";
import type { JobSpec } from "../src/run/result.ts";
import { buildWorld } from "../src/run/world.ts";
import { worldOptionsFor } from "../src/run/job.ts";
import { FileDisk } from "../src/devices/blk-backing.ts";
import { checkSector } from "../src/workloads/blk-stamp.ts";
import { Rng } from "../src/sim/rng.ts";

const dir = mkdtempSync(join(tmpdir(), "vxsim-image-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const IMAGE_BYTES = 256 * 1024;
const IOS = 12;
const BS = 4096;
const SECTORS_PER_IO = BS / 512;

/** A fresh image file filled with a seeded pattern (so zeroes would not pass for its contents). */
function image(name: string, seed: number): { path: string; bytes: Uint8Array } {
  const r = new Rng(seed);
  const bytes = new Uint8Array(IMAGE_BYTES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(0, 255);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

const job = (transport: string, rw: "write" | "read", img: string, readOnly?: boolean): JobSpec => ({
  transport, profile: "arm64-v8.0", device: "blk", workload: { kind: "fio", rw, bs: BS, iodepth: 1 }, ios: IOS, seed: 3,
  blk: { image: img, ...(readOnly ? { readOnly } : {}) },
});

describe.each(["grant-map", "grant-copy", "grant-persistent", "mmio-foreign"])("%s over a raw image file", (transport) => {
  it("a sequential write job leaves its stamped sectors in the file, every byte checked with fs; the rest is untouched", () => {
    const { path, bytes } = image(`${transport}-w.img`, 11);
    const r = runJob(job(transport, "write", path));
    expect(r.ios).toBe(IOS);
    expect(r.bytesVerified).toBe(IOS * BS);
    const after = new Uint8Array(readFileSync(path));
    expect(after.length).toBe(IMAGE_BYTES);
    // fio's stamp: magic, the job's key, the sector, the write's generation (write k: k + 1).
    const key = new DataView(after.buffer).getUint32(4, true);
    const before = (s: number) => bytes.slice(s * 512, s * 512 + 512);
    for (let s = 0; s < IOS * SECTORS_PER_IO; s++) {
      expect(checkSector(key, s, Math.floor(s / SECTORS_PER_IO) + 1, after, s * 512, before)).toEqual({ kind: "ok" });
    }
    expect(Buffer.compare(after.subarray(IOS * BS), bytes.subarray(IOS * BS))).toBe(0);
  });

  it("a read job reads what the file held: every byte compared with the file's contents", () => {
    const { path, bytes } = image(`${transport}-r.img`, 12);
    const r = runJob(job(transport, "read", path));
    expect(r.ios).toBe(IOS);
    expect(r.bytesVerified).toBe(IOS * BS);
    expect(Buffer.compare(readFileSync(path), bytes)).toBe(0);
  });

  it("a read-only image (chmod 0444) is offered VIRTIO_BLK_F_RO, serves reads and answers writes with IOERR", () => {
    const { path, bytes } = image(`${transport}-ro.img`, 13);
    chmodSync(path, 0o444);
    expect(runJob(job(transport, "read", path, true)).bytesVerified).toBe(IOS * BS);
    // The write job's first request comes back IOERR (the guest-visible status): the job fails.
    expect(() => runJob(job(transport, "write", path, true))).toThrow(/verification failure\(s\): .*status 1 \(IOERR\)/);
    expect(Buffer.compare(readFileSync(path), bytes)).toBe(0);

    const w = buildWorld(worldOptionsFor(job(transport, "write", path, true)));
    try {
      expect(w.blk!.backing).toBeInstanceOf(FileDisk);
      expect(w.blk!.device.readOnly).toBe(true);
      expect((w.drivers[0]!.features >> BigInt(L.VIRTIO_BLK_F_RO)) & 1n).toBe(1n);
      const got: number[] = [];
      expect(w.blk!.guest.write(0, new Uint8Array(BS).fill(0x5a), null)).toBe(true);
      w.drivers[0]!.kick();
      w.service();
      for (const c of w.drivers[0]!.handleInterrupt() ?? []) got.push(w.blk!.guest.complete(c).status);
      expect(got).toEqual([L.VIRTIO_BLK_S_IOERR]);
    } finally {
      w.close();
    }
    expect(Buffer.compare(readFileSync(path), bytes)).toBe(0);
  });
});

describe("blk.image errors", () => {
  it("a missing image is refused with a clear message (vxsim does not create it)", () => {
    expect(() => runJob(job("grant-map", "write", join(dir, "nope.img")))).toThrow(
      `disk image ${join(dir, "nope.img")}: no such file (blk.image must name an existing raw image; vxsim does not create one)`,
    );
  });

  it("a read-only file asked for writing is refused, naming blk.readOnly; a size not a multiple of 512 is refused", () => {
    const { path } = image("ro-file.img", 14);
    chmodSync(path, 0o444);
    if (process.getuid?.() !== 0) expect(() => runJob(job("grant-map", "read", path))).toThrow(/cannot open it for writing \(EACCES\); set blk.readOnly/);
    const odd = join(dir, "odd.img");
    writeFileSync(odd, new Uint8Array(1000));
    expect(() => runJob(job("grant-map", "read", odd))).toThrow(`disk image ${odd}: size 1000 is not a multiple of 512 bytes`);
  });
});
