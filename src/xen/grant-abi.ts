// What the grant model needs beyond the header-checked ABI in layout.ts (GNTTABOP_*, GTF_*,
// GNTMAP_*, GNTST_*, the argument structs): Xen's internal limits and defaults, the status
// names, and Linux's encoding of grant DMA addresses.
import * as L from "../wasm/layout.ts";

/** Unmaps are processed in batches this size, with one TLB flush per batch (GNTTAB_UNMAP_BATCH_SIZE). */
export const GNTTAB_UNMAP_BATCH_SIZE = 32;
/** v1 entries per 4 KiB table frame. */
export const GNT_ENTRIES_PER_FRAME = L.PAGE_SIZE / L.GRANT_ENTRY_V1_SIZE;
/** Xen's default gnttab_max_frames and gnttab_max_maptrack_frames. */
export const GNTTAB_DEFAULT_MAX_FRAMES = 64;
export const GNTTAB_DEFAULT_MAX_MAPTRACK_FRAMES = 1024;
/** Xen starts every table with this many frames (INITIAL_NR_GRANT_FRAMES). */
export const GNTTAB_INITIAL_FRAMES = 1;
/** struct grant_mapping is 16 bytes: 256 maptrack handles per frame. */
export const MAPTRACK_PER_FRAME = 256;
/** The v1 entry's flags and domid as Xen reads them: one little-endian 32-bit word at flags. */
export const GNT_DOMID_SHIFT = 8 * (L.GRANT_ENTRY_V1_DOMID - L.GRANT_ENTRY_V1_FLAGS);
export const gntWordFlags = (w: number): number => w & ((1 << GNT_DOMID_SHIFT) - 1);
export const gntWordDomid = (w: number): number => w >>> GNT_DOMID_SHIFT;
export const gntWord = (flags: number, domid: number): number => (domid * 2 ** GNT_DOMID_SHIFT + flags) >>> 0;
/** Written into frame_list for a table frame the guest has not placed in its p2m (Xen's INVALID_GFN). */
export const INVALID_GFN = 2n ** 64n - 1n;

const GNTST_NAMES = [
  "okay", "general_error", "bad_domain", "bad_gntref", "bad_handle", "bad_virt_addr", "bad_dev_addr",
  "no_device_space", "permission_denied", "bad_page", "bad_copy_arg", "address_too_big", "eagain", "no_space",
];
/** "GNTST_bad_gntref" for GNTST_BAD_GNTREF (-3). */
export function gntstName(st: number): string {
  return `GNTST_${GNTST_NAMES[-st] ?? st}`;
}

// ---- grant DMA addresses (Linux xen-grant-dma-ops) -------------------------------------------
/** Bit 63 marks a DMA address as (gref << 12 | offset). */
export const XEN_GRANT_DMA_ADDR_OFF = 1n << 63n;
