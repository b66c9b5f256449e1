// A seeded byte stream: the little-endian bytes of successive 32-bit Rng draws, taken in any
// chunk sizes. Rng.bytes alone drops the tail of a draw when a length is not a multiple of 4,
// so two readers taking different chunk sizes would disagree; this one never drops a byte.
import { Rng } from "../sim/rng.ts";

/** Hands out the next `n` bytes of some stream. */
export interface ByteSource {
  take(n: number): Uint8Array;
}

const BLOCK = 256;

export class SeededByteStream implements ByteSource {
  private readonly rng: Rng;
  private buf: Uint8Array = new Uint8Array(0);
  private at = 0;

  constructor(seed: number | Rng) {
    this.rng = typeof seed === "number" ? new Rng(seed) : seed;
  }

  take(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`take needs a byte count >= 0, got ${n}`);
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      if (this.at === this.buf.length) {
        this.buf = this.rng.bytes(new Uint8Array(BLOCK));
        this.at = 0;
      }
      const k = Math.min(n - done, this.buf.length - this.at);
      out.set(this.buf.subarray(this.at, this.at + k), done);
      this.at += k;
      done += k;
    }
    return out;
  }
}
