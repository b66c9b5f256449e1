import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { NET_RX_QUEUE, NET_TX_QUEUE, VirtioNet, type VirtioNetOptions } from "../src/devices/net.ts";
import { NetBridge } from "../src/devices/net-bridge.ts";
import * as L from "../src/wasm/layout.ts";
import { MockTransport, readableSegs, type SegSpec } from "./helpers/mock-transport.ts";
import { BROADCAST, MAC_A, MAC_B, concat, ethFrame, hdr, rxPackets } from "./helpers/net-frames.ts";

const bit = (b: number) => 1n << BigInt(b);
const V1 = bit(L.VIRTIO_F_VERSION_1);
const MRG = bit(L.VIRTIO_NET_F_MRG_RXBUF);
const W = (len: number): SegSpec => ({ len, write: true });
const MAC_C = "52:54:00:00:00:0c";

function guest(mac: string, features: bigint, opts: Partial<VirtioNetOptions> = {}) {
  const dev = new VirtioNet({ mac, ...opts });
  return { dev, t: new MockTransport(dev, features) };
}

function send(t: MockTransport, frame: Uint8Array, split: number[] = []): number {
  return t.post(NET_TX_QUEUE, readableSegs(concat(hdr(), frame), split));
}

function postRx(t: MockTransport, n: number, size: number): void {
  for (let i = 0; i < n; i++) t.post(NET_RX_QUEUE, [W(size)]);
}

