// A descriptor or ring address as the driver wrote it: a u64. It crosses the Wasm boundary as
// two u32 halves in memory (SEG_ADDR, QS_ADD_TABLE) or as two u32 arguments, never as one f64.
// In TS it is a number while it is below 2^53 (exact, and what every gpa-based transport
// uses) and a bigint from 2^53 up (grant DMA addresses carry bit 63): one canonical form per
// value, so === and toEqual compare addresses, and no BigInt is built on the common path.

export type DmaAddr = number | bigint;

const TWO32 = 2 ** 32;
/** hi halves below this give hi * 2^32 + lo < 2^53. */
const SAFE_HI = 2 ** 21;

/** The address with u32 halves `hi`, `lo`, in canonical form. */
export function dmaFromHalves(hi: number, lo: number): DmaAddr {
  return hi < SAFE_HI ? hi * TWO32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

/** Canonical form of a u64 (a bigint below 2^53 becomes a number). */
export function dmaCanon(a: DmaAddr): DmaAddr {
  return typeof a === "bigint" && a < 2n ** 53n ? Number(a) : a;
}

/** True for a u64 value (a non-negative safe integer, or a bigint below 2^64). */
export function isDmaAddr(a: unknown): a is DmaAddr {
  if (typeof a === "number") return Number.isSafeInteger(a) && a >= 0;
  return typeof a === "bigint" && a >= 0n && a < 2n ** 64n;
}

export const dmaHi = (a: DmaAddr): number => (typeof a === "number" ? Math.floor(a / TWO32) : Number(a >> 32n));
export const dmaLo = (a: DmaAddr): number => (typeof a === "number" ? a % TWO32 : Number(a & 0xffffffffn));

/** Writes `a` little-endian at `off` as two u32 words (the layout of a descriptor's addr). */
export function setDma(dv: DataView, off: number, a: DmaAddr): void {
  dv.setUint32(off, dmaLo(a), true);
  dv.setUint32(off + 4, dmaHi(a), true);
}

export function getDma(dv: DataView, off: number): DmaAddr {
  return dmaFromHalves(dv.getUint32(off + 4, true), dv.getUint32(off, true));
}

/** `a + n` (n a non-negative safe integer), wrapping modulo 2^64 as the ring's u64 does. */
export function dmaAdd(a: DmaAddr, n: number): DmaAddr {
  if (typeof a === "number" && a + n <= Number.MAX_SAFE_INTEGER) return a + n;
  return dmaCanon((BigInt(a) + BigInt(n)) & 0xffffffffffffffffn);
}

/** Every address at or above 2^53 lies outside every domain's space (a p2m ends at 2^32 gpa);
 *  the machine refuses FAR_GPA (MST_RANGE) as it refuses them. */
export const FAR_GPA = 2 ** 53;

/** The address as a guest-physical address: itself below 2^53, FAR_GPA above (where no domain
 *  has memory, so any range or rights check fails for it as for the exact value). */
export const dmaGpa = (a: DmaAddr): number => (typeof a === "number" ? a : FAR_GPA);

export const dmaHex = (a: DmaAddr): string => `0x${a.toString(16)}`;
