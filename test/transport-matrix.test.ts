// Issue #4's matrix: every transport x device end to end through buildWorld/buildJob. Each run
// checks every byte where it lands (the disk image, the peer guest's flow receiver, the rng
// reader against the device's reference stream) and compares the transport counters of the
// measured phase with the transport's model (helpers/matrix-model.ts), computed from the
// shape of the traffic: chains, buffers, pages, bytes the device touched, kicks, interrupts.
import { describe, expect, it } from "vitest";
import { buildWorld, type WorldOptions } from "../src/run/world.ts";
import { buildJob, runJobRounds, settle } from "../src/run/job.ts";
import type { JobSpec } from "../src/run/result.ts";
import { NET_HDR_BYTES } from "../src/devices/net-guest.ts";
import { FRAME_OVERHEAD } from "../src/workloads/net-direction.ts";
import { Counters } from "./helpers/transport-world.ts";
import { perIoFrom } from "../src/run/per-io.ts";
import { COUNTERS, GAUGES, MODEL, TRANSPORTS, type ChainShape, type RunShape } from "./helpers/matrix-model.ts";

const ARCH = "arm64-v8.0"; // the matrix runs on Arm; test/transport-arch-irq.test.ts runs the IOREQ transports on x86-64 and riscv64

function run(o: Omit<WorldOptions, "arch">, spec: Omit<JobSpec, "transport" | "profile" | "device">) {
  const w = buildWorld({ arch: ARCH, ...o });
  const job = buildJob(w, { transport: o.transport, profile: ARCH, device: o.device, ...spec });
  job.prime();
  settle(w, job);
  const c = new Counters(w.machine);
  const before = w.machine.counters();
  const r = runJobRounds(w, job);
  const after = w.machine.counters();
  const perIo = perIoFrom(after.map((v, i) => v - before[i]!), r.completed);
  // The gauges as they stand between I/Os, and the world's own exposure saying the same.
  const gauges = { reachable: w.machine.counter(GAUGES.reachable), mapped: w.machine.counter(GAUGES.mapped) };
  const e = w.exposure();
  expect([e.reachable, e.mapped]).toEqual([gauges.reachable, gauges.mapped]);
  return { w, job, r, perIo, got: { ...c.pick(COUNTERS), ...gauges } };
}

const chain = (pages: number, ...bufs: [number, boolean, number][]): ChainShape => ({ pages, bufs: bufs.map(([len, write, used]) => ({ len, write, used })) });
const times = <T>(n: number, x: T): T[] => Array.from({ length: n }, () => x);

/** One frame of `payload` bytes: the tx chain on the sender, the rx chain on the receiver. */
function frameChains(payload: number, rxBuf: number): ChainShape[] {
  const bytes = NET_HDR_BYTES + FRAME_OVERHEAD + payload;
  return [chain(1, [bytes, false, bytes]), chain(1, [rxBuf, true, bytes])];
}
const RX_BUF = NET_HDR_BYTES + 1500 + 18;

