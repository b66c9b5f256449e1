// copy_from_guest / copy_to_guest for hypercall arguments: a struct read from or written to the
// caller's guest-physical memory, rights-checked by the machine. A refused access is -EFAULT.
import type { Machine } from "../wasm/machine.ts";
import { MST_OK } from "../wasm/layout.ts";

/** A guest handle or address read from a struct: exact as a number only below 2^53. */
export function handleToGpa(h: bigint): number | undefined {
  return h < 2n ** 53n ? Number(h) : undefined;
}

/** Reads `len` bytes of the caller's memory at `gpa`; undefined when the access is refused. */
export function copyFromGuest(m: Machine, domid: number, gpa: number | bigint, len: number): DataView | undefined {
  const a = typeof gpa === "bigint" ? handleToGpa(gpa) : gpa;
  if (a === undefined || !Number.isSafeInteger(a) || a < 0) return undefined;
  const buf = new Uint8Array(len);
  if (m.tryRead(domid, a, buf) !== MST_OK) return undefined;
  return new DataView(buf.buffer);
}

/** Writes `dv` (or its sub-range [off, off+len)) back to the caller's memory at `gpa + off`. */
export function copyToGuest(m: Machine, domid: number, gpa: number | bigint, dv: DataView, off = 0, len = dv.byteLength - off): boolean {
  const a = typeof gpa === "bigint" ? handleToGpa(gpa) : gpa;
  if (a === undefined || !Number.isSafeInteger(a) || a < 0) return false;
  const bytes = new Uint8Array(dv.buffer, dv.byteOffset + off, len);
  return m.tryWrite(domid, a + off, bytes) === MST_OK;
}
