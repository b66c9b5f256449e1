// The discrete-event core. Virtual time in nanoseconds; no wall clock. Processes are
// generators bound to a CPU that yield what they do next: occupy a CPU for priced cycles,
// wait for a signal (blocked: the CPU is free for others), or sleep. Work on different CPUs
// overlaps; work on one CPU is served in order. Every resumption goes through the event
// queue, ordered by (time, seq), so a run is a pure function of its inputs.
import { COMPONENTS, type Component } from "../cost/primitives.ts";
import { Cpu, type CpuOptions } from "./cpu.ts";
import { EventQueue } from "./queue.ts";
import { Signal, type Waiter } from "./signal.ts";
import { LatencyRecorder, throughput, type LatencySummary } from "./stats.ts";

export type Op =
  | { kind: "work"; cycles: number; component: Component; label: string; cpu?: Cpu }
  | { kind: "wait"; signal: Signal }
  | { kind: "sleep"; ns: number };

/** Occupy the process's CPU (or `cpu`, e.g. a hypervisor pCPU) for `cycles`, then continue. */
export function work(cycles: number, component: Component, label: string = component, cpu?: Cpu): Op {
  return { kind: "work", cycles, component, label, cpu };
}

/** Block until `signal` gives a permit. */
export function wait(signal: Signal): Op {
  return { kind: "wait", signal };
}

/** Let `ns` of virtual time pass without using a CPU (think time, a device's latency). */
export function sleep(ns: number): Op {
  return { kind: "sleep", ns };
}

export type Body = Generator<Op, void, void>;

export class Process implements Waiter {
  readonly name: string;
  readonly cpu: Cpu;
  state: "ready" | "busy" | "blocked" | "sleeping" | "done" = "ready";
  /** The signal a blocked process waits for. */
  blockedOn: Signal | undefined;
  /** Broadcast when the body returns: wait for it before then, or check `state` first. */
  readonly finished: Signal;
  private readonly body: Body;
  private readonly sim: Sim;

  constructor(sim: Sim, name: string, cpu: Cpu, body: Body) {
    this.sim = sim;
    this.name = name;
    this.cpu = cpu;
    this.body = body;
    this.finished = new Signal(`${name} finished`);
  }

  wake(): void {
    this.blockedOn = undefined;
    this.state = "ready";
    this.sim.after(0, () => this.step());
  }

  /** Runs the body until it yields something that takes time. */
  step(): void {
    const r = this.body.next();
    if (r.done) {
      this.state = "done";
      this.finished.broadcast();
      return;
    }
    const op = r.value;
    switch (op.kind) {
      case "work": {
        this.state = "busy";
        const cpu = op.cpu ?? this.cpu;
        cpu.submit({ cycles: op.cycles, component: op.component, label: op.label, done: () => this.wake() });
        return;
      }
      case "wait":
        if (op.signal.acquire(this)) {
          this.wake();
        } else {
          this.state = "blocked";
          this.blockedOn = op.signal;
        }
        return;
      case "sleep":
        if (!(op.ns >= 0) || !Number.isFinite(op.ns)) throw new RangeError(`${this.name}: sleep must be a finite number of ns >= 0, got ${op.ns}`);
        this.state = "sleeping";
        this.sim.after(op.ns, () => this.wake());
        return;
    }
  }
}

export interface RunOptions {
  /** Stop before the first event later than this time (ns); the clock then reads `until`. */
  until?: number;
  /** Refuse to run more events than this (a process that never blocks loops forever). */
  maxEvents?: number;
}

export interface CpuReport {
  name: string;
  domain: string;
  busyNs: number;
  utilisation: number;
  jobs: number;
  byComponent: Record<Component, number>;
}

export interface SimResults {
  durationNs: number;
  cpus: CpuReport[];
  /** Busy ns per domain (the CPU's owner) and component, with a total. Work still running
   *  when the run stopped (at `until`) is not counted. */
  byDomain: Record<string, Record<Component | "total", number>>;
  byComponent: Record<Component, number>;
  /** Per recorder: completions, throughput (per second of virtual time) and latency percentiles. */
  ops: Record<string, { throughput: number; latency: LatencySummary }>;
  /** Processes still blocked at the end, and on what (a deadlock or an unfinished workload). */
  blocked: { process: string; on: string }[];
}

