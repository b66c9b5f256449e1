import { describe, expect, it } from "vitest";
import { NET_CONFIG_SIZE, NET_RX_QUEUE, NET_TX_QUEUE, VirtioNet, type NetBackend, type NetDrop, type VirtioNetOptions } from "../src/devices/net.ts";
import { checkTxHdr, type NetHdr } from "../src/devices/net-hdr.ts";
import { DEFERRED, defersCompletions, isDeferred } from "../src/devices/deferred.ts";
import * as L from "../src/wasm/layout.ts";
import { MockTransport, readableSegs, type SegSpec } from "./helpers/mock-transport.ts";
import { MAC_A, MAC_B, concat, ethFrame, hdr, rxPackets } from "./helpers/net-frames.ts";

const bit = (b: number) => 1n << BigInt(b);
const V1 = bit(L.VIRTIO_F_VERSION_1);
const MRG = bit(L.VIRTIO_NET_F_MRG_RXBUF);
const CSUM = bit(L.VIRTIO_NET_F_CSUM);
const W = (len: number): SegSpec => ({ len, write: true });

class Capture implements NetBackend {
  frames: Uint8Array[] = [];
  transmit(_from: VirtioNet, frame: Uint8Array): void {
    this.frames.push(frame.slice());
  }
}

function setup(features: bigint = V1, opts: Partial<VirtioNetOptions> = {}) {
  const dev = new VirtioNet({ mac: MAC_A, ...opts });
  const t = new MockTransport(dev, features);
  const cap = new Capture();
  dev.attach(cap);
  return { dev, t, cap };
}

/** Only the named drop counters are non-zero, with these values. */
function expectDrops(dev: VirtioNet, want: Partial<Record<NetDrop, number>>): void {
  const nonZero = Object.fromEntries(Object.entries(dev.stats.drops).filter(([, v]) => v !== 0));
  expect(nonZero).toEqual(want);
}

describe("virtio-net identity", () => {
  it("is device 1 with rx0/tx0, the offered features and the config layout", () => {
    const dev = new VirtioNet({ mac: "52:54:00:12:34:56", mtu: 9000 });
    expect(dev.deviceId).toBe(1);
    expect(dev.numQueues).toBe(2);
    expect([NET_RX_QUEUE, NET_TX_QUEUE]).toEqual([0, 1]);
    expect(dev.features).toBe(V1 | bit(L.VIRTIO_NET_F_MAC) | bit(L.VIRTIO_NET_F_MTU) | MRG | bit(L.VIRTIO_NET_F_STATUS));
    expect(new VirtioNet({ mac: MAC_A, csum: true }).features & CSUM).toBe(CSUM);
    expect(dev.config.length).toBe(NET_CONFIG_SIZE);
    expect(Array.from(dev.config)).toEqual([0x52, 0x54, 0, 0x12, 0x34, 0x56, 1, 0, 1, 0, 9000 & 0xff, 9000 >> 8]);
    expect(dev.maxFrame).toBe(9018);
    expect(defersCompletions(dev)).toBe(true);
  });

  it("uses the 12-byte header with VERSION_1 or MRG_RXBUF, the legacy 10 otherwise", () => {
    const dev = new VirtioNet({ mac: MAC_A });
    dev.negotiated(V1);
    expect(dev.headerSize).toBe(12);
    dev.negotiated(MRG);
    expect(dev.headerSize).toBe(12);
    dev.negotiated(0n);
    expect(dev.headerSize).toBe(10);
    expect(dev.negotiatedFeatures).toBe(0n);
  });

  it("refuses bad options, unoffered features, unknown queues and short frames", () => {
    expect(() => new VirtioNet({ mac: "52:54:00:00:00" })).toThrow(/virtio-net: MAC address must look like 52:54:00:12:34:56, got "52:54:00:00:00"/);
    expect(() => new VirtioNet({ mac: "52:54:00:00:00:zz" })).toThrow(/MAC address must look like/);
    expect(() => new VirtioNet({ mac: new Uint8Array(5) })).toThrow(/virtio-net: MAC address must be 6 bytes, got 5/);
    expect(() => new VirtioNet({ mac: "01:00:5e:00:00:01" })).toThrow(/MAC address 01:00:5e:00:00:01 is multicast/);
    expect(() => new VirtioNet({ mac: MAC_A, mtu: 67 })).toThrow(/virtio-net 52:54:00:00:00:0a: mtu must be an integer in 68\.\.65517, got 67/);
    expect(() => new VirtioNet({ mac: MAC_A, mtu: 65518 })).toThrow(/mtu must be/);
    expect(() => new VirtioNet({ mac: MAC_A, rxBacklog: -1 })).toThrow(/rxBacklog must be a non-negative integer, got -1/);
    expect(() => new VirtioNet({ mac: MAC_A, queueMax: 3 })).toThrow(/queueMax must be a power of two in 1\.\.32768, got 3/);
    const dev = new VirtioNet({ mac: MAC_A });
    expect(() => dev.negotiated(V1 | CSUM)).toThrow(/negotiated features 0x100000001 include unoffered bits/);
    const t = new MockTransport(dev, V1);
    expect(() => t.post(2, [W(64)])).toThrow(/queues 0 \(rx\) and 1 \(tx\), handle\(\) got queue 2/);
    expect(() => dev.receive(new Uint8Array(13))).toThrow(/receive\(\) needs a frame of at least 14 bytes, got 13/);
    dev.attach(new Capture());
    expect(() => dev.attach(new Capture())).toThrow(/already attached to a backend/);
  });

  it("marks deferred completions recognisably", () => {
    expect(isDeferred(DEFERRED)).toBe(true);
    expect(isDeferred({ written: 0 })).toBe(false);
  });
});

