// A CPU in virtual time: a guest vCPU, a backend vCPU, or a hypervisor pCPU. It runs one work
// item at a time, first come first served; a work item occupies it for its priced cycles at
// the CPU's clock. Time is accounted by component (and by the domain the CPU belongs to).
import { COMPONENTS, type Component } from "../cost/primitives.ts";

export interface Job {
  cycles: number;
  component: Component;
  label: string;
  /** Called at the virtual time the job completes. */
  done: () => void;
}

/** One finished work item, as a trace sees it (start and duration in virtual ns). */
export interface CpuSpan {
  cpu: string;
  domain: string;
  component: Component;
  label: string;
  startNs: number;
  durNs: number;
}

export interface CpuOptions {
  /** The domain whose CPU this is ("dom1", "dom0", "xen" for hypervisor pCPU work). */
  domain: string;
  /** Clock in GHz (cycles per ns); normally the profile's clock_ghz. */
  ghz: number;
}

export class Cpu {
  readonly name: string;
  readonly domain: string;
  readonly ghz: number;
  busyNs = 0;
  jobs = 0;
  readonly byComponent: Record<Component, number> = Object.fromEntries(COMPONENTS.map((c) => [c, 0])) as Record<Component, number>;
  private readonly queue: Job[] = [];
  private running: Job | undefined;
  /** Called for every work item when it finishes (tracing); unset, nothing is recorded. */
  onSpan: ((span: CpuSpan) => void) | undefined;
  private readonly schedule: (delayNs: number, fn: () => void) => void;
  private readonly now: () => number;

  /** Made by Sim.cpu(); `schedule` puts a completion on the sim's event queue, `now` reads
   *  the sim's clock (only spans need it). */
  constructor(name: string, opts: CpuOptions, schedule: (delayNs: number, fn: () => void) => void, now: () => number = () => 0) {
    if (!(opts.ghz > 0) || !Number.isFinite(opts.ghz)) throw new RangeError(`cpu ${name}: ghz must be a finite number > 0, got ${opts.ghz}`);
    this.name = name;
    this.domain = opts.domain;
    this.ghz = opts.ghz;
    this.schedule = schedule;
    this.now = now;
  }

  get idle(): boolean {
    return this.running === undefined;
  }

  /** Work items waiting behind the running one. */
  get queued(): number {
    return this.queue.length;
  }

  submit(job: Job): void {
    if (!(job.cycles >= 0) || !Number.isFinite(job.cycles)) {
      throw new RangeError(`cpu ${this.name}: work '${job.label}' must take a finite number of cycles >= 0, got ${job.cycles}`);
    }
    if (this.running) this.queue.push(job);
    else this.start(job);
  }

  private start(job: Job): void {
    this.running = job;
    const ns = job.cycles / this.ghz;
    const startNs = this.now();
    this.schedule(ns, () => {
      this.busyNs += ns;
      this.byComponent[job.component] += ns;
      this.jobs++;
      this.running = undefined;
      this.onSpan?.({ cpu: this.name, domain: this.domain, component: job.component, label: job.label, startNs, durNs: ns });
      const next = this.queue.shift();
      if (next) this.start(next);
      job.done();
    });
  }
}