export class Sim {
  now = 0;
  eventsRun = 0;
  private readonly queue = new EventQueue<() => void>();
  private readonly cpuList: Cpu[] = [];
  private readonly processes: Process[] = [];
  private readonly recorders = new Map<string, LatencyRecorder>();

  /** Schedules `fn` at now + delay (delay >= 0). */
  after(delayNs: number, fn: () => void): void {
    if (!(delayNs >= 0) || !Number.isFinite(delayNs)) throw new RangeError(`delay must be a finite number of ns >= 0, got ${delayNs}`);
    this.queue.push(this.now + delayNs, fn);
  }

  /** Schedules `fn` at absolute time `t` (not in the past). */
  at(t: number, fn: () => void): void {
    if (!(t >= this.now) || !Number.isFinite(t)) throw new RangeError(`time ${t} is in the past (now ${this.now}) or not finite`);
    this.queue.push(t, fn);
  }

  cpu(name: string, opts: CpuOptions): Cpu {
    if (this.cpuList.some((c) => c.name === name)) throw new Error(`cpu ${name} already exists`);
    const c = new Cpu(name, opts, (ns, fn) => this.after(ns, fn), () => this.now);
    this.cpuList.push(c);
    return c;
  }

  signal(name: string): Signal {
    return new Signal(name);
  }

  /** Starts a process on `cpu`; its first step runs at the current time, after what is queued. */
  spawn(name: string, cpu: Cpu, body: (self: Process) => Body): Process {
    let p: Process | undefined = undefined;
    const gen = (function* () {
      yield* body(p!);
    })();
    p = new Process(this, name, cpu, gen);
    this.processes.push(p);
    const proc = p;
    this.after(0, () => proc.step());
    return p;
  }

  /** The latency recorder named `name` (created on first use). */
  recorder(name: string): LatencyRecorder {
    let r = this.recorders.get(name);
    if (!r) this.recorders.set(name, (r = new LatencyRecorder(name)));
    return r;
  }

  /** Runs events in (time, seq) order until none is left or the next is after `until`. */
  run(opts: RunOptions = {}): void {
    const until = opts.until ?? Infinity;
    const max = opts.maxEvents ?? Infinity;
    let n = 0;
    while (this.queue.size > 0 && this.queue.peekTime() <= until) {
      if (n >= max) throw new Error(`sim: more than ${max} events by time ${this.now} ns (a process that never blocks?)`);
      const e = this.queue.pop()!;
      this.now = e.time;
      n++;
      this.eventsRun++;
      e.item();
    }
    if (until !== Infinity && this.now < until) this.now = until;
  }

  results(): SimResults {
    const d = this.now;
    const zero = (): Record<Component | "total", number> => ({ guest: 0, hypervisor: 0, backend: 0, total: 0 });
    const byDomain: SimResults["byDomain"] = {};
    const byComponent = Object.fromEntries(COMPONENTS.map((c) => [c, 0])) as Record<Component, number>;
    const cpus = this.cpuList.map((c) => {
      const dom = (byDomain[c.domain] ??= zero());
      for (const k of COMPONENTS) {
        dom[k] += c.byComponent[k];
        byComponent[k] += c.byComponent[k];
      }
      dom.total += c.busyNs;
      return { name: c.name, domain: c.domain, busyNs: c.busyNs, utilisation: d > 0 ? c.busyNs / d : 0, jobs: c.jobs, byComponent: { ...c.byComponent } };
    });
    const ops: SimResults["ops"] = {};
    for (const [name, r] of this.recorders) ops[name] = { throughput: throughput(r.count, d), latency: r.summary() };
    const blocked = this.processes.filter((p) => p.state === "blocked").map((p) => ({ process: p.name, on: p.blockedOn!.name }));
    return { durationNs: d, cpus, byDomain, byComponent, ops, blocked };
  }
}
