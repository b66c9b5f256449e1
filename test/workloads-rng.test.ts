import { describe, expect, it } from "vitest";
import { Rng } from "../src/sim/rng.ts";
import { SeededByteStream, type ByteSource } from "../src/workloads/byte-stream.ts";
import { RngReader, type RngReadOptions } from "../src/workloads/rng-reader.ts";

/** A device drawing from `source`, filling `fill(i)` bytes of the i-th buffer (default all). */
function run(reader: RngReader, source: ByteSource, fill: (i: number, len: number) => number = (_i, len) => len, order: "fifo" | "lifo" = "fifo") {
  const pending: { tag: number; len: number }[] = [];
  let now = 0;
  let i = 0;
  let maxInFlight = 0;
  while (!reader.done) {
    for (let r = reader.next(now); r; r = reader.next(now)) pending.push(r);
    maxInFlight = Math.max(maxInFlight, reader.inFlight);
    const r = order === "fifo" ? pending.shift()! : pending.pop()!;
    now += 500;
    reader.complete(r.tag, source.take(fill(i++, r.len)), now);
  }
  return { maxInFlight, now };
}

const reader = (o: Partial<RngReadOptions> = {}) => new RngReader({ readSize: 64, numberIos: 50, ...o });

describe("seeded byte stream", () => {
  it("gives the same bytes whatever the chunk sizes", () => {
    const whole = new SeededByteStream(3).take(1000);
    const s = new SeededByteStream(new Rng(3));
    const parts = [1, 3, 7, 256, 255, 0, 478].map((n) => s.take(n));
    expect(Buffer.concat(parts)).toEqual(Buffer.from(whole));
    expect(new SeededByteStream(4).take(1000)).not.toEqual(whole);
    expect(() => s.take(-1)).toThrow("take needs a byte count >= 0, got -1");
  });
});

describe("rng reads", () => {
  it("every byte matches the reference stream, in completion order, with iodepth honoured", () => {
    const r = reader({ iodepth: 4, reference: new SeededByteStream(9) });
    const { maxInFlight, now } = run(r, new SeededByteStream(9), undefined, "lifo");
    expect(maxInFlight).toBe(4);
    expect(r.failures).toEqual([]);
    expect(r.done).toBe(true);
    const s = r.stats(now);
    expect(s).toMatchObject({ reads: 50, bytes: 3200, partial: 0, failures: 0 });
    expect(r.stats(1e9)).toMatchObject({ readsPerSec: 50, bytesPerSec: 3200 });
    expect(s.latency.count).toBe(50);
  });

  it("accepts partial fills (the spec allows them) and counts them", () => {
    const r = reader({ reference: new SeededByteStream(9) });
    run(r, new SeededByteStream(9), (i, len) => (i % 3 === 0 ? 1 + (i % len) : len));
    expect(r.failures).toEqual([]);
    expect(r.stats(1).partial).toBe(17); // i = 0, 3, ..., 48 fill 1 + i bytes
    expect(r.completed).toBe(50);
  });

  it("the digest makes runs comparable without a reference", () => {
    const digest = (seed: number) => {
      const r = reader();
      run(r, new SeededByteStream(seed));
      return r.digest;
    };
    expect(digest(5)).toBe(digest(5));
    expect(digest(5)).not.toBe(digest(6));
  });

  it("catches an empty fill, an overrun, a wrong byte and an unknown tag", () => {
    const r = reader({ reference: new SeededByteStream(1), numberIos: 4, iodepth: 4 });
    const dev = new SeededByteStream(1);
    const [a, b, c, d] = [r.next(0)!, r.next(0)!, r.next(0)!, r.next(0)!];
    expect(r.next(0)).toBeUndefined();
    expect(r.complete(a.tag, new Uint8Array(0), 1)).toEqual([{ kind: "empty", tag: a.tag, detail: `rng read ${a.tag}: no bytes written into a 64-byte buffer` }]);
    expect(r.complete(b.tag, dev.take(65), 2).map((f) => f.kind)).toEqual(["overrun"]);
    const bytes = dev.take(64);
    const want = bytes[10]!;
    bytes[10] = want ^ 0xff;
    expect(r.complete(c.tag, bytes, 3)).toEqual([
      { kind: "mismatch", tag: c.tag, detail: `rng read ${c.tag}: byte 10 is 0x${(want ^ 0xff).toString(16)}, the reference stream has 0x${want.toString(16)} (stream offset 75)` },
    ]);
    expect(r.complete(d.tag, dev.take(64), 4)).toEqual([]);
    expect(r.complete(d.tag, dev.take(64), 5)).toEqual([{ kind: "unexpected", tag: d.tag, detail: `rng read ${d.tag}: not in flight` }]);
    expect(r.failures.map((f) => f.kind)).toEqual(["empty", "overrun", "mismatch", "unexpected"]);
    expect(r.stats(1)).toMatchObject({ reads: 4, bytes: 193, failures: 4 });
  });

  it("a device drawing from another stream is caught at the first byte that differs", () => {
    const r = reader({ reference: new SeededByteStream(1) });
    run(r, new SeededByteStream(2));
    expect(r.failures.length).toBe(50);
    expect(r.failures.every((f) => f.kind === "mismatch")).toBe(true);
  });

  it("stop() ends issuing; without a limit it reads until then", () => {
    const r = new RngReader({ readSize: 8 });
    for (let i = 0; i < 100; i++) r.complete(r.next(i)!.tag, new Uint8Array(8), i);
    expect(r.done).toBe(false);
    const last = r.next(100)!;
    r.stop();
    expect(r.next(101)).toBeUndefined();
    expect(r.done).toBe(false);
    r.complete(last.tag, new Uint8Array(8), 102);
    expect(r.done).toBe(true);
  });

  it.each([
    [{ readSize: 0 }, "readSize must be an integer >= 1, got 0"],
    [{ iodepth: 0 }, "iodepth must be an integer >= 1, got 0"],
    [{ numberIos: 2.5 }, "numberIos must be an integer >= 1, got 2.5"],
  ])("%o is refused", (patch, message) => {
    expect(() => reader(patch)).toThrow(new RangeError(`rng reads: ${message}`));
  });
});
