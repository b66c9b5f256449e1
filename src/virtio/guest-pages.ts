// A guest kernel's page allocator over a range of its RAM: rings, request headers and I/O
// buffers come from here. First fit over a bitmap, lowest address first, so a run is a pure
// function of its calls (no randomness, no reuse order surprises).
import { PAGE_SIZE } from "../wasm/layout.ts";

export class GuestPages {
  readonly domid: number;
  readonly firstGfn: number;
  readonly count: number;
  private readonly used: Uint8Array;
  private free: number;

  constructor(domid: number, firstGfn: number, count: number) {
    if (!Number.isInteger(firstGfn) || firstGfn < 0) throw new RangeError(`firstGfn must be a non-negative integer, got ${firstGfn}`);
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
    this.domid = domid;
    this.firstGfn = firstGfn;
    this.count = count;
    this.used = new Uint8Array(count);
    this.free = count;
  }

  get freePages(): number {
    return this.free;
  }

  /** `n` contiguous pages; returns the first gfn. Throws when no run of `n` pages is free. */
  alloc(n = 1): number {
    const g = this.tryAlloc(n);
    if (g < 0) throw new Error(`guest d${this.domid}: no ${n} contiguous free pages in gfns [${this.firstGfn}, ${this.firstGfn + this.count})`);
    return g;
  }

  /** Like alloc(), but -1 when no run of `n` pages is free. */
  tryAlloc(n = 1): number {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`page count must be a positive integer, got ${n}`);
    if (n > this.free) return -1;
    let run = 0;
    for (let i = 0; i < this.count; i++) {
      run = this.used[i] ? 0 : run + 1;
      if (run === n) {
        const start = i - n + 1;
        this.used.fill(1, start, i + 1);
        this.free -= n;
        return this.firstGfn + start;
      }
    }
    return -1;
  }

  /** Guest-physical address of `n` fresh contiguous pages. */
  allocGpa(n = 1): number {
    return this.alloc(n) * PAGE_SIZE;
  }

  /** Frees `n` pages from `gfn`; freeing a page that is not allocated is a bug and throws. */
  release(gfn: number, n = 1): void {
    const i = gfn - this.firstGfn;
    if (!Number.isInteger(i) || i < 0 || i + n > this.count) throw new RangeError(`gfns [${gfn}, ${gfn + n}) are outside the allocator`);
    for (let k = i; k < i + n; k++) {
      if (!this.used[k]) throw new Error(`guest d${this.domid}: gfn ${this.firstGfn + k} freed twice`);
      this.used[k] = 0;
    }
    this.free += n;
  }
}
