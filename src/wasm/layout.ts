// Mirror of assembly/layout.ts for the host. test/layout.test.ts checks every value against
// the Wasm module's exported globals, so the two files cannot drift apart unnoticed.

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

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PAGE_MASK = PAGE_SIZE - 1;

export const FIXED_BASE = 0x10000;

export const COUNTERS_BASE = 0x10000;
export const COUNTERS_SLOTS = 1024; // u64 each: 8 KiB

export const DOMAINS_BASE = 0x12000;
export const DOMAIN_ENTRY_SIZE = 32;
export const MAX_DOMAINS = 1024; // domids 0..1023 are simulated

export const MACHINE_BASE = 0x1a000;
export const MACHINE_NEXT_MFN = 0; // u32: next never-used mfn (bump)
export const MACHINE_FREE_HEAD = 4; // u32: head of the free-frame list, 0 = empty
export const MACHINE_FREE_COUNT = 8; // u32
export const MACHINE_LIMIT_MFN = 12; // u32: frames the host allows (<= MAX_FRAMES)
export const MACHINE_STATE_SIZE = 256;

export const QUEUES_BASE = 0x20000;
export const QUEUE_STATE_SIZE = 256;
export const MAX_QUEUES = 1024; // 256 KiB, ends at 0x60000

export const IO_BASE = 0x100000;
export const IO_SIZE = 0x300000; // 3 MiB, ends at 0x400000

export const FRAME_TABLE_BASE = 0x400000;
export const FRAME_ENTRY_SIZE = 16;
export const POOL_BASE = 0x1400000; // 20 MiB
// 4 GiB of linear memory minus the fixed part, in frames.
export const MAX_FRAMES = (0x1_0000_0000 - POOL_BASE) / PAGE_SIZE;

// ---- domains -----------------------------------------------------------------------------
// Xen's reserved ids (xen/include/public/xen.h).
export const DOMID_SELF = 0x7ff0;
export const DOMID_IO = 0x7ff1;
export const DOMID_XEN = 0x7ff2;
export const DOMID_COW = 0x7ff3;
export const DOMID_INVALID = 0x7ff4;

// Domain entry fields (offsets within a DOMAIN_ENTRY_SIZE block).
export const DOM_FLAGS = 0; // u32
export const DOM_P2M_TOP = 4; // u32 mfn of the top-level p2m page, 0 = none
export const DOM_RAM_PAGES = 8; // u32: gfns [0, ram_pages) are RAM (populated on demand)
export const DOM_MAX_GFN = 12; // u32: p2m capacity in gfns
export const DOM_POPULATED = 16; // u32: RAM frames this domain owns
export const DOM_MAPPED = 20; // u32: grant/foreign entries in its p2m

export const DOMF_EXISTS = 1;
export const DOMF_DYING = 2;

// ---- p2m ---------------------------------------------------------------------------------
// Two levels: a top page of 1024 entries, each naming a leaf page of 1024 entries, so one
// domain has at most 2^20 gfns (4 GiB of guest-physical space).
export const P2M_LEVEL_BITS = 10;
export const P2M_MAX_GFNS = 1 << 20;
// Entry: mfn << 8 | flags. 0 = nothing mapped.
export const P2M_MFN_SHIFT = 8;
export const P2M_TYPE_MASK = 0xf;
export const P2M_RAM = 1; // the domain's own frame
export const P2M_GRANT = 2; // a frame granted to this domain (grant map)
export const P2M_FOREIGN = 3; // another domain's frame mapped with foreign-map privilege
export const P2M_XEN = 4; // a Xen-owned frame shared with the guest (grant table, shared_info)
export const P2MF_RO = 0x10; // mapping is read-only
export const P2MF_ACCESSED = 0x20; // set on first access (Accessed bit; TLB-flush elision)
export const P2MF_DIRTY = 0x40; // set on first write

// ---- frames ------------------------------------------------------------------------------
export const FRAME_OWNER = 0; // u16 domid
export const FRAME_KIND = 2; // u8
export const FRAME_FLAGS = 3; // u8
export const FRAME_REFS = 4; // u32 references held by other domains' mappings
export const FRAME_GFN = 8; // u32 gfn in the owner's p2m
export const FRAME_NEXT_FREE = 12; // u32 free-list link

export const FRAME_FREE = 0;
export const FRAME_RAM = 1;
export const FRAME_P2M = 2;
export const FRAME_XEN = 3;
export const FRAME_ZERO = 4; // mfn 0: always reads as zeros, never written
export const FRAMEF_ORPHAN = 1; // owner destroyed while others still map it

// ---- machine status codes (negative i32 results) -----------------------------------------
export const MST_OK = 0;
export const MST_NO_DOMAIN = -1;
export const MST_NOT_MAPPED = -2;
export const MST_READ_ONLY = -3;
export const MST_NOT_OWNER = -4;
export const MST_NO_MEMORY = -5;
export const MST_RANGE = -6;
export const MST_BAD_ARG = -7;
export const MST_EXISTS = -8;
export const MST_BAD_MFN = -9;
export const MST_BUSY = -10;

// ---- counters ----------------------------------------------------------------------------
// Ranges: machine 0..63, virtqueue 64..127, virtqueue errors by code 128..191,
// xen 192..447, transports/devices 448..1023.
export const CNT_GUEST_READS = 0;
export const CNT_GUEST_READ_BYTES = 1;
export const CNT_GUEST_WRITES = 2;
export const CNT_GUEST_WRITE_BYTES = 3;
export const CNT_COPIES = 4;
export const CNT_COPY_BYTES = 5;
export const CNT_FRAMES_POPULATED = 6;
export const CNT_FRAMES_FREED = 7;
export const CNT_ACCESS_REFUSED = 8; // any refused access, whatever the reason
export const CNT_REFUSED_NOT_MAPPED = 9;
export const CNT_REFUSED_READ_ONLY = 10;
export const CNT_REFUSED_NOT_OWNER = 11;
export const CNT_REFUSED_NO_DOMAIN = 12;
export const CNT_REFUSED_RANGE = 13;
export const CNT_P2M_MAPS = 14;
export const CNT_P2M_UNMAPS = 15;
export const CNT_MFN_READ_BYTES = 16; // hypervisor accesses by mfn
export const CNT_MFN_WRITE_BYTES = 17;

export const CNT_VIRTQ_BASE = 64;
export const CNT_VIRTQ_ERR_BASE = 128;
export const CNT_XEN_BASE = 192;
export const CNT_TRANSPORT_BASE = 448;
