import { describe, expect, it } from "vitest";
import { Rng } from "../src/sim/rng.ts";
import { BLK_S_IOERR, BLK_S_OK, BLK_S_UNSUPP, BLK_T_FLUSH, BLK_T_IN, BLK_T_OUT, SECTOR, type BlkRequest } from "../src/workloads/blk-request.ts";
import { checkSector, stampSector, STAMP_HEADER, zeroImage } from "../src/workloads/blk-stamp.ts";
import { FioJob } from "../src/workloads/fio-job.ts";
import type { FioJobOptions } from "../src/workloads/fio-options.ts";
import type { BlkCompletionEvent } from "../src/workloads/fio-report.ts";
import { comparePattern, crc32c, fillPattern, patternState } from "../src/workloads/pattern.ts";
import { GEN_UNKNOWN, VerifyMap } from "../src/workloads/verify-map.ts";
import { MemDisk, runBlk } from "./helpers/workload-devices.ts";

const MiB = 1 << 20;

function job(o: Partial<FioJobOptions> = {}, seed = 1): FioJob {
  return new FioJob({ rw: "randrw", bs: 4096, iodepth: 8, size: MiB, rwmixread: 50, verify: false, numberIos: 200, rng: new Rng(seed), ...o });
}

/** Requests without their payload identity: what a transport sees. */
const shape = (rs: BlkRequest[]) => rs.map((r) => [r.tag, r.type, r.sector, r.len, r.data ? crc32c(0, r.data) : -1]);

