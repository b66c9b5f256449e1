import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { EventQueue } from "../src/sim/queue.ts";
import { Sim, sleep, wait, work, type Body } from "../src/sim/engine.ts";
import { LatencyRecorder, percentile, throughput } from "../src/sim/stats.ts";
import { Rng } from "../src/sim/rng.ts";
import { SHIPPED_PROFILES, loadShippedProfile, primitiveCycles } from "../src/cost/profile.ts";

describe("event queue", () => {
  it("pops in (time, insertion) order", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
        const q = new EventQueue<number>();
        times.forEach((t, i) => q.push(t, i));
        const want = times.map((t, i) => [t, i]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
        const got: number[][] = [];
        while (q.size > 0) {
          const e = q.pop()!;
          got.push([e.time, e.item]);
        }
        expect(got).toEqual(want);
        expect(q.pop()).toBeUndefined();
        expect(q.peekTime()).toBe(Infinity);
      }),
      { seed: 99, numRuns: 300 },
    );
  });
});

describe("sim: events and time", () => {
  it("runs events at the same time in the order they were scheduled", () => {
    const sim = new Sim();
    const log: string[] = [];
    sim.after(5, () => log.push("b5"));
    sim.at(5, () => log.push("c5"));
    sim.after(0, () => {
      log.push("a0");
      sim.after(5, () => log.push("d5"));
    });
    sim.at(3, () => log.push("x3"));
    sim.run();
    expect(log).toEqual(["a0", "x3", "b5", "c5", "d5"]);
    expect(sim.now).toBe(5);
    expect(sim.eventsRun).toBe(5);
  });

  it("stops at `until`, leaving later events, and refuses runaway loops", () => {
    const sim = new Sim();
    const log: number[] = [];
    for (const t of [10, 20, 30]) sim.at(t, () => log.push(t));
    sim.run({ until: 25 });
    expect(log).toEqual([10, 20]);
    expect(sim.now).toBe(25);
    sim.run();
    expect(log).toEqual([10, 20, 30]);

    const loop = new Sim();
    const c = loop.cpu("c", { domain: "d", ghz: 1 });
    loop.spawn("spinner", c, function* () {
      for (;;) yield work(0, "guest");
    });
    expect(() => loop.run({ maxEvents: 1000 })).toThrow("sim: more than 1000 events by time 0 ns (a process that never blocks?)");
  });

  it("refuses bad times, clocks, work and names", () => {
    const sim = new Sim();
    sim.at(10, () => {});
    sim.run();
    expect(() => sim.at(5, () => {})).toThrow("time 5 is in the past (now 10) or not finite");
    expect(() => sim.after(-1, () => {})).toThrow("delay must be a finite number of ns >= 0, got -1");
    expect(() => sim.after(NaN, () => {})).toThrow("delay must be a finite number of ns >= 0, got NaN");
    expect(() => sim.cpu("z", { domain: "d", ghz: 0 })).toThrow("cpu z: ghz must be a finite number > 0, got 0");
    const c = sim.cpu("c", { domain: "d", ghz: 1 });
    expect(() => sim.cpu("c", { domain: "d", ghz: 1 })).toThrow("cpu c already exists");
    expect(() => c.submit({ cycles: -3, component: "guest", label: "bad", done: () => {} })).toThrow(
      "cpu c: work 'bad' must take a finite number of cycles >= 0, got -3",
    );
    sim.spawn("sleeper", c, function* () {
      yield sleep(-2);
    });
    expect(() => sim.run()).toThrow("sleeper: sleep must be a finite number of ns >= 0, got -2");
    expect(() => sim.signal("s").notify(1.5)).toThrow("s: notify count must be an integer >= 0, got 1.5");
  });
});

