// The scheduler's random numbers: xoshiro128** (Blackman and Vigna), state in the context
// frame, seeded from a 32-bit seed through two SplitMix64 outputs. Written from the
// algorithms' definitions; src/wasm/ts-arch-atomics.ts has the same code for the reference.
import { ACTX_RNG } from "../layout";

const GOLDEN: u64 = 0x9e3779b97f4a7c15;

function splitmix64(x: u64): u64 {
  let z = x;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

export function rngSeed(ctx: usize, seed: u32): void {
  const a = splitmix64(<u64>seed + GOLDEN);
  const b = splitmix64(<u64>seed + GOLDEN + GOLDEN);
  const p = ctx + ACTX_RNG;
  store<u32>(p, <u32>a, 0);
  store<u32>(p, <u32>(a >> 32), 4);
  store<u32>(p, <u32>b, 8);
  store<u32>(p, <u32>(b >> 32), 12);
}

export function rngNext(ctx: usize): u32 {
  const p = ctx + ACTX_RNG;
  let s0 = load<u32>(p, 0);
  let s1 = load<u32>(p, 4);
  let s2 = load<u32>(p, 8);
  let s3 = load<u32>(p, 12);
  const result = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  store<u32>(p, s0, 0);
  store<u32>(p, s1, 4);
  store<u32>(p, s2, 8);
  store<u32>(p, s3, 12);
  return result;
}

/** A number in [0, n): the high half of next() * n (no rejection; the bias is below 2^-28). */
export function rngBelow(ctx: usize, n: u32): u32 {
  return <u32>((<u64>rngNext(ctx) * <u64>n) >> 32);
}
