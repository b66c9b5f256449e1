// The ids a configuration may name (DESIGN.md vocabulary) and the unit syntax of sizes.
// Parsers return undefined on bad input; callers turn that into a ConfigError
// with the location they know.

import { TRANSPORTS, TRANSPORT_VARIANT_NAMES, type TransportChoice } from "../transports/registry.ts";
import { TRANSPORT_IDS, type TransportId } from "../transports/types.ts";
import type { ArgoVariant } from "../transports/argo.ts";

export { TRANSPORT_IDS, type TransportId, type TransportChoice, type ArgoVariant };

/** Every spelling a user may write (each id, and `id:variant` for a transport with variants), sorted for messages. */
export const TRANSPORT_SPELLINGS: readonly string[] = [...TRANSPORT_IDS, ...TRANSPORT_VARIANT_NAMES.filter((n) => n.includes(":"))].sort();

/** `grant-map`, `argo` (its first variant), `argo:sg`, `argo:buffered`. */
export function parseTransport(text: string): TransportChoice | undefined {
  const [id, variant, extra] = text.split(":");
  if (extra !== undefined || !(TRANSPORT_IDS as readonly string[]).includes(id!)) return undefined;
  const variants = TRANSPORTS[id as TransportId].variants;
  if (!variants) return variant === undefined ? { id: id as TransportId } : undefined;
  if (variant === undefined) return { id: id as TransportId, variant: variants[0] as ArgoVariant };
  return variants.includes(variant) ? { id: id as TransportId, variant: variant as ArgoVariant } : undefined;
}

export function transportName(t: TransportChoice): string {
  return t.variant ? `${t.id}:${t.variant}` : t.id;
}

/** Architectures; each has a built-in cost profile of the same id. */
export const ARCHES = ["x86-64", "arm64-v8.0", "arm64-v8.1-lse", "riscv64"] as const;
export type Arch = (typeof ARCHES)[number];

export const isArch = (s: string): s is Arch => (ARCHES as readonly string[]).includes(s);

/** Guests on Arm and RISC-V Xen are PVH-style; PV and HVM exist on x86 only. */
export const isX86 = (a: Arch): boolean => a === "x86-64";

export type DeviceKind = "blk" | "net" | "rng";

/** Virtio device ids (virtio spec 5) of the devices vxsim simulates. */
export const VIRTIO_DEVICE_IDS: Readonly<Record<number, DeviceKind>> = { 1: "net", 2: "blk", 4: "rng" };

const SIZE_UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** Bytes: an integer, or digits with a binary suffix K/M/G/T (either case, optional `iB`/`B`),
 *  as fio reads `bs=4k`. Results above 2^53 are refused. */
export function parseSize(v: string | number): number | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  const m = /^([0-9]+)\s*([kKmMgGtT]?)(?:i?[bB])?$/.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
  return Number.isSafeInteger(n) ? n : undefined;
}

export const SIZE_SYNTAX = "bytes, or a number with a K, M, G or T suffix such as 4k or 64M";
