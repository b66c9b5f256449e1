// The argo transport's copies as the machine makes them: gpa_copy between guest-physical runs
// (within one domain or across), so CNT_COPY_BYTES sees every byte and the pricing table can
// move the charge to the component that made the copy. A ring's data wraps at its end: a run
// of ring bytes is at most two pieces when the ring's gfns are consecutive.
import * as L from "../wasm/layout.ts";
import type { Machine } from "../wasm/machine.ts";
import { copyBucket } from "../wasm/copy-buckets.ts";
import type { ArgoGuestRing } from "../xen/argo-guest.ts";

/** `len` bytes at guest-physical `gpa` of domain `domid`. */
export interface Piece {
  domid: number;
  gpa: number;
  len: number;
}

/** Data bytes [at, at+n) of `ring` (wrapping) as runs contiguous in the owner's gpa space. */
export function ringPieces(ring: ArgoGuestRing, at: number, n: number): Piece[] {
  const out: Piece[] = [];
  let done = 0;
  while (done < n) {
    const pos = (at + done) % ring.len;
    const off = L.ARGO_RING_SIZE + pos;
    const k = Math.min(n - done, ring.len - pos, L.PAGE_SIZE - (off % L.PAGE_SIZE));
    const gpa = ring.gpa(off);
    const last = out[out.length - 1];
    if (last && last.gpa + last.len === gpa) last.len += k;
    else out.push({ domid: ring.domid, gpa, len: k });
    done += k;
  }
  return out;
}

export interface CopyResult {
  /** Bytes moved (every gpa_copy is all-or-nothing; earlier pieces of a refused copy moved). */
  copied: number;
  /** MST_OK, or the machine's status for the first refused piece (nothing after it moved). */
  status: number;
}

/** Copies the bytes of `src` (in order) into `dst` (in order), one gpa_copy per pair of
 *  overlapping pieces, up to the shorter of the two totals. Stops at the first refusal. */
/** Copies `src` into `dst` with the machine's gpa_copy, one call per overlapping run. `histogram`
 *  (a copy-size histogram's ops and bytes bases) also counts each call there, by its own length,
 *  as gpa_copy buckets it. */
export function copyPieces(m: Machine, src: readonly Piece[], dst: readonly Piece[], histogram?: { ops: number; bytes: number }): CopyResult {
  let si = 0;
  let so = 0;
  let di = 0;
  let dO = 0;
  let copied = 0;
  while (si < src.length && di < dst.length) {
    const s = src[si]!;
    const d = dst[di]!;
    const n = Math.min(s.len - so, d.len - dO);
    if (n > 0) {
      const st = m.tryCopy(s.domid, s.gpa + so, d.domid, d.gpa + dO, n);
      if (st < 0) return { copied, status: st };
      if (histogram) {
        const k = copyBucket(n);
        m.bump(histogram.ops + k);
        m.bump(histogram.bytes + k, n);
      }
      copied += n;
    }
    so += n;
    dO += n;
    if (so === s.len) [si, so] = [si + 1, 0];
    if (dO === d.len) [di, dO] = [di + 1, 0];
  }
  return { copied, status: L.MST_OK };
}
