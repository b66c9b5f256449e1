// A cost profile: an architecture's figures (cycles per primitive, copy time by size, clock),
// each with the source it comes from or marked as an estimate with its reasoning. Profiles
// are YAML files (profiles/*.yaml ship with vxsim; users load their own); docs/profiles.md
// describes the format.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { AtomicsModel, Primitive } from "./primitives.ts";
import { checkProfileText } from "./profile-check.ts";
import { COPY_BUCKET_MAX } from "../wasm/copy-buckets.ts";

/** Where a figure's number comes from. Exactly one of `source` or `estimate` is set. */
export interface Provenance {
  source?: string; // key into Profile.sources
  tag?: "measured" | "verified" | "recalled";
  estimate: boolean;
  basedOn?: string; // key into Profile.sources: what an estimate starts from
  why?: string;
  note?: string;
  line: number; // line of the figure in its file
}

export interface PrimitiveFigure extends Provenance {
  /** Cycles at the profile's clock, or null when the primitive does not exist on the architecture. */
  cycles: number | null;
}

export interface CopyPoint extends Provenance {
  bytes: number;
  cycles: number; // time of one copy of `bytes`, at the profile's clock
}

export interface Source {
  cite: string;
  where: string; // the section of shared/reference/cost-figures.md (or the user's own reference)
}

export interface Profile {
  file: string;
  name: string;
  arch: string;
  atomics: AtomicsModel;
  description: string;
  clockGHz: number;
  clock: Provenance;
  sources: Record<string, Source>;
  primitives: Record<Primitive, PrimitiveFigure>;
  /** Ascending by bytes and by time; see copyCycles. */
  copy: CopyPoint[];
}

/** A problem in a profile file: where it is and what is wrong. */
export interface ProfileIssue {
  file: string;
  line: number;
  field: string;
  message: string;
}

export class ProfileError extends Error {
  readonly issues: ProfileIssue[];
  constructor(issues: ProfileIssue[]) {
    super(issues.map((i) => `${i.file}:${i.line}: ${i.field}: ${i.message}`).join("\n"));
    this.name = "ProfileError";
    this.issues = issues;
  }
}

/** Parses and validates profile text; `file` names it in errors. Throws ProfileError. */
export function parseProfile(text: string, file: string): Profile {
  const r = checkProfileText(text, file);
  if (r.issues.length > 0) throw new ProfileError(r.issues);
  return r.profile!;
}

/** Reads a profile file (YAML). Throws ProfileError for bad content, Error for an unreadable file. */
export function loadProfile(path: string): Profile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read profile ${path}: ${(e as Error).message}`);
  }
  return parseProfile(text, path);
}

export const SHIPPED_PROFILES = ["x86-64", "arm64-v8.0", "arm64-v8.1-lse", "riscv64"] as const;
export type ShippedProfile = (typeof SHIPPED_PROFILES)[number];

/** Path of a profile that ships with vxsim (profiles/<name>.yaml at the package root). */
export function shippedProfilePath(name: ShippedProfile): string {
  return fileURLToPath(new URL(`../../profiles/${name}.yaml`, import.meta.url));
}

/** Loads a profile that ships with vxsim, by name. */
export function loadShippedProfile(name: string): Profile {
  if (!(SHIPPED_PROFILES as readonly string[]).includes(name)) {
    throw new Error(`no shipped profile '${name}' (shipped: ${SHIPPED_PROFILES.join(", ")})`);
  }
  return loadProfile(shippedProfilePath(name as ShippedProfile));
}

/** Cycles of one primitive; throws if the profile says it does not apply to its architecture. */
export function primitiveCycles(p: Profile, prim: Primitive): number {
  const f = p.primitives[prim];
  if (f.cycles === null) {
    throw new Error(`profile ${p.name}: primitive '${prim}' does not apply to ${p.arch} (${f.why})`);
  }
  return f.cycles;
}

/** Cycles of one copy of `bytes` bytes: linear interpolation between the profile's points;
 *  at most the first point's time below it (a copy is never cheaper than the smallest one
 *  measured), and the last point's bytes per cycle above it. Monotone in bytes. */
export function copyCycles(p: Profile, bytes: number): number {
  if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new RangeError(`copy size must be a finite number >= 0, got ${bytes}`);
  if (bytes === 0) return 0;
  const pts = p.copy;
  const first = pts[0]!;
  if (bytes <= first.bytes) return first.cycles;
  for (let i = 1; i < pts.length; i++) {
    const b = pts[i]!;
    if (bytes <= b.bytes) {
      const a = pts[i - 1]!;
      return a.cycles + ((b.cycles - a.cycles) * (bytes - a.bytes)) / (b.bytes - a.bytes);
    }
  }
  const last = pts[pts.length - 1]!;
  return (last.cycles * bytes) / last.bytes;
}

/** The price of one copy in size bucket `k` (src/wasm/copy-buckets.ts): `perOp + perByte x len`
 *  cycles for a copy of `len` bytes. Inside a bucket (lo, hi] that is the line through
 *  copyCycles(lo) and copyCycles(hi), so it equals copyCycles wherever the profile's points are
 *  among the bucket limits (every shipped profile); the first bucket costs copyCycles(its
 *  limit) whatever the length, and the last one runs at the bandwidth of its lower limit. */
export function copyBucketCycles(p: Profile, k: number): { perOp: number; perByte: number } {
  const n = COPY_BUCKET_MAX.length;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`copy bucket must be an integer in 0..${n}, got ${k}`);
  if (k === 0) return { perOp: copyCycles(p, COPY_BUCKET_MAX[0]!), perByte: 0 };
  const lo = COPY_BUCKET_MAX[k - 1]!;
  if (k === n) return { perOp: 0, perByte: copyCycles(p, lo) / lo };
  const hi = COPY_BUCKET_MAX[k]!;
  const perByte = (copyCycles(p, hi) - copyCycles(p, lo)) / (hi - lo);
  return { perOp: copyCycles(p, lo) - perByte * lo, perByte };
}

/** Nanoseconds for `cycles` at the profile's clock. */
export function cyclesToNs(p: Profile, cycles: number): number {
  return cycles / p.clockGHz;
}