describe("patterns and checksums", () => {
  it("CRC-32C matches the standard check value and chains", () => {
    const digits = new TextEncoder().encode("123456789");
    expect(crc32c(0, digits)).toBe(0xe3069283);
    expect(crc32c(crc32c(0, digits, 0, 4), digits, 4)).toBe(0xe3069283);
    expect(crc32c(0, new Uint8Array(0))).toBe(0);
  });

  it("fills any sub-range consistently with the whole and finds the first differing byte", () => {
    const s = patternState(7, 3, 9);
    const whole = new Uint8Array(103);
    fillPattern(s, 0, 103, whole, 0);
    for (const [from, len] of [[0, 1], [1, 7], [5, 50], [64, 39], [102, 1]] as const) {
      const part = new Uint8Array(len + 2);
      fillPattern(s, from, len, part, 2);
      expect(part.subarray(2)).toEqual(whole.subarray(from, from + len));
      expect(comparePattern(s, from, len, part, 2)).toBe(-1);
      part[2 + len - 1]! ^= 1;
      expect(comparePattern(s, from, len, part, 2)).toBe(len - 1);
    }
    expect(patternState(7, 3, 10)).not.toBe(s);
    expect(patternState(8, 3, 9)).not.toBe(s);
  });

  it("classifies a sector: ok, misplaced, stale, lost write, phantom, corrupt", () => {
    const key = 0x1234;
    const at = (sector: number, gen: number) => {
      const b = new Uint8Array(SECTOR + 8);
      stampSector(key, sector, gen, b, 8);
      return b;
    };
    expect(checkSector(key, 40, 3, at(40, 3), 8, zeroImage)).toEqual({ kind: "ok" });
    expect(checkSector(key, 40, 0, new Uint8Array(SECTOR), 0, zeroImage)).toEqual({ kind: "ok" });
    expect(checkSector(key, 2 ** 40 + 5, 9, at(2 ** 40 + 5, 9), 8, zeroImage)).toEqual({ kind: "ok" });
    expect(checkSector(key, 40, 3, at(41, 3), 8, zeroImage)).toEqual({ kind: "misplaced", foundSector: 41, foundGen: 3 });
    expect(checkSector(key, 40, 0, at(2 ** 40 + 40, 1), 8, zeroImage)).toEqual({ kind: "misplaced", foundSector: 2 ** 40 + 40, foundGen: 1 });
    expect(checkSector(key, 40, 3, at(40, 2), 8, zeroImage)).toEqual({ kind: "stale", foundGen: 2 });
    expect(checkSector(key, 40, 3, new Uint8Array(SECTOR), 0, zeroImage)).toEqual({ kind: "stale", foundGen: 0 });
    expect(checkSector(key, 40, 3, at(40, 4), 8, zeroImage)).toEqual({ kind: "phantom", foundGen: 4 });
    expect(checkSector(key, 40, 0, at(40, 4), 8, zeroImage)).toEqual({ kind: "phantom", foundGen: 4 });
    const flipped = at(40, 3);
    flipped[8 + 300]! ^= 0x10;
    expect(checkSector(key, 40, 3, flipped, 8, zeroImage)).toEqual({ kind: "corrupt", byte: 300 });
    const header = at(40, 3);
    header[8 + 16]! ^= 1; // generation field: the CRC no longer holds
    expect(checkSector(key, 40, 3, header, 8, zeroImage)).toEqual({ kind: "corrupt", byte: 16 });
    expect(checkSector(key + 1, 40, 3, at(40, 3), 8, zeroImage)).toMatchObject({ kind: "corrupt", byte: 4 }); // another job's key
    expect(() => checkSector(key, 40, 0, new Uint8Array(SECTOR), 0, () => new Uint8Array(10))).toThrow(
      "initial image returned 10 bytes for sector 40 (expected 512)",
    );
  });

  it("the stamp header carries magic, key, sector and generation", () => {
    const b = new Uint8Array(SECTOR);
    stampSector(0xaabbccdd, 2 ** 33 + 7, 5, b, 0);
    const v = new DataView(b.buffer);
    expect([v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true), v.getUint32(12, true), v.getUint32(16, true)]).toEqual([
      0x6c777876, 0xaabbccdd, 7, 2, 5,
    ]);
    expect(STAMP_HEADER).toBe(24);
  });

  it("the verification map keeps a generation per sector and refuses sectors outside its region", () => {
    const m = new VerifyMap(100, 16);
    expect(m.written(100, 16)).toBe(false);
    m.set(104, 4, 7);
    expect([m.gen(103), m.gen(104), m.gen(107), m.gen(108)]).toEqual([0, 7, 7, 0]);
    expect(m.written(100, 4)).toBe(false);
    expect(m.written(102, 3)).toBe(true);
    m.set(115, 1, GEN_UNKNOWN);
    expect(m.written(115, 1)).toBe(true);
    expect(() => m.gen(99)).toThrow("sector 99 is outside the job's region [100, 116)");
    expect(() => m.set(114, 3, 1)).toThrow("sector 116 is outside the job's region [100, 116)");
  });
});

