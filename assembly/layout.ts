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
export const MACHINE_P2M_GEN: u32 = 16; // u32: bumped whenever a p2m entry changes (cache tag)
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

// ---- virtqueues ------------------------------------------------------------------------
// A queue state block (QUEUE_STATE_SIZE bytes at QUEUES_BASE + qid * QUEUE_STATE_SIZE) holds one
// side (driver or device) of one virtqueue, split or packed. Ring addresses are guest-physical
// addresses in the space of Q_RING_DOMID (the domain through which that side reaches the ring).
export const Q_FLAGS: u32 = 0; // u32 QF_*
export const Q_RING_DOMID: u32 = 4; // u32
export const Q_SIZE: u32 = 8; // u32 queue size (descriptors)
export const Q_ERROR: u32 = 12; // u32 first ring-level error code (VQ_E*), sticky until reset
export const Q_DESC: u32 = 16; // u64 descriptor area
export const Q_DRIVER: u32 = 24; // u64 driver area (split: avail ring; packed: driver event suppression)
export const Q_DEVICE: u32 = 32; // u64 device area (split: used ring; packed: device event suppression)
export const Q_NEXT_AVAIL: u32 = 40; // u16 device: next avail index to pop; driver: shadow avail idx
export const Q_NEXT_USED: u32 = 42; // u16 device: next used index to fill; driver: last used idx seen
export const Q_NUM_ADDED: u32 = 44; // u16 entries added since the last notification decision
export const Q_AVAIL_WRAP: u32 = 46; // u8 packed: wrap counter of the avail cursor
export const Q_USED_WRAP: u32 = 47; // u8 packed: wrap counter of the used cursor
export const Q_MAX_SEGS: u32 = 48; // u32 device segment limit for E19 (0 = Q)
export const Q_IN_FLIGHT: u32 = 52; // u32 chains popped and not yet completed
export const Q_BUF_DOMID: u32 = 56; // u32 domain whose RAM buffer addresses must fall in (E17), DOMID_INVALID = wrap check only
export const Q_AUX: u32 = 60; // u32 linear address of the side's private tables (host-allocated frames)
export const Q_FREE_HEAD: u32 = 64; // u16 driver: first free descriptor
export const Q_NUM_FREE: u32 = 66; // u16 driver: free descriptors
export const Q_SIGNALLED: u32 = 68; // u16 index at the last notification decision
export const Q_SIGNALLED_VALID: u32 = 70; // u8 1 once a decision was made since reset
export const Q_TLB: u32 = 128; // 4 entries x 16 bytes: ring translation cache (QTLB_*)
export const QTLB_ENTRIES: u32 = 4;
export const QTLB_ENTRY_SIZE: u32 = 16;
export const QTLB_TAG: u32 = 0; // u32 gfn + 1 (0 = empty)
export const QTLB_BASE: u32 = 4; // u32 linear address of the frame
export const QTLB_GEN: u32 = 8; // u32 MACHINE_P2M_GEN when filled
export const QTLB_WRITABLE: u32 = 12; // u32 1 if filled for write

export const QF_READY: u32 = 1 << 0;
export const QF_PACKED: u32 = 1 << 1;
export const QF_EVENT_IDX: u32 = 1 << 2;
export const QF_INDIRECT: u32 = 1 << 3;
export const QF_IN_ORDER: u32 = 1 << 4;
export const QF_BROKEN: u32 = 1 << 5; // a ring-level error was seen: device needs reset
export const QF_STRICT_E14: u32 = 1 << 6; // INDIRECT together with NEXT is an error (else NEXT ignored)
export const QF_STRICT_E16: u32 = 1 << 7; // a zero-length descriptor is an error
export const QF_STRICT_E19: u32 = 1 << 8; // more segments than Q_MAX_SEGS is an error
export const QF_DRIVER_OK: u32 = 1 << 9; // the device status has DRIVER_OK

