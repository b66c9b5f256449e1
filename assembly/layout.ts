// The memory map of the machine and every constant the host must agree on.
// src/wasm/layout.ts mirrors this file; test/layout.test.ts checks that both agree
// (every `export const` here is a Wasm global the test reads back).
//
// Linear memory, low to high:
//   0x0000_0000  AssemblyScript static data (must end below FIXED_BASE; checked in machine_init)
//   COUNTERS     one u64 per counter id
//   DOMAINS      one 32-byte entry per domid slot
//   MACHINE      allocator state (bump pointer, free list)
//   QUEUES       one QUEUE_STATE_SIZE block per virtqueue
//   IO           the batch window: arguments and results crossing the host boundary
//   FRAME_TABLE  one 16-byte entry per machine frame (mfn)
//   POOL         the machine frames themselves; mfn n lives at POOL_BASE + n * 4096
// Memory grows on demand as frames are populated, up to the 4 GiB Wasm limit.

export const PAGE_SHIFT: u32 = 12;
export const PAGE_SIZE: u32 = 4096;
export const PAGE_MASK: u32 = PAGE_SIZE - 1;

export const FIXED_BASE: u32 = 0x10000;

export const COUNTERS_BASE: u32 = 0x10000;
export const COUNTERS_SLOTS: u32 = 1024; // u64 each: 8 KiB

export const DOMAINS_BASE: u32 = 0x12000;
export const DOMAIN_ENTRY_SIZE: u32 = 32;
export const MAX_DOMAINS: u32 = 1024; // domids 0..1023 are simulated

export const MACHINE_BASE: u32 = 0x1a000;
export const MACHINE_NEXT_MFN: u32 = 0; // u32: next never-used mfn (bump)
export const MACHINE_FREE_HEAD: u32 = 4; // u32: head of the free-frame list, 0 = empty
export const MACHINE_FREE_COUNT: u32 = 8; // u32
export const MACHINE_LIMIT_MFN: u32 = 12; // u32: frames the host allows (<= MAX_FRAMES)
export const MACHINE_STATE_SIZE: u32 = 256;

export const QUEUES_BASE: u32 = 0x20000;
export const QUEUE_STATE_SIZE: u32 = 256;
export const MAX_QUEUES: u32 = 1024; // 256 KiB, ends at 0x60000

export const IO_BASE: u32 = 0x100000;
export const IO_SIZE: u32 = 0x300000; // 3 MiB, ends at 0x400000

export const FRAME_TABLE_BASE: u32 = 0x400000;
export const FRAME_ENTRY_SIZE: u32 = 16;
export const POOL_BASE: u32 = 0x1400000; // 20 MiB
// 4 GiB of linear memory minus the fixed part, in frames.
export const MAX_FRAMES: u32 = <u32>((<u64>0x100000000 - <u64>POOL_BASE) >> 12);

// ---- domains -----------------------------------------------------------------------------
// Xen's reserved ids (xen/include/public/xen.h).
export const DOMID_SELF: u32 = 0x7ff0;
export const DOMID_IO: u32 = 0x7ff1;
export const DOMID_XEN: u32 = 0x7ff2;
export const DOMID_COW: u32 = 0x7ff3;
export const DOMID_INVALID: u32 = 0x7ff4;

// Domain entry fields (offsets within a DOMAIN_ENTRY_SIZE block).
export const DOM_FLAGS: u32 = 0; // u32
export const DOM_P2M_TOP: u32 = 4; // u32 mfn of the top-level p2m page, 0 = none
export const DOM_RAM_PAGES: u32 = 8; // u32: gfns [0, ram_pages) are RAM (populated on demand)
export const DOM_MAX_GFN: u32 = 12; // u32: p2m capacity in gfns
export const DOM_POPULATED: u32 = 16; // u32: RAM frames this domain owns
export const DOM_MAPPED: u32 = 20; // u32: grant/foreign entries in its p2m

export const DOMF_EXISTS: u32 = 1;
export const DOMF_DYING: u32 = 2;