describe("fio job: plan", () => {
  it("same seed, same requests (bytes included); another seed, other requests", () => {
    const a = runBlk(job(), new MemDisk(MiB));
    const b = runBlk(job(), new MemDisk(MiB));
    expect(shape(a.requests)).toEqual(shape(b.requests));
    expect(a.requests.length).toBe(200);
    const c = runBlk(job({}, 2), new MemDisk(MiB));
    expect(shape(c.requests)).not.toEqual(shape(a.requests));
  });

  it("the requests do not depend on the completion order", () => {
    const fifo = runBlk(job(), new MemDisk(MiB), { order: "fifo" });
    const lifo = runBlk(job(), new MemDisk(MiB), { order: "lifo" });
    const shuffled = runBlk(job(), new MemDisk(MiB), { order: new Rng(99) });
    const bySubmission = (rs: BlkRequest[]) => shape(rs).map(([, ...rest]) => rest);
    expect(bySubmission(lifo.requests)).toEqual(bySubmission(fifo.requests));
    expect(bySubmission(shuffled.requests)).toEqual(bySubmission(fifo.requests));
  });

  it("keeps at most iodepth requests in flight, and refills one for one", () => {
    const j = job({ iodepth: 5, rw: "randread" });
    const first: BlkRequest[] = [];
    for (let r = j.next(0); r; r = j.next(0)) first.push(r);
    expect(first.length).toBe(5);
    expect(j.inFlight).toBe(5);
    expect(j.next(0)).toBeUndefined();
    j.complete(first[2]!.tag, { status: BLK_S_OK, data: new Uint8Array(4096) }, 10);
    expect(j.next(10)).toBeDefined();
    expect(j.next(10)).toBeUndefined();
    for (const depth of [1, 3, 16]) {
      const run = runBlk(job({ iodepth: depth }), new MemDisk(MiB), { order: new Rng(depth) });
      expect(run.maxInFlight).toBe(depth);
    }
  });

  it("randrw draws reads with probability rwmixread: exact counts for seed 1", () => {
    const counts = [0, 25, 70, 100].map((mix) => {
      const run = runBlk(job({ rwmixread: mix, numberIos: 1000, size: 64 * MiB }), new MemDisk(64 * MiB));
      return run.requests.filter((r) => r.type === BLK_T_IN).length;
    });
    expect(counts).toEqual([0, 258, 718, 1000]);
    // within 4 standard deviations of the binomial mean
    expect(Math.abs(counts[1]! - 250)).toBeLessThan(4 * Math.sqrt(1000 * 0.25 * 0.75));
    expect(Math.abs(counts[2]! - 700)).toBeLessThan(4 * Math.sqrt(1000 * 0.7 * 0.3));
    const w = runBlk(job({ rw: "randwrite", rwmixread: 90 }), new MemDisk(MiB));
    expect(w.requests.every((r) => r.type === BLK_T_OUT)).toBe(true); // rwmixread applies to randrw only
  });

  it("sequential jobs walk the region in bs steps from offset and wrap", () => {
    const run = runBlk(job({ rw: "write", bs: 8192, size: 5 * 8192 + 512, offset: 4 * MiB, numberIos: 7 }), new MemDisk(8 * MiB));
    const base = (4 * MiB) / SECTOR;
    expect(run.requests.map((r) => r.sector - base)).toEqual([0, 16, 32, 48, 64, 0, 16]);
    expect(run.requests.every((r) => r.len === 8192 && r.data!.length === 8192)).toBe(true);
  });

  it("random offsets stay in the region and on blockalign", () => {
    const o = { rw: "randread" as const, bs: 8192, size: 256 * 1024, offset: MiB, blockalign: 2048, numberIos: 2000 };
    const run = runBlk(job(o), new MemDisk(2 * MiB));
    const offs = run.requests.map((r) => r.sector * SECTOR - MiB);
    expect(offs.every((x) => x >= 0 && x + 8192 <= 256 * 1024 && x % 2048 === 0)).toBe(true);
    expect(new Set(offs).size).toBe((256 * 1024 - 8192) / 2048 + 1); // every slot drawn
  });

  it("ends after numberIos or ioSize, counting reads and writes but not flushes", () => {
    expect(runBlk(job({ numberIos: 37 }), new MemDisk(MiB)).requests.length).toBe(37);
    const bytes = runBlk(job({ numberIos: undefined, ioSize: 10 * 4096 + 1 }), new MemDisk(MiB));
    expect(bytes.requests.length).toBe(11);
    const f = job({ rw: "write", numberIos: 10, fsync: 4 });
    const run = runBlk(f, new MemDisk(MiB));
    expect(run.requests.map((r) => r.type)).toEqual([1, 1, 1, 1, 4, 1, 1, 1, 1, 4, 1, 1]);
    expect(run.requests.filter((r) => r.type === BLK_T_FLUSH).every((r) => r.sector === 0 && r.len === 0 && !r.data)).toBe(true);
    expect(f.stats(1e6)).toMatchObject({ ios: 10, writes: 10, flushes: 2, failures: 0 });
    expect(f.completed).toBe(10);
  });

  it("stop() ends the main phase early; the job then drains", () => {
    const j = job({ numberIos: undefined, iodepth: 4 });
    runBlk(j, new MemDisk(MiB), { stopAfter: 50 });
    expect(j.done).toBe(true);
    expect(j.completed).toBe(53); // 50 + the 3 still in flight at stop
    const idle = job();
    idle.stop();
    expect(idle.done).toBe(true);
    expect(idle.next(0)).toBeUndefined();
  });

  it("an I/O overlapping a write in flight waits for it", () => {
    const j = job({ rw: "randrw", bs: 4096, size: 8192, blockalign: 512, iodepth: 4, numberIos: 300 });
    const inflight = new Map<number, BlkRequest>();
    let overlaps = 0;
    const disk = new MemDisk(MiB);
    let now = 0;
    while (!j.done) {
      for (let r = j.next(now); r; r = j.next(now)) {
        for (const f of inflight.values()) {
          const hit = r.sector < f.sector + f.len / SECTOR && f.sector < r.sector + r.len / SECTOR;
          if (hit && (r.type === BLK_T_OUT || f.type === BLK_T_OUT)) overlaps++;
        }
        inflight.set(r.tag, r);
      }
      const r = [...inflight.values()].pop()!; // newest first: stresses the ordering
      inflight.delete(r.tag);
      j.complete(r.tag, disk.execute(r), ++now);
    }
    expect(overlaps).toBe(0);
    expect(j.stats(1).stalls).toBeGreaterThan(0);
    expect(j.failures).toEqual([]);
  });
});