describe("sim: CPUs", () => {
  it("serves work on one CPU in order and overlaps work on two CPUs", () => {
    const sim = new Sim();
    const a = sim.cpu("a", { domain: "dom1", ghz: 1 });
    const b = sim.cpu("b", { domain: "dom2", ghz: 2 });
    const ends: Record<string, number> = {};
    const job = (name: string, cycles: number): (() => Body) =>
      function* () {
        yield work(cycles, "guest");
        ends[name] = sim.now;
      };
    sim.spawn("a1", a, job("a1", 1000));
    sim.spawn("a2", a, job("a2", 1000));
    sim.spawn("b1", b, job("b1", 2000));
    sim.run();
    expect(ends).toEqual({ a1: 1000, a2: 2000, b1: 1000 }); // b1 at 2 GHz overlaps a1
    const r = sim.results();
    expect(r.durationNs).toBe(2000);
    expect(r.cpus.map((c) => [c.name, c.busyNs, c.utilisation, c.jobs])).toEqual([["a", 2000, 1, 2], ["b", 1000, 0.5, 1]]);
    expect(r.byComponent).toEqual({ guest: 3000, hypervisor: 0, backend: 0 });
  });

  it("runs work on another CPU (a hypervisor pCPU) and waits for it", () => {
    const sim = new Sim();
    const v = sim.cpu("dom1.v0", { domain: "dom1", ghz: 1 });
    const x = sim.cpu("xen.p1", { domain: "xen", ghz: 1 });
    let end = 0;
    sim.spawn("guest", v, function* () {
      yield work(100, "guest");
      yield work(300, "hypervisor", "flush", x);
      end = sim.now;
    });
    sim.run();
    expect(end).toBe(400);
    const r = sim.results();
    expect(r.byDomain).toEqual({ dom1: { guest: 100, hypervisor: 0, backend: 0, total: 100 }, xen: { guest: 0, hypervisor: 300, backend: 0, total: 300 } });
  });
});

describe("sim: blocking and wake-up", () => {
  it("an MMIO access blocks the vCPU until the device model answers; the CPU is free meanwhile", () => {
    const sim = new Sim();
    const g = sim.cpu("dom1.v0", { domain: "dom1", ghz: 2 });
    const be = sim.cpu("dom0.v0", { domain: "dom0", ghz: 2 });
    const ioreq = sim.signal("ioreq");
    const done = sim.signal("ioresp");
    const t: Record<string, number> = {};
    sim.spawn("vcpu", g, function* () {
      yield work(2000, "hypervisor", "mmio_trap"); // 1000 ns
      ioreq.notify();
      yield wait(done);
      t.resumed = sim.now;
      yield work(1000, "guest"); // 500 ns
      t.end = sim.now;
    });
    sim.spawn("device-model", be, function* () {
      yield wait(ioreq);
      t.dmStart = sim.now;
      yield work(4000, "backend"); // 2000 ns
      done.notify();
    });
    sim.spawn("other", g, function* () {
      yield sleep(1000);
      yield work(200, "guest"); // runs while the vCPU's process is blocked
      t.other = sim.now;
    });
    sim.run();
    expect(t).toEqual({ dmStart: 1000, other: 1100, resumed: 3000, end: 3500 });
    const r = sim.results();
    expect(r.byDomain.dom1).toEqual({ guest: 600, hypervisor: 1000, backend: 0, total: 1600 });
    expect(r.byDomain.dom0).toEqual({ guest: 0, hypervisor: 0, backend: 2000, total: 2000 });
    expect(r.blocked).toEqual([]);
    expect(ioreq.wakeups).toBe(1);
  });

  it("a producer blocks on a full ring until the consumer frees a slot", () => {
    const sim = new Sim();
    const p = sim.cpu("p", { domain: "dom1", ghz: 1 });
    const c = sim.cpu("c", { domain: "dom0", ghz: 1 });
    const slots = sim.signal("ring slots");
    const items = sim.signal("ring items");
    slots.notify(2); // ring of 2
    const produced: number[] = [];
    const consumed: number[] = [];
    sim.spawn("producer", p, function* () {
      for (let i = 0; i < 5; i++) {
        yield wait(slots);
        yield work(10, "guest");
        produced.push(sim.now);
        items.notify();
      }
    });
    sim.spawn("consumer", c, function* () {
      for (let i = 0; i < 5; i++) {
        yield wait(items);
        yield work(100, "backend");
        consumed.push(sim.now);
        slots.notify();
      }
    });
    sim.run();
    expect(produced).toEqual([10, 20, 120, 220, 320]);
    expect(consumed).toEqual([110, 210, 310, 410, 510]);
    expect(slots.pending).toBe(2);
  });

  it("keeps a permit given before the wait; broadcast wakes current waiters only", () => {
    const sim = new Sim();
    const c = sim.cpu("c", { domain: "d", ghz: 1 });
    const s = sim.signal("early");
    s.notify();
    let passed = -1;
    sim.spawn("late waiter", c, function* () {
      yield sleep(50);
      yield wait(s);
      passed = sim.now;
    });
    const b = sim.signal("bcast");
    const woke: string[] = [];
    for (const n of ["w1", "w2"]) {
      sim.spawn(n, c, function* () {
        yield wait(b);
        woke.push(`${n}@${sim.now}`);
      });
    }
    sim.spawn("w3", c, function* () {
      yield sleep(20);
      yield wait(b);
      woke.push("w3");
    });
    sim.at(10, () => b.broadcast());
    sim.run();
    expect(passed).toBe(50);
    expect(woke).toEqual(["w1@10", "w2@10"]);
    expect(b.pending).toBe(0);
    expect(sim.results().blocked).toEqual([{ process: "w3", on: "bcast" }]);
  });

  it("a process's finished signal wakes a joiner", () => {
    const sim = new Sim();
    const c = sim.cpu("c", { domain: "d", ghz: 1 });
    const d = sim.cpu("d", { domain: "d", ghz: 1 });
    const child = sim.spawn("child", c, function* () {
      yield work(70, "guest");
    });
    let joined = 0;
    sim.spawn("parent", d, function* () {
      yield wait(child.finished);
      joined = sim.now;
    });
    sim.run();
    expect(child.state).toBe("done");
    expect(joined).toBe(70);
  });
});