describe("net bridge between two guests", () => {
  it("exchanges frames both ways, byte-exact, with and without MRG_RXBUF", () => {
    const a = guest(MAC_A, V1);
    const b = guest(MAC_B, V1 | MRG);
    const br = NetBridge.pair(a.dev, b.dev);
    postRx(a.t, 4, 1526);
    postRx(b.t, 8, 256);
    const toB = [ethFrame(MAC_B, MAC_A, 1514, 1), ethFrame(MAC_B, MAC_A, 60, 2)];
    const toA = [ethFrame(MAC_A, MAC_B, 900, 3), ethFrame(MAC_A, MAC_B, 14, 4)];
    send(a.t, toB[0]!, [3, 9, 100]);
    send(b.t, toA[0]!);
    send(a.t, toB[1]!);
    send(b.t, toA[1]!, [12]);
    expect(rxPackets(b.t).map((p) => p.frame)).toEqual(toB);
    expect(rxPackets(a.t).map((p) => p.frame)).toEqual(toA);
    expect(rxPackets(b.t).map((p) => p.ids.length)).toEqual([6, 1]); // 1526 bytes in 256-byte buffers
    expect(a.t.usedOn(NET_TX_QUEUE).map((u) => u.len)).toEqual([0, 0]);
    // Each receiver was woken from the other guest's handle(), not its own.
    expect(b.t.signals).toBe(2);
    expect(a.t.signals).toBe(2);
    expect(br.stats).toEqual({ frames: 4, bytes: 1514 + 60 + 900 + 14, forwarded: 4, forwardedBytes: 2488, drops: { noRoute: 0, portDropped: 0 } });
    expect(br.portStats(a.dev)).toEqual({ txFrames: 2, txBytes: 1574, rxFrames: 2, rxBytes: 914, drops: 0 });
    expect(br.portStats(b.dev)).toEqual({ txFrames: 2, txBytes: 914, rxFrames: 2, rxBytes: 1574, drops: 0 });
    expect(a.dev.stats).toMatchObject({ txFrames: 2, txBytes: 1574, rxFrames: 2, rxBytes: 914, rxBuffers: 2 });
    expect(b.dev.stats).toMatchObject({ txFrames: 2, txBytes: 914, rxFrames: 2, rxBytes: 1574, rxBuffers: 7 });
  });

  it("floods broadcast and multicast to every other port, never back to the sender", () => {
    const a = guest(MAC_A, V1);
    const b = guest(MAC_B, V1);
    const c = guest(MAC_C, V1);
    const br = new NetBridge();
    [a, b, c].forEach((g) => {
      br.connect(g.dev);
      postRx(g.t, 2, 1526);
    });
    const bc = ethFrame(BROADCAST, MAC_A, 100);
    const mc = ethFrame(BROADCAST, MAC_B, 80);
    mc.set([0x01, 0x00, 0x5e, 0, 0, 1], 0);
    send(a.t, bc);
    send(b.t, mc);
    expect(rxPackets(a.t).map((p) => p.frame)).toEqual([mc]);
    expect(rxPackets(b.t).map((p) => p.frame)).toEqual([bc]);
    expect(rxPackets(c.t).map((p) => p.frame)).toEqual([bc, mc]);
    expect(br.stats).toMatchObject({ frames: 2, forwarded: 4, forwardedBytes: 360 });
  });

  it("drops and counts a frame for an unknown MAC, and a broadcast with nobody else", () => {
    const a = guest(MAC_A, V1);
    const br = new NetBridge();
    br.connect(a.dev);
    postRx(a.t, 1, 1526);
    send(a.t, ethFrame(MAC_B, MAC_A, 60));
    send(a.t, ethFrame(BROADCAST, MAC_A, 60));
    expect(br.stats).toMatchObject({ frames: 2, forwarded: 0, drops: { noRoute: 2, portDropped: 0 } });
    expect(a.t.usedOn(NET_RX_QUEUE)).toEqual([]);
    expect(a.dev.stats.txFrames).toBe(2); // the device sent them; the bridge had nowhere to go
  });

  it("counts a delivery the destination device refuses (no rx buffer)", () => {
    const a = guest(MAC_A, V1);
    const b = guest(MAC_B, V1);
    const br = NetBridge.pair(a.dev, b.dev);
    send(a.t, ethFrame(MAC_B, MAC_A, 60));
    expect(br.stats).toMatchObject({ frames: 1, forwarded: 0, drops: { noRoute: 0, portDropped: 1 } });
    expect(br.portStats(b.dev)).toMatchObject({ rxFrames: 0, drops: 1 });
    expect(b.dev.stats.drops.rxNoBuffer).toBe(1);
  });

  it("hands a frame to its sender's own MAC back to it (hairpin), completed after handle()", () => {
    const a = guest(MAC_A, V1 | MRG);
    const b = guest(MAC_B, V1);
    NetBridge.pair(a.dev, b.dev);
    postRx(a.t, 1, 2048);
    const f = ethFrame(MAC_A, MAC_A, 300);
    send(a.t, f);
    expect(rxPackets(a.t).map((p) => p.frame)).toEqual([f]);
    expect(a.t.signals).toBe(0);
  });

  it("delivers frames that waited in a backlog byte-exact (the device keeps its own copies)", () => {
    const a = guest(MAC_A, V1);
    const b = guest(MAC_B, V1 | MRG, { rxBacklog: 8 });
    NetBridge.pair(a.dev, b.dev);
    const frames = [0, 1, 2, 3].map((i) => ethFrame(MAC_B, MAC_A, 200 + i * 300, i));
    frames.forEach((f) => send(a.t, f)); // the mock reuses one read window for every read
    expect(b.dev.rxWaiting).toBe(4);
    postRx(b.t, 24, 128); // 212 + 512 + 812 + 1112 bytes: 2 + 4 + 7 + 9 buffers
    expect(rxPackets(b.t).map((p) => p.frame)).toEqual(frames);
    expect(b.t.signals).toBe(0);
  });
});

describe("net bridge loopback", () => {
  it("reflects every frame to the sending guest, whatever its destination", () => {
    const a = guest(MAC_A, V1 | MRG);
    const br = NetBridge.loopback(a.dev);
    postRx(a.t, 16, 512);
    const frames = [ethFrame(MAC_B, MAC_A, 1514, 1), ethFrame(BROADCAST, MAC_A, 60, 2), ethFrame(MAC_A, MAC_A, 700, 3)];
    frames.forEach((f) => send(a.t, f, [12, 50]));
    expect(rxPackets(a.t).map((p) => p.frame)).toEqual(frames);
    expect(a.t.signals).toBe(0); // rx completes inside the guest's own tx handle(): taken after it
    expect(a.t.pending).toBe(16 - 3 - 1 - 2); // 1526 bytes in 512-byte buffers: 3
    expect(br.stats).toMatchObject({ frames: 3, forwarded: 3, bytes: 2274, forwardedBytes: 2274 });
    expect(br.portStats(a.dev)).toEqual({ txFrames: 3, txBytes: 2274, rxFrames: 3, rxBytes: 2274, drops: 0 });
  });

  it("counts a reflected frame the guest has no buffer for", () => {
    const a = guest(MAC_A, V1);
    const br = NetBridge.loopback(a.dev);
    send(a.t, ethFrame(MAC_B, MAC_A, 60));
    expect(br.stats.drops.portDropped).toBe(1);
    expect(a.dev.stats.drops.rxNoBuffer).toBe(1);
  });
});