// Error codes: the row number of virtio.md section 8 (E1..E27).
export const VQ_OK: u32 = 0;
export const VQ_E1_BAD_SIZE: u32 = 1;
export const VQ_E2_MISALIGNED: u32 = 2;
export const VQ_E3_RING_OUTSIDE_RAM: u32 = 3;
export const VQ_E4_NOT_READY: u32 = 4;
export const VQ_E5_AVAIL_IDX_JUMP: u32 = 5;
export const VQ_E6_TOO_MANY_IN_FLIGHT: u32 = 6;
export const VQ_E7_HEAD_OUT_OF_RANGE: u32 = 7;
export const VQ_E8_NEXT_OUT_OF_RANGE: u32 = 8;
export const VQ_E9_LOOP: u32 = 9;
export const VQ_E10_NESTED_INDIRECT: u32 = 10;
export const VQ_E11_BAD_INDIRECT_LEN: u32 = 11;
export const VQ_E12_INDIRECT_TOO_BIG: u32 = 12;
export const VQ_E13_INDIRECT_NOT_NEGOTIATED: u32 = 13;
export const VQ_E14_INDIRECT_WITH_NEXT: u32 = 14;
export const VQ_E15_READ_AFTER_WRITE: u32 = 15;
export const VQ_E16_ZERO_LENGTH: u32 = 16;
export const VQ_E17_BUFFER_OUTSIDE_RAM: u32 = 17;
export const VQ_E18_CHAIN_TOO_LONG_BYTES: u32 = 18;
export const VQ_E19_TOO_MANY_SEGMENTS: u32 = 19;
export const VQ_E20_WRONG_DIRECTION: u32 = 20;
export const VQ_E21_BAD_USED_ID: u32 = 21;
export const VQ_E22_USED_LEN_TOO_BIG: u32 = 22;
export const VQ_E26_PACKED: u32 = 26;
export const VQ_ENOSPC: u32 = 28; // driver: not enough free descriptors (not a ring error)

// Chain records written by a device-side pop into a caller-chosen output area:
// a 16-byte header followed by nsegs 16-byte segments.
export const CHAIN_HDR_SIZE: u32 = 16;
export const CHAIN_ID: u32 = 0; // u16 split: head index; packed: buffer id
export const CHAIN_NSEGS: u32 = 2; // u16 segments that follow
export const CHAIN_SLOTS: u32 = 4; // u16 ring slots the chain used (packed cursor advance)
export const CHAIN_FLAGS: u32 = 6; // u16 CHAINF_*
export const CHAIN_READABLE: u32 = 8; // u32 device-readable bytes
export const CHAIN_WRITABLE: u32 = 12; // u32 device-writable bytes
export const CHAINF_INDIRECT: u32 = 1;
export const SEG_SIZE: u32 = 16;
export const SEG_ADDR: u32 = 0; // u64 address as written in the descriptor
export const SEG_LEN: u32 = 8; // u32
export const SEG_FLAGS: u32 = 12; // u16 VRING_DESC_F_WRITE when device-writable

// Descriptor flags (linux/virtio_ring.h).
export const VRING_DESC_F_NEXT: u32 = 1;
export const VRING_DESC_F_WRITE: u32 = 2;
export const VRING_DESC_F_INDIRECT: u32 = 4;
export const VRING_PACKED_DESC_F_AVAIL: u32 = 1 << 7;
export const VRING_PACKED_DESC_F_USED: u32 = 1 << 15;
export const VRING_AVAIL_F_NO_INTERRUPT: u32 = 1;
export const VRING_USED_F_NO_NOTIFY: u32 = 1;
export const VRING_PACKED_EVENT_FLAG_ENABLE: u32 = 0;
export const VRING_PACKED_EVENT_FLAG_DISABLE: u32 = 1;
export const VRING_PACKED_EVENT_FLAG_DESC: u32 = 2;
export const VRING_PACKED_EVENT_F_WRAP_CTR: u32 = 15;
export const VIRTQ_MAX_SIZE: u32 = 32768;

