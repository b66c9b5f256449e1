// Data patterns and the checksum the workloads stamp into what they send. A pattern is a pure
// function of a key and a position, so a verifier recomputes any block or frame from its
// coordinates alone instead of keeping a copy. Randomness (which block, read or write) comes
// from src/sim/rng.ts; the keys below are drawn from it. The fill itself is a counter-mode
// integer hash, not an Rng stream: it must be recomputable at any position, and it is about
// 7x cheaper per byte than Rng.bytes (measured: 0.5 vs 3.5 µs per 512-byte sector), which
// matters because every byte written is generated once and checked again on read.

const GOLDEN = 0x9e3779b9;

/** A 32-bit avalanche mix (xor-shift / multiply rounds). */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The pattern state for one unit (a sector, a message chunk) named by three words. */
export function patternState(key: number, a: number, b: number): number {
  return mix32(key ^ mix32((a ^ mix32(b + GOLDEN)) >>> 0));
}

/** Word `i` of the unit whose state is `s`. */
function word(s: number, i: number): number {
  return mix32((s + Math.imul(i, GOLDEN)) | 0);
}

/** Writes bytes [from, from + len) of unit `s`'s pattern into `out` at `at`. */
export function fillPattern(s: number, from: number, len: number, out: Uint8Array, at: number): void {
  let i = from;
  const end = from + len;
  while (i < end) {
    const w = word(s, i >>> 2);
    for (let k = i & 3; k < 4 && i < end; k++, i++) out[at + i - from] = (w >>> (8 * k)) & 0xff;
  }
}

/** The first byte of [from, from + len) where `got` (at `at`) differs from unit `s`'s
 *  pattern, or -1. */
export function comparePattern(s: number, from: number, len: number, got: Uint8Array, at: number): number {
  let i = from;
  const end = from + len;
  while (i < end) {
    const w = word(s, i >>> 2);
    for (let k = i & 3; k < 4 && i < end; k++, i++) if (got[at + i - from] !== ((w >>> (8 * k)) & 0xff)) return i - from;
  }
  return -1;
}

// CRC-32C (Castagnoli), reflected polynomial 0x82f63b78, table-driven.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Continues a CRC-32C over `data[from, to)`; start with `crc32c(0, …)` and chain the results. */
export function crc32c(crc: number, data: Uint8Array, from = 0, to = data.length): number {
  let c = ~crc >>> 0;
  for (let i = from; i < to; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Little-endian u32 helpers over a byte array (views are not assumed aligned). */
export function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

export function getU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}
