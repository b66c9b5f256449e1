import { describe, expect, it } from "vitest";
import { Rng } from "../src/sim/rng.ts";
import { decodeFrame, encodeFrame, ETH_HEADER, ETHERTYPE_VXSIM, formatMac, parseMac, rxFrame, txBuffer, VIRTIO_NET_HDR } from "../src/workloads/eth.ts";
import { FRAME_OVERHEAD } from "../src/workloads/net-direction.ts";
import { peekFlow, type NetFlow, type Side } from "../src/workloads/net-flow.ts";
import type { NetFailure } from "../src/workloads/net-report.ts";
import { RrFlow, type RrOptions } from "../src/workloads/net-rr.ts";
import { StreamFlow, type StreamOptions } from "../src/workloads/net-stream.ts";
import { getWire, putWire, WIRE_HEADER } from "../src/workloads/net-wire.ts";

const A = parseMac("00:16:3e:00:00:0a");
const B = parseMac("00:16:3e:00:00:0b");

const stream = (o: Partial<StreamOptions> = {}, seed = 1) => new StreamFlow({ flowId: 3, rng: new Rng(seed), a: A, b: B, messageSize: 4000, messages: 20, ...o });
const rr = (o: Partial<RrOptions> = {}, seed = 1) => new RrFlow({ flowId: 4, rng: new Rng(seed), a: A, b: B, requestSize: 100, responseSize: 3000, transactions: 10, ...o });

type Tamper = (frames: Uint8Array[], from: Side) => Uint8Array[];

/** Moves frames a -> b then b -> a, one virtual µs per round, until the flow is done or
 *  nothing moves; returns every frame sent by each side (before tampering). */
function pump(flow: NetFlow, tamper: Tamper = (f) => f, maxRounds = 100_000) {
  const sent: Record<Side, Uint8Array[]> = { a: [], b: [] };
  let now = 0;
  for (let round = 0; round < maxRounds && !flow.done; round++) {
    let moved = 0;
    for (const [from, to] of [["a", "b"], ["b", "a"]] as const) {
      const batch: Uint8Array[] = [];
      for (let f = flow.next(from, now); f; f = flow.next(from, now)) batch.push(f);
      sent[from].push(...batch);
      moved += batch.length;
      now += 1000;
      for (const f of tamper(batch, from)) flow.receive(to, f, now);
    }
    if (moved === 0) break;
  }
  return { sent, now };
}

const kinds = (fs: readonly NetFailure[]) => fs.map((f) => f.kind);

describe("Ethernet and virtio-net framing", () => {
  it("parses and formats MACs", () => {
    expect(formatMac(parseMac("0:16:3E:0:a:ff"))).toBe("00:16:3e:00:0a:ff");
    for (const bad of ["00:16:3e:00:0a", "00-16-3e-00-0a-ff", "00:16:3e:00:0a:fff", ""]) {
      expect(() => parseMac(bad)).toThrow(`invalid MAC '${bad}' (expected six hex bytes such as 00:16:3e:12:34:56)`);
    }
  });

  it("encodes and decodes frames, and adds and strips the virtio-net header", () => {
    const f = encodeFrame({ dst: B, src: A, ethertype: ETHERTYPE_VXSIM, payload: Uint8Array.of(1, 2, 3) });
    expect(Array.from(f.subarray(12, 14))).toEqual([0x88, 0xb5]);
    const d = decodeFrame(f)!;
    expect([formatMac(d.dst), formatMac(d.src), d.ethertype, Array.from(d.payload)]).toEqual(["00:16:3e:00:00:0b", "00:16:3e:00:00:0a", 0x88b5, [1, 2, 3]]);
    expect(decodeFrame(f.subarray(0, 13))).toBeUndefined();
    const tx = txBuffer(f);
    expect(tx.length).toBe(VIRTIO_NET_HDR + f.length);
    expect(tx.subarray(0, VIRTIO_NET_HDR).every((b) => b === 0)).toBe(true);
    tx[10] = 1;
    expect(rxFrame(tx)).toEqual({ numBuffers: 1, frame: f });
    expect(rxFrame(new Uint8Array(11))).toBeUndefined();
  });

  it("the wire header round-trips and refuses a damaged copy", () => {
    const b = new Uint8Array(WIRE_HEADER + 4);
    const h = { flow: 0xdeadbeef, kind: 2, flags: 1, len: 65535, seq: 2 ** 32 - 1, msg: 7, off: 1472 };
    putWire(b, 4, h);
    expect(getWire(b, 4)).toEqual(h);
    b[4 + 13]! ^= 1;
    expect(getWire(b, 4)).toBeUndefined();
    expect(getWire(b.subarray(0, 31), 4)).toBeUndefined();
  });
});

