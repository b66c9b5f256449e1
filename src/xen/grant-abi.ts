// The grant-table ABI as a guest sees it (xen/include/public/grant_table.h, memory.h; x86_64
// and arm64 layouts, little-endian). Everything the grant model reads from or writes to guest
// memory is named here, in one place.

// ---- hypercall commands --------------------------------------------------------------------
export const GNTTABOP_map_grant_ref = 0;
export const GNTTABOP_unmap_grant_ref = 1;
export const GNTTABOP_setup_table = 2;
export const GNTTABOP_dump_table = 3;
export const GNTTABOP_transfer = 4;
export const GNTTABOP_copy = 5;
export const GNTTABOP_query_size = 6;
export const GNTTABOP_unmap_and_replace = 7;
export const GNTTABOP_set_version = 8;
export const GNTTABOP_get_status_frames = 9;
export const GNTTABOP_get_version = 10;
export const GNTTABOP_swap_grant_ref = 11;
export const GNTTABOP_cache_flush = 12;

/** Unmaps are processed in batches this size, with one TLB flush per batch. */
export const GNTTAB_UNMAP_BATCH_SIZE = 32;

// ---- v1 shared entry (grant_entry_v1_t, 8 bytes, 512 per 4 KiB frame) ------------------------
export const GNT_ENTRY_SIZE = 8;
export const GNT_ENTRY_FLAGS = 0; // u16
export const GNT_ENTRY_DOMID = 2; // u16
export const GNT_ENTRY_FRAME = 4; // u32 gfn
export const GNT_ENTRIES_PER_FRAME = 512;
export const GNTTAB_NR_RESERVED_ENTRIES = 8;
export const GNTTAB_RESERVED_CONSOLE = 0;
export const GNTTAB_RESERVED_XENSTORE = 1;
/** Xen's default gnttab_max_frames and gnttab_max_maptrack_frames. */
export const GNTTAB_DEFAULT_MAX_FRAMES = 64;
export const GNTTAB_DEFAULT_MAX_MAPTRACK_FRAMES = 1024;
/** Xen starts every table with this many frames (INITIAL_NR_GRANT_FRAMES). */
export const GNTTAB_INITIAL_FRAMES = 1;
/** struct grant_mapping is 16 bytes: 256 maptrack handles per frame. */
export const MAPTRACK_PER_FRAME = 256;

// ---- GTF_* flags -----------------------------------------------------------------------------
export const GTF_invalid = 0;
export const GTF_permit_access = 1;
export const GTF_accept_transfer = 2;
export const GTF_transitive = 3;
export const GTF_type_mask = 3;
export const GTF_readonly = 0x4;
export const GTF_reading = 0x8;
export const GTF_writing = 0x10;
export const GTF_PWT = 0x20;
export const GTF_PCD = 0x40;
export const GTF_PAT = 0x80;
export const GTF_sub_page = 0x100;

// ---- GNTMAP_* --------------------------------------------------------------------------------
export const GNTMAP_device_map = 1 << 0;
export const GNTMAP_host_map = 1 << 1;
export const GNTMAP_readonly = 1 << 2;
export const GNTMAP_application_map = 1 << 3;
export const GNTMAP_contains_pte = 1 << 4;

// ---- GNTCOPY_* -------------------------------------------------------------------------------
export const GNTCOPY_source_gref = 1;
export const GNTCOPY_dest_gref = 2;

// ---- GNTST_* status codes --------------------------------------------------------------------
export const GNTST_okay = 0;
export const GNTST_general_error = -1;
export const GNTST_bad_domain = -2;
export const GNTST_bad_gntref = -3;
export const GNTST_bad_handle = -4;
export const GNTST_bad_virt_addr = -5;
export const GNTST_bad_dev_addr = -6;
export const GNTST_no_device_space = -7;
export const GNTST_permission_denied = -8;
export const GNTST_bad_page = -9;
export const GNTST_bad_copy_arg = -10;
export const GNTST_address_too_big = -11;
export const GNTST_eagain = -12;
export const GNTST_no_space = -13;