describe("virtio-net tx", () => {
  it("sends header + frame split over any descriptors, byte-exact, used len 0", () => {
    const { dev, t, cap } = setup();
    const f1 = ethFrame(MAC_B, MAC_A, 60, 1);
    const f2 = ethFrame(MAC_B, MAC_A, 1514, 2);
    const id1 = t.post(NET_TX_QUEUE, readableSegs(concat(hdr(), f1), [5, 7, 3, 1]));
    const id2 = t.post(NET_TX_QUEUE, readableSegs(concat(hdr(), f2), [12]));
    const id3 = t.post(NET_TX_QUEUE, readableSegs(concat(hdr(), f2), [20, 1000]));
    expect(cap.frames).toEqual([f1, f2, f2]);
    expect(t.used).toEqual([
      { q: 1, id: id1, len: 0, batch: 0 },
      { q: 1, id: id2, len: 0, batch: 1 },
      { q: 1, id: id3, len: 0, batch: 2 },
    ]);
    expect(dev.stats).toMatchObject({ txFrames: 3, txBytes: 60 + 1514 * 2 });
    expectDrops(dev, {});
  });

  it("does not trust hdr_len, ignores unknown flags and tx num_buffers", () => {
    const { dev, t, cap } = setup();
    const f = ethFrame(MAC_B, MAC_A, 100);
    t.post(NET_TX_QUEUE, readableSegs(concat(hdr({ hdrLen: 0xffff, flags: 0x02 | 0x04 | 0x40 | 0x80, numBuffers: 7, gsoSize: 1234, csumStart: 9999, csumOffset: 9999 }), f)));
    expect(cap.frames).toEqual([f]);
    expectDrops(dev, {});
  });

  it("sends frames up to mtu + 18 and drops longer ones", () => {
    const { dev, t, cap } = setup(V1, { mtu: 1500 });
    t.post(NET_TX_QUEUE, readableSegs(concat(hdr(), ethFrame(MAC_B, MAC_A, 1518))));
    t.post(NET_TX_QUEUE, readableSegs(concat(hdr(), ethFrame(MAC_B, MAC_A, 1519))));
    expect(cap.frames.map((f) => f.length)).toEqual([1518]);
    expectDrops(dev, { txOversize: 1 });
    expect(t.ios.get(1)!.reads).toBe(0); // refused before reading
  });

  const txFaults: [string, () => { specs: SegSpec[]; features?: bigint; opts?: Partial<VirtioNetOptions>; faults?: { read?: boolean } }, NetDrop][] = [
    ["E20: a writable segment in a tx chain", () => ({ specs: [...readableSegs(concat(hdr(), ethFrame(MAC_B, MAC_A, 60))), W(4)] }), "txBadChain"],
    ["fewer readable bytes than a header", () => ({ specs: readableSegs(hdr().subarray(0, 11)) }), "txShortHeader"],
    ["a legacy driver's 9-byte header", () => ({ specs: readableSegs(new Uint8Array(9)), features: 0n }), "txShortHeader"],
    ["a frame shorter than an Ethernet header", () => ({ specs: readableSegs(concat(hdr(), new Uint8Array(13))) }), "txRunt"],
    ["a header without a frame", () => ({ specs: readableSegs(hdr()) }), "txRunt"],
    ["an unreachable buffer", () => ({ specs: readableSegs(concat(hdr(), ethFrame(MAC_B, MAC_A, 60))), faults: { read: true } }), "txIoError"],
    ["gso TCPV4 without HOST_TSO4", () => ({ specs: readableSegs(concat(hdr({ gsoType: L.VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1448 }), ethFrame(MAC_B, MAC_A, 60))) }), "txBadGso"],
    ["gso UDP without HOST_UFO", () => ({ specs: readableSegs(concat(hdr({ gsoType: L.VIRTIO_NET_HDR_GSO_UDP, gsoSize: 1448 }), ethFrame(MAC_B, MAC_A, 60))) }), "txBadGso"],
    ["gso TCPV6 without HOST_TSO6", () => ({ specs: readableSegs(concat(hdr({ gsoType: L.VIRTIO_NET_HDR_GSO_TCPV6, gsoSize: 1448 }), ethFrame(MAC_B, MAC_A, 60))) }), "txBadGso"],
    ["gso UDP_L4 without HOST_USO", () => ({ specs: readableSegs(concat(hdr({ gsoType: L.VIRTIO_NET_HDR_GSO_UDP_L4, gsoSize: 1448 }), ethFrame(MAC_B, MAC_A, 60))) }), "txBadGso"],
    ["the ECN flag alone", () => ({ specs: readableSegs(concat(hdr({ gsoType: L.VIRTIO_NET_HDR_GSO_ECN }), ethFrame(MAC_B, MAC_A, 60))) }), "txBadGso"],
    ["an unknown gso type", () => ({ specs: readableSegs(concat(hdr({ gsoType: 2, gsoSize: 100 }), ethFrame(MAC_B, MAC_A, 60))) }), "txBadGso"],
    ["NEEDS_CSUM without CSUM negotiated", () => ({ specs: readableSegs(concat(hdr({ flags: L.VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 34, csumOffset: 6 }), ethFrame(MAC_B, MAC_A, 60))), opts: { csum: true } }), "txCsumNotNegotiated"],
    ["NEEDS_CSUM with the field past the frame", () => ({ specs: readableSegs(concat(hdr({ flags: L.VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 50, csumOffset: 9 }), ethFrame(MAC_B, MAC_A, 60))), features: V1 | CSUM, opts: { csum: true } }), "txBadCsumOffsets"],
  ];

  it.each(txFaults)("drops and counts %s (used len 0, nothing sent)", (_name, make, why) => {
    const c = make();
    const { dev, t, cap } = setup(c.features ?? V1, c.opts ?? {});
    const id = t.post(NET_TX_QUEUE, c.specs, c.faults ?? {});
    expect(t.used).toEqual([{ q: 1, id, len: 0, batch: 0 }]);
    expect(cap.frames).toEqual([]);
    expect(dev.stats.txFrames).toBe(0);
    expectDrops(dev, { [why]: 1 });
  });

  it("drops a frame when no backend is attached", () => {
    const dev = new VirtioNet({ mac: MAC_A });
    const t = new MockTransport(dev, V1);
    t.post(NET_TX_QUEUE, readableSegs(concat(hdr(), ethFrame(MAC_B, MAC_A, 60))));
    expectDrops(dev, { txNoBackend: 1 });
    expect(t.used[0]!.len).toBe(0);
    const cap = new Capture();
    dev.attach(cap);
    dev.detach();
    t.post(NET_TX_QUEUE, readableSegs(concat(hdr(), ethFrame(MAC_B, MAC_A, 60))));
    expectDrops(dev, { txNoBackend: 2 });
    expect(cap.frames).toEqual([]);
  });

  it("sends the legacy 10-byte header's frame when VERSION_1 is not negotiated", () => {
    const { t, cap } = setup(0n);
    const f = ethFrame(MAC_B, MAC_A, 64);
    t.post(NET_TX_QUEUE, readableSegs(concat(hdr({}, 10), f), [4]));
    expect(cap.frames).toEqual([f]);
  });

  it("completes a partial checksum (NEEDS_CSUM with CSUM): the sent UDP datagram verifies", () => {
    const { t, cap } = setup(V1 | CSUM, { csum: true });
    for (const payload of [18, 33]) {
      const { frame, csumStart } = udpFrame(payload);
      t.post(NET_TX_QUEUE, readableSegs(concat(hdr({ flags: L.VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart, csumOffset: 6 }), frame), [7, 30]));
      const sent = cap.frames.at(-1)!;
      expect(onesSum(pseudoHeader(sent), sent.subarray(csumStart))).toBe(0xffff); // checksum verifies
      expect(sent.subarray(0, csumStart + 6)).toEqual(frame.subarray(0, csumStart + 6));
      expect(sent.subarray(csumStart + 8)).toEqual(frame.subarray(csumStart + 8));
    }
  });

  it("leaves the frame untouched without NEEDS_CSUM even when CSUM is negotiated", () => {
    const { t, cap } = setup(V1 | CSUM, { csum: true });
    const { frame } = udpFrame(20);
    t.post(NET_TX_QUEUE, readableSegs(concat(hdr({ csumStart: 34, csumOffset: 6 }), frame)));
    expect(cap.frames).toEqual([frame]);
  });
});