describe("stream (TCP_STREAM-like)", () => {
  it("cuts messages into MTU-sized frames and delivers every byte in order", () => {
    const flow = stream();
    const { sent, now } = pump(flow);
    expect(sent.a.length).toBe(60); // 4000 = 1472 + 1472 + 1056
    expect(sent.a.slice(0, 3).map((f) => f.length - FRAME_OVERHEAD)).toEqual([1472, 1472, 1056]);
    expect(sent.a.every((f) => f.length <= 1500 + ETH_HEADER)).toBe(true);
    expect(flow.failures).toEqual([]);
    expect(flow.done).toBe(true);
    const s = flow.stats(now);
    expect(s).toMatchObject({ completed: 20, frames: 60, bytes: 80_000, failures: 0 });
    expect(s.latency.count).toBe(20);
    expect(flow.stats(1e9)).toMatchObject({ perSec: 20, bytesPerSec: 80_000 });
  });

  it("same seed, same frames; another seed or flow id, other bytes", () => {
    // Whole-frame bytes, not a CRC of them: a frame embeds its header's CRC, and a CRC over
    // data followed by its own CRC is a constant, which would hide a changed header.
    const digest = (f: NetFlow) => pump(f).sent.a.map((x) => Buffer.from(x).toString("base64"));
    expect(digest(stream())).toEqual(digest(stream()));
    expect(digest(stream({}, 2))).not.toEqual(digest(stream()));
    expect(digest(stream({ flowId: 9 }))).not.toEqual(digest(stream()));
  });

  it("keeps at most `window` frames ahead of the receiver", () => {
    const flow = stream({ window: 5, messages: undefined });
    const first: Uint8Array[] = [];
    for (let f = flow.next("a", 0); f; f = flow.next("a", 0)) first.push(f);
    expect(first.length).toBe(5);
    expect(flow.next("b", 0)).toBeUndefined();
    flow.receive("b", first[0]!, 1);
    expect(flow.next("a", 1)).toBeDefined();
    expect(flow.next("a", 1)).toBeUndefined();
    flow.stop(); // finishes the message under way
    for (const f of first.slice(1)) flow.receive("b", f, 2);
    const rest: Uint8Array[] = [];
    for (let f = flow.next("a", 3); f; f = flow.next("a", 3)) rest.push(f);
    expect(rest.length).toBe(0); // 6 frames = 2 whole messages: nothing under way
    expect(flow.done).toBe(false); // frame 5 not yet received
  });

  it("catches a dropped frame", () => {
    const flow = stream();
    pump(flow, (fs, from) => (from === "a" ? fs.filter((f) => getWire(f, ETH_HEADER)!.seq !== 7) : fs));
    expect(flow.failures).toEqual([{ kind: "drop", seq: 8, count: 1, detail: "flow 3: frames 7..7 missing before frame 8" }]);
    expect(flow.stats(1)).toMatchObject({ frames: 59, completed: 20 });
  });

  it("catches a duplicated frame", () => {
    const flow = stream();
    pump(flow, (fs) => fs.flatMap((f) => (getWire(f, ETH_HEADER)!.seq === 11 ? [f, f] : [f])));
    expect(flow.failures).toEqual([{ kind: "duplicate", seq: 11, count: 1, detail: "flow 3: frame 11 received again" }]);
    expect(flow.stats(1)).toMatchObject({ frames: 60, bytes: 80_000 });
  });

  it("catches reordering", () => {
    const flow = stream({ window: 64 });
    pump(flow, (fs) => {
      const i = fs.findIndex((f) => getWire(f, ETH_HEADER)!.seq === 20);
      if (i >= 0 && i + 1 < fs.length) [fs[i], fs[i + 1]] = [fs[i + 1]!, fs[i]!];
      return fs;
    });
    expect(kinds(flow.failures)).toEqual(["drop", "reorder"]);
    expect(flow.failures[1]!.detail).toBe("flow 3: frame 20 arrived after frame 21");
    expect(flow.stats(1).frames).toBe(60); // the late frame's bytes were still intact
  });

  it("catches a corrupted payload byte without losing the frame's place", () => {
    const flow = stream();
    pump(flow, (fs) =>
      fs.map((f) => {
        if (getWire(f, ETH_HEADER)!.seq !== 4) return f;
        const g = f.slice();
        g[FRAME_OVERHEAD + 99]! ^= 0x80;
        return g;
      }),
    );
    expect(flow.failures).toEqual([{ kind: "corrupt", seq: 4, count: 1, detail: "flow 3: payload differs at byte 99 (message 1 offset 1571)" }]);
    expect(flow.stats(1)).toMatchObject({ frames: 59, completed: 20 });
  });

  it("catches a damaged header (and then the gap it leaves)", () => {
    const flow = stream();
    pump(flow, (fs) =>
      fs.map((f) => {
        if (getWire(f, ETH_HEADER)!.seq !== 4) return f;
        const g = f.slice();
        g[ETH_HEADER + 13]! ^= 1;
        return g;
      }),
    );
    expect(flow.failures.map((f) => [f.kind, f.seq, f.detail])).toEqual([
      ["corrupt", -1, "flow 3: wire header damaged (bad magic or CRC)"],
      ["drop", 5, "flow 3: frames 4..4 missing before frame 5"],
    ]);
  });

  it("catches truncated, over-long and padded frames", () => {
    const cut = (tail: (f: Uint8Array) => Uint8Array) => {
      const flow = stream({ messageSize: 10, messages: 3 });
      pump(flow, (fs) => fs.map((f) => (getWire(f, ETH_HEADER)!.seq === 1 ? tail(f) : f)));
      return flow.failures.map((x) => [x.kind, x.seq, x.detail]);
    };
    expect(cut((f) => f.subarray(0, f.length - 1))).toEqual([["short", 1, "flow 3: payload 9 of 10 bytes"]]);
    expect(cut((f) => f.subarray(0, 20))).toEqual([["short", -1, "flow 3: 20-byte frame cannot hold its 42 bytes of headers"], ["drop", 2, "flow 3: frames 1..1 missing before frame 2"]]);
    const grow = (n: number, fill = 0) => (f: Uint8Array) => {
      const g = new Uint8Array(n).fill(fill);
      g.set(f);
      return g;
    };
    expect(cut(grow(53))).toEqual([["long", 1, "flow 3: payload 11 bytes, header says 10"]]);
    expect(cut(grow(60))).toEqual([]); // zero padding to the Ethernet minimum
    expect(cut(grow(60, 0xff))).toEqual([["long", 1, "flow 3: payload 18 bytes, header says 10"]]);
  });

  it("catches a frame for another flow, MAC or EtherType", () => {
    const other = stream({ flowId: 8 });
    const foreign = other.next("a", 0)!;
    const flow = stream();
    const fs = flow.receive("b", foreign, 0);
    expect(fs).toEqual([{ kind: "misdelivered", seq: 0, count: 1, detail: "flow 3: frame of flow 8 kind 1 ethertype 0x88b5 00:16:3e:00:00:0a -> 00:16:3e:00:00:0b, expected flow 3 kind 1 00:16:3e:00:00:0a -> 00:16:3e:00:00:0b" }]);
    const mine = flow.next("a", 0)!;
    for (const [at, v] of [[0, 0xff], [11, 0], [12, 0x08]] as const) {
      const g = mine.slice();
      g[at] = v;
      expect(kinds(flow.receive("b", g, 1))).toEqual(["misdelivered"]);
    }
    expect(kinds(flow.receive("a", mine, 1))).toEqual(["misdelivered"]);
    expect(flow.receive("b", mine, 1)).toEqual([]);
  });

  it("works over loopback (both sides one MAC)", () => {
    const flow = stream({ b: A });
    pump(flow);
    expect(flow.failures).toEqual([]);
    expect(flow.completed).toBe(20);
  });
});

