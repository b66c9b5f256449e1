// virtio-blk device checks (virtio.md §5.1, rows E20 and E27 of §8), driven by a guest over
// kvm-ioeventfd with a memory disk: every outcome is a status byte and a used len.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as L from "../src/wasm/layout.ts";
import { VirtioBlk } from "../src/devices/blk.ts";
import { FileDisk, MemDisk, type BlkBacking } from "../src/devices/blk-backing.ts";
import type { BlkResult } from "../src/devices/blk-guest.ts";
import type { GuestBuf } from "../src/virtio/port.ts";
import { DISK_BYTES, kvmWorld, type BlkWorld, type WorldOptions } from "./helpers/transport-world.ts";

const OK = L.VIRTIO_BLK_S_OK;
const IOERR = L.VIRTIO_BLK_S_IOERR;
const UNSUPP = L.VIRTIO_BLK_S_UNSUPP;
const SECTORS = DISK_BYTES / 512;

/** Kicks, serves and completes everything submitted; the results in completion order. */
function run(w: BlkWorld): BlkResult[] {
  w.driver.kick();
  w.t.service();
  return (w.driver.handleInterrupt() ?? []).map((c) => w.guest.complete(c));
}

function one(w: BlkWorld, submit: () => boolean): BlkResult {
  expect(submit()).toBe(true);
  const r = run(w);
  expect(r).toHaveLength(1);
  return r[0]!;
}

function world(o: WorldOptions = {}): BlkWorld & { disk: MemDisk } {
  const disk = (o.backing as MemDisk | undefined) ?? new MemDisk(DISK_BYTES);
  return { ...kvmWorld({ ...o, backing: disk }), disk };
}