describe("checkTxHdr with host GSO negotiated", () => {
  const h = (gsoType: number, gsoSize = 1448): NetHdr => ({ flags: 0, gsoType, hdrLen: 0, gsoSize, csumStart: 0, csumOffset: 0, numBuffers: 0 });
  it("accepts each gso type only with its HOST_* feature, a non-zero gso_size, and ECN only with HOST_ECN", () => {
    const all = [L.VIRTIO_NET_F_HOST_TSO4, L.VIRTIO_NET_F_HOST_TSO6, L.VIRTIO_NET_F_HOST_UFO, L.VIRTIO_NET_F_HOST_USO].reduce((f, b) => f | bit(b), V1);
    expect(checkTxHdr(h(L.VIRTIO_NET_HDR_GSO_TCPV4), 100, all)).toBeNull();
    expect(checkTxHdr(h(L.VIRTIO_NET_HDR_GSO_TCPV6), 100, all)).toBeNull();
    expect(checkTxHdr(h(L.VIRTIO_NET_HDR_GSO_UDP), 100, all)).toBeNull();
    expect(checkTxHdr(h(L.VIRTIO_NET_HDR_GSO_UDP_L4), 100, all)).toBeNull();
    expect(checkTxHdr(h(L.VIRTIO_NET_HDR_GSO_TCPV4, 0), 100, all)).toBe("txBadGso");
    expect(checkTxHdr(h(L.VIRTIO_NET_HDR_GSO_TCPV4 | L.VIRTIO_NET_HDR_GSO_ECN), 100, all)).toBe("txBadGso");
    expect(checkTxHdr(h(L.VIRTIO_NET_HDR_GSO_TCPV4 | L.VIRTIO_NET_HDR_GSO_ECN), 100, all | bit(L.VIRTIO_NET_F_HOST_ECN))).toBeNull();
    expect(checkTxHdr(h(L.VIRTIO_NET_HDR_GSO_TCPV6), 100, all & ~bit(L.VIRTIO_NET_F_HOST_TSO6))).toBe("txBadGso");
    expect(checkTxHdr(h(7), 100, all)).toBe("txBadGso");
  });

  it("accepts a checksum field ending exactly at the frame's end", () => {
    const n: NetHdr = { ...h(0, 0), flags: L.VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 50, csumOffset: 8 };
    expect(checkTxHdr(n, 60, V1 | CSUM)).toBeNull();
    expect(checkTxHdr(n, 59, V1 | CSUM)).toBe("txBadCsumOffsets");
  });
});