describe("request/response (TCP_RR-like)", () => {
  it("completes transactions one at a time, each verified both ways", () => {
    const flow = rr();
    const first: Uint8Array[] = [];
    for (let f = flow.next("a", 0); f; f = flow.next("a", 0)) first.push(f);
    expect(first.length).toBe(1); // 100-byte request
    expect(flow.next("b", 0)).toBeUndefined();
    expect(flow.receive("b", first[0]!, 5)).toEqual([]);
    const resp: Uint8Array[] = [];
    for (let f = flow.next("b", 5); f; f = flow.next("b", 5)) resp.push(f);
    expect(resp.map((f) => f.length - FRAME_OVERHEAD)).toEqual([1472, 1472, 56]);
    expect(flow.next("a", 5)).toBeUndefined(); // still waiting for the response
    for (const f of resp) flow.receive("a", f, 9);
    expect(flow.completed).toBe(1);
    expect(flow.stats(1).latency).toMatchObject({ count: 1, min: 9, max: 9 });
    pump(flow);
    expect(flow.done).toBe(true);
    expect(flow.failures).toEqual([]);
    expect(flow.stats(1e9)).toMatchObject({ completed: 10, perSec: 10, frames: 40, bytes: 10 * 3100, failures: 0 });
  });

  it("is deterministic", () => {
    const digest = (f: NetFlow) => {
      const { sent } = pump(f);
      return [...sent.a, ...sent.b].map((x) => Buffer.from(x).toString("base64"));
    };
    expect(digest(rr())).toEqual(digest(rr()));
    expect(digest(rr({}, 5))).not.toEqual(digest(rr()));
  });

  it("catches drops, duplicates, reordering and corruption in either direction", () => {
    const seqOf = (f: Uint8Array) => getWire(f, ETH_HEADER)!.seq;
    const run = (tamper: Tamper) => {
      const flow = rr({ requestSize: 3000 });
      pump(flow, tamper);
      return { flow, got: flow.failures.map((f) => [f.kind, f.seq]) };
    };
    // a dropped middle request frame: the server still answers at the last frame
    const drop = run((fs, from) => (from === "a" ? fs.filter((f) => seqOf(f) !== 4) : fs));
    expect(drop.got).toEqual([["drop", 5]]);
    expect(drop.flow.completed).toBe(10);
    expect(run((fs, from) => (from === "b" ? fs.flatMap((f) => (seqOf(f) === 6 ? [f, f] : [f])) : fs)).got).toEqual([["duplicate", 6]]);
    expect(run((fs, from) => (from === "b" && seqOf(fs[0]!) === 3 ? [fs[1]!, fs[0]!, fs[2]!] : fs)).got).toEqual([["drop", 4], ["reorder", 3]]);
    const corrupt = run((fs, from) => from === "a" && seqOf(fs[0]!) === 9 ? fs.map((f, i) => {
      if (i !== 1) return f;
      const g = f.slice();
      g[g.length - 1]! ^= 1;
      return g;
    }) : fs);
    expect(corrupt.got).toEqual([["corrupt", 10]]);
  });

  it("a lost last response frame stalls the flow (the runner's time limit exposes it)", () => {
    const flow = rr({ transactions: 3 });
    pump(flow, (fs, from) => (from === "b" ? fs.filter((f) => getWire(f, ETH_HEADER)!.seq !== 5) : fs));
    expect(flow.completed).toBe(1);
    expect(flow.done).toBe(false);
    flow.stop();
    expect(flow.done).toBe(false); // transaction 1 is still outstanding
  });

  it("routes frames by flow and side (for loopback and shared devices)", () => {
    const flow = rr({ b: A });
    const req = flow.next("a", 0)!;
    expect(peekFlow(req)).toEqual({ flowId: 4, side: "b" });
    flow.receive("b", req, 1);
    const resp = flow.next("b", 1)!;
    expect(peekFlow(resp)).toEqual({ flowId: 4, side: "a" });
    expect(peekFlow(stream().next("a", 0)!)).toEqual({ flowId: 3, side: "b" });
    expect(peekFlow(req.subarray(0, 41))).toBeUndefined();
    const bad = req.slice();
    bad[ETH_HEADER]! ^= 1;
    expect(peekFlow(bad)).toBeUndefined();
    const loop = rr({ b: A });
    pump(loop);
    expect([loop.completed, loop.failures.length]).toEqual([10, 0]);
  });
});

