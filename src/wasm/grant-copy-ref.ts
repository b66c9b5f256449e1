// Plain-TS reference of assembly/xen/grant-copy.ts (same checks, same order), counting into a
// host counters array laid out like the Wasm block.
import type { Machine } from "./machine.ts";
import * as L from "./layout.ts";
import { countCopy } from "./copy-buckets.ts";
import type { HostCounters } from "./ts-guest-memory.ts";

function frameCheck(m: Machine, mfn: number, dom: number): number {
  const dv = m.dv;
  const next = dv.getUint32(L.MACHINE_BASE + L.MACHINE_NEXT_MFN, true);
  if (mfn === 0 || mfn >= next) return L.MST_BAD_MFN;
  const e = L.FRAME_TABLE_BASE + mfn * L.FRAME_ENTRY_SIZE;
  if (dv.getUint8(e + L.FRAME_KIND) !== L.FRAME_RAM) return L.MST_BAD_MFN;
  if (dv.getUint16(e + L.FRAME_OWNER, true) !== dom || (dv.getUint8(e + L.FRAME_FLAGS) & L.FRAMEF_ORPHAN) !== 0) {
    return L.MST_NOT_OWNER;
  }
  return L.MST_OK;
}

/** Runs `n` records laid out as GCOPY_* in `recs`; returns their statuses. */
export function copyRecordsRef(m: Machine, recs: DataView, n: number, c: HostCounters): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = i * L.GCOPY_REC_SIZE;
    const src = recs.getUint32(r + L.GCOPY_SRC_MFN, true);
    const dst = recs.getUint32(r + L.GCOPY_DST_MFN, true);
    const so = recs.getUint16(r + L.GCOPY_SRC_OFF, true);
    const dof = recs.getUint16(r + L.GCOPY_DST_OFF, true);
    const len = recs.getUint16(r + L.GCOPY_LEN, true);
    let st = L.MST_OK;
    if (so + len > L.PAGE_SIZE || dof + len > L.PAGE_SIZE) st = L.MST_RANGE;
    if (st === L.MST_OK) st = frameCheck(m, src, recs.getUint16(r + L.GCOPY_SRC_DOM, true));
    if (st === L.MST_OK) st = frameCheck(m, dst, recs.getUint16(r + L.GCOPY_DST_DOM, true));
    out[i] = st;
    if (st !== L.MST_OK) {
      c[L.CNT_GNT_COPY_REFUSED]!++;
      continue;
    }
    const u8 = m.u8;
    const s = L.POOL_BASE + src * L.PAGE_SIZE + so;
    u8.copyWithin(L.POOL_BASE + dst * L.PAGE_SIZE + dof, s, s + len);
    c[L.CNT_GNT_COPIES]!++;
    c[L.CNT_GNT_COPY_BYTES]! += len;
    countCopy(c, L.CNT_HV_COPIES_BASE, L.CNT_HV_COPY_BYTES_BASE, len);
  }
  return out;
}