describe("virtio-net rx without MRG_RXBUF", () => {
  it("parks posted buffers and fills one per frame: header (num_buffers 1) + frame, used len 12 + n", () => {
    const { dev, t } = setup(V1);
    const a = t.post(NET_RX_QUEUE, [W(12), W(1514)]);
    const b = t.post(NET_RX_QUEUE, [W(100), W(900), W(526)]);
    expect(t.used).toEqual([]);
    expect(t.pending).toBe(2);
    expect(dev.rxPosted).toBe(2);
    const f1 = ethFrame(MAC_A, MAC_B, 1514, 1);
    const f2 = ethFrame(MAC_A, MAC_B, 60, 2);
    expect(dev.receive(f1)).toBe(true);
    expect(dev.receive(f2)).toBe(true);
    expect(t.used).toEqual([
      { q: 0, id: a, len: 1526, batch: 0 },
      { q: 0, id: b, len: 72, batch: 1 },
    ]);
    expect(t.written(a)).toEqual(concat(hdr({ numBuffers: 1 }), f1));
    expect(t.written(b)).toEqual(concat(hdr({ numBuffers: 1 }), f2));
    expect(t.signals).toBe(2);
    expect(dev.stats).toMatchObject({ rxFrames: 2, rxBytes: 1574, rxBuffers: 2 });
    expectDrops(dev, {});
  });

  it("drops a frame when no buffer is posted", () => {
    const { dev, t } = setup(V1);
    expect(dev.receive(ethFrame(MAC_A, MAC_B, 60))).toBe(false);
    expectDrops(dev, { rxNoBuffer: 1 });
    expect(t.used).toEqual([]);
  });

  it("drops a frame too big for the next buffer and keeps the buffer for the next frame", () => {
    const { dev, t } = setup(V1);
    const id = t.post(NET_RX_QUEUE, [W(100)]);
    expect(dev.receive(ethFrame(MAC_A, MAC_B, 89))).toBe(false);
    expectDrops(dev, { rxBufferTooSmall: 1 });
    expect(dev.rxPosted).toBe(1);
    const f = ethFrame(MAC_A, MAC_B, 88);
    expect(dev.receive(f)).toBe(true);
    expect(t.used).toEqual([{ q: 0, id, len: 100, batch: 0 }]);
    expect(t.written(id)).toEqual(concat(hdr({ numBuffers: 1 }), f));
  });

  it("drops frames longer than its own mtu + 18", () => {
    const { dev, t } = setup(V1, { mtu: 1000 });
    t.post(NET_RX_QUEUE, [W(4000)]);
    expect(dev.receive(ethFrame(MAC_A, MAC_B, 1019))).toBe(false);
    expectDrops(dev, { rxOversize: 1 });
    expect(dev.receive(ethFrame(MAC_A, MAC_B, 1018))).toBe(true);
  });

  it("writes the legacy 10-byte header (no num_buffers) for a legacy driver", () => {
    const { dev, t } = setup(0n);
    const id = t.post(NET_RX_QUEUE, [W(200)]);
    const f = ethFrame(MAC_A, MAC_B, 64);
    dev.receive(f);
    expect(t.used[0]!.len).toBe(74);
    expect(t.written(id)).toEqual(concat(new Uint8Array(10), f));
    expect(rxPackets(t, 10).map((p) => p.frame)).toEqual([f]);
  });

  it("completes a buffer it cannot reach with 0 bytes and drops the frame", () => {
    const { dev, t } = setup(V1);
    const bad = t.post(NET_RX_QUEUE, [W(2000)], { write: true });
    const good = t.post(NET_RX_QUEUE, [W(2000)]);
    const f = ethFrame(MAC_A, MAC_B, 100);
    expect(dev.receive(f)).toBe(false);
    expect(dev.receive(f)).toBe(true);
    expect(t.used.map((u) => [u.id, u.len])).toEqual([[bad, 0], [good, 112]]);
    expectDrops(dev, { rxIoError: 1 });
  });
});

