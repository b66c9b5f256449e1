// The self-describing 512-byte sector a block workload writes: a 24-byte header naming the
// job (its pattern key), the sector and the write's generation, a CRC-32C, then a fill that
// is a pure function of (key, sector, generation). A read is checked against the stamp the
// verification map predicts; on a mismatch the header of what came back tells why (another
// sector's data, an older write, a write the job never made, or damage).
import { SECTOR } from "./blk-request.ts";
import { comparePattern, crc32c, fillPattern, getU32, mix32, patternState, putU32 } from "./pattern.ts";

/** "vxwl" little-endian. */
export const STAMP_MAGIC = 0x6c777876;
/** magic, key, sector lo, sector hi, generation, crc. */
export const STAMP_HEADER = 24;
const CRC_AT = 20;

/** What a never-written sector held (512 bytes); the default image is zeroes. */
export type InitialImage = (sector: number) => Uint8Array;

export const zeroImage: InitialImage = () => new Uint8Array(SECTOR);

function fillState(key: number, sector: number, gen: number): number {
  return patternState(key, sector >>> 0, (mix32(gen) ^ Math.floor(sector / 2 ** 32)) >>> 0);
}

/** Writes the stamp of (key, sector, gen) into out[at, at + 512). */
export function stampSector(key: number, sector: number, gen: number, out: Uint8Array, at: number): void {
  putU32(out, at, STAMP_MAGIC);
  putU32(out, at + 4, key);
  putU32(out, at + 8, sector >>> 0);
  putU32(out, at + 12, Math.floor(sector / 2 ** 32));
  putU32(out, at + 16, gen);
  fillPattern(fillState(key, sector, gen), 0, SECTOR - STAMP_HEADER, out, at + STAMP_HEADER);
  putU32(out, at + CRC_AT, stampCrc(out, at));
}

function stampCrc(b: Uint8Array, at: number): number {
  return crc32c(crc32c(0, b, at, at + CRC_AT), b, at + STAMP_HEADER, at + SECTOR);
}

export type SectorVerdict =
  | { kind: "ok" }
  /** A valid stamp of this job for another sector. */
  | { kind: "misplaced"; foundSector: number; foundGen: number }
  /** This sector's data from an older write (generation 0: the initial image, a lost write). */
  | { kind: "stale"; foundGen: number }
  /** A valid stamp for this sector from a write the map does not expect here. */
  | { kind: "phantom"; foundGen: number }
  /** Anything else; `byte` is the first differing byte within the sector. */
  | { kind: "corrupt"; byte: number };

/** A valid stamp of this job (any sector, any generation) at got[at], else undefined. */
function readStamp(key: number, got: Uint8Array, at: number): { sector: number; gen: number } | undefined {
  if (getU32(got, at) !== STAMP_MAGIC || getU32(got, at + 4) !== key) return undefined;
  if (getU32(got, at + CRC_AT) !== stampCrc(got, at)) return undefined;
  const sector = getU32(got, at + 8) + getU32(got, at + 12) * 2 ** 32;
  const gen = getU32(got, at + 16);
  if (comparePattern(fillState(key, sector, gen), 0, SECTOR - STAMP_HEADER, got, at + STAMP_HEADER) >= 0) return undefined;
  return { sector, gen };
}

function firstDiff(a: Uint8Array, at: number, b: Uint8Array): number {
  for (let i = 0; i < SECTOR; i++) if (a[at + i] !== b[i]) return i;
  return -1;
}

/** Checks got[at, at + 512) against what sector `sector` must hold at generation `gen`
 *  (0: never written, so the initial image). */
export function checkSector(key: number, sector: number, gen: number, got: Uint8Array, at: number, initial: InitialImage): SectorVerdict {
  let byte: number;
  if (gen === 0) {
    byte = firstDiff(got, at, initialSector(initial, sector));
    if (byte < 0) return { kind: "ok" };
  } else {
    stampSector(key, sector, gen, scratch, 0);
    byte = firstDiff(got, at, scratch);
    if (byte < 0) return { kind: "ok" };
  }
  const found = readStamp(key, got, at);
  if (found) {
    if (found.sector !== sector) return { kind: "misplaced", foundSector: found.sector, foundGen: found.gen };
    return found.gen < gen ? { kind: "stale", foundGen: found.gen } : { kind: "phantom", foundGen: found.gen };
  }
  if (gen > 0 && firstDiff(got, at, initialSector(initial, sector)) < 0) return { kind: "stale", foundGen: 0 };
  return { kind: "corrupt", byte };
}

const scratch = new Uint8Array(SECTOR);

function initialSector(initial: InitialImage, sector: number): Uint8Array {
  const s = initial(sector);
  if (s.length !== SECTOR) throw new RangeError(`initial image returned ${s.length} bytes for sector ${sector} (expected ${SECTOR})`);
  return s;
}