describe("net flow options", () => {
  it.each([
    [{ mtu: 28 }, "mtu must be an integer 29..65563 (the 28-byte workload header plus at least one byte), got 28"],
    [{ mtu: 65564 }, "mtu must be an integer 29..65563 (the 28-byte workload header plus at least one byte), got 65564"],
    [{ flowId: -1 }, "flowId must be a u32, got -1"],
    [{ flowId: 2 ** 32 }, "flowId must be a u32, got 4294967296"],
    [{ a: new Uint8Array(5) }, "MAC of side a must be 6 bytes, got 5"],
    [{ b: new Uint8Array(7) }, "MAC of side b must be 6 bytes, got 7"],
    [{ messageSize: 0 }, "messageSize must be an integer >= 1, got 0"],
    [{ window: 0 }, "window must be an integer >= 1, got 0"],
    [{ messages: 1.5 }, "messages must be an integer >= 1, got 1.5"],
  ])("stream %o is refused", (patch, message) => {
    expect(() => stream(patch as Partial<StreamOptions>)).toThrow(new RangeError(message));
  });

  it.each([
    [{ requestSize: 0 }, "requestSize must be an integer >= 1, got 0"],
    [{ responseSize: -2 }, "responseSize must be an integer >= 1, got -2"],
    [{ transactions: 0 }, "transactions must be an integer >= 1, got 0"],
    [{ mtu: 10 }, "mtu must be an integer 29..65563 (the 28-byte workload header plus at least one byte), got 10"],
  ])("rr %o is refused", (patch, message) => {
    expect(() => rr(patch as Partial<RrOptions>)).toThrow(new RangeError(message));
  });

  it("a small MTU means more, smaller frames; a jumbo MTU fewer", () => {
    expect(pump(stream({ mtu: 68, messageSize: 100, messages: 1 })).sent.a.map((f) => f.length - FRAME_OVERHEAD)).toEqual([40, 40, 20]);
    expect(pump(stream({ mtu: 9000, messageSize: 65536, messages: 1 })).sent.a.length).toBe(8);
  });
});