describe("latency statistics", () => {
  it("nearest-rank percentiles of 1..100 recorded in shuffled order", () => {
    const rng = new Rng(3);
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    for (let i = xs.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    const r = new LatencyRecorder("io");
    for (const x of xs) r.record(x);
    expect(r.summary()).toEqual({ count: 100, mean: 50.5, min: 1, p50: 50, p90: 90, p99: 99, max: 100 });
  });

  it("small and empty sample sets, growth past the initial buffer, errors", () => {
    const one = new LatencyRecorder("one");
    one.record(7);
    expect(one.summary()).toEqual({ count: 1, mean: 7, min: 7, p50: 7, p90: 7, p99: 7, max: 7 });
    expect(new LatencyRecorder("none").summary()).toEqual({ count: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, max: 0 });
    const many = new LatencyRecorder("many");
    for (let i = 0; i < 5000; i++) many.record(i % 10 === 9 ? 1000 : 1); // 10% slow
    expect(many.summary()).toMatchObject({ count: 5000, p50: 1, p90: 1, p99: 1000, max: 1000 });
    expect(() => many.record(-1)).toThrow("many: latency must be a finite number >= 0, got -1");
    expect(() => percentile([], 50)).toThrow("percentile of no samples");
    expect(() => percentile([1], 0)).toThrow("percentile must be in (0, 100], got 0");
    expect(() => percentile([1], 101)).toThrow("percentile must be in (0, 100], got 101");
    expect(throughput(100, 1e6)).toBe(100_000);
    expect(throughput(5, 0)).toBe(0);
  });
});

/** A closed loop: guests issue requests of random cost to one backend; latencies recorded. */
function closedLoop(seed: number) {
  const sim = new Sim();
  const rng = new Rng(seed);
  const be = sim.cpu("dom0.v0", { domain: "dom0", ghz: 2 });
  const queue = sim.signal("requests");
  const pending: { done: ReturnType<Sim["signal"]>; cycles: number }[] = [];
  for (const g of [1, 2]) {
    const cpu = sim.cpu(`dom${g}.v0`, { domain: `dom${g}`, ghz: 2 });
    const r = rng.fork(`guest${g}`);
    sim.spawn(`guest${g}`, cpu, function* () {
      for (let i = 0; i < 200; i++) {
        const start = sim.now;
        yield work(r.int(500, 1500), "guest");
        const done = sim.signal(`req ${g}.${i}`);
        pending.push({ done, cycles: r.int(1000, 8000) });
        queue.notify();
        yield wait(done);
        sim.recorder("io").record(sim.now - start);
      }
    });
  }
  sim.spawn("backend", be, function* () {
    for (let i = 0; i < 400; i++) {
      yield wait(queue);
      const req = pending.shift()!;
      yield work(req.cycles, "backend");
      req.done.notify();
    }
  });
  sim.run();
  return sim.results();
}

describe("determinism", () => {
  it("the same seed gives the same results; another seed does not", () => {
    const a = closedLoop(11);
    expect(closedLoop(11)).toEqual(a);
    expect(closedLoop(12)).not.toEqual(a);
    expect(a.ops.io!.latency.count).toBe(400);
    expect(a.ops.io!.throughput).toBeCloseTo(400 / (a.durationNs / 1e9), 6);
    expect(a.blocked).toEqual([]);
    const l = a.ops.io!.latency;
    expect(l.min).toBeLessThanOrEqual(l.p50);
    expect(l.p50).toBeLessThanOrEqual(l.p90);
    expect(l.p90).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l.max);
  });
});

