// The timed runner: real transports under the discrete-event engine. Each lane's guest vCPU
// runs a process (submit up to iodepth and decide the kick; block until the interrupt; handle
// it and complete), each backend vCPU runs a process (block until kicked; service() every
// kicked lane). Every step runs the functional code at the virtual moment the process reaches
// it, prices the counters delta of exactly that step (price(), the same linear function as
// for a whole run) and occupies the CPUs that do the work (step-charge.ts). A kick or an
// interrupt becomes visible to the other side only when the step that sent it has finished.
import * as L from "../wasm/layout.ts";
import { COMPONENTS, type Component } from "../cost/primitives.ts";
import { price } from "../cost/price.ts";
import { PRICING } from "../cost/pricing-table.ts";
import { Sim, wait, work, type Op, type Process } from "../sim/engine.ts";
import type { Cpu } from "../sim/cpu.ts";
import type { Signal } from "../sim/signal.ts";
import type { LatencyRecorder } from "../sim/stats.ts";
import type { Completion } from "../virtio/driver.ts";
import type { TimelineSpan } from "./result.ts";
import { splitStep, type Side } from "./step-charge.ts";
import { cpuName, type TimedDomain, type TimedLane, type TimedOptions, type TimedTarget } from "./timed-target.ts";
import { summarise, type TimedResult } from "./timed-result.ts";

type Pool = Record<Component, number>;
const emptyPool = (): Pool => ({ guest: 0, hypervisor: 0, backend: 0 });

interface BackendCtx {
  cpu: Cpu;
  kick: Signal;
  /** Lanes kicked since their last service pass, in kick order. */
  pending: LaneCtx[];
  /** Work other sides' steps left for this vCPU (an upcall it must take). */
  deferred: Pool;
}

interface LaneCtx {
  lane: TimedLane;
  name: string;
  cpu: Cpu;
  irq: Signal;
  be: BackendCtx;
  /** Work backend steps left for this guest (interrupt entry, argo's receive pass). */
  deferred: Pool;
  /** Virtual submit times by request tag (a FIFO per tag value). */
  submitted: Map<unknown, number[]>;
  completed: number;
  /** The driver sent a notification during the current step. */
  kicked: boolean;
  process?: Process;
}

export class TimedRunner {
  readonly sim = new Sim();
  private readonly t: TimedTarget;
  private readonly opts: TimedOptions;
  private readonly lanes: LaneCtx[] = [];
  private readonly backends = new Map<string, BackendCtx>();
  private readonly cpus = new Map<string, { cpu: Cpu; domain: TimedDomain; role: Side }>();
  private readonly latency: LatencyRecorder;
  private readonly spans: TimelineSpan[] | undefined;
  private last: Float64Array;
  private readonly total: Float64Array;
  private charged = 0;
  private steps = 0;
  private ran = false;

  constructor(target: TimedTarget, opts: TimedOptions = {}) {
    if (target.lanes.length === 0) throw new RangeError("timed run: no lanes");
    this.t = target;
    this.opts = opts;
    this.latency = this.sim.recorder("io");
    this.spans = opts.trace ? [] : undefined;
    target.lanes.forEach((lane, i) => this.addLane(lane, i));
    this.last = target.machine.counters();
    this.total = new Float64Array(this.last.length);
  }

  private cpuFor(d: TimedDomain, role: Side): Cpu {
    const name = cpuName(d);
    const had = this.cpus.get(name);
    if (had) {
      if (had.role !== role || had.domain.name !== d.name) {
        throw new Error(`timed run: cpu ${name} is ${had.domain.name}'s ${had.role} vCPU, a lane also names it as ${d.name}'s ${role} vCPU`);
      }
      return had.cpu;
    }
    const cpu = this.sim.cpu(name, { domain: d.name, ghz: this.t.profile.clockGHz });
    if (this.spans) {
      const spans = this.spans;
      cpu.onSpan = (s) => spans.push(s);
    }
    this.cpus.set(name, { cpu, domain: d, role });
    return cpu;
  }

