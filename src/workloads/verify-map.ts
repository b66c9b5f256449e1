// Which sectors of a job's region hold which write: one generation per 512-byte sector,
// 0 = never written (the initial image), GEN_UNKNOWN = a write failed, so the content is
// undefined until the next successful write.

export const GEN_UNKNOWN = 0xffffffff;
/** Largest generation a job can assign (below GEN_UNKNOWN). */
export const GEN_MAX = GEN_UNKNOWN - 1;

export class VerifyMap {
  /** First sector of the region. */
  readonly first: number;
  readonly count: number;
  private readonly gens: Uint32Array;

  constructor(firstSector: number, sectors: number) {
    this.first = firstSector;
    this.count = sectors;
    this.gens = new Uint32Array(sectors);
  }

  gen(sector: number): number {
    return this.gens[this.index(sector)]!;
  }

  /** Records that sectors [sector, sector + n) now hold generation `gen`. */
  set(sector: number, n: number, gen: number): void {
    const i = this.index(sector);
    this.index(sector + n - 1);
    this.gens.fill(gen, i, i + n);
  }

  /** True when any of [sector, sector + n) was written (or is unknown). */
  written(sector: number, n: number): boolean {
    const i = this.index(sector);
    for (let k = i; k < i + n; k++) if (this.gens[k] !== 0) return true;
    return false;
  }

  private index(sector: number): number {
    const i = sector - this.first;
    if (!(i >= 0 && i < this.count)) throw new RangeError(`sector ${sector} is outside the job's region [${this.first}, ${this.first + this.count})`);
    return i;
  }
}