describe("virtio-net rx with MRG_RXBUF", () => {
  it("spreads a frame over as many buffers as needed: num_buffers in the first header, one used entry each, one batch", () => {
    const { dev, t } = setup(V1 | MRG);
    const ids = [0, 1, 2, 3].map(() => t.post(NET_RX_QUEUE, [W(60), W(40)]));
    const f = ethFrame(MAC_A, MAC_B, 250, 3);
    expect(dev.receive(f)).toBe(true);
    expect(t.used).toEqual([
      { q: 0, id: ids[0], len: 100, batch: 0 },
      { q: 0, id: ids[1], len: 100, batch: 0 },
      { q: 0, id: ids[2], len: 62, batch: 0 },
    ]);
    expect(t.written(ids[0]!).subarray(0, 12)).toEqual(hdr({ numBuffers: 3 }));
    expect(rxPackets(t)).toEqual([{ hdr: expect.objectContaining({ numBuffers: 3 }), frame: f, ids: ids.slice(0, 3) }]);
    expect(dev.rxPosted).toBe(1);
    expect(dev.stats).toMatchObject({ rxFrames: 1, rxBytes: 250, rxBuffers: 3 });
  });

  it("accepts buffers of exactly one header: the first holds only the header", () => {
    const { dev, t } = setup(V1 | MRG);
    const ids = [0, 1, 2].map(() => t.post(NET_RX_QUEUE, [W(12)]));
    const f = ethFrame(MAC_A, MAC_B, 14);
    expect(dev.receive(f)).toBe(true);
    expect(t.used.map((u) => [u.id, u.len])).toEqual([[ids[0], 12], [ids[1], 12], [ids[2], 2]]);
    expect(t.written(ids[0]!)).toEqual(hdr({ numBuffers: 3 }));
    expect(rxPackets(t).map((p) => p.frame)).toEqual([f]);
  });

  it("uses one buffer, num_buffers 1, when the frame fits", () => {
    const { dev, t } = setup(V1 | MRG);
    const id = t.post(NET_RX_QUEUE, [W(1526)]);
    const f = ethFrame(MAC_A, MAC_B, 1514);
    dev.receive(f);
    expect(t.written(id)).toEqual(concat(hdr({ numBuffers: 1 }), f));
  });

  it("drops a frame when the posted buffers together are too small, keeping them", () => {
    const { dev, t } = setup(V1 | MRG);
    t.post(NET_RX_QUEUE, [W(100)]);
    t.post(NET_RX_QUEUE, [W(100)]);
    expect(dev.receive(ethFrame(MAC_A, MAC_B, 189))).toBe(false);
    expectDrops(dev, { rxNoBuffer: 1 });
    expect(dev.rxPosted).toBe(2);
    expect(dev.receive(ethFrame(MAC_A, MAC_B, 188))).toBe(true);
    expect(t.used.map((u) => u.len)).toEqual([100, 100]);
  });

  it("voids the whole packet when one of its buffers is unreachable", () => {
    const { dev, t } = setup(V1 | MRG);
    const a = t.post(NET_RX_QUEUE, [W(100)]);
    const b = t.post(NET_RX_QUEUE, [W(100)], { write: true });
    const c = t.post(NET_RX_QUEUE, [W(100)]);
    expect(dev.receive(ethFrame(MAC_A, MAC_B, 250))).toBe(false);
    expect(t.used).toEqual([a, b, c].map((id) => ({ q: 0, id, len: 0, batch: 0 })));
    expectDrops(dev, { rxIoError: 1 });
    expect(rxPackets(t)).toEqual([]);
  });
});