/** Byte equality of large arrays (vitest's deep equality is slow on megabytes). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe("virtio-blk requests", () => {
  it("IN and OUT move whole sectors; used len is data + 1 for IN, 1 for OUT", () => {
    const w = world();
    const data = pattern(3 * 512, 5);
    expect(one(w, () => w.guest.write(SECTORS - 3, data, null))).toMatchObject({ status: OK, written: 1 });
    expect(w.disk.bytes.subarray(DISK_BYTES - 1536)).toEqual(data);
    const r = one(w, () => w.guest.read(SECTORS - 3, 1536, null));
    expect(r).toMatchObject({ status: OK, written: 1537 });
    expect(r.data).toEqual(data);
    expect(w.blk.stats).toMatchObject({ requests: 2, ok: 2, bytesRead: 1536, bytesWritten: 1536 });
  });

  it("moves a request larger than the device's 1 MiB transfer piece, both ways", () => {
    const w = world({ backing: new MemDisk(4 << 20) });
    const data = pattern(2_621_440, 77); // 2.5 MiB
    expect(one(w, () => w.guest.write(1024, data, null))).toMatchObject({ status: OK, written: 1 });
    expect(same(w.disk.bytes.subarray(1024 * 512, 1024 * 512 + data.length), data)).toBe(true);
    const r = one(w, () => w.guest.read(1024, data.length, null));
    expect(r).toMatchObject({ status: OK, written: data.length + 1 });
    expect(same(r.data!, data)).toBe(true);
  });

  it("E27: beyond capacity, partly beyond, or a sector number that overflows is IOERR, nothing moved", () => {
    const w = world();
    const before = w.disk.bytes.slice();
    expect(one(w, () => w.guest.write(SECTORS, pattern(512, 1), null))).toMatchObject({ status: IOERR, written: 1 });
    expect(one(w, () => w.guest.write(SECTORS - 1, pattern(1024, 1), null))).toMatchObject({ status: IOERR, written: 1 });
    expect(one(w, () => w.guest.read(SECTORS - 1, 1024, null))).toMatchObject({ status: IOERR, written: 1 });
    expect(one(w, () => w.guest.read(0xffff_ffff_ffff_ffffn, 512, null))).toMatchObject({ status: IOERR, written: 1 });
    expect(same(w.disk.bytes, before)).toBe(true);
  });

  it("E27: data not a multiple of 512 is IOERR", () => {
    const w = world();
    expect(one(w, () => w.guest.write(0, pattern(100, 1), null))).toMatchObject({ status: IOERR, written: 1 });
    expect(one(w, () => w.guest.read(0, 513, null))).toMatchObject({ status: IOERR, written: 1 });
    expect(w.blk.stats.ioerr).toBe(2);
  });

  it("a read-only disk offers RO and answers writes, discards and zeroing with IOERR, leaving the data", () => {
    const disk = new MemDisk(pattern(DISK_BYTES, 9), true);
    const w = world({ backing: disk });
    expect(w.driver.has(L.VIRTIO_BLK_F_RO)).toBe(true);
    expect(one(w, () => w.guest.write(0, pattern(512, 1), null))).toMatchObject({ status: IOERR, written: 1 });
    expect(one(w, () => w.guest.discard([{ sector: 0, sectors: 8 }], null)).status).toBe(IOERR);
    expect(one(w, () => w.guest.writeZeroes([{ sector: 0, sectors: 8 }], null)).status).toBe(IOERR);
    expect(same(disk.bytes, pattern(DISK_BYTES, 9))).toBe(true);
    expect(one(w, () => w.guest.read(0, 512, null)).data).toEqual(pattern(DISK_BYTES, 9).subarray(0, 512));
    expect(() => new VirtioBlk({ backing: disk, readOnly: false })).toThrow("virtio-blk: a read-only backing cannot serve a writable disk");
  });

  it("FLUSH: OK with sector 0 and no data (the backing flushes), IOERR otherwise, UNSUPP when not negotiated", () => {
    const w = world();
    expect(one(w, () => w.guest.flush(null))).toMatchObject({ status: OK, written: 1 });
    expect(w.disk.flushes).toBe(1);
    expect(one(w, () => w.guest.flush(null, 8)).status).toBe(IOERR);
    expect(one(w, () => w.guest.request(L.VIRTIO_BLK_T_FLUSH, 0, { out: pattern(512, 1) }, null)).status).toBe(IOERR);
    expect(one(w, () => w.guest.request(L.VIRTIO_BLK_T_FLUSH, 0, { in: 512 }, null)).status).toBe(IOERR);
    expect(w.disk.flushes).toBe(1);
    const nf = world({ blk: { flush: false } });
    expect(nf.driver.has(L.VIRTIO_BLK_F_FLUSH)).toBe(false);
    expect(one(nf, () => nf.guest.flush(null)).status).toBe(UNSUPP);
  });

  it("GET_ID writes the 20-byte NUL-padded id (used len 21); any other length is IOERR", () => {
    const w = world({ blk: { id: "disk-0042" } });
    const r = one(w, () => w.guest.getId(null));
    expect(r).toMatchObject({ status: OK, written: 21 });
    expect(new TextDecoder().decode(r.data)).toBe("disk-0042" + "\0".repeat(11));
    expect(one(w, () => w.guest.getId(null, 16))).toMatchObject({ status: IOERR, written: 1 });
    expect(one(w, () => w.guest.request(L.VIRTIO_BLK_T_GET_ID, 0, { out: pattern(20, 0) }, null)).status).toBe(IOERR);
    expect(() => new VirtioBlk({ backing: new MemDisk(512), id: "x".repeat(21) })).toThrow("virtio-blk: id longer than 20 bytes");
  });

  it("unknown and unmodelled types (SCSI, GET_LIFETIME, SECURE_ERASE, legacy barrier, zoned) are UNSUPP", () => {
    const w = world();
    for (const type of [L.VIRTIO_BLK_T_SCSI_CMD, 10, L.VIRTIO_BLK_T_SECURE_ERASE, 0x8000_0001, 15, 0xffff_ffff]) {
      expect(one(w, () => w.guest.request(type, 0, {}, null)), `type ${type}`).toMatchObject({ status: UNSUPP, written: 1 });
    }
    expect(w.blk.stats.unsupp).toBe(6);
  });

  it("WRITE_ZEROES zeroes every range (with or without UNMAP); DISCARD succeeds and keeps the data", () => {
    const w = world({ backing: new MemDisk(pattern(DISK_BYTES, 3)) });
    const r = one(w, () => w.guest.writeZeroes([{ sector: 8, sectors: 2 }, { sector: 100, sectors: 1, unmap: true }], null));
    expect(r).toMatchObject({ status: OK, written: 1 });
    expect(w.disk.bytes.subarray(8 * 512, 10 * 512).every((b) => b === 0)).toBe(true);
    expect(w.disk.bytes.subarray(100 * 512, 101 * 512).every((b) => b === 0)).toBe(true);
    expect(w.disk.bytes[10 * 512]).toBe(pattern(DISK_BYTES, 3)[10 * 512]);
    expect(one(w, () => w.guest.discard([{ sector: 200, sectors: 4 }], null)).status).toBe(OK);
    expect(w.disk.bytes.subarray(200 * 512, 204 * 512)).toEqual(pattern(DISK_BYTES, 3).subarray(200 * 512, 204 * 512));
  });

  it("DISCARD and WRITE_ZEROES refusals: flags, feature, lengths, segment and sector limits, capacity", () => {
    const w = world({ blk: { maxDiscardSeg: 2, maxDiscardSectors: 16, maxWriteZeroesSeg: 1 } });
    const st = (f: () => boolean) => one(w, f).status;
    expect(st(() => w.guest.discard([{ sector: 0, sectors: 1, unmap: true }], null))).toBe(UNSUPP);
    expect(st(() => w.guest.discard([{ sector: 0, sectors: 1, flags: 4 }], null))).toBe(UNSUPP);
    expect(st(() => w.guest.writeZeroes([{ sector: 0, sectors: 1, flags: 2 }], null))).toBe(UNSUPP);
    expect(st(() => w.guest.discard([{ sector: 0, sectors: 1 }, { sector: 8, sectors: 1 }, { sector: 16, sectors: 1 }], null))).toBe(IOERR);
    expect(st(() => w.guest.writeZeroes([{ sector: 0, sectors: 1 }, { sector: 8, sectors: 1 }], null))).toBe(IOERR);
    expect(st(() => w.guest.discard([{ sector: 0, sectors: 17 }], null))).toBe(IOERR);
    expect(st(() => w.guest.discard([{ sector: SECTORS - 1, sectors: 2 }], null))).toBe(IOERR);
    expect(st(() => w.guest.request(L.VIRTIO_BLK_T_DISCARD, 0, { out: pattern(24, 0) }, null))).toBe(IOERR);
    expect(st(() => w.guest.request(L.VIRTIO_BLK_T_DISCARD, 0, {}, null))).toBe(IOERR);
    expect(st(() => w.guest.request(L.VIRTIO_BLK_T_WRITE_ZEROES, 0, { in: 16 }, null))).toBe(IOERR);
    const off = world({ blk: { discard: false, writeZeroes: false } });
    expect(one(off, () => off.guest.discard([{ sector: 0, sectors: 1 }], null)).status).toBe(UNSUPP);
    expect(one(off, () => off.guest.writeZeroes([{ sector: 0, sectors: 1 }], null)).status).toBe(UNSUPP);
  });

  it("publishes capacity, seg_max, blk_size and the discard limits in config", () => {
    const blk = new VirtioBlk({ backing: new MemDisk(DISK_BYTES), queueMax: 128 });
    const c = new DataView(blk.config.buffer);
    expect(c.getBigUint64(L.VIRTIO_BLK_CONFIG_CAPACITY, true)).toBe(BigInt(SECTORS));
    expect(c.getUint32(L.VIRTIO_BLK_CONFIG_SEG_MAX, true)).toBe(126);
    expect(c.getUint32(L.VIRTIO_BLK_CONFIG_BLK_SIZE, true)).toBe(512);
    expect(c.getUint16(L.VIRTIO_BLK_CONFIG_NUM_QUEUES, true)).toBe(1);
    expect(c.getUint32(L.VIRTIO_BLK_CONFIG_MAX_DISCARD_SEG, true)).toBe(16);
    expect(blk.config.length).toBe(L.VIRTIO_BLK_CONFIG_SIZE);
    expect(blk.queueMax).toBe(128);
  });
});

describe("virtio-blk chain shapes (E20)", () => {
  /** Submits raw buffers (contents for readable ones) and returns the used len and the last byte. */
  function raw(w: BlkWorld, parts: { bytes?: Uint8Array; len?: number; write: boolean }[]) {
    const bufs: GuestBuf[] = parts.map((p) => {
      const gpa = w.pages.allocGpa(1);
      if (p.bytes) w.m.write(w.t.guest, gpa, p.bytes);
      else w.m.write(w.t.guest, gpa, new Uint8Array(p.len!).fill(0xee));
      return { gpa, len: p.bytes?.length ?? p.len!, write: p.write };
    });
    expect(w.driver.submit(0, bufs, null as never)).toBe(true);
    w.driver.kick();
    w.t.service();
    const [c] = w.driver.handleInterrupt()!;
    const last = bufs[bufs.length - 1]!;
    return { written: c!.written, last: w.m.read(w.t.guest, last.gpa + last.len - 1, 1)[0] };
  }
  const hdr = (type: number, sector = 0) => {
    const d = new DataView(new ArrayBuffer(16));
    d.setUint32(0, type, true);
    d.setBigUint64(8, BigInt(sector), true);
    return new Uint8Array(d.buffer);
  };

  it("a device-writable header is IOERR in the status byte", () => {
    const w = world();
    expect(raw(w, [{ len: 16, write: true }, { len: 1, write: true }])).toEqual({ written: 1, last: IOERR });
  });

  it("a header shorter than 16 bytes is IOERR", () => {
    const w = world();
    expect(raw(w, [{ bytes: hdr(0).subarray(0, 8), write: false }, { len: 513, write: true }])).toEqual({ written: 1, last: IOERR });
  });

  it("a readable status byte (no writable byte at all): nothing can be answered, used len 0", () => {
    const w = world();
    expect(raw(w, [{ bytes: hdr(L.VIRTIO_BLK_T_OUT), write: false }, { bytes: new Uint8Array(512), write: false }, { bytes: Uint8Array.of(0x77), write: false }])).toEqual({ written: 0, last: 0x77 });
    expect(w.blk.stats.noStatus).toBe(1);
  });

  it("IN with a device-readable data buffer, OUT with a device-writable one: IOERR", () => {
    const w = world();
    expect(raw(w, [{ bytes: hdr(L.VIRTIO_BLK_T_IN), write: false }, { bytes: new Uint8Array(512), write: false }, { len: 513, write: true }]).last).toBe(IOERR);
    expect(raw(w, [{ bytes: hdr(L.VIRTIO_BLK_T_OUT), write: false }, { len: 513, write: true }])).toEqual({ written: 1, last: IOERR });
  });

  it("the status is the last writable byte even when the driver splits data and status differently", () => {
    const w = world({ backing: new MemDisk(pattern(DISK_BYTES, 4)) });
    const r = raw(w, [{ bytes: hdr(L.VIRTIO_BLK_T_IN, 2), write: false }, { len: 300, write: true }, { len: 213, write: true }]);
    expect(r).toEqual({ written: 513, last: OK });
  });
});

