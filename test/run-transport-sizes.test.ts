// Transports sized to the job: fat-virtqueue slots and argo rings derived from the request size
// carry every blk size 512 B .. 64 KiB; the defaults stay where they already suffice.
import { describe, expect, it } from "vitest";
import { runJob } from "../src/run/run-job.ts";
import { transportSizesFor, worldOptionsFor } from "../src/run/job.ts";
import { buildWorld } from "../src/run/world.ts";
import { servicePagesFor } from "../src/run/world-hosts.ts";
import { FatVirtqueueTransport } from "../src/transports/fat-virtqueue.ts";
import type { JobSpec } from "../src/run/result.ts";
import * as L from "../src/wasm/layout.ts";
import { XEN_ARGO_MAX_RING_SIZE } from "../src/wasm/layout.ts";

const blk = (transport: string, rw: "randread" | "randwrite", bs: number): JobSpec =>
  ({ transport, profile: "arm64-v8.1-lse", device: "blk", workload: { kind: "fio", rw, bs, iodepth: 1 }, ios: 8, seed: 5 });

describe("transport sizes from the workload", () => {
  it("keeps the defaults up to 4 KiB slots / 64 KiB rings and sizes above", () => {
    expect(transportSizesFor(blk("fat-virtqueue", "randread", 4096))).toEqual({});
    expect(transportSizesFor(blk("fat-virtqueue", "randread", 8192))).toEqual({ fatSlotBytes: 8192 });
    // 4 messages of 64 KiB + 64 bytes each, in whole pages: 65 pages.
    expect(transportSizesFor(blk("argo:sg", "randwrite", 65536))).toEqual({ fatSlotBytes: 65536, argoRingLen: 65 * 4096 });
    expect(transportSizesFor({ ...blk("argo:sg", "randread", 512), workload: { kind: "rng", readSize: 1 << 24 } }).argoRingLen).toBe(XEN_ARGO_MAX_RING_SIZE);
    expect(transportSizesFor({ ...blk("argo:sg", "randread", 512), device: "net", workload: { kind: "netperf", test: "stream", messageSize: 65536 } })).toEqual({});
    // An explicit world option wins over the derived one.
    expect(worldOptionsFor(blk("fat-virtqueue", "randread", 65536), { fatSlotBytes: 131072 }).fatSlotBytes).toBe(131072);
  });

  it("builds fat-virtqueue with 64 KiB slots for a 64 KiB job and refuses a larger buffer with its own error", () => {
    const w = buildWorld(worldOptionsFor(blk("fat-virtqueue", "randwrite", 65536)));
    try {
      const t = w.transports[0] as FatVirtqueueTransport;
      expect(t.slotBytes).toBe(65536);
    } finally {
      w.close();
    }
    expect(() => runJob(blk("fat-virtqueue", "randwrite", 65536), { world: { fatSlotBytes: 4096 } }))
      .toThrow(/a 65536-byte buffer does not fit a 4096-byte ring slot/);
  });

  it.each([
    ["fat-virtqueue", "randread"], ["fat-virtqueue", "randwrite"], ["argo:sg", "randread"], ["argo:sg", "randwrite"],
  ] as const)("%s carries %s at 512 B and 64 KiB, every byte verified", (t, rw) => {
    for (const bs of [512, 65536]) {
      const r = runJob(blk(t, rw, bs));
      expect(r.ios).toBe(8);
      expect(r.bytes).toBe(8 * bs);
      expect(r.bytesVerified).toBeGreaterThanOrEqual(rw === "randread" ? 8 * bs : bs);
    }
  });

  it("argo at 64 KiB without a sized ring is refused by Xen (EMSGSIZE)", () => {
    expect(() => runJob(blk("argo:sg", "randwrite", 65536), { world: { argoRingLen: 0x10000 } })).toThrow(/EMSGSIZE/);
  });
});

describe("shared areas sized to the requests in flight", () => {
  it.each(["fat-virtqueue", "preshared-bounce"])("%s carries 16 KiB requests 16 deep (48 buffers in flight) with every byte verified", (transport) => {
    const spec = { transport, profile: "x86-64", device: "blk", workload: { kind: "fio", rw: "randrw", bs: 16384, iodepth: 16 }, ios: 64, seed: 4 } as const;
    expect(transportSizesFor(spec)).toMatchObject({ fatSlotBytes: 16384, fatSlots: 48, bouncePoolPages: 16 * (4 + 1) });
    const r = runJob(spec);
    expect(r).toMatchObject({ ios: 64, bytes: 64 * 16384 });
  });
});