describe.each(TRANSPORTS)("%s", (transport) => {
  const model = MODEL[transport]!;

  it("virtio-blk: fio writes then verify reads; the image holds every byte written; counters = model", () => {
    const { w, job, r, perIo, got } = run({ transport, device: "blk" }, { workload: { kind: "fio", rw: "write", bs: 4096, iodepth: 1 }, ios: 8, seed: 3 });
    expect(job.failures()).toEqual([]);
    expect(job.fio!.job.completed).toBe(8);
    expect(job.fio!.verifyImage((off, len) => w.blk!.backing.read(off, len))).toBe(8 * 4096);
    expect(r.completed).toBe(16); // 8 writes + 8 verify reads
    // header (16) + data + status (1); header and status share the request's slot page.
    const shape: RunShape = {
      chains: [...times(8, chain(2, [16, false, 16], [4096, false, 4096], [1, true, 1])), ...times(8, chain(2, [16, false, 16], [4096, true, 4096], [1, true, 1]))],
      kicks: 16, irqs: 16, handlers: 16, queues: 1,
      guests: 1, rxPosted: 0, virqMerged: 0, passMerged: 0, // each argo message is taken before the next is sent
    };
    const want = model(shape);
    expect(got).toEqual(want);
    // JobResult's PerIo reads the same counters: per completed chain.
    const per = (n: number) => n / r.completed;
    expect([perIo.ioreqs, perIo.copiesGuest, perIo.copiesHv, perIo.copiesBackend, perIo.evtchnSends, perIo.atomics, perIo.hypercalls]).toEqual(
      [want.ioreqs, want.guestCopies, want.hvCopies, want.backendCopies, want.evtchnSends, want.atomics, want.hypercalls].map(per),
    );
  });

  it("virtio-net stream between two guests through the bridge: every frame checked at the peer; counters = model", () => {
    const M = 12;
    const { w, job, got } = run({ transport, device: "net" }, { workload: { kind: "netperf", test: "stream", messageSize: 1000 }, ios: M, seed: 5 });
    expect(w.endpoints.map((e) => e.frontendDomid)).toEqual([1, 2]);
    expect(job.failures()).toEqual([]);
    expect(job.net!.flow.completed).toBe(M);
    expect(job.net!.flow.stats(1).bytes).toBe(M * 1000);
    expect(job.net!.loads.map((l) => [l.sent, l.received])).toEqual([[M, 0], [0, M]]);
    expect(w.net!.devices[1]!.stats.drops.rxNoBuffer).toBe(0);
    // Per frame: sender tx kick + tx interrupt; receiver rx interrupt + refill kick. argo: after
    // each frame but the last, the receiver's refill (its transport) and the sender's next
    // frame (the other guest's transport) both reach dom0 before it takes VIRQ_ARGO: one
    // merge at the VIRQ, but two rings, so two passes.
    const shape: RunShape = {
      chains: Array.from({ length: M }, () => frameChains(1000, RX_BUF)).flat(), kicks: 2 * M, irqs: 2 * M, handlers: 2 * M, queues: 2,
      guests: 2, rxPosted: 8, virqMerged: M - 1, passMerged: 0,
    };
    expect(got).toEqual(model(shape));
  });

  it("virtio-net request/response between two guests: both directions checked; counters = model", () => {
    const T = 6;
    const { job, got } = run({ transport, device: "net" }, { workload: { kind: "netperf", test: "rr", messageSize: 200, responseSize: 1000 }, ios: T, seed: 9 });
    expect(job.failures()).toEqual([]);
    expect(job.net!.flow.completed).toBe(T);
    expect(job.net!.flow.stats(1).bytes).toBe(T * (200 + 1000));
    // argo: the receiver of each frame but the last sends its refill and then its own frame
    // (the reply, or the next request) through its one ring before dom0 takes the VIRQ: one
    // merge, read by one pass.
    const shape: RunShape = {
      chains: Array.from({ length: T }, () => [...frameChains(200, RX_BUF), ...frameChains(1000, RX_BUF)]).flat(), kicks: 4 * T, irqs: 4 * T, handlers: 4 * T, queues: 2,
      guests: 2, rxPosted: 8, virqMerged: 2 * T - 1, passMerged: 2 * T - 1,
    };
    expect(got).toEqual(model(shape));
  });

  it("virtio-net loopback (guest to backend and back): frames checked on return; counters = model", () => {
    const M = 10;
    const { w, job, got } = run({ transport, device: "net", net: { topology: "loopback" } }, { workload: { kind: "netperf", test: "stream", messageSize: 700 }, ios: M, seed: 4 });
    expect(w.endpoints).toHaveLength(1);
    expect(job.failures()).toEqual([]);
    expect(job.net!.flow.completed).toBe(M);
    expect(job.net!.flow.stats(1).bytes).toBe(M * 700);
    // The tx completion and the returning frame's rx completion come in one backend pass:
    // two interrupt decisions, one handler run. argo: those two completions reach the guest
    // before it takes its VIRQ (M merges), and its refill and next frame reach dom0 together
    // (M - 1): one ring each way, so each merge is read by the same pass.
    const shape: RunShape = {
      chains: Array.from({ length: M }, () => frameChains(700, RX_BUF)).flat(), kicks: 2 * M, irqs: 2 * M, handlers: M, queues: 2,
      guests: 1, rxPosted: 8, virqMerged: 2 * M - 1, passMerged: 2 * M - 1,
    };
    expect(got).toEqual(model(shape));
  });

  it("virtio-rng: every byte equals the device's seeded stream; counters = model", () => {
    const N = 10;
    const { w, job, got } = run({ transport, device: "rng", seed: 11 }, { workload: { kind: "rng", readSize: 512 }, ios: N, seed: 11 });
    expect(job.failures()).toEqual([]);
    const st = job.rng!.reader.stats(1);
    expect([st.reads, st.bytes, st.partial]).toEqual([N, N * 512, 0]);
    expect(w.rng!.device.stats.bytes).toBe(N * 512);
    const shape: RunShape = { chains: times(N, chain(1, [512, true, 512])), kicks: N, irqs: N, handlers: N, queues: 1, guests: 1, rxPosted: 0, virqMerged: 0, passMerged: 0 };
    expect(got).toEqual(model(shape));
  });
});