describe("virtio-blk backings", () => {
  const dirs: string[] = [];
  afterEach(() => {
    while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), "vxsim-blkb-"));
    dirs.push(d);
    return d;
  };

  it("a file image: positional reads and writes, zeroing, size checks with the file named", () => {
    const d = tmp();
    const path = join(d, "a.img");
    writeFileSync(path, new Uint8Array(4096).fill(1));
    const f = new FileDisk(path);
    expect(f.size).toBe(4096);
    f.write(1000, Uint8Array.of(9, 8, 7));
    expect(f.read(999, 5)).toEqual(Uint8Array.of(1, 9, 8, 7, 1));
    f.zero(0, 4096);
    expect(f.read(0, 4096).every((b) => b === 0)).toBe(true);
    f.flush();
    expect(f.flushes).toBe(1);
    f.close();
    f.close();
    writeFileSync(join(d, "odd.img"), new Uint8Array(1000));
    expect(() => new FileDisk(join(d, "odd.img"))).toThrow(`disk image ${join(d, "odd.img")}: size 1000 is not a multiple of 512 bytes`);
    mkdirSync(join(d, "dir"));
    expect(() => new FileDisk(join(d, "dir"))).toThrow(/EISDIR|not a regular file/);
    expect(() => new FileDisk(join(d, "missing.img"))).toThrow(/ENOENT/);
    expect(() => new MemDisk(100)).toThrow("memory disk: size 100 is not a multiple of 512 bytes");
    const ro = new FileDisk(path, { readOnly: true });
    expect(ro.readOnly).toBe(true);
    expect(() => ro.write(0, Uint8Array.of(1))).toThrow();
    ro.close();
  });

  it("a failing backing store is IOERR, counted", () => {
    class Broken extends MemDisk {
      override write(): void {
        throw new Error("EIO");
      }
      override read(): Uint8Array {
        throw new Error("EIO");
      }
    }
    const w = world({ backing: new Broken(DISK_BYTES) as BlkBacking as MemDisk });
    expect(one(w, () => w.guest.write(0, pattern(512, 1), null)).status).toBe(IOERR);
    expect(one(w, () => w.guest.read(0, 512, null))).toMatchObject({ status: IOERR, written: 1 });
    expect(w.blk.stats.backingErrors).toBe(2);
  });
});