  private addLane(lane: TimedLane, i: number): void {
    const depth = lane.iodepth ?? 1;
    const name = lane.name ?? `lane${i}`;
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`${name}: iodepth must be a positive integer, got ${lane.iodepth}`);
    const cpu = this.cpuFor(lane.frontend, "guest");
    const beCpu = this.cpuFor(lane.backend, "backend");
    let be = this.backends.get(beCpu.name);
    if (!be) {
      be = { cpu: beCpu, kick: this.sim.signal(`${beCpu.name} kick`), pending: [], deferred: emptyPool() };
      this.backends.set(beCpu.name, be);
    }
    this.lanes.push({ lane, name, cpu, irq: this.sim.signal(`${name} interrupt`), be, deferred: emptyPool(), submitted: new Map(), completed: 0, kicked: false });
  }

  /** Runs every lane's workload to the end; returns the timing parts of a JobResult. */
  run(): TimedResult {
    if (this.ran) throw new Error("timed run: a runner runs once");
    this.ran = true;
    this.last = this.t.machine.counters(); // the measured phase starts here
    const restore = this.lanes.map((l) => this.watchSubmits(l));
    try {
      for (const l of this.lanes) l.process = this.sim.spawn(`${l.name} guest`, l.cpu, () => this.guestBody(l));
      for (const be of this.backends.values()) this.sim.spawn(`${be.cpu.name} backend`, be.cpu, () => this.backendBody(be));
      this.sim.run({ maxEvents: this.opts.maxEvents ?? 50_000_000 });
      this.checkFinished();
      this.drainDeferred();
    } finally {
      restore.forEach((r) => r());
    }
    return summarise({
      target: this.t, sim: this.sim, latency: this.latency, total: this.total, charged: this.charged, steps: this.steps,
      ios: this.lanes.reduce((s, l) => s + l.completed, 0), spans: this.spans,
    });
  }

  /** Notes the virtual time each request enters the ring (the latency's start). */
  private watchSubmits(l: LaneCtx): () => void {
    const d = l.lane.driver;
    const own = Object.prototype.hasOwnProperty.call(d, "submit");
    const orig = d.submit;
    d.submit = (q, bufs, tag) => {
      const ok = orig.call(d, q, bufs, tag);
      if (ok) {
        const list = l.submitted.get(tag);
        if (list) list.push(this.sim.now);
        else l.submitted.set(tag, [this.sim.now]);
      }
      return ok;
    };
    // Every notification the driver sends (its own kicks and those a workload makes while
    // completing, such as a net guest refilling rx buffers) reaches the backend after the step.
    const ownKick = Object.prototype.hasOwnProperty.call(d, "kick");
    const origKick = d.kick;
    d.kick = (q) => {
      const sent = origKick.call(d, q);
      if (sent) l.kicked = true;
      return sent;
    };
    return () => {
      if (own) d.submit = orig;
      else delete (d as { submit?: unknown }).submit;
      if (ownKick) d.kick = origKick;
      else delete (d as { kick?: unknown }).kick;
    };
  }

  private *guestBody(l: LaneCtx): Generator<Op, void, void> {
    const { driver, workload } = l.lane;
    const q = l.lane.queue ?? 0;
    const depth = l.lane.iodepth ?? 1;
    for (;;) {
      if (workload.finished && driver.inFlight(q) === 0) return;
      // One step per request, as a driver's queue_rq: a backend kicked by the first request
      // of a batch serves it while the guest adds the next.
      let added = 0;
      while (driver.inFlight(q) < depth && !workload.finished) {
        const each = l.lane.kickEachSubmit ?? false;
        const n = yield* this.step("guest", l, each ? "submit+kick" : "submit", () => {
          const n = workload.submit(1);
          if (n > 0 && each) driver.kick(q);
          return n;
        });
        if (n === 0) break;
        added += n;
      }
      if (added > 0 && !l.lane.kickEachSubmit) yield* this.step("guest", l, "kick", () => driver.kick(q));
      // A guest that only receives (a net peer) waits with its rx buffers posted.
      if (added === 0 && driver.inFlightAll() === 0 && !workload.finished) {
        throw new Error(`timed run: ${l.name} stalled at ${this.sim.now} ns: the workload is not finished but submits nothing and nothing is in flight`);
      }
      if (driver.inFlightAll() === 0) continue;
      yield wait(l.irq);
      const done = yield* this.step("guest", l, "interrupt", () => {
        const cs = driver.handleInterrupt();
        if (cs) for (const c of cs) workload.complete(c);
        return cs;
      });
      if (done) for (const c of done) this.completed(l, c);
    }
  }

  /** The kick reaches the backend once the step that sent it is done. */
  private kick(l: LaneCtx): void {
    if (!l.be.pending.includes(l)) l.be.pending.push(l);
    l.be.kick.notify();
  }

  private completed(l: LaneCtx, c: Completion): void {
    // Only the lane's measured queue counts: a net guest's rx buffers complete too, but they
    // were posted before the run and measure nothing.
    if (c.q !== (l.lane.queue ?? 0)) return;
    const list = l.submitted.get(c.tag);
    const t0 = list?.shift();
    if (t0 === undefined) throw new Error(`timed run: ${l.name} completed a request it never saw submitted (head ${c.head})`);
    if (list!.length === 0) l.submitted.delete(c.tag);
    this.latency.record(this.sim.now - t0);
    l.completed++;
  }

  private *backendBody(be: BackendCtx): Generator<Op, void, void> {
    const mine = this.lanes.filter((l) => l.be === be);
    for (;;) {
      yield wait(be.kick);
      while (be.pending.length > 0) {
        const l = be.pending.shift()!;
        yield* this.step("backend", l, "service", () => l.lane.transport.service());
        // One backend serves several guests (a bridge): what a pass delivered to another
        // guest's device is served in the same wake-up.
        for (const other of mine) {
          if (other === l || be.pending.includes(other)) continue;
          const n = yield* this.step("backend", other, "service", () => other.lane.transport.service());
          if (n > 0 && !be.pending.includes(other)) be.pending.push(other);
        }
      }
    }
  }

  /** Runs `fn` as one step of `actor` for lane `l` and occupies the CPUs its mechanism costs. */
  private *step<R>(actor: Side, l: LaneCtx, label: string, fn: () => R): Generator<Op, R, void> {
    const m = this.t.machine;
    // Steps run one at a time and nothing else drives the machine during a run, so the
    // counters since the previous step are exactly this step's.
    const before = this.last;
    const r = fn();
    const after = m.counters();
    const delta = new Float64Array(after.length);
    for (let i = 0; i < after.length; i++) {
      delta[i] = after[i]! - before[i]!;
      this.total[i]! += delta[i]!;
    }
    this.last = after;
    this.steps++;
    const split = splitStep(price(delta, this.t.profile, this.t.table ?? PRICING), delta, actor);
    const [ownCpu, ownPool, peerCpu, peerPool] = actor === "guest" ? [l.cpu, l.deferred, l.be.cpu, l.be.deferred] : [l.be.cpu, l.be.deferred, l.cpu, l.deferred];
    // What other steps left for this vCPU runs first: it is what woke it (an upcall's entry).
    for (const k of COMPONENTS) {
      const c = ownPool[k];
      ownPool[k] = 0;
      if (c > 0) yield this.charge(c, k, label, ownCpu);
    }
    for (const p of split.own) yield this.charge(p.cycles, p.component, label, ownCpu);
    for (const p of split.peer) {
      if (split.peerSync) yield this.charge(p.cycles, p.component, label, peerCpu);
      else peerPool[p.component] += p.cycles;
    }
    if (l.kicked) {
      l.kicked = false;
      this.kick(l);
    }
    if (delta[L.CNT_TR_INTERRUPTS]! > 0) {
      for (const other of this.lanes) if (other.be === l.be) other.irq.notify();
    }
    return r;
  }

  private charge(cycles: number, component: Component, label: string, cpu: Cpu): Op {
    this.charged += cycles;
    return work(cycles, component, label, cpu);
  }

  private checkFinished(): void {
    const stuck = this.lanes.filter((l) => l.process!.state !== "done");
    if (stuck.length === 0) return;
    const why = stuck.map((l) => {
      const q = l.lane.queue ?? 0;
      const p = l.process!;
      return `${l.name}: ${l.lane.driver.inFlight(q)} in flight, workload ${l.lane.workload.finished ? "finished" : "not finished"}, ` +
        `guest ${p.state}${p.blockedOn ? ` on '${p.blockedOn.name}'` : ""}`;
    });
    throw new Error(`timed run stalled at ${this.sim.now} ns with nothing left to run (a lost kick or interrupt?): ${why.join("; ")}`);
  }

  /** Work left for a vCPU that never ran again (an upcall after the last I/O) still costs. */
  private drainDeferred(): void {
    const left: { cpu: Cpu; pool: Pool }[] = [...this.lanes.map((l) => ({ cpu: l.cpu, pool: l.deferred })), ...[...this.backends.values()].map((b) => ({ cpu: b.cpu, pool: b.deferred }))];
    const runner = this;
    let any = false;
    for (const { cpu, pool } of left) {
      const parts = COMPONENTS.filter((k) => pool[k] > 0).map((k) => ({ k, c: pool[k] }));
      if (parts.length === 0) continue;
      any = true;
      for (const k of COMPONENTS) pool[k] = 0;
      this.sim.spawn(`${cpu.name} deferred`, cpu, function* () {
        for (const p of parts) yield runner.charge(p.c, p.k, "deferred", cpu);
      });
    }
    if (any) this.sim.run({ maxEvents: this.opts.maxEvents ?? 50_000_000 });
  }
}

/** Runs `target` in virtual time (see TimedRunner). */
export function runTimed(target: TimedTarget, opts: TimedOptions = {}): TimedResult {
  return new TimedRunner(target, opts).run();
}