describe("virtio-net rx buffer checks", () => {
  it.each([
    ["E20: a readable segment", [{ len: 8, write: false }, W(2000)]],
    ["smaller than the header", [W(11)]],
    ["no writable bytes", [W(0)]],
  ] as [string, SegSpec[]][])("completes an rx buffer with %s with 0 bytes", (_name, specs) => {
    const { dev, t } = setup(V1 | MRG);
    const id = t.post(NET_RX_QUEUE, specs);
    expect(t.used).toEqual([{ q: 0, id, len: 0, batch: 0 }]);
    expectDrops(dev, { rxBadBuffer: 1 });
    expect(dev.rxPosted).toBe(0);
  });

  it("keeps posting order: a bad buffer behind a parked one completes after it", () => {
    const { dev, t } = setup(V1 | MRG);
    const a = t.post(NET_RX_QUEUE, [W(200)]);
    const bad = t.post(NET_RX_QUEUE, [W(4)]);
    const c = t.post(NET_RX_QUEUE, [W(200)]);
    expect(t.used).toEqual([]);
    // The frame needs two buffers, but a packet cannot skip the bad one: it waits (dropped).
    expect(dev.receive(ethFrame(MAC_A, MAC_B, 300))).toBe(false);
    expectDrops(dev, { rxBadBuffer: 1, rxNoBuffer: 1 });
    const f = ethFrame(MAC_A, MAC_B, 100);
    dev.receive(f);
    dev.receive(f);
    expect(t.used.map((u) => [u.id, u.len, u.batch])).toEqual([[a, 112, 0], [bad, 0, 0], [c, 112, 1]]);
    expect(rxPackets(t).map((p) => p.ids)).toEqual([[a], [c]]);
  });
});