// ---- p2m ---------------------------------------------------------------------------------
// Two levels: a top page of 1024 entries, each naming a leaf page of 1024 entries, so one
// domain has at most 2^20 gfns (4 GiB of guest-physical space).
export const P2M_LEVEL_BITS: u32 = 10;
export const P2M_MAX_GFNS: u32 = 1 << 20;
// Entry: mfn << 8 | flags. 0 = nothing mapped.
export const P2M_MFN_SHIFT: u32 = 8;
export const P2M_TYPE_MASK: u32 = 0xf;
export const P2M_RAM: u32 = 1; // the domain's own frame
export const P2M_GRANT: u32 = 2; // a frame granted to this domain (grant map)
export const P2M_FOREIGN: u32 = 3; // another domain's frame mapped with foreign-map privilege
export const P2M_XEN: u32 = 4; // a Xen-owned frame shared with the guest (grant table, shared_info)
export const P2MF_RO: u32 = 0x10; // mapping is read-only
export const P2MF_ACCESSED: u32 = 0x20; // set on first access (Accessed bit; TLB-flush elision)
export const P2MF_DIRTY: u32 = 0x40; // set on first write

// ---- frames ------------------------------------------------------------------------------
export const FRAME_OWNER: u32 = 0; // u16 domid
export const FRAME_KIND: u32 = 2; // u8
export const FRAME_FLAGS: u32 = 3; // u8
export const FRAME_REFS: u32 = 4; // u32 references held by other domains' mappings
export const FRAME_GFN: u32 = 8; // u32 gfn in the owner's p2m
export const FRAME_NEXT_FREE: u32 = 12; // u32 free-list link

export const FRAME_FREE: u32 = 0;
export const FRAME_RAM: u32 = 1;
export const FRAME_P2M: u32 = 2;
export const FRAME_XEN: u32 = 3;
export const FRAME_ZERO: u32 = 4; // mfn 0: always reads as zeros, never written
export const FRAMEF_ORPHAN: u32 = 1; // owner destroyed while others still map it

// ---- machine status codes (negative i32 results) -----------------------------------------
export const MST_OK: i32 = 0;
export const MST_NO_DOMAIN: i32 = -1;
export const MST_NOT_MAPPED: i32 = -2;
export const MST_READ_ONLY: i32 = -3;
export const MST_NOT_OWNER: i32 = -4;
export const MST_NO_MEMORY: i32 = -5;
export const MST_RANGE: i32 = -6;
export const MST_BAD_ARG: i32 = -7;
export const MST_EXISTS: i32 = -8;
export const MST_BAD_MFN: i32 = -9;
export const MST_BUSY: i32 = -10;

// ---- counters ----------------------------------------------------------------------------
// Ranges: machine 0..63, virtqueue 64..127, virtqueue errors by code 128..191,
// xen 192..447, transports/devices 448..1023.
export const CNT_GUEST_READS: u32 = 0;
export const CNT_GUEST_READ_BYTES: u32 = 1;
export const CNT_GUEST_WRITES: u32 = 2;
export const CNT_GUEST_WRITE_BYTES: u32 = 3;
export const CNT_COPIES: u32 = 4;
export const CNT_COPY_BYTES: u32 = 5;
export const CNT_FRAMES_POPULATED: u32 = 6;
export const CNT_FRAMES_FREED: u32 = 7;
export const CNT_ACCESS_REFUSED: u32 = 8; // any refused access, whatever the reason
export const CNT_REFUSED_NOT_MAPPED: u32 = 9;
export const CNT_REFUSED_READ_ONLY: u32 = 10;
export const CNT_REFUSED_NOT_OWNER: u32 = 11;
export const CNT_REFUSED_NO_DOMAIN: u32 = 12;
export const CNT_REFUSED_RANGE: u32 = 13;
export const CNT_P2M_MAPS: u32 = 14;
export const CNT_P2M_UNMAPS: u32 = 15;
export const CNT_MFN_READ_BYTES: u32 = 16; // hypervisor accesses by mfn
export const CNT_MFN_WRITE_BYTES: u32 = 17;

export const CNT_VIRTQ_BASE: u32 = 64;
export const CNT_VIRTQ_ERR_BASE: u32 = 128;
export const CNT_XEN_BASE: u32 = 192;
export const CNT_TRANSPORT_BASE: u32 = 448;
