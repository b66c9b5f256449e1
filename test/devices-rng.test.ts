import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { RNG_DEFAULT_MAX_BYTES, VirtioRng } from "../src/devices/rng.ts";
import { DeviceIoError } from "../src/devices/types.ts";
import { Rng } from "../src/sim/rng.ts";
import { VIRTIO_F_VERSION_1, VIRTIO_ID_RNG } from "../src/wasm/layout.ts";
import { MockTransport } from "./helpers/mock-transport.ts";

const W = (len: number) => ({ len, write: true });
const R = (len: number) => ({ len, write: false, data: new Uint8Array(len).fill(0xaa) });

function device(seed = 1, maxBytesPerRequest?: number, label?: string) {
  const dev = new VirtioRng({ rng: new Rng(seed), maxBytesPerRequest, label });
  return { dev, t: new MockTransport(dev) };
}

describe("virtio-rng", () => {
  it("presents as entropy device 4 with one queue, VERSION_1 only and no config", () => {
    const { dev } = device();
    expect(dev.deviceId).toBe(VIRTIO_ID_RNG);
    expect(dev.deviceId).toBe(4);
    expect(dev.numQueues).toBe(1);
    expect(dev.features).toBe(1n << BigInt(VIRTIO_F_VERSION_1));
    expect(dev.config.length).toBe(0);
    expect(dev.queueMax).toBe(256);
    expect(dev.maxBytesPerRequest).toBe(RNG_DEFAULT_MAX_BYTES);
  });

  it("fills the whole writable part across segments; used len = bytes written", () => {
    const { dev, t } = device();
    const id = t.post(0, [W(3), W(100), W(29)]);
    expect(t.used).toEqual([{ q: 0, id, len: 132, batch: 0 }]);
    const bytes = t.written(id);
    expect(bytes.length).toBe(132);
    expect(new Set(bytes).size).toBeGreaterThan(50); // random-looking, not a fill pattern
    expect(dev.stats).toEqual({ requests: 1, bytes: 132, readableRejected: 0, empty: 0, ioErrors: 0 });
  });

  it("writes exactly the bytes of its labelled fork of the seeded Rng", () => {
    const { t } = device(42);
    const id = t.post(0, [W(10_000)]);
    const expected = new Rng(42).fork("virtio-rng").bytes(new Uint8Array(10_000));
    expect(t.written(id)).toEqual(expected);
    // A custom label selects another stream.
    const other = device(42, undefined, "rng1");
    const id2 = other.t.post(0, [W(64)]);
    expect(other.t.written(id2)).toEqual(new Rng(42).fork("rng1").bytes(new Uint8Array(64)));
  });

  it("stops at the per-request limit", () => {
    const { dev, t } = device(5, 48);
    const a = t.post(0, [W(40), W(40)]);
    const b = t.post(0, [W(16)]);
    expect(t.used.map((u) => [u.id, u.len])).toEqual([[a, 48], [b, 16]]);
    // The second request continues the stream where the first stopped.
    const stream = new Rng(5).fork("virtio-rng").bytes(new Uint8Array(64));
    expect(t.written(a)).toEqual(stream.subarray(0, 48));
    expect(t.written(b)).toEqual(stream.subarray(48, 64));
    expect(t.ios.get(a)!.writtenBytes(80).subarray(48)).toEqual(new Uint8Array(32)); // rest untouched
    expect(dev.stats.bytes).toBe(64);
  });

  it("is a pure function of the seed and the request sizes (property)", () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 2000 }), (seed, sizes, max) => {
        const run = () => {
          const { t } = device(seed, max);
          return sizes.map((n) => t.written(t.post(0, [W(n)])));
        };
        const a = run();
        expect(run()).toEqual(a);
        a.forEach((bytes, i) => expect(bytes.length).toBe(Math.min(sizes[i]!, max)));
        const all = new Rng(seed).fork("virtio-rng").bytes(new Uint8Array(a.reduce((s, b) => s + b.length + 3, 0)));
        // Requests consume the stream in 4-byte draws: each starts on the next draw boundary.
        let off = 0;
        for (const bytes of a) {
          expect(bytes).toEqual(all.subarray(off, off + bytes.length));
          off += (bytes.length + 3) & ~3;
        }
      }),
      { seed: 20240, numRuns: 40 },
    );
  });

  it("E20: rejects a chain with readable segments, writing nothing", () => {
    const { dev, t } = device();
    const id = t.post(0, [R(16), W(32)]);
    expect(t.used).toEqual([{ q: 0, id, len: 0, batch: 0 }]);
    expect(t.ios.get(id)!.writtenBytes(32)).toEqual(new Uint8Array(32));
    const id2 = t.post(0, [R(8)]);
    expect(t.used[1]).toMatchObject({ id: id2, len: 0 });
    expect(dev.stats).toEqual({ requests: 0, bytes: 0, readableRejected: 2, empty: 0, ioErrors: 0 });
  });

  it("completes an empty chain with 0 bytes and counts it", () => {
    const { dev, t } = device();
    t.post(0, [W(0)]);
    expect(t.used[0]!.len).toBe(0);
    expect(dev.stats.empty).toBe(1);
  });

  it("completes with 0 bytes when the transport cannot reach the buffer", () => {
    const { dev, t } = device();
    t.post(0, [W(64)], { write: true });
    expect(t.used[0]!.len).toBe(0);
    expect(dev.stats).toMatchObject({ ioErrors: 1, requests: 0, bytes: 0 });
  });

  it("passes on errors that are not DeviceIoError (host bugs)", () => {
    const dev = new VirtioRng({ rng: new Rng(1) });
    const chain = { id: 0, segs: [{ addr: 0, len: 8, write: true }], readable: 0, writable: 8 };
    const io = { read: () => new Uint8Array(), write: (): number => { throw new TypeError("boom"); } };
    expect(() => dev.handle(0, chain, io)).toThrow(TypeError);
    expect(() => dev.handle(0, chain, { read: io.read, write: () => { throw new DeviceIoError("x"); } })).not.toThrow();
  });

  it("reports a short write by the transport as the used len", () => {
    const dev = new VirtioRng({ rng: new Rng(1) });
    const chain = { id: 0, segs: [{ addr: 0, len: 100, write: true }], readable: 0, writable: 100 };
    expect(dev.handle(0, chain, { read: () => new Uint8Array(), write: (_o, d) => Math.min(d.length, 30) })).toEqual({ written: 30 });
  });

  it("refuses a queue other than 0 and bad options", () => {
    const { dev, t } = device();
    expect(() => t.post(1, [W(8)])).toThrow(/one queue, handle\(\) got queue 1/);
    expect(dev.stats.requests).toBe(0);
    expect(() => new VirtioRng({ rng: new Rng(1), maxBytesPerRequest: 0 })).toThrow(/maxBytesPerRequest must be an integer in 1\.\.2\^32-1, got 0/);
    expect(() => new VirtioRng({ rng: new Rng(1), maxBytesPerRequest: 1.5 })).toThrow(/maxBytesPerRequest/);
    expect(() => new VirtioRng({ rng: new Rng(1), queueMax: 100 })).toThrow(/virtio-rng: queueMax must be a power of two in 1\.\.32768, got 100/);
    expect(() => new VirtioRng({ rng: new Rng(1), queueMax: 65536 })).toThrow(/queueMax/);
  });

  it("keeps its stream across reset (no replay of old bytes)", () => {
    const { t } = device(9);
    const a = t.written(t.post(0, [W(8)]));
    t.resetDevice();
    const b = t.written(t.post(0, [W(8)]));
    const stream = new Rng(9).fork("virtio-rng").bytes(new Uint8Array(16));
    expect(a).toEqual(stream.subarray(0, 8));
    expect(b).toEqual(stream.subarray(8, 16));
  });
});