describe("fio job: verification", () => {
  it("a randrw run with verify reads back every written block, all intact", () => {
    const j = job({ numberIos: 500, size: 256 * 1024, verify: true, iodepth: 16 });
    const run = runBlk(j, new MemDisk(MiB), { order: new Rng(5) });
    const s = j.stats(run.now);
    expect(s.failures).toBe(0);
    const written = new Set(run.requests.filter((r) => r.type === BLK_T_OUT).map((r) => r.sector));
    expect(s.verifyReads).toBe(written.size); // bs-aligned region and blockalign = bs: one chunk per block
    expect(s.ios).toBe(500);
    expect(s.sectorsChecked).toBe((s.reads + s.verifyReads) * 8);
    expect(s.sectorsUnverified).toBe(0);
  });

  it("reads of never-written blocks are checked against the initial image", () => {
    const image = (sector: number) => new Uint8Array(SECTOR).fill(sector & 0xff);
    const ok = job({ rw: "randread", initialImage: image });
    runBlk(ok, new MemDisk(MiB, image));
    expect(ok.failures).toEqual([]);
    expect(ok.stats(1).sectorsChecked).toBe(200 * 8);
    const zeroes = job({ rw: "randread" }); // expects zeroes, the disk holds the image
    runBlk(zeroes, new MemDisk(MiB, image));
    expect(zeroes.failures.length).toBeGreaterThan(190); // sector 0 mod 256 reads are zero
    expect(zeroes.failures[0]).toMatchObject({ kind: "corrupt", type: BLK_T_IN });
  });

  it("catches a corrupted byte", () => {
    const j = job({ verify: true });
    let hit: BlkRequest | undefined;
    runBlk(j, new MemDisk(MiB), {
      tamper: (r, c) => {
        if (r.type !== BLK_T_IN || hit) return undefined;
        hit = r;
        const data = c.data!.slice();
        data[3 * SECTOR + 100]! ^= 0x40;
        return { status: c.status, data };
      },
    });
    expect(j.failures).toHaveLength(1);
    const f = j.failures[0]!;
    expect(f).toMatchObject({ kind: "corrupt", type: BLK_T_IN, tag: hit!.tag, sector: hit!.sector + 3, badSectors: 1 });
    expect(f.detail).toMatch(new RegExp(`^IN sector ${hit!.sector} len 4096: sector ${hit!.sector + 3} differs from (its initial content|generation \\d+) at byte 100; 1 bad sector\\(s\\)$`));
  });

  it("catches a misplaced block (data of another block returned)", () => {
    const disk = new MemDisk(MiB);
    const j = job({ rw: "write", numberIos: 4, verify: true }); // writes blocks 0..3, then verifies them
    runBlk(j, disk, {
      tamper: (r, c) => (r.type === BLK_T_IN && r.sector === 8 ? { status: c.status, data: disk.bytes.slice(16 * SECTOR, 24 * SECTOR) } : undefined),
    });
    expect(j.failures).toEqual([
      { kind: "misplaced", tag: 6, type: BLK_T_IN, sector: 8, badSectors: 8, detail: "IN sector 8 len 4096: sector 8 holds sector 16's data (generation 3), expected generation 2; 8 bad sector(s)" },
    ]);
  });

  it("catches a stale generation (a rewrite acknowledged but not applied) and a lost first write", () => {
    const disk = new MemDisk(MiB);
    const j = job({ rw: "write", bs: 4096, size: 8192, numberIos: 4, verify: true }); // gens 1,2 then 3,4 over the same two blocks
    runBlk(j, disk, { skipExecute: (r) => r.type === BLK_T_OUT && r.sector === 0 && r.data![16] === 3 });
    expect(j.failures).toEqual([
      { kind: "stale", tag: 5, type: BLK_T_IN, sector: 0, badSectors: 8, detail: "IN sector 0 len 4096: sector 0 holds generation 1, expected generation 3; 8 bad sector(s)" },
    ]);
    const lost = job({ rw: "write", numberIos: 2, verify: true });
    runBlk(lost, new MemDisk(MiB), { skipExecute: (r) => r.type === BLK_T_OUT && r.sector === 8 });
    expect(lost.failures.map((f) => [f.kind, f.sector, f.detail])).toEqual([
      ["stale", 8, "IN sector 8 len 4096: sector 8 holds its initial content, expected generation 2 (a lost write); 8 bad sector(s)"],
    ]);
  });

  it("catches short and long reads", () => {
    for (const [len, kind] of [[4095, "short"], [0, "short"], [4097, "long"]] as const) {
      const j = job({ rw: "randread", numberIos: 3 });
      let once = false;
      runBlk(j, new MemDisk(MiB), {
        tamper: (_r, c) => {
          if (once) return undefined;
          once = true;
          return { status: BLK_S_OK, data: len === 0 ? undefined : new Uint8Array(len) };
        },
      });
      expect(j.failures.map((f) => [f.kind, f.tag, f.badSectors, f.detail.split(": ")[1]])).toEqual([[kind, 1, 0, `${len} data bytes returned`]]);
    }
  });

  it("reports error statuses; a failed write leaves its sectors unverifiable until rewritten", () => {
    const j = job({ rw: "write", numberIos: 2, verify: true, bs: 4096 });
    runBlk(j, new MemDisk(MiB), { tamper: (r) => (r.type === BLK_T_OUT && r.sector === 0 ? { status: BLK_S_IOERR } : undefined) });
    expect(j.failures.map((f) => [f.kind, f.type, f.detail])).toEqual([["status", BLK_T_OUT, "OUT sector 0 len 4096: status 1 (IOERR)"]]);
    expect(j.stats(1)).toMatchObject({ verifyReads: 2, sectorsChecked: 8, sectorsUnverified: 8 });
    const r = job({ rw: "randread", numberIos: 2 });
    runBlk(r, new MemDisk(MiB), { tamper: (req) => (req.tag === 2 ? { status: 7 } : undefined) });
    expect(r.failures.map((f) => f.detail.split(": ")[1])).toEqual(["status 7 (not a virtio-blk status)"]);
    const f = job({ rw: "write", numberIos: 1, fsync: 1 });
    runBlk(f, new MemDisk(MiB), { tamper: (req) => (req.type === BLK_T_FLUSH ? { status: BLK_S_UNSUPP } : undefined) });
    expect(f.failures.map((x) => [x.kind, x.type, x.detail])).toEqual([["status", BLK_T_FLUSH, "FLUSH sector 0 len 0: status 2 (UNSUPP)"]]);
  });

  it("reports a completion for a tag not in flight", () => {
    const j = job({ rw: "randread" });
    const r = j.next(0)!;
    j.complete(r.tag, { status: BLK_S_OK, data: new Uint8Array(4096) }, 1);
    expect(j.complete(r.tag, { status: BLK_S_OK }, 2)).toEqual([
      { kind: "unexpected", tag: r.tag, type: -1, sector: -1, badSectors: 0, detail: `completion for tag ${r.tag}, which is not in flight` },
    ]);
    expect(j.complete(999, { status: BLK_S_OK }, 3)[0]!.kind).toBe("unexpected");
    expect(j.failures).toHaveLength(2);
  });

  it("reports each completion with virtual timestamps; totals use the caller's duration", () => {
    const events: BlkCompletionEvent[] = [];
    const j = job({ numberIos: 100, verify: true, onComplete: (e) => events.push(e) });
    const run = runBlk(j, new MemDisk(MiB));
    expect(events.length).toBe(100 + j.stats(1).verifyReads);
    expect(events.every((e) => e.completeNs - e.submitNs >= 1000 && e.completeNs <= run.now)).toBe(true);
    expect(events.filter((e) => e.phase === "verify").every((e) => e.type === BLK_T_IN)).toBe(true);
    const s = j.stats(1e6); // 1 ms
    expect(s.iops).toBe(100_000);
    expect(s.readBytesPerSec).toBe(s.bytesRead * 1000);
    expect(s.writeBytesPerSec).toBe(s.bytesWritten * 1000);
    expect(s.latency.read.count + s.latency.write.count).toBe(100);
    expect(s.latency.read.min).toBeGreaterThanOrEqual(1000);
    expect(j.stats(0).iops).toBe(0);
    expect(j.outstanding()).toEqual([]);
  });
});