const GNTST_NAMES = [
  "okay", "general_error", "bad_domain", "bad_gntref", "bad_handle", "bad_virt_addr", "bad_dev_addr",
  "no_device_space", "permission_denied", "bad_page", "bad_copy_arg", "address_too_big", "eagain", "no_space",
];
/** "GNTST_bad_gntref" for -3. */
export function gntstName(st: number): string {
  return `GNTST_${GNTST_NAMES[-st] ?? st}`;
}

// ---- argument structures (offsets in bytes) --------------------------------------------------
// struct gnttab_map_grant_ref
export const MAP_SIZE = 32;
export const MAP_HOST_ADDR = 0; // u64 in: grantee gpa (HVM/PVH/Arm grantees)
export const MAP_FLAGS = 8; // u32 in: GNTMAP_*
export const MAP_REF = 12; // u32 in
export const MAP_DOM = 16; // u16 in: granter
export const MAP_STATUS = 18; // i16 out
export const MAP_HANDLE = 20; // u32 out
export const MAP_DEV_BUS_ADDR = 24; // u64 out

// struct gnttab_unmap_grant_ref
export const UNMAP_SIZE = 24;
export const UNMAP_HOST_ADDR = 0; // u64 in
export const UNMAP_DEV_BUS_ADDR = 8; // u64 in
export const UNMAP_HANDLE = 16; // u32 in
export const UNMAP_STATUS = 20; // i16 out

// struct gnttab_setup_table
export const SETUP_SIZE = 24;
export const SETUP_DOM = 0; // u16 in
export const SETUP_NR_FRAMES = 4; // u32 in
export const SETUP_STATUS = 8; // i16 out
export const SETUP_FRAME_LIST = 16; // u64 in: guest address of nr_frames xen_pfn_t (u64) slots
export const XEN_PFN_SIZE = 8;
/** Written into frame_list for a table frame the guest has not placed in its p2m. */
export const INVALID_GFN = 2n ** 64n - 1n;

// struct gnttab_query_size
export const QUERY_SIZE = 16;
export const QUERY_DOM = 0; // u16 in
export const QUERY_NR_FRAMES = 4; // u32 out
export const QUERY_MAX_NR_FRAMES = 8; // u32 out
export const QUERY_STATUS = 12; // i16 out

// struct gnttab_copy
export const COPY_SIZE = 40;
export const COPY_SRC_REF = 0; // u32 (union with gmfn)
export const COPY_SRC_GMFN = 0; // u64
export const COPY_SRC_DOMID = 8; // u16
export const COPY_SRC_OFFSET = 10; // u16
export const COPY_DST_REF = 16;
export const COPY_DST_GMFN = 16;
export const COPY_DST_DOMID = 24;
export const COPY_DST_OFFSET = 26;
export const COPY_LEN = 32; // u16
export const COPY_FLAGS = 34; // u16 GNTCOPY_*
export const COPY_STATUS = 36; // i16 out

// struct xen_add_to_physmap (XENMEM_add_to_physmap)
export const XENMEM_add_to_physmap = 7;
export const XENMAPSPACE_grant_table = 1;
export const XENMAPIDX_grant_table_status = 0x80000000;
export const ATP_SIZE = 24;
export const ATP_DOMID = 0; // u16
export const ATP_SIZE_FIELD = 2; // u16 (batch size; unused here)
export const ATP_SPACE = 4; // u32 XENMAPSPACE_*
export const ATP_IDX = 8; // xen_ulong_t (u64)
export const ATP_GPFN = 16; // xen_pfn_t (u64)

// ---- grant DMA addresses (Linux xen-grant-dma-ops) -------------------------------------------
/** Bit 63 marks a DMA address as (gref << 12 | offset). */
export const XEN_GRANT_DMA_ADDR_OFF = 1n << 63n;
