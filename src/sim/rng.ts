// The simulation's only source of randomness: a seeded xoroshiro128+ from pure-rand. A seed
// fixes every draw; sub-streams for independent parts (one per workload, per device) are
// forked by label so that adding a part does not shift the draws of another. Draw from a
// fork, not from `new Rng(seed)` directly: pure-rand's first draws for small neighbouring
// seeds are nearly equal, and fork() hashes the seed with the label.
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformInt } from "pure-rand/distribution/uniformInt";

type Generator = ReturnType<typeof xoroshiro128plus>;

export class Rng {
  readonly seed: number;
  private readonly gen: Generator;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    this.seed = seed;
    this.gen = xoroshiro128plus(seed | 0);
  }

  /** An integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return uniformInt(this.gen, min, max);
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  float(): number {
    return uniformInt(this.gen, 0, 0xffffffff) / 2 ** 32;
  }

  /** Fills `out` with random bytes. */
  bytes(out: Uint8Array): Uint8Array {
    for (let i = 0; i < out.length; i += 4) {
      const v = uniformInt(this.gen, 0, 0xffffffff);
      for (let k = 0; k < 4 && i + k < out.length; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
    }
    return out;
  }

  /** An independent stream derived from this seed and a label (FNV-1a of the label). */
  fork(label: string): Rng {
    let h = 0x811c9dc5 ^ this.seed;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    return new Rng(h | 0);
  }
}