describe("net bridge ports", () => {
  it("refuses duplicate devices and MACs, unknown devices and double attachment", () => {
    const a = new VirtioNet({ mac: MAC_A });
    const a2 = new VirtioNet({ mac: MAC_A });
    const b = new VirtioNet({ mac: MAC_B });
    const br = new NetBridge();
    br.connect(a);
    expect(() => br.connect(a)).toThrow(/net bridge: device 52:54:00:00:00:0a is already connected/);
    expect(() => br.connect(a2)).toThrow(/two ports with MAC 52:54:00:00:00:0a/);
    expect(() => br.portStats(b)).toThrow(/device 52:54:00:00:00:0b is not connected/);
    expect(() => br.disconnect(b)).toThrow(/device 52:54:00:00:00:0b is not connected/);
    expect(() => br.transmit(b, ethFrame(MAC_A, MAC_B, 60))).toThrow(/frame from unconnected device 52:54:00:00:00:0b/);
    expect(() => new NetBridge().connect(a)).toThrow(/already attached to a backend/);
  });

  it("frees the port and the MAC on disconnect; the device then has no backend", () => {
    const a = guest(MAC_A, V1);
    const br = new NetBridge();
    br.connect(a.dev);
    br.disconnect(a.dev);
    send(a.t, ethFrame(MAC_B, MAC_A, 60));
    expect(a.dev.stats.drops.txNoBackend).toBe(1);
    expect(br.stats.frames).toBe(0);
    const other = new VirtioNet({ mac: MAC_A });
    br.connect(other);
    new NetBridge().connect(a.dev);
  });
});

describe("net bridge property", () => {
  it("delivers every frame in order and byte-exact for any frame and rx buffer sizes", () => {
    const sizes = fc.array(fc.integer({ min: 14, max: 1518 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(sizes, sizes, fc.integer({ min: 24, max: 1600 }), fc.boolean(), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 3 }), (ab, ba, bufSize, mrgA, split) => {
        // Without MRG_RXBUF the buffers must hold a whole frame (as the spec's 1526 rule says).
        const a = guest(MAC_A, mrgA ? V1 | MRG : V1);
        const b = guest(MAC_B, V1 | MRG);
        const br = NetBridge.pair(a.dev, b.dev);
        const need = (ns: number[]) => ns.reduce((k, n) => k + Math.ceil((12 + n) / bufSize), 0);
        postRx(a.t, mrgA ? need(ba) : ba.length, mrgA ? bufSize : 1530);
        postRx(b.t, need(ab), bufSize);
        const sentAB = ab.map((n, i) => ethFrame(MAC_B, MAC_A, n, i));
        const sentBA = ba.map((n, i) => ethFrame(MAC_A, MAC_B, n, 100 + i));
        for (let i = 0; i < Math.max(ab.length, ba.length); i++) {
          if (i < ab.length) send(a.t, sentAB[i]!, split);
          if (i < ba.length) send(b.t, sentBA[i]!, split);
        }
        const gotB = rxPackets(b.t);
        expect(gotB.map((p) => p.frame)).toEqual(sentAB);
        expect(rxPackets(a.t).map((p) => p.frame)).toEqual(sentBA);
        // One used entry per buffer; the lens of a packet's buffers add up to header + frame.
        const usedB = b.t.usedOn(NET_RX_QUEUE);
        let i = 0;
        for (const p of gotB) {
          const lens = usedB.slice(i, i + p.ids.length).map((u) => u.len);
          expect(lens.reduce((s, n) => s + n, 0)).toBe(12 + p.frame.length);
          expect(lens.slice(0, -1).every((n) => n === bufSize)).toBe(true);
          expect(new Set(usedB.slice(i, i + p.ids.length).map((u) => u.batch)).size).toBe(1);
          i += p.ids.length;
        }
        expect(br.stats.drops).toEqual({ noRoute: 0, portDropped: 0 });
        expect(br.stats.forwarded).toBe(ab.length + ba.length);
      }),
      { seed: 4242, numRuns: 40 },
    );
  });
});