describe("sim with a profile", () => {
  it("an IOREQ round trip takes the priced primitives' time on each architecture", () => {
    const lat: Record<string, number> = {};
    for (const name of SHIPPED_PROFILES) {
      const prof = loadShippedProfile(name);
      const c = (p: Parameters<typeof primitiveCycles>[1]) => primitiveCycles(prof, p);
      const sim = new Sim();
      const g = sim.cpu("dom1.v0", { domain: "dom1", ghz: prof.clockGHz });
      const be = sim.cpu("dom0.v0", { domain: "dom0", ghz: prof.clockGHz });
      const req = sim.signal("ioreq");
      const resp = sim.signal("ioresp");
      sim.spawn("vcpu", g, function* () {
        const t0 = sim.now;
        yield work(c("mmio_trap") + c("sched_decision"), "hypervisor", "trap, block");
        req.notify();
        yield wait(resp);
        yield work(c("sched_decision"), "hypervisor", "wake, resume");
        sim.recorder("mmio").record(sim.now - t0);
      });
      sim.spawn("emulator", be, function* () {
        yield wait(req);
        yield work(c("ioreq_wake"), "backend", "wake-up");
        yield work(c("hypercall") + c("evtchn_send"), "hypervisor", "notify completion");
        resp.notify();
      });
      sim.run();
      const want = (c("mmio_trap") + 2 * c("sched_decision") + c("ioreq_wake") + c("hypercall") + c("evtchn_send")) / prof.clockGHz;
      lat[name] = sim.results().ops.mmio!.latency.max;
      expect(lat[name]).toBeCloseTo(want, 9);
    }
    expect(lat["arm64-v8.0"]).not.toBe(lat["x86-64"]);
  });
});

describe("sim: spans (tracing)", () => {
  it("reports every finished work item with its start and duration, and only when asked", () => {
    const sim = new Sim();
    const a = sim.cpu("a", { domain: "dom1", ghz: 2 });
    const b = sim.cpu("b", { domain: "dom0", ghz: 1 });
    const spans: unknown[] = [];
    a.onSpan = (s) => spans.push(s);
    b.onSpan = (s) => spans.push(s);
    const untraced = sim.cpu("c", { domain: "dom2", ghz: 1 });
    sim.spawn("p", a, function* () {
      yield work(100, "guest", "first"); // 50 ns on a
      yield work(30, "backend", "remote", b); // 30 ns on b, after it
      yield work(10, "hypervisor", "plain", untraced);
    });
    sim.spawn("q", a, function* () {
      yield work(20, "hypervisor", "queued"); // waits behind "first" on a
    });
    sim.run();
    expect(spans).toEqual([
      { cpu: "a", domain: "dom1", component: "guest", label: "first", startNs: 0, durNs: 50 },
      { cpu: "a", domain: "dom1", component: "hypervisor", label: "queued", startNs: 50, durNs: 10 },
      { cpu: "b", domain: "dom0", component: "backend", label: "remote", startNs: 50, durNs: 30 },
    ]);
    expect(sim.now).toBe(90);
    expect(sim.results().cpus.map((c) => c.busyNs)).toEqual([60, 30, 10]);
  });
});