describe("virtio-net rx backlog", () => {
  it("holds frames until buffers are posted, in order, up to rxBacklog", () => {
    const { dev, t } = setup(V1 | MRG, { rxBacklog: 2 });
    const f1 = ethFrame(MAC_A, MAC_B, 150, 1);
    const f2 = ethFrame(MAC_A, MAC_B, 60, 2);
    expect(dev.receive(f1)).toBe(true);
    expect(dev.receive(f2)).toBe(true);
    expect(dev.receive(ethFrame(MAC_A, MAC_B, 60, 3))).toBe(false);
    expectDrops(dev, { rxNoBuffer: 1 });
    expect(dev.rxWaiting).toBe(2);
    t.post(NET_RX_QUEUE, [W(100)]); // not enough for f1 (162 bytes): still waiting
    expect(t.used).toEqual([]);
    t.post(NET_RX_QUEUE, [W(100)]);
    expect(dev.rxWaiting).toBe(1);
    t.post(NET_RX_QUEUE, [W(100)]);
    expect(dev.rxWaiting).toBe(0);
    expect(rxPackets(t).map((p) => p.frame)).toEqual([f1, f2]);
    expect(t.signals).toBe(0); // completed inside handle(): taken after it, no signal
    expect(dev.stats).toMatchObject({ rxFrames: 2, rxBacklogged: 2, rxBuffers: 3 });
  });

  it("without MRG_RXBUF drops a waiting frame the next buffer cannot hold", () => {
    const { dev, t } = setup(V1, { rxBacklog: 4 });
    dev.receive(ethFrame(MAC_A, MAC_B, 500, 1));
    const f2 = ethFrame(MAC_A, MAC_B, 60, 2);
    dev.receive(f2);
    const id = t.post(NET_RX_QUEUE, [W(200)]);
    expectDrops(dev, { rxBufferTooSmall: 1 });
    expect(t.written(id)).toEqual(concat(hdr({ numBuffers: 1 }), f2));
  });
});

describe("virtio-net reset", () => {
  it("forgets parked buffers, waiting frames and features", () => {
    const { dev, t } = setup(V1 | MRG, { rxBacklog: 4 });
    t.post(NET_RX_QUEUE, [W(20)]);
    dev.receive(ethFrame(MAC_A, MAC_B, 60));
    dev.receive(ethFrame(MAC_A, MAC_B, 60));
    t.resetDevice();
    expect(t.used).toEqual([]);
    expect(dev.takeCompletions()).toEqual([]);
    expect(dev.rxPosted).toBe(0);
    expect(dev.rxWaiting).toBe(0);
    expect(dev.negotiatedFeatures).toBe(0n);
    expectDrops(dev, { rxNoBuffer: 2 });
    dev.negotiated(V1);
    const id = t.post(NET_RX_QUEUE, [W(100)]);
    const f = ethFrame(MAC_A, MAC_B, 60);
    dev.receive(f);
    expect(t.written(id)).toEqual(concat(hdr({ numBuffers: 1 }), f));
  });
});

// --- a UDP/IPv4 frame with a partial checksum, as a driver with CSUM would send it ------------

function onesSum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i += 2) sum += (p[i]! << 8) | (i + 1 < p.length ? p[i + 1]! : 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function pseudoHeader(frame: Uint8Array): Uint8Array {
  const udpLen = frame.length - 34;
  return Uint8Array.from([...frame.subarray(26, 34), 0, 17, udpLen >> 8, udpLen & 0xff]);
}

function udpFrame(payload: number): { frame: Uint8Array; csumStart: number } {
  const f = ethFrame(MAC_B, MAC_A, 14 + 20 + 8 + payload, payload);
  f[12] = 0x08;
  f[13] = 0x00;
  f.set([0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  const udpLen = 8 + payload;
  f.set([0x30, 0x39, 0x00, 0x35, udpLen >> 8, udpLen & 0xff, 0, 0], 34);
  const partial = onesSum(pseudoHeader(f)); // the driver stores the pseudo-header sum, not complemented
  f[40] = partial >> 8;
  f[41] = partial & 0xff;
  return { frame: f, csumStart: 34 };
}

