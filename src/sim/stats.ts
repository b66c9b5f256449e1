// Latency samples and their percentiles, and throughput, all in virtual time.

export interface LatencySummary {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The nearest-rank percentile: the smallest sample such that at least p% of the samples are
 *  less than or equal to it. `sorted` must be ascending and non-empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new RangeError("percentile of no samples");
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(rank, 1) - 1]!;
}

/** Collects latency samples (ns) of one kind of operation. */
export class LatencyRecorder {
  readonly name: string;
  private samples = new Float64Array(1024);
  private n = 0;
  private sum = 0;

  constructor(name: string) {
    this.name = name;
  }

  get count(): number {
    return this.n;
  }

  record(ns: number): void {
    if (!(ns >= 0) || !Number.isFinite(ns)) throw new RangeError(`${this.name}: latency must be a finite number >= 0, got ${ns}`);
    if (this.n === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.n++] = ns;
    this.sum += ns;
  }

  summary(): LatencySummary {
    if (this.n === 0) return { count: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    const s = this.samples.slice(0, this.n).sort();
    return {
      count: this.n,
      mean: this.sum / this.n,
      min: s[0]!,
      p50: percentile(s, 50),
      p90: percentile(s, 90),
      p99: percentile(s, 99),
      max: s[this.n - 1]!,
    };
  }
}

/** Operations per second of virtual time. */
export function throughput(ops: number, durationNs: number): number {
  return durationNs > 0 ? ops / (durationNs / 1e9) : 0;
}