describe("fio job: options", () => {
  const base: FioJobOptions = { rw: "randread", bs: 4096, iodepth: 1, size: MiB, rwmixread: 50, verify: false, rng: new Rng(1) };
  it.each([
    [{ rw: "readwrite" }, "rw must be one of read, write, randread, randwrite, randrw, got 'readwrite'"],
    [{ bs: 1000 }, "bs must be a positive multiple of 512, got 1000"],
    [{ bs: 0 }, "bs must be a positive multiple of 512, got 0"],
    [{ iodepth: 0 }, "iodepth must be an integer >= 1, got 0"],
    [{ iodepth: 1.5 }, "iodepth must be an integer >= 1, got 1.5"],
    [{ size: 2048 }, "size must be a multiple of 512 and at least bs (4096), got 2048"],
    [{ size: 5000 }, "size must be a multiple of 512 and at least bs (4096), got 5000"],
    [{ rwmixread: 101 }, "rwmixread must be an integer 0..100, got 101"],
    [{ offset: 100 }, "offset must be a multiple of 512 >= 0, got 100"],
    [{ offset: -512 }, "offset must be a multiple of 512 >= 0, got -512"],
    [{ blockalign: 256 }, "blockalign must be a positive multiple of 512, got 256"],
    [{ numberIos: 0 }, "numberIos must be an integer >= 1, got 0"],
    [{ ioSize: -1 }, "ioSize must be an integer >= 1, got -1"],
    [{ fsync: -1 }, "fsync must be an integer >= 0, got -1"],
    [{ capacity: MiB - 512 }, "offset + size (1048576) is beyond the disk's 1048064 bytes"],
    [{ offset: 512, capacity: MiB }, "offset + size (1049088) is beyond the disk's 1048576 bytes"],
    [{ verify: true }, "verify reads back what the job wrote, and rw=randread writes nothing (its reads are checked anyway)"],
  ])("%o is refused", (patch, message) => {
    expect(() => new FioJob({ ...base, ...(patch as Partial<FioJobOptions>) })).toThrow(new RangeError(`fio job: ${message}`));
  });
});