describe("grant-persistent's pool and pv-p2m's map window sized to the job", () => {
  it("derive from the requests in flight, the pool capped by what the backend's grant window holds", () => {
    // Per request: the header's page, the data's (one more when unaligned), the status byte's.
    expect(transportSizesFor(blk("grant-persistent", "randread", 4096)).persistentPoolPages).toBeUndefined();
    expect(transportSizesFor(blk("grant-persistent", "randread", 1 << 20))).toMatchObject({ persistentPoolPages: 259, pvMapWindowPages: 259 });
    const deep = { ...blk("grant-persistent", "randread", 1 << 20), workload: { kind: "fio" as const, rw: "randread" as const, bs: 1 << 20, iodepth: 8 } };
    // 8 x 259 pages would pass blkback's 1056; the 512-gfn window keeps 64 for rings and overflow.
    expect(transportSizesFor(deep)).toMatchObject({ persistentPoolPages: 448, pvMapWindowPages: 8 * 259 });
    // A pool the window cannot hold is refused, said plainly.
    const over = { ...deep, workload: { ...deep.workload, bs: 256 << 10 } }; // 8 x 67 = 536 pages wanted, 448 given
    expect(transportSizesFor(over).persistentPoolPages).toBe(448);
    // Within the cap the pool carries every request: 4 x 67 pages.
    const four = { ...over, workload: { ...over.workload, iodepth: 4 } };
    const r = runJob(four);
    expect([r.bytesVerified, r.counters[L.CNT_GP_POOL_EXHAUSTED], r.perIo.maps]).toEqual([8 * (256 << 10), 0, 0]);
    expect(() => runJob(blk("grant-persistent", "randread", 4096), { world: { persistentPoolPages: 600 } }))
      .toThrow("grant-persistent: a persistent pool of 600 pages does not fit the backend's grant-map window (");
  });

  it.each(["randread", "randwrite"] as const)("carry a 1 MiB %s with the real steps: the pool copies, pv-p2m maps every frame in batches", (rw) => {
    // Reads check every byte read; writes check the image, where all eight 1 MiB writes land on the same MiB.
    const verified = rw === "randread" ? 8 << 20 : 1 << 20;
    const gp = runJob(blk("grant-persistent", rw, 1 << 20));
    // 3 guest copies (header, data, status) into 258 pool pages; no grant, map or flush per I/O.
    expect([gp.perIo.copies, gp.perIo.maps, gp.perIo.grantOps, gp.perIo.tlbFlushes]).toEqual([3, 0, 0, 0]);
    expect([gp.counters[L.CNT_GP_POOL_TAKES], gp.counters[L.CNT_GP_POOL_EXHAUSTED]]).toEqual([8 * 258, 0]);
    expect(gp.bytesVerified).toBe(verified);
    const pv = runJob(blk("pv-p2m", rw, 1 << 20));
    // 257 machine frames (256 of data, one holding the header and status), mapped in calls of
    // at most 128 (3 per request) and unmapped a page at a time, each with its flush.
    expect([pv.perIo.maps, pv.perIo.unmaps, pv.perIo.tlbFlushes, pv.counters[L.CNT_PP_MAP_CALLS]]).toEqual([257, 257, 257, 8 * 3]);
    expect(pv.bytesVerified).toBe(verified);
  });
});

describe("pv-p2m: buffers that are not machine-contiguous go through the guest's swiotlb pool", () => {
  it("16 reads of 256 KiB in flight: the two whose frames are scattered are bounced, every byte lands", () => {
    const r = runJob({ ...blk("pv-p2m", "randread", 256 << 10), workload: { kind: "fio", rw: "randread", bs: 256 << 10, iodepth: 16 }, ios: 32 });
    // Each bounce is one 256 KiB guest copy out of the pool after the device wrote it, and the
    // only copies the transport makes: the rest went to the backend in place.
    expect([r.counters[L.CNT_PP_SWIOTLB_BOUNCES], r.counters[L.CNT_PP_SWIOTLB_BYTES], r.counters[L.CNT_TR_COPY_BYTES_GUEST]]).toEqual([2, 2 << 18, 2 << 18]);
    expect(r.bytesVerified).toBe(32 * (256 << 10));
  });
});

describe("service domains sized for the job's Argo rings", () => {
  it("keep 4 MiB up to 64 KiB requests and grow for larger rings; a 256 KiB argo job runs and verifies", () => {
    expect(servicePagesFor(undefined, 1)).toBe(1024);
    expect(servicePagesFor(65 * 4096, 1)).toBe(1024);
    // 4 messages of 256 KiB + 64 B: a 257-page ring; 3 of them and 16 pages per area, after 16, plus 512.
    const ring = transportSizesFor(blk("argo:sg", "randread", 256 << 10)).argoRingLen!;
    expect([ring, servicePagesFor(ring, 1), servicePagesFor(ring, 2)]).toEqual([257 * 4096, 16 + 787 + 512, 16 + 2 * 787 + 512]);
    for (const rw of ["randread", "randwrite"] as const) expect(runJob({ ...blk("argo:buffered", rw, 256 << 10), ios: 4 }).bytes).toBe(4 * (256 << 10));
  });
});