// ---- packed virtqueue ----------------------------------------------------------------------
// Queue state fields only the packed kernels use (offsets 96..127 of a queue state block).
export const Q_PK_SLOTS_IN_FLIGHT: u32 = 96; // u32 device: ring slots popped and not yet covered by used descriptors
// Device aux area: one entry per possible buffer id (ids are any u16), indexed by id.
export const PK_DEV_IDS: u32 = 65536;
export const PK_DEV_ENTRY_SIZE: u32 = 8;
export const PK_DEV_AUX_BYTES: u32 = PK_DEV_IDS * PK_DEV_ENTRY_SIZE;
export const PK_ID_WRITABLE: u32 = 0; // u32 device-writable bytes of the outstanding buffer (saturated)
export const PK_ID_SLOTS: u32 = 4; // u16 ring slots it used; 0 = id not outstanding
export const PK_ID_HEAD: u32 = 6; // u16 slot of its first descriptor (in-order completion check)
// Driver aux area: Q entries indexed by buffer id (ids < Q), then one u16 per slot naming the
// id whose first descriptor sits there (in-order reclaim walks it).
export const PK_DRV_ENTRY_SIZE: u32 = 8;
export const PK_DRV_SLOTS: u32 = 0; // u16 slots the buffer uses; 0 = id free
export const PK_DRV_NEXT_FREE: u32 = 2; // u16 free-list link
export const PK_DRV_WRITABLE: u32 = 4; // u32 device-writable bytes (saturated): the len of a skipped in-order buffer
// Used records: the device's push input and the driver's reclaim output.
export const PK_USED_REC_SIZE: u32 = 8;
export const PK_USED_REC_ID: u32 = 0; // u32 buffer id
export const PK_USED_REC_LEN: u32 = 4; // u32 bytes written
// Driver add input: nsegs SEG_SIZE records (SEG_ADDR, SEG_LEN, SEG_FLAGS), readable first.
// Return codes of the driver add when no id is returned (negated): VQ_ENOSPC, or the queue's error.

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
export const CNT_VQ_CHAINS_ADDED: u32 = 64; // driver
export const CNT_VQ_DESCS_ADDED: u32 = 65;
export const CNT_VQ_CHAINS_POPPED: u32 = 66; // device
export const CNT_VQ_DESCS_POPPED: u32 = 67; // descriptors walked, indirect entries included
export const CNT_VQ_INDIRECT_TABLES: u32 = 68;
export const CNT_VQ_BYTES_READABLE: u32 = 69;
export const CNT_VQ_BYTES_WRITABLE: u32 = 70;
export const CNT_VQ_USED_PUSHED: u32 = 71;
export const CNT_VQ_USED_BYTES: u32 = 72;
export const CNT_VQ_CHAINS_RECLAIMED: u32 = 73; // driver
export const CNT_VQ_NOTIFY_SENT: u32 = 74; // driver -> device (kicks)
export const CNT_VQ_NOTIFY_SUPPRESSED: u32 = 75;
export const CNT_VQ_IRQ_SENT: u32 = 76; // device -> driver (used-buffer notifications)
export const CNT_VQ_IRQ_SUPPRESSED: u32 = 77;
export const CNT_VQ_ERRORS: u32 = 78; // ring-level errors (each also counted at CNT_VIRTQ_ERR_BASE + code)
export const CNT_VIRTQ_ERR_BASE: u32 = 128;
export const CNT_XEN_BASE: u32 = 192;
export const CNT_ATOMIC_OPS: u32 = 192; // guest-atomic RMW operations on shared memory
// Sub-ranges of the xen counters, one per subsystem (each defines its ids in its own range).
export const CNT_ATOMICS_BASE: u32 = 192; // ..199
export const CNT_GRANT_BASE: u32 = 200; // ..239
export const CNT_EVTCHN_BASE: u32 = 240; // ..263
export const CNT_IOREQ_BASE: u32 = 264; // ..287
export const CNT_FOREIGN_BASE: u32 = 288; // ..295
export const CNT_ARGO_BASE: u32 = 296; // ..335
export const CNT_XSM_BASE: u32 = 336; // ..351
export const CNT_XENSTORE_BASE: u32 = 352; // ..367
export const CNT_HYPERCALL_BASE: u32 = 368; // ..383 (hypercalls by class, domain lifecycle)
export const CNT_HYPERCALLS: u32 = 368; // every hypercall any domain made
export const CNT_XSM_DENIED: u32 = 336; // every XSM denial
export const CNT_TRANSPORT_BASE: u32 = 448;
