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

// ---- virtio ring ABI and features --------------------------------------------------------
// Checked against <linux/virtio_ring.h> and <linux/virtio_config.h> by test/vring-native.test.ts
// (gcc compiles a program against the real uapi headers). VRING_* above are masks, while uapi
// defines VRING_PACKED_DESC_F_AVAIL/USED as bit numbers: the test converts.
export const VRING_DESC_SIZE: u32 = 16; // struct vring_desc
export const VRING_DESC_ADDR: u32 = 0; // le64
export const VRING_DESC_LEN: u32 = 8; // le32
export const VRING_DESC_FLAGS: u32 = 12; // le16
export const VRING_DESC_NEXT: u32 = 14; // le16
export const VRING_AVAIL_FLAGS: u32 = 0; // struct vring_avail: le16
export const VRING_AVAIL_IDX: u32 = 2; // le16
export const VRING_AVAIL_RING: u32 = 4; // le16[num], then used_event
export const VRING_USED_FLAGS: u32 = 0; // struct vring_used: le16
export const VRING_USED_IDX: u32 = 2; // le16
export const VRING_USED_RING: u32 = 4; // vring_used_elem[num], then avail_event
export const VRING_USED_ELEM_SIZE: u32 = 8; // struct vring_used_elem
export const VRING_USED_ELEM_ID: u32 = 0; // le32
export const VRING_USED_ELEM_LEN: u32 = 4; // le32
export const VRING_PACKED_DESC_SIZE: u32 = 16; // struct vring_packed_desc
export const VRING_PACKED_DESC_ADDR: u32 = 0; // le64
export const VRING_PACKED_DESC_LEN: u32 = 8; // le32
export const VRING_PACKED_DESC_ID: u32 = 12; // le16
export const VRING_PACKED_DESC_FLAGS: u32 = 14; // le16
export const VRING_PACKED_DESC_EVENT_SIZE: u32 = 4; // struct vring_packed_desc_event
export const VRING_PACKED_DESC_EVENT_OFF_WRAP: u32 = 0; // le16
export const VRING_PACKED_DESC_EVENT_FLAGS: u32 = 2; // le16
export const VRING_AVAIL_ALIGN_SIZE: u32 = 2;
export const VRING_USED_ALIGN_SIZE: u32 = 4;
export const VRING_DESC_ALIGN_SIZE: u32 = 16;

// Feature bit numbers (device-independent, section 6 of the spec).
export const VIRTIO_F_NOTIFY_ON_EMPTY: u32 = 24; // legacy only
export const VIRTIO_F_ANY_LAYOUT: u32 = 27; // legacy only
export const VIRTIO_RING_F_INDIRECT_DESC: u32 = 28;
export const VIRTIO_RING_F_EVENT_IDX: u32 = 29;
export const VIRTIO_F_VERSION_1: u32 = 32;
export const VIRTIO_F_ACCESS_PLATFORM: u32 = 33;
export const VIRTIO_F_RING_PACKED: u32 = 34;
export const VIRTIO_F_IN_ORDER: u32 = 35;
export const VIRTIO_F_ORDER_PLATFORM: u32 = 36;
export const VIRTIO_F_SR_IOV: u32 = 37;
export const VIRTIO_F_NOTIFICATION_DATA: u32 = 38; // spec value; not in every uapi header
export const VIRTIO_F_RING_RESET: u32 = 40;
export const VIRTIO_TRANSPORT_F_START: u32 = 28;
export const VIRTIO_TRANSPORT_F_END: u32 = 41;

// ---- virtio devices: net and rng ---------------------------------------------------------
// Checked against <linux/virtio_ids.h> and <linux/virtio_net.h> by test/virtio-dev-native.test.ts.
// Names follow the uapi macros; struct fields follow the Xen-section rule (<STRUCT>_<FIELD>).
export const VIRTIO_ID_NET: u32 = 1;
export const VIRTIO_ID_RNG: u32 = 4;
// virtio-net feature bits (device-specific range 0..23, 50..127).
export const VIRTIO_NET_F_CSUM: u32 = 0; // device completes partial checksums (tx NEEDS_CSUM)
export const VIRTIO_NET_F_GUEST_CSUM: u32 = 1;
export const VIRTIO_NET_F_MTU: u32 = 3; // config mtu is valid
export const VIRTIO_NET_F_MAC: u32 = 5; // config mac is valid
export const VIRTIO_NET_F_GUEST_TSO4: u32 = 7;
export const VIRTIO_NET_F_GUEST_TSO6: u32 = 8;
export const VIRTIO_NET_F_GUEST_ECN: u32 = 9;
export const VIRTIO_NET_F_GUEST_UFO: u32 = 10;
export const VIRTIO_NET_F_HOST_TSO4: u32 = 11; // tx gso_type TCPV4 allowed
export const VIRTIO_NET_F_HOST_TSO6: u32 = 12; // tx gso_type TCPV6 allowed
export const VIRTIO_NET_F_HOST_ECN: u32 = 13; // tx gso ECN flag allowed
export const VIRTIO_NET_F_HOST_UFO: u32 = 14; // tx gso_type UDP allowed
export const VIRTIO_NET_F_MRG_RXBUF: u32 = 15; // one rx packet may span several buffers
export const VIRTIO_NET_F_STATUS: u32 = 16; // config status is valid
export const VIRTIO_NET_F_CTRL_VQ: u32 = 17;
export const VIRTIO_NET_F_MQ: u32 = 22;
export const VIRTIO_NET_F_HOST_USO: u32 = 56; // spec value (1.2); tx gso_type UDP_L4 allowed
export const VIRTIO_NET_S_LINK_UP: u32 = 1;
export const VIRTIO_NET_S_ANNOUNCE: u32 = 2;
// struct virtio_net_config (packed, little-endian with VERSION_1).
export const VIRTIO_NET_CONFIG_MAC: u32 = 0; // u8[6]
export const VIRTIO_NET_CONFIG_STATUS: u32 = 6; // le16
export const VIRTIO_NET_CONFIG_MAX_VIRTQUEUE_PAIRS: u32 = 8; // le16
export const VIRTIO_NET_CONFIG_MTU: u32 = 10; // le16
// struct virtio_net_hdr_v1: prefixes every packet on rx and tx once VERSION_1 is negotiated.
export const VIRTIO_NET_HDR_V1_SIZE: u32 = 12;
export const VIRTIO_NET_HDR_V1_FLAGS: u32 = 0; // u8 VIRTIO_NET_HDR_F_*
export const VIRTIO_NET_HDR_V1_GSO_TYPE: u32 = 1; // u8 VIRTIO_NET_HDR_GSO_*
export const VIRTIO_NET_HDR_V1_HDR_LEN: u32 = 2; // le16, a hint the device must not trust
export const VIRTIO_NET_HDR_V1_GSO_SIZE: u32 = 4; // le16
export const VIRTIO_NET_HDR_V1_CSUM_START: u32 = 6; // le16
export const VIRTIO_NET_HDR_V1_CSUM_OFFSET: u32 = 8; // le16
export const VIRTIO_NET_HDR_V1_NUM_BUFFERS: u32 = 10; // le16, rx: buffers this packet uses
// struct virtio_net_hdr: the legacy header (no VERSION_1, no MRG_RXBUF) lacks num_buffers.
export const VIRTIO_NET_HDR_SIZE: u32 = 10;
export const VIRTIO_NET_HDR_F_NEEDS_CSUM: u32 = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID: u32 = 2;
export const VIRTIO_NET_HDR_F_RSC_INFO: u32 = 4;
export const VIRTIO_NET_HDR_GSO_NONE: u32 = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4: u32 = 1;
export const VIRTIO_NET_HDR_GSO_UDP: u32 = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6: u32 = 4;
export const VIRTIO_NET_HDR_GSO_UDP_L4: u32 = 5; // spec value (1.2)
export const VIRTIO_NET_HDR_GSO_ECN: u32 = 0x80; // flag bit on top of the gso type

// ---- Xen ABI -----------------------------------------------------------------------------
// The Xen 4.17 public interface (xen/*.h) as vxsim models it. test/xen-layout.test.ts compiles
// a program against the real headers (libxen-dev) and checks every constant of this section;
// the structs below have the same layout on x86_64 and Arm64 unless marked. No other file
// writes a Xen ABI number: code names these constants (or aliases them as `= L.NAME`).
// Naming rule (so a name can be derived from the header):
//  - a macro keeps its Xen name, upper-cased, leading underscores dropped
//    (GTF_permit_access -> GTF_PERMIT_ACCESS, __HYPERVISOR_grant_table_op -> HYPERVISOR_GRANT_TABLE_OP).
//    GNTST_* are i32, negative as in Xen.
//  - a struct's prefix is its tag upper-cased, without a leading XEN_ or a trailing _GRANT_REF
//    (gnttab_map_grant_ref -> GNTTAB_MAP, xen_argo_ring -> ARGO_RING, struct ioreq -> IOREQ).
//  - <PREFIX>_SIZE is sizeof (a struct ending in a flexible array: its fixed header).
//  - <PREFIX>_<FIELD> is offsetof; nested members are joined with _ (the member itself gets a
//    constant too) and a union member named `u` is left out (gnttab_copy.source.u.ref ->
//    GNTTAB_COPY_SOURCE_REF); leading underscores dropped (ioreq._pad0 -> IOREQ_PAD0); a field
//    named `size` takes the suffix _OFF (IOREQ_SIZE_OFF) so it cannot clash with the struct size.
//  - a bit-field F: <PREFIX>_F_BYTE (byte offset), <PREFIX>_F_SHIFT (lowest bit in that byte),
//    <PREFIX>_F_BITS (width).
//  - where a struct's union `u` itself is needed: <PREFIX>_U (xen_dm_op.u -> DM_OP_U).
//  - enum constants like macros; a CamelCase one split into words at capitals
//    (XenbusStateInitWait -> XENBUS_STATE_INIT_WAIT).
//  - a scalar typedef: its name without xen_ and _t, plus _SIZE (xen_pfn_t -> PFN_SIZE).
//  - a function-like macro at argument 0: its name plus _0 (..._frame_ioreq(0) -> ..._FRAME_IOREQ_0).
// DOMID_SELF..DOMID_INVALID are in the domains section above; the test checks them too.
export const DOMID_FIRST_RESERVED: u32 = 0x7ff0;
export const DOMID_IDLE: u32 = 0x7fff;
export const DOMID_MASK: u32 = 0x7fff;

// errno.h (enum xen_errno): the values hypercalls return negated; the ones the model returns.
export const XEN_EPERM: u32 = 1;
export const XEN_ENOENT: u32 = 2;
export const XEN_ESRCH: u32 = 3;
export const XEN_EIO: u32 = 5;
export const XEN_E2BIG: u32 = 7;
export const XEN_EAGAIN: u32 = 11;
export const XEN_ENOMEM: u32 = 12;
export const XEN_EACCES: u32 = 13;
export const XEN_EFAULT: u32 = 14;
export const XEN_EBUSY: u32 = 16;
export const XEN_EEXIST: u32 = 17;
export const XEN_ENODEV: u32 = 19;
export const XEN_EINVAL: u32 = 22;
export const XEN_ENOSPC: u32 = 28;
export const XEN_ENOSYS: u32 = 38;
export const XEN_EMSGSIZE: u32 = 90;
export const XEN_EOPNOTSUPP: u32 = 95;
export const XEN_ECONNREFUSED: u32 = 111;

// Hypercall numbers (xen.h).
export const HYPERVISOR_MMU_UPDATE: u32 = 1;
export const HYPERVISOR_MEMORY_OP: u32 = 12;
export const HYPERVISOR_GRANT_TABLE_OP: u32 = 20;
export const HYPERVISOR_SCHED_OP: u32 = 29;
export const HYPERVISOR_EVENT_CHANNEL_OP: u32 = 32;
export const HYPERVISOR_HVM_OP: u32 = 34;
export const HYPERVISOR_ARGO_OP: u32 = 39;
export const HYPERVISOR_DM_OP: u32 = 41;

export const VIRQ_TIMER: u32 = 0; // per vCPU
export const VIRQ_ARGO: u32 = 11; // global
export const NR_VIRQS: u32 = 24;

// grant_table.h: the v1 entry, shared between the granting guest and Xen.
export const GRANT_ENTRY_V1_SIZE: u32 = 8;
export const GRANT_ENTRY_V1_FLAGS: u32 = 0; // u16 GTF_*; with domid, one 32-bit word Xen cmpxchgs
export const GRANT_ENTRY_V1_DOMID: u32 = 2; // u16 the one domain allowed to use the entry
export const GRANT_ENTRY_V1_FRAME: u32 = 4; // u32 gfn
export const GNTTAB_NR_RESERVED_ENTRIES: u32 = 8;
export const GNTTAB_RESERVED_CONSOLE: u32 = 0;
export const GNTTAB_RESERVED_XENSTORE: u32 = 1;

export const GTF_INVALID: u32 = 0;
export const GTF_PERMIT_ACCESS: u32 = 1;
export const GTF_ACCEPT_TRANSFER: u32 = 2;
export const GTF_TRANSITIVE: u32 = 3;
export const GTF_TYPE_MASK: u32 = 3;
export const GTF_READONLY: u32 = 0x4;
export const GTF_READING: u32 = 0x8; // set by Xen while pinned
export const GTF_WRITING: u32 = 0x10; // set by Xen while pinned writable
export const GTF_PWT: u32 = 0x20;
export const GTF_PCD: u32 = 0x40;
export const GTF_PAT: u32 = 0x80;
export const GTF_SUB_PAGE: u32 = 0x100;
export const GTF_TRANSFER_COMMITTED: u32 = 0x4;
export const GTF_TRANSFER_COMPLETED: u32 = 0x8;

export const GNTTABOP_MAP_GRANT_REF: u32 = 0;
export const GNTTABOP_UNMAP_GRANT_REF: u32 = 1;
export const GNTTABOP_SETUP_TABLE: u32 = 2;
export const GNTTABOP_DUMP_TABLE: u32 = 3;
export const GNTTABOP_TRANSFER: u32 = 4;
export const GNTTABOP_COPY: u32 = 5;
export const GNTTABOP_QUERY_SIZE: u32 = 6;
export const GNTTABOP_UNMAP_AND_REPLACE: u32 = 7;
export const GNTTABOP_SET_VERSION: u32 = 8;
export const GNTTABOP_GET_STATUS_FRAMES: u32 = 9;
export const GNTTABOP_GET_VERSION: u32 = 10;
export const GNTTABOP_SWAP_GRANT_REF: u32 = 11;
export const GNTTABOP_CACHE_FLUSH: u32 = 12;

export const GNTMAP_DEVICE_MAP: u32 = 1 << 0;
export const GNTMAP_HOST_MAP: u32 = 1 << 1;
export const GNTMAP_READONLY: u32 = 1 << 2;
export const GNTMAP_APPLICATION_MAP: u32 = 1 << 3;
export const GNTMAP_CONTAINS_PTE: u32 = 1 << 4;
export const GNTMAP_GUEST_AVAIL_MASK: u32 = 0xffff0000;

export const GNTCOPY_SOURCE_GREF: u32 = 1;
export const GNTCOPY_DEST_GREF: u32 = 2;

export const GNTST_OKAY: i32 = 0;
export const GNTST_GENERAL_ERROR: i32 = -1;
export const GNTST_BAD_DOMAIN: i32 = -2;
export const GNTST_BAD_GNTREF: i32 = -3;
export const GNTST_BAD_HANDLE: i32 = -4;
export const GNTST_BAD_VIRT_ADDR: i32 = -5;
export const GNTST_BAD_DEV_ADDR: i32 = -6;
export const GNTST_NO_DEVICE_SPACE: i32 = -7;
export const GNTST_PERMISSION_DENIED: i32 = -8;
export const GNTST_BAD_PAGE: i32 = -9;
export const GNTST_BAD_COPY_ARG: i32 = -10; // offset + len crosses the 4 KiB frame
export const GNTST_ADDRESS_TOO_BIG: i32 = -11;
export const GNTST_EAGAIN: i32 = -12;
export const GNTST_NO_SPACE: i32 = -13; // out of maptrack handles

export const GNTTAB_MAP_SIZE: u32 = 32; // struct gnttab_map_grant_ref
export const GNTTAB_MAP_HOST_ADDR: u32 = 0; // u64 in: gpa in the grantee's p2m (HVM/Arm)
export const GNTTAB_MAP_FLAGS: u32 = 8; // u32 in: GNTMAP_*
export const GNTTAB_MAP_REF: u32 = 12; // u32 in
export const GNTTAB_MAP_DOM: u32 = 16; // u16 in: granter
export const GNTTAB_MAP_STATUS: u32 = 18; // i16 out: GNTST_*
export const GNTTAB_MAP_HANDLE: u32 = 20; // u32 out
export const GNTTAB_MAP_DEV_BUS_ADDR: u32 = 24; // u64 out

export const GNTTAB_UNMAP_SIZE: u32 = 24; // struct gnttab_unmap_grant_ref
export const GNTTAB_UNMAP_HOST_ADDR: u32 = 0; // u64
export const GNTTAB_UNMAP_DEV_BUS_ADDR: u32 = 8; // u64
export const GNTTAB_UNMAP_HANDLE: u32 = 16; // u32
export const GNTTAB_UNMAP_STATUS: u32 = 20; // i16 out

export const GNTTAB_SETUP_TABLE_SIZE: u32 = 24;
export const GNTTAB_SETUP_TABLE_DOM: u32 = 0; // u16
export const GNTTAB_SETUP_TABLE_NR_FRAMES: u32 = 4; // u32
export const GNTTAB_SETUP_TABLE_STATUS: u32 = 8; // i16 out
export const GNTTAB_SETUP_TABLE_FRAME_LIST: u32 = 16; // guest handle (u64) of xen_pfn_t[]

export const GNTTAB_QUERY_SIZE_SIZE: u32 = 16;
export const GNTTAB_QUERY_SIZE_DOM: u32 = 0; // u16
export const GNTTAB_QUERY_SIZE_NR_FRAMES: u32 = 4; // u32 out
export const GNTTAB_QUERY_SIZE_MAX_NR_FRAMES: u32 = 8; // u32 out
export const GNTTAB_QUERY_SIZE_STATUS: u32 = 12; // i16 out

export const GNTTAB_COPY_SIZE: u32 = 40;
export const GNTTAB_COPY_SOURCE: u32 = 0; // struct gnttab_copy_ptr (16 bytes)
export const GNTTAB_COPY_SOURCE_REF: u32 = 0; // u32 gref (GNTCOPY_source_gref) ...
export const GNTTAB_COPY_SOURCE_GMFN: u32 = 0; // ... or u64 gmfn of `domid`
export const GNTTAB_COPY_SOURCE_DOMID: u32 = 8; // u16
export const GNTTAB_COPY_SOURCE_OFFSET: u32 = 10; // u16
export const GNTTAB_COPY_DEST: u32 = 16;
export const GNTTAB_COPY_DEST_REF: u32 = 16;
export const GNTTAB_COPY_DEST_GMFN: u32 = 16;
export const GNTTAB_COPY_DEST_DOMID: u32 = 24;
export const GNTTAB_COPY_DEST_OFFSET: u32 = 26;
export const GNTTAB_COPY_LEN: u32 = 32; // u16
export const GNTTAB_COPY_FLAGS: u32 = 34; // u16 GNTCOPY_*
export const GNTTAB_COPY_STATUS: u32 = 36; // i16 out

// event_channel.h
export const EVTCHNOP_BIND_INTERDOMAIN: u32 = 0;
export const EVTCHNOP_BIND_VIRQ: u32 = 1;
export const EVTCHNOP_BIND_PIRQ: u32 = 2;
export const EVTCHNOP_CLOSE: u32 = 3;
export const EVTCHNOP_SEND: u32 = 4;
export const EVTCHNOP_STATUS: u32 = 5;
export const EVTCHNOP_ALLOC_UNBOUND: u32 = 6;
export const EVTCHNOP_BIND_IPI: u32 = 7;
export const EVTCHNOP_BIND_VCPU: u32 = 8;
export const EVTCHNOP_UNMASK: u32 = 9;
export const EVTCHNOP_RESET: u32 = 10;
export const EVTCHNOP_INIT_CONTROL: u32 = 11;
export const EVTCHNOP_EXPAND_ARRAY: u32 = 12;
export const EVTCHNOP_SET_PRIORITY: u32 = 13;

export const EVTCHNSTAT_CLOSED: u32 = 0;
export const EVTCHNSTAT_UNBOUND: u32 = 1;
export const EVTCHNSTAT_INTERDOMAIN: u32 = 2;
export const EVTCHNSTAT_PIRQ: u32 = 3;
export const EVTCHNSTAT_VIRQ: u32 = 4;
export const EVTCHNSTAT_IPI: u32 = 5;

export const EVTCHN_ALLOC_UNBOUND_SIZE: u32 = 8;
export const EVTCHN_ALLOC_UNBOUND_DOM: u32 = 0; // u16
export const EVTCHN_ALLOC_UNBOUND_REMOTE_DOM: u32 = 2; // u16
export const EVTCHN_ALLOC_UNBOUND_PORT: u32 = 4; // u32 out
export const EVTCHN_BIND_INTERDOMAIN_SIZE: u32 = 12;
export const EVTCHN_BIND_INTERDOMAIN_REMOTE_DOM: u32 = 0; // u16
export const EVTCHN_BIND_INTERDOMAIN_REMOTE_PORT: u32 = 4; // u32
export const EVTCHN_BIND_INTERDOMAIN_LOCAL_PORT: u32 = 8; // u32 out
export const EVTCHN_BIND_VIRQ_SIZE: u32 = 12;
export const EVTCHN_BIND_VIRQ_VIRQ: u32 = 0; // u32
export const EVTCHN_BIND_VIRQ_VCPU: u32 = 4; // u32
export const EVTCHN_BIND_VIRQ_PORT: u32 = 8; // u32 out
export const EVTCHN_BIND_IPI_SIZE: u32 = 8;
export const EVTCHN_BIND_IPI_VCPU: u32 = 0; // u32
export const EVTCHN_BIND_IPI_PORT: u32 = 4; // u32 out
export const EVTCHN_BIND_VCPU_SIZE: u32 = 8;
export const EVTCHN_BIND_VCPU_PORT: u32 = 0; // u32
export const EVTCHN_BIND_VCPU_VCPU: u32 = 4; // u32
export const EVTCHN_SEND_SIZE: u32 = 4;
export const EVTCHN_SEND_PORT: u32 = 0;
export const EVTCHN_CLOSE_SIZE: u32 = 4;
export const EVTCHN_CLOSE_PORT: u32 = 0;
export const EVTCHN_UNMASK_SIZE: u32 = 4;
export const EVTCHN_UNMASK_PORT: u32 = 0;
export const EVTCHN_STATUS_SIZE: u32 = 24;
export const EVTCHN_STATUS_DOM: u32 = 0; // u16 in
export const EVTCHN_STATUS_PORT: u32 = 4; // u32 in
export const EVTCHN_STATUS_STATUS: u32 = 8; // u32 out EVTCHNSTAT_*
export const EVTCHN_STATUS_VCPU: u32 = 12; // u32 out
export const EVTCHN_STATUS_UNBOUND: u32 = 16; // union u, by status
export const EVTCHN_STATUS_UNBOUND_DOM: u32 = 16; // u16
export const EVTCHN_STATUS_INTERDOMAIN: u32 = 16;
export const EVTCHN_STATUS_INTERDOMAIN_DOM: u32 = 16; // u16
export const EVTCHN_STATUS_INTERDOMAIN_PORT: u32 = 20; // u32
export const EVTCHN_STATUS_PIRQ: u32 = 16; // u32
export const EVTCHN_STATUS_VIRQ: u32 = 16; // u32

// hvm/ioreq.h: one slot per vCPU in the shared ioreq page.
export const IOREQ_READ: u32 = 1;
export const IOREQ_WRITE: u32 = 0;
export const IOREQ_TYPE_PIO: u32 = 0;
export const IOREQ_TYPE_COPY: u32 = 1; // MMIO
export const IOREQ_TYPE_PCI_CONFIG: u32 = 2;
export const IOREQ_TYPE_TIMEOFFSET: u32 = 7;
export const IOREQ_TYPE_INVALIDATE: u32 = 8; // flush the device model's map cache
export const STATE_IOREQ_NONE: u32 = 0;
export const STATE_IOREQ_READY: u32 = 1; // set by Xen
export const STATE_IOREQ_INPROCESS: u32 = 2; // set by the device model
export const STATE_IORESP_READY: u32 = 3; // set by the device model

export const IOREQ_SIZE: u32 = 32; // struct ioreq
export const IOREQ_ADDR: u32 = 0; // u64
export const IOREQ_DATA: u32 = 8; // u64
export const IOREQ_COUNT: u32 = 16; // u32
export const IOREQ_SIZE_OFF: u32 = 20; // u32 bytes per access (field `size`)
export const IOREQ_VP_EPORT: u32 = 24; // u32
export const IOREQ_PAD0: u32 = 28; // u16
export const IOREQ_STATE_BYTE: u32 = 30;
export const IOREQ_STATE_SHIFT: u32 = 0;
export const IOREQ_STATE_BITS: u32 = 4;
export const IOREQ_DATA_IS_PTR_BYTE: u32 = 30;
export const IOREQ_DATA_IS_PTR_SHIFT: u32 = 4;
export const IOREQ_DATA_IS_PTR_BITS: u32 = 1;
export const IOREQ_DIR_BYTE: u32 = 30;
export const IOREQ_DIR_SHIFT: u32 = 5;
export const IOREQ_DIR_BITS: u32 = 1;
export const IOREQ_DF_BYTE: u32 = 30;
export const IOREQ_DF_SHIFT: u32 = 6;
export const IOREQ_DF_BITS: u32 = 1;
export const IOREQ_PAD1_BYTE: u32 = 30;
export const IOREQ_PAD1_SHIFT: u32 = 7;
export const IOREQ_PAD1_BITS: u32 = 1;
export const IOREQ_TYPE: u32 = 31; // u8 IOREQ_TYPE_*

// argo.h
export const XEN_ARGO_DOMID_ANY: u32 = 0x7ff4;
export const XEN_ARGO_MAX_RING_SIZE: u32 = 0x1000000;
export const XEN_ARGO_MAXIOV: u32 = 8;
export const XEN_ARGO_MSG_SLOT_SIZE: u32 = 0x10;
export const XEN_ARGO_OP_REGISTER_RING: u32 = 1;
export const XEN_ARGO_OP_UNREGISTER_RING: u32 = 2;
export const XEN_ARGO_OP_SENDV: u32 = 3;
export const XEN_ARGO_OP_NOTIFY: u32 = 4;
export const XEN_ARGO_REGISTER_FLAG_FAIL_EXIST: u32 = 1;
export const XEN_ARGO_RING_EXISTS: u32 = 1 << 0;
export const XEN_ARGO_RING_SHARED: u32 = 1 << 1;
export const XEN_ARGO_RING_EMPTY: u32 = 1 << 2;
export const XEN_ARGO_RING_SUFFICIENT: u32 = 1 << 3;
export const XEN_ARGO_RING_EMSGSIZE: u32 = 1 << 4;
export const XEN_ARGO_RING_EBUSY: u32 = 1 << 5;

export const ARGO_ADDR_SIZE: u32 = 8;
export const ARGO_ADDR_APORT: u32 = 0; // u32
export const ARGO_ADDR_DOMAIN_ID: u32 = 4; // u16
export const ARGO_ADDR_PAD: u32 = 6; // u16, must be 0
export const ARGO_SEND_ADDR_SIZE: u32 = 16;
export const ARGO_SEND_ADDR_SRC: u32 = 0;
export const ARGO_SEND_ADDR_SRC_APORT: u32 = 0;
export const ARGO_SEND_ADDR_SRC_DOMAIN_ID: u32 = 4;
export const ARGO_SEND_ADDR_SRC_PAD: u32 = 6;
export const ARGO_SEND_ADDR_DST: u32 = 8;
export const ARGO_SEND_ADDR_DST_APORT: u32 = 8;
export const ARGO_SEND_ADDR_DST_DOMAIN_ID: u32 = 12;
export const ARGO_SEND_ADDR_DST_PAD: u32 = 14;
export const ARGO_IOV_SIZE: u32 = 16;
export const ARGO_IOV_IOV_HND: u32 = 0; // guest handle (u64)
export const ARGO_IOV_IOV_LEN: u32 = 8; // u32
export const ARGO_IOV_PAD: u32 = 12; // u32, must be 0
export const ARGO_RING_SIZE: u32 = 64; // header before ring[]
export const ARGO_RING_RX_PTR: u32 = 0; // u32 written by the receiver only
export const ARGO_RING_TX_PTR: u32 = 4; // u32 written by Xen only
export const ARGO_RING_RESERVED: u32 = 8; // u8[56]
export const ARGO_RING_RING: u32 = 64;
export const ARGO_REGISTER_RING_SIZE: u32 = 12;
export const ARGO_REGISTER_RING_APORT: u32 = 0; // u32
export const ARGO_REGISTER_RING_PARTNER_ID: u32 = 4; // u16
export const ARGO_REGISTER_RING_PAD: u32 = 6; // u16, must be 0
export const ARGO_REGISTER_RING_LEN: u32 = 8; // u32
export const ARGO_UNREGISTER_RING_SIZE: u32 = 8;
export const ARGO_UNREGISTER_RING_APORT: u32 = 0;
export const ARGO_UNREGISTER_RING_PARTNER_ID: u32 = 4;
export const ARGO_UNREGISTER_RING_PAD: u32 = 6;
export const ARGO_RING_DATA_ENT_SIZE: u32 = 20;
export const ARGO_RING_DATA_ENT_RING: u32 = 0; // xen_argo_addr
export const ARGO_RING_DATA_ENT_RING_APORT: u32 = 0;
export const ARGO_RING_DATA_ENT_RING_DOMAIN_ID: u32 = 4;
export const ARGO_RING_DATA_ENT_RING_PAD: u32 = 6;
export const ARGO_RING_DATA_ENT_FLAGS: u32 = 8; // u16 out XEN_ARGO_RING_*
export const ARGO_RING_DATA_ENT_PAD: u32 = 10; // u16
export const ARGO_RING_DATA_ENT_SPACE_REQUIRED: u32 = 12; // u32 in
export const ARGO_RING_DATA_ENT_MAX_MESSAGE_SIZE: u32 = 16; // u32 out
export const ARGO_RING_DATA_SIZE: u32 = 8; // header before data[]
export const ARGO_RING_DATA_NENT: u32 = 0;
export const ARGO_RING_DATA_PAD: u32 = 4;
export const ARGO_RING_DATA_DATA: u32 = 8;
export const ARGO_RING_MESSAGE_HEADER_SIZE: u32 = 16; // header before data[]
export const ARGO_RING_MESSAGE_HEADER_LEN: u32 = 0; // u32 payload + 16
export const ARGO_RING_MESSAGE_HEADER_SOURCE: u32 = 4; // xen_argo_addr
export const ARGO_RING_MESSAGE_HEADER_SOURCE_APORT: u32 = 4;
export const ARGO_RING_MESSAGE_HEADER_SOURCE_DOMAIN_ID: u32 = 8;
export const ARGO_RING_MESSAGE_HEADER_SOURCE_PAD: u32 = 10;
export const ARGO_RING_MESSAGE_HEADER_MESSAGE_TYPE: u32 = 12; // u32
export const ARGO_RING_MESSAGE_HEADER_DATA: u32 = 16;
export const ARGO_GFN_SIZE: u32 = 8; // xen_argo_gfn_t (u64)

// xen.h: the rest of the VIRQs (VIRQ_TIMER, VIRQ_ARGO and NR_VIRQS are above).
export const VIRQ_DEBUG: u32 = 1; // per vCPU
export const VIRQ_CONSOLE: u32 = 2;
export const VIRQ_DOM_EXC: u32 = 3;
export const VIRQ_TBUF: u32 = 4;
export const VIRQ_DEBUGGER: u32 = 6;
export const VIRQ_XENOPROF: u32 = 7; // per vCPU
export const VIRQ_CON_RING: u32 = 8;
export const VIRQ_PCPU_STATE: u32 = 9;
export const VIRQ_MEM_EVENT: u32 = 10;
export const VIRQ_ENOMEM: u32 = 12;
export const VIRQ_XENPMU: u32 = 13; // per vCPU
export const VIRQ_ARCH_0: u32 = 16; // VIRQ_ARCH_0..7: global on x86 and Arm
export const VIRQ_ARCH_1: u32 = 17;
export const VIRQ_ARCH_2: u32 = 18;
export const VIRQ_ARCH_3: u32 = 19;
export const VIRQ_ARCH_4: u32 = 20;
export const VIRQ_ARCH_5: u32 = 21;
export const VIRQ_ARCH_6: u32 = 22;
export const VIRQ_ARCH_7: u32 = 23;

// shared_info and vcpu_info, 2-level event channels. These two layouts depend on the
// architecture; vxsim uses the x86_64 one on every architecture (the test runs on x86_64).
export const ULONG_SIZE: u32 = 8; // xen_ulong_t (64-bit on x86_64 and Arm64)
export const EVTCHN_2L_NR_CHANNELS: u32 = ULONG_SIZE * ULONG_SIZE * 64; // 4096 ports
export const XEN_LEGACY_MAX_VCPUS: u32 = 32; // vcpu_info slots in shared_info (x86)
export const VCPU_INFO_SIZE: u32 = 64;
export const VCPU_INFO_EVTCHN_UPCALL_PENDING: u32 = 0; // u8
export const VCPU_INFO_EVTCHN_UPCALL_MASK: u32 = 1; // u8
export const VCPU_INFO_EVTCHN_PENDING_SEL: u32 = 8; // xen_ulong_t: bit w = pending word w may have work
export const VCPU_INFO_ARCH: u32 = 16;
export const VCPU_INFO_TIME: u32 = 32;
export const SHARED_INFO_SIZE: u32 = 3136;
export const SHARED_INFO_VCPU_INFO: u32 = 0; // vcpu_info[XEN_LEGACY_MAX_VCPUS]
export const SHARED_INFO_EVTCHN_PENDING: u32 = 2048; // xen_ulong_t[64]: port p is bit p%64 of word p/64
export const SHARED_INFO_EVTCHN_MASK: u32 = 2560; // xen_ulong_t[64]
export const SHARED_INFO_WC_VERSION: u32 = 3072;

// memory.h
export const XENMEM_ADD_TO_PHYSMAP: u32 = 7;
export const XENMEM_REMOVE_FROM_PHYSMAP: u32 = 15;
export const XENMEM_ADD_TO_PHYSMAP_BATCH: u32 = 23;
export const XENMEM_ACQUIRE_RESOURCE: u32 = 28;
export const XENMAPSPACE_SHARED_INFO: u32 = 0;
export const XENMAPSPACE_GRANT_TABLE: u32 = 1;
export const XENMAPSPACE_GMFN: u32 = 2;
export const XENMAPSPACE_GMFN_RANGE: u32 = 3;
export const XENMAPSPACE_GMFN_FOREIGN: u32 = 4;
export const XENMAPSPACE_DEV_MMIO: u32 = 5;
export const XENMAPIDX_GRANT_TABLE_STATUS: u32 = 0x80000000; // idx flag: a v2 status frame
export const XENMEM_RESOURCE_IOREQ_SERVER: u32 = 0;
export const XENMEM_RESOURCE_GRANT_TABLE: u32 = 1;
export const XENMEM_RESOURCE_VMTRACE_BUF: u32 = 2;
export const XENMEM_RESOURCE_GRANT_TABLE_ID_SHARED: u32 = 0;
export const XENMEM_RESOURCE_GRANT_TABLE_ID_STATUS: u32 = 1;
export const XENMEM_RESOURCE_IOREQ_SERVER_FRAME_BUFIOREQ: u32 = 0;
export const XENMEM_RESOURCE_IOREQ_SERVER_FRAME_IOREQ_0: u32 = 1; // ..._frame_ioreq(n) = 1 + n
export const PFN_SIZE: u32 = 8; // xen_pfn_t

export const ADD_TO_PHYSMAP_SIZE: u32 = 24; // struct xen_add_to_physmap
export const ADD_TO_PHYSMAP_DOMID: u32 = 0; // u16
export const ADD_TO_PHYSMAP_SIZE_OFF: u32 = 2; // u16 (gmfn_range only)
export const ADD_TO_PHYSMAP_SPACE: u32 = 4; // u32 XENMAPSPACE_*
export const ADD_TO_PHYSMAP_IDX: u32 = 8; // xen_ulong_t
export const ADD_TO_PHYSMAP_GPFN: u32 = 16; // xen_pfn_t

export const ADD_TO_PHYSMAP_BATCH_SIZE: u32 = 32; // struct xen_add_to_physmap_batch
export const ADD_TO_PHYSMAP_BATCH_DOMID: u32 = 0; // u16
export const ADD_TO_PHYSMAP_BATCH_SPACE: u32 = 2; // u16
export const ADD_TO_PHYSMAP_BATCH_SIZE_OFF: u32 = 4; // u16 entries
export const ADD_TO_PHYSMAP_BATCH_FOREIGN_DOMID: u32 = 6; // u16 (union u)
export const ADD_TO_PHYSMAP_BATCH_IDXS: u32 = 8; // handle: xen_ulong_t[]
export const ADD_TO_PHYSMAP_BATCH_GPFNS: u32 = 16; // handle: xen_pfn_t[]
export const ADD_TO_PHYSMAP_BATCH_ERRS: u32 = 24; // handle: int[]

export const REMOVE_FROM_PHYSMAP_SIZE: u32 = 16; // struct xen_remove_from_physmap
export const REMOVE_FROM_PHYSMAP_DOMID: u32 = 0; // u16
export const REMOVE_FROM_PHYSMAP_GPFN: u32 = 8; // xen_pfn_t

export const MEM_ACQUIRE_RESOURCE_SIZE: u32 = 32; // struct xen_mem_acquire_resource
export const MEM_ACQUIRE_RESOURCE_DOMID: u32 = 0; // u16
export const MEM_ACQUIRE_RESOURCE_TYPE: u32 = 2; // u16 XENMEM_resource_*
export const MEM_ACQUIRE_RESOURCE_ID: u32 = 4; // u32
export const MEM_ACQUIRE_RESOURCE_NR_FRAMES: u32 = 8; // u32 in/out
export const MEM_ACQUIRE_RESOURCE_PAD: u32 = 12; // u32, must be 0
export const MEM_ACQUIRE_RESOURCE_FRAME: u32 = 16; // u64
export const MEM_ACQUIRE_RESOURCE_FRAME_LIST: u32 = 24; // handle: xen_pfn_t[] (gfns for a translated caller)

// hvm/hvm_op.h
export const HVM_IOREQSRV_BUFIOREQ_OFF: u32 = 0;
export const HVM_IOREQSRV_BUFIOREQ_LEGACY: u32 = 1;
export const HVM_IOREQSRV_BUFIOREQ_ATOMIC: u32 = 2;

// hvm/dm_op.h
export const XEN_DMOP_CREATE_IOREQ_SERVER: u32 = 1;
export const XEN_DMOP_GET_IOREQ_SERVER_INFO: u32 = 2;
export const XEN_DMOP_MAP_IO_RANGE_TO_IOREQ_SERVER: u32 = 3;
export const XEN_DMOP_UNMAP_IO_RANGE_FROM_IOREQ_SERVER: u32 = 4;
export const XEN_DMOP_SET_IOREQ_SERVER_STATE: u32 = 5;
export const XEN_DMOP_DESTROY_IOREQ_SERVER: u32 = 6;
export const XEN_DMOP_TRACK_DIRTY_VRAM: u32 = 7;
export const XEN_DMOP_SET_PCI_INTX_LEVEL: u32 = 8;
export const XEN_DMOP_SET_ISA_IRQ_LEVEL: u32 = 9;
export const XEN_DMOP_SET_PCI_LINK_ROUTE: u32 = 10;
export const XEN_DMOP_MODIFIED_MEMORY: u32 = 11;
export const XEN_DMOP_SET_MEM_TYPE: u32 = 12;
export const XEN_DMOP_INJECT_EVENT: u32 = 13;
export const XEN_DMOP_INJECT_MSI: u32 = 14;
export const XEN_DMOP_MAP_MEM_TYPE_TO_IOREQ_SERVER: u32 = 15;
export const XEN_DMOP_REMOTE_SHUTDOWN: u32 = 16;
export const XEN_DMOP_RELOCATE_MEMORY: u32 = 17;
export const XEN_DMOP_PIN_MEMORY_CACHEATTR: u32 = 18;
export const XEN_DMOP_SET_IRQ_LEVEL: u32 = 19;
export const XEN_DMOP_NR_VCPUS: u32 = 20;
export const XEN_DMOP_NO_GFNS: u32 = 1; // get_ioreq_server_info flag
export const XEN_DMOP_IO_RANGE_PORT: u32 = 0;
export const XEN_DMOP_IO_RANGE_MEMORY: u32 = 1;
export const XEN_DMOP_IO_RANGE_PCI: u32 = 2;

export const DM_OP_SIZE: u32 = 32; // struct xen_dm_op
export const DM_OP_OP: u32 = 0; // u32 XEN_DMOP_*
export const DM_OP_PAD: u32 = 4; // u32
export const DM_OP_U: u32 = 8; // the union: the structs below, by op
export const DM_OP_CREATE_IOREQ_SERVER_SIZE: u32 = 6;
export const DM_OP_CREATE_IOREQ_SERVER_HANDLE_BUFIOREQ: u32 = 0; // u8 HVM_IOREQSRV_BUFIOREQ_*
export const DM_OP_CREATE_IOREQ_SERVER_PAD: u32 = 1; // u8[3]
export const DM_OP_CREATE_IOREQ_SERVER_ID: u32 = 4; // u16 out
export const DM_OP_GET_IOREQ_SERVER_INFO_SIZE: u32 = 24;
export const DM_OP_GET_IOREQ_SERVER_INFO_ID: u32 = 0; // u16
export const DM_OP_GET_IOREQ_SERVER_INFO_FLAGS: u32 = 2; // u16 XEN_DMOP_no_gfns
export const DM_OP_GET_IOREQ_SERVER_INFO_BUFIOREQ_PORT: u32 = 4; // u32 out
export const DM_OP_GET_IOREQ_SERVER_INFO_IOREQ_GFN: u32 = 8; // u64 out
export const DM_OP_GET_IOREQ_SERVER_INFO_BUFIOREQ_GFN: u32 = 16; // u64 out
export const DM_OP_IOREQ_SERVER_RANGE_SIZE: u32 = 24;
export const DM_OP_IOREQ_SERVER_RANGE_ID: u32 = 0; // u16
export const DM_OP_IOREQ_SERVER_RANGE_PAD: u32 = 2; // u16
export const DM_OP_IOREQ_SERVER_RANGE_TYPE: u32 = 4; // u32 XEN_DMOP_IO_RANGE_*
export const DM_OP_IOREQ_SERVER_RANGE_START: u32 = 8; // u64, inclusive
export const DM_OP_IOREQ_SERVER_RANGE_END: u32 = 16; // u64, inclusive
export const DM_OP_SET_IOREQ_SERVER_STATE_SIZE: u32 = 4;
export const DM_OP_SET_IOREQ_SERVER_STATE_ID: u32 = 0; // u16
export const DM_OP_SET_IOREQ_SERVER_STATE_ENABLED: u32 = 2; // u8
export const DM_OP_SET_IOREQ_SERVER_STATE_PAD: u32 = 3; // u8
export const DM_OP_DESTROY_IOREQ_SERVER_SIZE: u32 = 4;
export const DM_OP_DESTROY_IOREQ_SERVER_ID: u32 = 0; // u16
export const DM_OP_DESTROY_IOREQ_SERVER_PAD: u32 = 2; // u16
export const DM_OP_SET_IRQ_LEVEL_SIZE: u32 = 8;
export const DM_OP_SET_IRQ_LEVEL_IRQ: u32 = 0; // u32
export const DM_OP_SET_IRQ_LEVEL_LEVEL: u32 = 4; // u8
export const DM_OP_SET_IRQ_LEVEL_PAD: u32 = 5; // u8[3]
export const DM_OP_NR_VCPUS_SIZE: u32 = 4;
export const DM_OP_NR_VCPUS_VCPUS: u32 = 0; // u32 out
export const DM_OP_BUF_SIZE: u32 = 16; // struct xen_dm_op_buf: HYPERVISOR_dm_op's bufs[]
export const DM_OP_BUF_H: u32 = 0; // guest handle of the buffer
export const DM_OP_BUF_SIZE_OFF: u32 = 8; // xen_ulong_t bytes in it

// io/xs_wire.h: message types (enum xsd_sockmsg_type), the message header, the ring page.
export const XS_CONTROL: u32 = 0;
export const XS_DIRECTORY: u32 = 1;
export const XS_READ: u32 = 2;
export const XS_GET_PERMS: u32 = 3;
export const XS_WATCH: u32 = 4;
export const XS_UNWATCH: u32 = 5;
export const XS_TRANSACTION_START: u32 = 6;
export const XS_TRANSACTION_END: u32 = 7;
export const XS_INTRODUCE: u32 = 8;
export const XS_RELEASE: u32 = 9;
export const XS_GET_DOMAIN_PATH: u32 = 10;
export const XS_WRITE: u32 = 11;
export const XS_MKDIR: u32 = 12;
export const XS_RM: u32 = 13;
export const XS_SET_PERMS: u32 = 14;
export const XS_WATCH_EVENT: u32 = 15;
export const XS_ERROR: u32 = 16;
export const XS_IS_DOMAIN_INTRODUCED: u32 = 17;
export const XS_RESUME: u32 = 18;
export const XS_SET_TARGET: u32 = 19;
export const XS_RESET_WATCHES: u32 = 21;
export const XS_DIRECTORY_PART: u32 = 22;
export const XSD_SOCKMSG_SIZE: u32 = 16; // then len payload bytes
export const XSD_SOCKMSG_TYPE: u32 = 0; // u32 XS_*
export const XSD_SOCKMSG_REQ_ID: u32 = 4; // u32, echoed in the reply
export const XSD_SOCKMSG_TX_ID: u32 = 8; // u32, 0 outside a transaction
export const XSD_SOCKMSG_LEN: u32 = 12; // u32 payload bytes
export const XENSTORE_RING_SIZE: u32 = 1024; // bytes per direction; indices free-running, masked
export const XENSTORE_PAYLOAD_MAX: u32 = 4096;
export const XENSTORE_ABS_PATH_MAX: u32 = 3072;
export const XENSTORE_REL_PATH_MAX: u32 = 2048;
export const XENSTORE_SERVER_FEATURE_RECONNECTION: u32 = 1;
export const XENSTORE_SERVER_FEATURE_ERROR: u32 = 2;
export const XENSTORE_CONNECTED: u32 = 0;
export const XENSTORE_RECONNECT: u32 = 1;
export const XENSTORE_ERROR_NONE: u32 = 0;
export const XENSTORE_ERROR_COMM: u32 = 1;
export const XENSTORE_ERROR_RINGIDX: u32 = 2; // prod - cons beyond the ring size
export const XENSTORE_ERROR_PROTO: u32 = 3; // header len above XENSTORE_PAYLOAD_MAX
export const XENSTORE_DOMAIN_INTERFACE_SIZE: u32 = 2076; // the per-domain ring page
export const XENSTORE_DOMAIN_INTERFACE_REQ: u32 = 0; // char req[1024]
export const XENSTORE_DOMAIN_INTERFACE_RSP: u32 = 1024; // char rsp[1024]
export const XENSTORE_DOMAIN_INTERFACE_REQ_CONS: u32 = 2048; // u32
export const XENSTORE_DOMAIN_INTERFACE_REQ_PROD: u32 = 2052; // u32
export const XENSTORE_DOMAIN_INTERFACE_RSP_CONS: u32 = 2056; // u32
export const XENSTORE_DOMAIN_INTERFACE_RSP_PROD: u32 = 2060; // u32
export const XENSTORE_DOMAIN_INTERFACE_SERVER_FEATURES: u32 = 2064; // u32 XENSTORE_SERVER_FEATURE_*
export const XENSTORE_DOMAIN_INTERFACE_CONNECTION: u32 = 2068; // u32 XENSTORE_CONNECTED / _RECONNECT
export const XENSTORE_DOMAIN_INTERFACE_ERROR: u32 = 2072; // u32 XENSTORE_ERROR_*

// io/xenbus.h: enum xenbus_state.
export const XENBUS_STATE_UNKNOWN: u32 = 0;
export const XENBUS_STATE_INITIALISING: u32 = 1;
export const XENBUS_STATE_INIT_WAIT: u32 = 2;
export const XENBUS_STATE_INITIALISED: u32 = 3;
export const XENBUS_STATE_CONNECTED: u32 = 4;
export const XENBUS_STATE_CLOSING: u32 = 5;
export const XENBUS_STATE_CLOSED: u32 = 6;
export const XENBUS_STATE_RECONFIGURING: u32 = 7;
export const XENBUS_STATE_RECONFIGURED: u32 = 8;

// hvm/dm_op.h, x86 only: the ISA IRQ line a device model drives (xen/arch/x86/hvm/dm.c).
export const DM_OP_SET_ISA_IRQ_LEVEL_SIZE: u32 = 2; // struct xen_dm_op_set_isa_irq_level
export const DM_OP_SET_ISA_IRQ_LEVEL_ISA_IRQ: u32 = 0; // u8 0..15
export const DM_OP_SET_ISA_IRQ_LEVEL_LEVEL: u32 = 1; // u8 0 or 1
// ---- Argo implementation limits (xen/common/argo.c; the ABI is in the Xen ABI section) -------
export const ARGO_MAX_RINGS_PER_DOMAIN: u32 = 128;
export const ARGO_MAX_NOTIFY_COUNT: u32 = 256;
export const ARGO_MAX_PENDING_PER_RING: u32 = 32;
export const ARGO_MIN_RING_LEN: u32 = 48; // ring header slot + 2 slots
export const ARGO_MAX_MESSAGE_SIZE: u32 = XEN_ARGO_MAX_RING_SIZE - ARGO_RING_MESSAGE_HEADER_SIZE - XEN_ARGO_MSG_SLOT_SIZE;
// ---- split virtqueue -------------------------------------------------------------------
// Fields of a split queue's state block (QUEUE_STATE_SIZE) beyond the shared Q_* ones. A block
// holds one split or one packed queue, so these may overlap the packed ring's own fields.
export const QS_MAX_SIZE: u32 = 72; // u32 device: QueueNumMax (E1)
export const QS_MAX_INDIRECT: u32 = 76; // u32 device: indirect table entry limit (E12), 0 = 65535
export const QS_STATUS: u32 = 80; // u32 outcome of the last call (VQ_OK, a refused or failing code, VQ_ENOSPC)
export const QS_NOTIFY_ON: u32 = 84; // u32 device: available-buffer notifications enabled
// Private per-queue tables at Q_AUX (host-allocated frames), QS_AUX_ENTRY bytes per descriptor
// index, then a FIFO of heads in availability order (u16 per slot) for IN_ORDER batches.
export const QS_AUX_ENTRY: u32 = 8;
export const QS_AUX_BYTES_PER_SLOT: u32 = QS_AUX_ENTRY + 2;
export const QSA_DEV_WRITABLE: u32 = 0; // u32 device, per head: writable bytes of the popped chain
export const QSA_DEV_OUTSTANDING: u32 = 4; // u32 device, per head: pops not yet completed
export const QSA_DRV_NEXT: u32 = 0; // u16 driver, per descriptor: free-list link (shadow of desc.next)
export const QSA_DRV_NDESCS: u32 = 2; // u16 driver, per head: table entries the chain holds (0 = not outstanding)
export const QSA_DRV_WRITABLE: u32 = 4; // u32 driver, per head: writable bytes (IN_ORDER skipped length)
// Driver add request records: a header then QS_ADD_NSEGS segments in the SEG_* format.
export const QS_ADD_HDR_SIZE: u32 = 16;
export const QS_ADD_NSEGS: u32 = 0; // u16 segments (readable first, then writable)
export const QS_ADD_HEAD: u32 = 2; // u16 out: head index the chain got
export const QS_ADD_TABLE: u32 = 8; // u64 gpa of the indirect table (used with QF_INDIRECT and > 1 segment)
// Used records (device push input, driver reclaim output): {u32 id, u32 len}.
export const QS_USED_REC_SIZE: u32 = 8;
export const QS_USED_ID: u32 = 0;
export const QS_USED_LEN: u32 = 4;
// Driver add refused: malformed request (no segments, readable after writable, table not writable).
export const VQ_SPLIT_BAD_ADD: u32 = 64;
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
// Copies by size. Each copy is counted once, in the bucket of its length: bucket k holds
// lengths in (COPY_BUCKET_MAX_{k-1}, COPY_BUCKET_MAX_k] (the first from 0, the last, HUGE, above
// 16 MiB). The limits are the copy sizes every shipped profile gives a figure for, so src/cost
// prices each bucket with the line through its two ends (exact for those profiles).
// CPU copies are the machine's gpa_copy (a guest's or backend's memcpy); hypervisor copies are
// Xen's: a GNTTABOP_copy element and an Argo ring copy (one per message).
export const COPY_SIZE_BUCKETS: u32 = 7;
export const COPY_BUCKET_MAX_0: u32 = 64;
export const COPY_BUCKET_MAX_1: u32 = 512;
export const COPY_BUCKET_MAX_2: u32 = 4096;
export const COPY_BUCKET_MAX_3: u32 = 65536;
export const COPY_BUCKET_MAX_4: u32 = 1048576;
export const COPY_BUCKET_MAX_5: u32 = 16777216;
export const CNT_CPU_COPIES_BASE: u32 = 18; // ..24: gpa_copy copies by bucket
export const CNT_CPU_COPIES_64: u32 = CNT_CPU_COPIES_BASE + 0;
export const CNT_CPU_COPIES_512: u32 = CNT_CPU_COPIES_BASE + 1;
export const CNT_CPU_COPIES_4K: u32 = CNT_CPU_COPIES_BASE + 2;
export const CNT_CPU_COPIES_64K: u32 = CNT_CPU_COPIES_BASE + 3;
export const CNT_CPU_COPIES_1M: u32 = CNT_CPU_COPIES_BASE + 4;
export const CNT_CPU_COPIES_16M: u32 = CNT_CPU_COPIES_BASE + 5;
export const CNT_CPU_COPIES_HUGE: u32 = CNT_CPU_COPIES_BASE + 6;
export const CNT_CPU_COPY_BYTES_BASE: u32 = 25; // ..31: their bytes
export const CNT_CPU_COPY_BYTES_64: u32 = CNT_CPU_COPY_BYTES_BASE + 0;
export const CNT_CPU_COPY_BYTES_512: u32 = CNT_CPU_COPY_BYTES_BASE + 1;
export const CNT_CPU_COPY_BYTES_4K: u32 = CNT_CPU_COPY_BYTES_BASE + 2;
export const CNT_CPU_COPY_BYTES_64K: u32 = CNT_CPU_COPY_BYTES_BASE + 3;
export const CNT_CPU_COPY_BYTES_1M: u32 = CNT_CPU_COPY_BYTES_BASE + 4;
export const CNT_CPU_COPY_BYTES_16M: u32 = CNT_CPU_COPY_BYTES_BASE + 5;
export const CNT_CPU_COPY_BYTES_HUGE: u32 = CNT_CPU_COPY_BYTES_BASE + 6;
export const CNT_HV_COPIES_BASE: u32 = 32; // ..38: hypervisor copies by bucket
export const CNT_HV_COPIES_64: u32 = CNT_HV_COPIES_BASE + 0;
export const CNT_HV_COPIES_512: u32 = CNT_HV_COPIES_BASE + 1;
export const CNT_HV_COPIES_4K: u32 = CNT_HV_COPIES_BASE + 2;
export const CNT_HV_COPIES_64K: u32 = CNT_HV_COPIES_BASE + 3;
export const CNT_HV_COPIES_1M: u32 = CNT_HV_COPIES_BASE + 4;
export const CNT_HV_COPIES_16M: u32 = CNT_HV_COPIES_BASE + 5;
export const CNT_HV_COPIES_HUGE: u32 = CNT_HV_COPIES_BASE + 6;
export const CNT_HV_COPY_BYTES_BASE: u32 = 39; // ..45: their bytes
export const CNT_HV_COPY_BYTES_64: u32 = CNT_HV_COPY_BYTES_BASE + 0;
export const CNT_HV_COPY_BYTES_512: u32 = CNT_HV_COPY_BYTES_BASE + 1;
export const CNT_HV_COPY_BYTES_4K: u32 = CNT_HV_COPY_BYTES_BASE + 2;
export const CNT_HV_COPY_BYTES_64K: u32 = CNT_HV_COPY_BYTES_BASE + 3;
export const CNT_HV_COPY_BYTES_1M: u32 = CNT_HV_COPY_BYTES_BASE + 4;
export const CNT_HV_COPY_BYTES_16M: u32 = CNT_HV_COPY_BYTES_BASE + 5;
export const CNT_HV_COPY_BYTES_HUGE: u32 = CNT_HV_COPY_BYTES_BASE + 6;
// The backends' own gpa_copy copies (argo's staging and copy-out), a subset of CNT_CPU_COPIES_*:
// the same lengths in the same buckets, so pricing can move exactly their cost to the backend.
export const CNT_BE_COPIES_BASE: u32 = 46; // ..52: backend gpa_copy copies by bucket
export const CNT_BE_COPIES_64: u32 = CNT_BE_COPIES_BASE + 0;
export const CNT_BE_COPIES_512: u32 = CNT_BE_COPIES_BASE + 1;
export const CNT_BE_COPIES_4K: u32 = CNT_BE_COPIES_BASE + 2;
export const CNT_BE_COPIES_64K: u32 = CNT_BE_COPIES_BASE + 3;
export const CNT_BE_COPIES_1M: u32 = CNT_BE_COPIES_BASE + 4;
export const CNT_BE_COPIES_16M: u32 = CNT_BE_COPIES_BASE + 5;
export const CNT_BE_COPIES_HUGE: u32 = CNT_BE_COPIES_BASE + 6;
export const CNT_BE_COPY_BYTES_BASE: u32 = 53; // ..59: their bytes
export const CNT_BE_COPY_BYTES_64: u32 = CNT_BE_COPY_BYTES_BASE + 0;
export const CNT_BE_COPY_BYTES_512: u32 = CNT_BE_COPY_BYTES_BASE + 1;
export const CNT_BE_COPY_BYTES_4K: u32 = CNT_BE_COPY_BYTES_BASE + 2;
export const CNT_BE_COPY_BYTES_64K: u32 = CNT_BE_COPY_BYTES_BASE + 3;
export const CNT_BE_COPY_BYTES_1M: u32 = CNT_BE_COPY_BYTES_BASE + 4;
export const CNT_BE_COPY_BYTES_16M: u32 = CNT_BE_COPY_BYTES_BASE + 5;
export const CNT_BE_COPY_BYTES_HUGE: u32 = CNT_BE_COPY_BYTES_BASE + 6;

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
// Atomics engine counters (assembly/atomics), 193..199; CNT_ATOMIC_OPS (192) counts completed
// read-modify-write operations of every agent, whatever the instruction set.
export const CNT_ATOMIC_LLSC_ATTEMPTS: u32 = 193; // load-exclusives (LDXR, LR) executed
export const CNT_ATOMIC_SC_FAILS: u32 = 194; // store-exclusives (STXR, SC) that failed: each one is a retry
export const CNT_ATOMIC_MONITOR_CLEARS: u32 = 195; // exclusive monitors / reservations cleared by another agent's store
export const CNT_ATOMIC_SUBWORD: u32 = 196; // 8/16-bit operations emulated on the containing 32-bit word (RISC-V)
export const CNT_ATOMIC_LSE_OPS: u32 = 197; // Arm v8.1 LSE single-instruction atomics executed
export const CNT_ATOMIC_PAUSES: u32 = 198; // sharing-domain pauses by the XSA-295 guest-safe helpers
export const CNT_ATOMIC_XEN_STEPS: u32 = 199; // instruction steps executed by hypervisor agents
export const CNT_GRANT_BASE: u32 = 200; // ..239
export const CNT_EVTCHN_BASE: u32 = 240; // ..263
export const CNT_IOREQ_BASE: u32 = 264; // ..287
export const CNT_FOREIGN_BASE: u32 = 288; // ..295
export const CNT_ARGO_BASE: u32 = 296; // ..335
export const CNT_XSM_BASE: u32 = 336; // ..351
export const CNT_XENSTORE_BASE: u32 = 352; // ..367
export const CNT_HYPERCALL_BASE: u32 = 368; // ..383 (hypercalls by class, domain lifecycle)
export const CNT_HYPERCALLS: u32 = 368; // every hypercall any domain made
// The hypervisor core (src/xen/hypervisor.ts, memory-op.ts), CNT_HYPERCALL_BASE..383.
export const CNT_HC_UNKNOWN: u32 = 369; // hypercall numbers no subsystem serves (-ENOSYS)
export const CNT_HC_MEMORY_OPS: u32 = 370; // HYPERVISOR_memory_op calls through the dispatcher
export const CNT_HC_MEMORY_OP_ERRORS: u32 = 371; // ... that returned an error
export const CNT_DOMAIN_PAUSES: u32 = 372; // domain_pause (toolstack and XSA-295 helpers)
export const CNT_DOMAIN_PAUSES_XSA295: u32 = 373; // pauses of a sharing domain by Xen's guest-safe atomics
export const CNT_DOMAINS_CREATED: u32 = 374;
export const CNT_DOMAINS_DESTROYED: u32 = 375;
export const CNT_DOMAINS_CRASHED: u32 = 376; // domain_crash (e.g. a backwards ioreq state)
export const CNT_XSM_DENIED: u32 = 336; // every XSM denial
// Argo (CNT_ARGO_BASE..335).
export const CNT_ARGO_OPS: u32 = 296; // every HYPERVISOR_argo_op
export const CNT_ARGO_OP_REGISTER: u32 = 297;
export const CNT_ARGO_OP_UNREGISTER: u32 = 298;
export const CNT_ARGO_OP_SENDV: u32 = 299;
export const CNT_ARGO_OP_NOTIFY: u32 = 300;
export const CNT_ARGO_OP_UNKNOWN: u32 = 301; // unknown cmd (-EOPNOTSUPP)
export const CNT_ARGO_OP_ERRORS: u32 = 302; // ops that returned an error
export const CNT_ARGO_MESSAGES: u32 = 303; // messages written into rings (kernel)
export const CNT_ARGO_BYTES_SENT: u32 = 304; // payload bytes written into rings (kernel)
export const CNT_ARGO_RING_BYTES: u32 = 305; // header + payload bytes written into rings (kernel)
export const CNT_ARGO_EAGAIN: u32 = 306; // sendv refused for lack of space
export const CNT_ARGO_EBUSY: u32 = 307; // a wait could not be queued (32 waiters)
export const CNT_ARGO_WAITERS_QUEUED: u32 = 308; // new "wake me when L fits" entries
export const CNT_ARGO_WAITERS_WOKEN: u32 = 309;
export const CNT_ARGO_WAITERS_DROPPED: u32 = 310; // cancelled, unregistered or torn down
export const CNT_ARGO_VIRQ_RAISED: u32 = 311; // VIRQ_ARGO signals sent
export const CNT_ARGO_RINGS_REGISTERED: u32 = 312; // new rings
export const CNT_ARGO_RINGS_REREGISTERED: u32 = 313;
export const CNT_ARGO_RINGS_REMOVED: u32 = 314; // unregistered or torn down with a domain
export const CNT_ARGO_NOTIFY_QUERIES: u32 = 315; // ring_data entries answered
export const CNT_ARGO_PTR_LOADS: u32 = 316; // atomic loads of rx_ptr/tx_ptr by Xen
export const CNT_ARGO_PTR_STORES: u32 = 317; // atomic stores of tx_ptr by Xen
export const CNT_ARGO_EFAULT: u32 = 318; // guest memory Xen could not read or write
// XSM denials per Argo hook (CNT_XSM_DENIED counts every denial of every hook).
export const CNT_XSM_DENIED_ARGO_ENABLE: u32 = 337;
export const CNT_XSM_DENIED_ARGO_REGISTER_SINGLE: u32 = 338;
export const CNT_XSM_DENIED_ARGO_REGISTER_ANY: u32 = 339;
export const CNT_XSM_DENIED_ARGO_SEND: u32 = 340;
// Event channels (CNT_EVTCHN_BASE..263).
export const CNT_EVTCHN_OPS: u32 = 240; // HYPERVISOR_event_channel_op calls
export const CNT_EVTCHN_OP_ERRORS: u32 = 241; // ... that returned an error
export const CNT_EVTCHN_SENDS: u32 = 242; // EVTCHNOP_send that reached a bound peer
export const CNT_EVTCHN_SEND_DROPPED: u32 = 243; // EVTCHNOP_send on an unbound port (dropped silently)
export const CNT_EVTCHN_SET_PENDING: u32 = 244; // set-pending attempts (send, virq, bind, Xen notify)
export const CNT_EVTCHN_PENDING_MERGED: u32 = 245; // the pending bit was already set: the edge merged
export const CNT_EVTCHN_MASKED: u32 = 246; // newly pending while masked: no upcall
export const CNT_EVTCHN_SEL_MERGED: u32 = 247; // newly pending, selector bit already set
export const CNT_EVTCHN_UPCALLS: u32 = 248; // upcall_pending newly set: an upcall raised to the vCPU
export const CNT_EVTCHN_UPCALL_MERGED: u32 = 249; // selector newly set but an upcall was already pending
export const CNT_EVTCHN_UNMASK_RAISED: u32 = 250; // EVTCHNOP_unmask found the port pending and raised it
export const CNT_EVTCHN_VIRQS: u32 = 251; // VIRQs raised on a bound port
export const CNT_EVTCHN_XEN_NOTIFY: u32 = 252; // sends that reached a Xen-consumed channel
export const CNT_EVTCHN_BOUND: u32 = 253; // ports allocated (alloc_unbound, bind_*, Xen-consumed)
export const CNT_EVTCHN_CLOSED: u32 = 254; // ports closed (by the guest or at domain teardown)
export const CNT_EVTCHN_SCANS: u32 = 255; // guest upcall-handler scans (kernel and reference)
export const CNT_EVTCHN_DISPATCHED: u32 = 256; // ports the guest handler dispatched

// IOREQ servers and dm_op (CNT_IOREQ_BASE..287).
export const CNT_IOREQ_DM_OPS: u32 = 264; // HYPERVISOR_dm_op calls
export const CNT_IOREQ_DM_OP_ERRORS: u32 = 265; // ... that returned an error
export const CNT_IOREQ_DM_OP_DENIED: u32 = 266; // ... refused for lack of device-model privilege
export const CNT_IOREQ_SERVERS_CREATED: u32 = 267;
export const CNT_IOREQ_SERVERS_DESTROYED: u32 = 268; // by dm_op or with the target domain
export const CNT_IOREQ_MMIO_TRAPS: u32 = 269; // guest MMIO/PIO accesses that trapped to Xen
export const CNT_IOREQ_SENT: u32 = 270; // ioreqs written to a server's slot (READY)
export const CNT_IOREQ_READS: u32 = 271;
export const CNT_IOREQ_WRITES: u32 = 272;
export const CNT_IOREQ_VCPU_BLOCKED: u32 = 273; // vCPUs blocked waiting for an emulator
export const CNT_IOREQ_COMPLETIONS: u32 = 274; // accesses completed from IORESP_READY
export const CNT_IOREQ_UNCLAIMED: u32 = 275; // accesses no enabled server claimed
export const CNT_IOREQ_FAULTS: u32 = 276; // faults injected into the guest (Arm abort, bad slot)
export const CNT_IOREQ_BAD_STATE: u32 = 277; // backwards or unknown slot states: guest crashed
export const CNT_IOREQ_IRQ_ASSERTIONS: u32 = 278; // set_irq_level(level 1) calls
export const CNT_IOREQ_IRQ_RAISED: u32 = 279; // ... that took an SPI line from 0 to 1
export const CNT_IOREQ_EMU_HANDLED: u32 = 280; // requests an emulator helper took and answered
export const CNT_IOREQ_ISA_IRQ_ASSERTIONS: u32 = 281; // x86 set_isa_irq_level(level 1) calls
export const CNT_IOREQ_ISA_IRQ_RAISED: u32 = 282; // ... that took an ISA IRQ line from 0 to 1

// Foreign mapping (CNT_FOREIGN_BASE..295).
export const CNT_FOREIGN_MAPS: u32 = 288; // gmfn_foreign entries mapped
export const CNT_FOREIGN_UNMAPS: u32 = 289; // foreign entries removed (remove_from_physmap or replaced)
export const CNT_FOREIGN_DENIED: u32 = 290; // entries refused by XSM map_gmfn_foreign
export const CNT_FOREIGN_ERRORS: u32 = 291; // entries failing for other reasons
export const CNT_FOREIGN_BATCHES: u32 = 292; // XENMEM_add_to_physmap_batch calls
export const CNT_FOREIGN_TEARDOWN: u32 = 293; // entries dropped because the mapping domain died
export const CNT_TRANSPORT_BASE: u32 = 448;

// ---- xenstore (the xs_wire.h ABI is in the Xen ABI section) ------------------------------
// Counters CNT_XENSTORE_BASE..+15. Ring bytes are header + payload as they cross the shared
// page (the toolstack's socket traffic is kept per connection by the model, not here).
export const CNT_XS_REQUESTS: u32 = CNT_XENSTORE_BASE + 0; // requests processed (any connection)
export const CNT_XS_ERRORS: u32 = CNT_XENSTORE_BASE + 1; // XS_ERROR replies
export const CNT_XS_RING_REQ_MSGS: u32 = CNT_XENSTORE_BASE + 2; // messages a guest put on its req ring
export const CNT_XS_RING_REQ_BYTES: u32 = CNT_XENSTORE_BASE + 3;
export const CNT_XS_RING_RSP_MSGS: u32 = CNT_XENSTORE_BASE + 4; // replies and watch events on rsp rings
export const CNT_XS_RING_RSP_BYTES: u32 = CNT_XENSTORE_BASE + 5;
export const CNT_XS_WATCH_EVENTS: u32 = CNT_XENSTORE_BASE + 6; // watch events queued to a connection
export const CNT_XS_WATCH_SUPPRESSED: u32 = CNT_XENSTORE_BASE + 7; // matched a watch, watcher may not read the node
export const CNT_XS_READ_OPS: u32 = CNT_XENSTORE_BASE + 8; // read, directory, get_perms
export const CNT_XS_WRITE_OPS: u32 = CNT_XENSTORE_BASE + 9; // write, mkdir, set_perms
export const CNT_XS_RM_OPS: u32 = CNT_XENSTORE_BASE + 10;
export const CNT_XS_WATCH_OPS: u32 = CNT_XENSTORE_BASE + 11; // watch, unwatch, reset_watches
export const CNT_XS_TX_STARTED: u32 = CNT_XENSTORE_BASE + 12;
export const CNT_XS_TX_EAGAIN: u32 = CNT_XENSTORE_BASE + 13; // commits refused because a node changed
export const CNT_XS_QUOTA_DENIED: u32 = CNT_XENSTORE_BASE + 14; // ENOSPC / watch-quota refusals
export const CNT_XS_EVTCHN_NOTIFY: u32 = CNT_XENSTORE_BASE + 15; // store event-channel kicks, either direction
// ---- atomics engine (assembly/atomics) ----------------------------------------------------
// Agents (the hypervisor, guest vCPUs, a hostile guest) run atomic operations on machine words
// as their real instruction sequences, one instruction per step, interleaved by a seeded
// scheduler. All state lives in a context: one hypervisor frame named by its mfn.
// Instruction sets.
export const AT_ISA_X86: u32 = 0; // LOCK-prefixed RMW: one indivisible step
export const AT_ISA_ARM_LLSC: u32 = 1; // Arm v8.0: LDXR/STXR loops with an exclusive monitor
export const AT_ISA_ARM_LSE: u32 = 2; // Arm v8.1 LSE: CAS, LDADD, LDSET, LDCLR, LDEOR, SWP
export const AT_ISA_RISCV: u32 = 3; // RV64A: LR/SC loops and AMOs on 32/64-bit words only
export const AT_ISAS: u32 = 4;
// Operations. a and b are the operands; the result is the old value of the operand field.
export const AT_OP_CMPXCHG: u32 = 0; // a = expected, b = desired
export const AT_OP_FETCH_ADD: u32 = 1; // a = addend
export const AT_OP_FETCH_OR: u32 = 2;
export const AT_OP_FETCH_AND: u32 = 3;
export const AT_OP_FETCH_XOR: u32 = 4;
export const AT_OP_XCHG: u32 = 5; // a = new value
export const AT_OP_TEST_SET_BIT: u32 = 6; // a = bit number in a 32-bit word
export const AT_OP_TEST_CLEAR_BIT: u32 = 7;
export const AT_OP_CAS_INC: u32 = 8; // load v, then cmpxchg(v, v + a) until it sticks (a C-level loop)
export const AT_OP_LOAD: u32 = 9; // plain load
export const AT_OP_STORE: u32 = 10; // plain store of a; after each repetition a ^= b
export const AT_OPS: u32 = 11;
// Micro-operations of an agent's program (one step each).
export const AT_U_LX: u32 = 1; // load-exclusive: loads the word and sets the agent's monitor
export const AT_U_ALU: u32 = 2; // register instruction inside the loop (compare, mask, merge)
export const AT_U_CHK: u32 = 3; // compare-and-branch: a cmpxchg whose field differs leaves the loop
export const AT_U_SX: u32 = 4; // store-exclusive: stores only while the monitor holds
export const AT_U_RETRY: u32 = 5; // branch back to the load-exclusive if the store-exclusive failed
export const AT_U_AMO: u32 = 6; // one indivisible read-modify-write instruction
export const AT_U_LD: u32 = 7; // plain load
export const AT_U_ST: u32 = 8; // plain store
export const AT_U_NEXT: u32 = 9; // cas-inc: retry the cmpxchg with the value it returned
// Scheduling policies.
export const AT_SCHED_LOCKSTEP: u32 = 0; // rounds: every runnable agent steps once, in a random order
export const AT_SCHED_RANDOM: u32 = 1; // each step goes to a runnable agent chosen at random
export const AT_SCHED_SCRIPT: u32 = 2; // steps follow a host-given list of agents, then lockstep
// Run outcomes (non-negative) and errors (negative).
export const AT_RUN_DONE: i32 = 0; // every finite agent completed its operations
export const AT_RUN_BUDGET: i32 = 1; // the step budget ran out first; run again to continue
export const AT_RUN_STARVED: i32 = 2; // an agent made no progress within the window (ACTX_STARVED says which)
export const AT_RUN_STUCK: i32 = 3; // finite agents remain but none may run (all paused)
export const ATS_BAD_CTX: i32 = -32;
export const ATS_BAD_AGENT: i32 = -33;
export const ATS_BAD_ISA: i32 = -34;
export const ATS_BAD_OP: i32 = -35;
export const ATS_BAD_SIZE: i32 = -36;
export const ATS_MISALIGNED: i32 = -37;
export const ATS_BAD_OPERAND: i32 = -38;
export const ATS_BAD_CONFIG: i32 = -39;
// Context frame.
export const ACTX_RNG: u32 = 0; // 4 x u32 xoshiro128** state
export const ACTX_STEPS: u32 = 16; // u64 steps executed in this context
export const ACTX_POLICY: u32 = 24; // u32 AT_SCHED_*
export const ACTX_GRANULE_SHIFT: u32 = 28; // u32 log2 of the reservation granule (0 = not initialised)
export const ACTX_SPURIOUS: u32 = 32; // u32 chance in 65536 that a store-exclusive fails spuriously
export const ACTX_SAFE_MAX: u32 = 36; // u32 guest_safe_atomic_max: bounded attempts before pausing
export const ACTX_WINDOW: u32 = 40; // u32 steps without progress after which an agent is starved
export const ACTX_STARVED: u32 = 44; // i32 agent found starved, -1 = none
export const ACTX_ROUND_POS: u32 = 48; // u32 lockstep: next slot of ACTX_ORDER
export const ACTX_ROUND_LEN: u32 = 52; // u32 lockstep: agents in the current round
export const ACTX_SCRIPT_POS: u32 = 56; // u32
export const ACTX_SCRIPT_LEN: u32 = 60; // u32
export const ACTX_REMAINING: u32 = 64; // u32 finite agents not yet done
export const ACTX_ORDER: u32 = 96; // u8 x AT_MAX_AGENTS: the current round's order
export const ACTX_SCRIPT: u32 = 128; // u8 x AT_SCRIPT_MAX agent indices
export const AT_SCRIPT_MAX: u32 = 768;
export const ACTX_AGENTS: u32 = 1024; // AT_MAX_AGENTS agent records
export const AT_MAX_AGENTS: u32 = 16;
export const AGT_RECORD_SIZE: u32 = 192; // AT_MAX_AGENTS records fill the rest of the frame
// Agent record fields.
export const AGT_FLAGS: u32 = 0; // u32 AGF_*
export const AGT_ISA: u32 = 4; // u8
export const AGT_OP: u32 = 5; // u8
export const AGT_OPSIZE: u32 = 6; // u8 operand size in bytes (1, 2, 4, 8)
export const AGT_PC: u32 = 7; // u8 next micro-op
export const AGT_LOOP_PC: u32 = 8; // u8 where a retry branches to (the load-exclusive or the AMO)
export const AGT_EXIT_PC: u32 = 9; // u8 where a failed compare branches to
export const AGT_PHASE: u32 = 10; // u8 0 = normal (bounded when guest-safe), 1 = redo while the sharer is paused
export const AGT_MON_VALID: u32 = 11; // u8 exclusive monitor / reservation held
export const AGT_DOMID: u32 = 12; // u16 the domain the agent runs in (DOMID_XEN for the hypervisor)
export const AGT_SHARER: u32 = 14; // u16 guest-safe: the domain to pause on timeout
export const AGT_MFN: u32 = 16; // u32
export const AGT_OFF: u32 = 20; // u32 byte offset of the operand in the frame
export const AGT_WORD: u32 = 24; // u32 linear address of the word accessed (the aligned container when masked)
export const AGT_WSIZE: u32 = 28; // u8 bytes accessed
export const AGT_SHIFT: u32 = 29; // u8 bit position of the operand field in the word
export const AGT_PAUSED: u32 = 30; // u8 pause count
export const AGT_SXST: u32 = 31; // u8 status of the last store-exclusive (0 = stored)
export const AGT_MON_ADDR: u32 = 32; // u32 linear address the monitor was set on
export const AGT_REPEAT: u32 = 36; // u32 operations left (AT_FOREVER = never ends)
export const AGT_A: u32 = 40; // u64 operand a (a store agent's next value)
export const AGT_B: u32 = 48; // u64 operand b
export const AGT_OLD: u32 = 56; // u64 word loaded by the last load(-exclusive)
export const AGT_RESULT: u32 = 64; // u64 old field value returned by the last completed step sequence
export const AGT_EXPECT: u32 = 72; // u64 field value a cmpxchg expects
export const AGT_LAST_PROGRESS: u32 = 80; // u64 context step of the last completed operation
export const AGT_OPS_DONE: u32 = 88; // u32 operations completed
export const AGT_STEPS: u32 = 92; // u32 steps executed
export const AGT_LLSC: u32 = 96; // u32 load-exclusives
export const AGT_SC_FAILS: u32 = 100; // u32 failed store-exclusives
export const AGT_CLEARED: u32 = 104; // u32 times another agent's store cleared this agent's monitor
export const AGT_PAUSES: u32 = 108; // u32 times this agent paused its sharer (XSA-295 timeout)
export const AGT_TRIES: u32 = 112; // u32 failed store-exclusives in the current bounded attempt
export const AGT_SPURIOUS: u32 = 116; // u32 spurious store-exclusive failures
export const AGT_SEQ_LEN: u32 = 120; // u8 micro-ops in the program
export const AGT_SEQ: u32 = 128; // u8 x AT_SEQ_MAX micro-ops (AT_U_*)
export const AT_SEQ_MAX: u32 = 16;
export const AT_FOREVER: u32 = 0xffffffff;
// Agent flags.
export const AGF_ACTIVE: u32 = 1;
export const AGF_FOREVER: u32 = 2; // repeats until removed (a hostile loop); never counts as pending
export const AGF_GUEST_SAFE: u32 = 4; // Xen's XSA-295 helper: bounded attempts, then pause the sharer and redo
export const AGF_DONE: u32 = 8;
export const AGF_STARVED: u32 = 16;
export const AGF_MASKED: u32 = 32; // sub-word operation emulated on the containing 32-bit word

// ---- grant tables (src/xen/grant-*.ts, assembly/xen/grant-*.ts) ---------------------------
// Copy records: the host resolves and rights-checks every GNTTABOP_copy op, then hands the
// whole batch's data movement to one kernel call as an array of these at IO_BASE.
export const GCOPY_REC_SIZE: u32 = 24;
export const GCOPY_SRC_MFN: u32 = 0; // u32
export const GCOPY_DST_MFN: u32 = 4; // u32
export const GCOPY_SRC_OFF: u32 = 8; // u16
export const GCOPY_DST_OFF: u32 = 10; // u16
export const GCOPY_LEN: u32 = 12; // u16
export const GCOPY_SRC_DOM: u32 = 14; // u16 domain that must own the source frame
export const GCOPY_DST_DOM: u32 = 16; // u16 domain that must own the destination frame
export const GCOPY_STATUS: u32 = 20; // i32 out: MST_OK or why the kernel refused
export const GCOPY_MAX_RECS: u32 = IO_SIZE / GCOPY_REC_SIZE;

// Counters (CNT_GRANT_BASE..239). Ops are counted per array element processed.
export const CNT_GNT_OP_SETUP_TABLE: u32 = 200;
export const CNT_GNT_OP_QUERY_SIZE: u32 = 201;
export const CNT_GNT_OP_MAP: u32 = 202;
export const CNT_GNT_OP_UNMAP: u32 = 203;
export const CNT_GNT_OP_COPY: u32 = 204;
export const CNT_GNT_OP_UNSUPPORTED: u32 = 205; // grant_table_op calls with a command the model lacks
export const CNT_GNT_MAPS: u32 = 206; // successful map_grant_ref ops
export const CNT_GNT_UNMAPS: u32 = 207; // successful unmap_grant_ref ops that removed a mapping
export const CNT_GNT_COPIES: u32 = 208; // copies performed (counted by the copy kernel)
export const CNT_GNT_COPY_BYTES: u32 = 209;
export const CNT_GNT_TLB_FLUSHES: u32 = 210; // one per unmap batch of 32 (unless elided)
export const CNT_GNT_TLB_FLUSHES_ELIDED: u32 = 211; // batches with no accessed mapping (XenServer patch)
export const CNT_GNT_CMPXCHG: u32 = 212; // Xen's 32-bit flags|domid cmpxchg attempts
export const CNT_GNT_CMPXCHG_RETRIES: u32 = 213; // attempts after the first (the guest raced Xen)
export const CNT_GNT_UNSTABLE: u32 = 214; // entries given up on after 5 failed attempts
export const CNT_GNT_FLAG_CLEARS: u32 = 215; // GTF_reading/GTF_writing clears on release
export const CNT_GNT_MAPTRACK_IN_USE: u32 = 216; // gauge: maptrack handles held, all domains
export const CNT_GNT_PAGES_MAPPED: u32 = 217; // gauge: granted frames mapped in grantee p2ms
export const CNT_GNT_TABLE_FRAMES: u32 = 218; // gauge: grant-table frames allocated
export const CNT_GNT_FAILED: u32 = 219; // ops whose status was not GNTST_okay
// Failed ops by status: GNTST code -k is counted at CNT_GNT_ST_BASE + k (k = 1..13).
export const CNT_GNT_ST_BASE: u32 = 219;
export const CNT_GNT_ST_GENERAL_ERROR: u32 = 220;
export const CNT_GNT_ST_BAD_DOMAIN: u32 = 221;
export const CNT_GNT_ST_BAD_GNTREF: u32 = 222;
export const CNT_GNT_ST_BAD_HANDLE: u32 = 223;
export const CNT_GNT_ST_BAD_VIRT_ADDR: u32 = 224;
export const CNT_GNT_ST_BAD_DEV_ADDR: u32 = 225;
export const CNT_GNT_ST_NO_DEVICE_SPACE: u32 = 226;
export const CNT_GNT_ST_PERMISSION_DENIED: u32 = 227;
export const CNT_GNT_ST_BAD_PAGE: u32 = 228;
export const CNT_GNT_ST_BAD_COPY_ARG: u32 = 229;
export const CNT_GNT_ST_ADDRESS_TOO_BIG: u32 = 230;
export const CNT_GNT_ST_EAGAIN: u32 = 231;
export const CNT_GNT_ST_NO_SPACE: u32 = 232;
export const CNT_GNT_HC_ERRORS: u32 = 233; // grant hypercalls that returned a negative errno
export const CNT_GNT_GUEST_GRANTS: u32 = 234; // guest-side grant_foreign_access
export const CNT_GNT_GUEST_END_OK: u32 = 235; // guest-side end_foreign_access that revoked
export const CNT_GNT_GUEST_END_BUSY: u32 = 236; // ... refused because the grantee still holds it
export const CNT_GNT_GUEST_CMPXCHG: u32 = 237; // the guest's 16-bit cmpxchg attempts on flags
export const CNT_GNT_TABLE_MAPS: u32 = 238; // table frames placed in a guest p2m (add_to_physmap)
export const CNT_GNT_COPY_REFUSED: u32 = 239; // copy records the kernel refused (should stay 0)
// ---- virtio device status, virtio-mmio, virtio-blk (linux/virtio_{config,mmio,blk}.h) ------
// Checked against the uapi headers by test/virtio-abi-native.test.ts.
export const VIRTIO_CONFIG_S_ACKNOWLEDGE: u32 = 1;
export const VIRTIO_CONFIG_S_DRIVER: u32 = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK: u32 = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK: u32 = 8;
export const VIRTIO_CONFIG_S_NEEDS_RESET: u32 = 0x40;
export const VIRTIO_CONFIG_S_FAILED: u32 = 0x80;
export const VIRTIO_ID_BLOCK: u32 = 2;
// virtio-mmio v2 register offsets; control registers are 32-bit, config starts at 0x100.
export const VIRTIO_MMIO_MAGIC_VALUE: u32 = 0x000;
export const VIRTIO_MMIO_VERSION: u32 = 0x004;
export const VIRTIO_MMIO_DEVICE_ID: u32 = 0x008;
export const VIRTIO_MMIO_VENDOR_ID: u32 = 0x00c;
export const VIRTIO_MMIO_DEVICE_FEATURES: u32 = 0x010;
export const VIRTIO_MMIO_DEVICE_FEATURES_SEL: u32 = 0x014;
export const VIRTIO_MMIO_DRIVER_FEATURES: u32 = 0x020;
export const VIRTIO_MMIO_DRIVER_FEATURES_SEL: u32 = 0x024;
export const VIRTIO_MMIO_GUEST_PAGE_SIZE: u32 = 0x028; // legacy (v1) only
export const VIRTIO_MMIO_QUEUE_SEL: u32 = 0x030;
export const VIRTIO_MMIO_QUEUE_NUM_MAX: u32 = 0x034;
export const VIRTIO_MMIO_QUEUE_NUM: u32 = 0x038;
export const VIRTIO_MMIO_QUEUE_ALIGN: u32 = 0x03c; // legacy (v1) only
export const VIRTIO_MMIO_QUEUE_PFN: u32 = 0x040; // legacy (v1) only
export const VIRTIO_MMIO_QUEUE_READY: u32 = 0x044;
export const VIRTIO_MMIO_QUEUE_NOTIFY: u32 = 0x050;
export const VIRTIO_MMIO_INTERRUPT_STATUS: u32 = 0x060;
export const VIRTIO_MMIO_INTERRUPT_ACK: u32 = 0x064;
export const VIRTIO_MMIO_STATUS: u32 = 0x070;
export const VIRTIO_MMIO_QUEUE_DESC_LOW: u32 = 0x080;
export const VIRTIO_MMIO_QUEUE_DESC_HIGH: u32 = 0x084;
export const VIRTIO_MMIO_QUEUE_AVAIL_LOW: u32 = 0x090;
export const VIRTIO_MMIO_QUEUE_AVAIL_HIGH: u32 = 0x094;
export const VIRTIO_MMIO_QUEUE_USED_LOW: u32 = 0x0a0;
export const VIRTIO_MMIO_QUEUE_USED_HIGH: u32 = 0x0a4;
export const VIRTIO_MMIO_SHM_SEL: u32 = 0x0ac;
export const VIRTIO_MMIO_SHM_LEN_LOW: u32 = 0x0b0;
export const VIRTIO_MMIO_SHM_LEN_HIGH: u32 = 0x0b4;
export const VIRTIO_MMIO_SHM_BASE_LOW: u32 = 0x0b8;
export const VIRTIO_MMIO_SHM_BASE_HIGH: u32 = 0x0bc;
export const VIRTIO_MMIO_CONFIG_GENERATION: u32 = 0x0fc;
export const VIRTIO_MMIO_CONFIG: u32 = 0x100;
export const VIRTIO_MMIO_INT_VRING: u32 = 1;
export const VIRTIO_MMIO_INT_CONFIG: u32 = 2;
// Not uapi macros: the magic ("virt" read as a little-endian u32), the version of the modern
// layout, QueueReset (1.2, absent from older headers) and the window libxl gives each device.
export const VIRTIO_MMIO_MAGIC: u32 = 0x74726976;
export const VIRTIO_MMIO_VERSION_2: u32 = 2;
export const VIRTIO_MMIO_QUEUE_RESET: u32 = 0x0c0;
export const VIRTIO_MMIO_WINDOW_SIZE: u32 = 0x200;
// virtio-blk: features, request types, status values, struct layouts.
export const VIRTIO_BLK_F_SIZE_MAX: u32 = 1;
export const VIRTIO_BLK_F_SEG_MAX: u32 = 2;
export const VIRTIO_BLK_F_GEOMETRY: u32 = 4;
export const VIRTIO_BLK_F_RO: u32 = 5;
export const VIRTIO_BLK_F_BLK_SIZE: u32 = 6;
export const VIRTIO_BLK_F_FLUSH: u32 = 9;
export const VIRTIO_BLK_F_TOPOLOGY: u32 = 10;
export const VIRTIO_BLK_F_CONFIG_WCE: u32 = 11;
export const VIRTIO_BLK_F_MQ: u32 = 12;
export const VIRTIO_BLK_F_DISCARD: u32 = 13;
export const VIRTIO_BLK_F_WRITE_ZEROES: u32 = 14;
export const VIRTIO_BLK_T_IN: u32 = 0;
export const VIRTIO_BLK_T_OUT: u32 = 1;
export const VIRTIO_BLK_T_SCSI_CMD: u32 = 2;
export const VIRTIO_BLK_T_FLUSH: u32 = 4;
export const VIRTIO_BLK_T_GET_ID: u32 = 8;
export const VIRTIO_BLK_T_DISCARD: u32 = 11;
export const VIRTIO_BLK_T_WRITE_ZEROES: u32 = 13;
export const VIRTIO_BLK_T_SECURE_ERASE: u32 = 14;
export const VIRTIO_BLK_S_OK: u32 = 0;
export const VIRTIO_BLK_S_IOERR: u32 = 1;
export const VIRTIO_BLK_S_UNSUPP: u32 = 2;
export const VIRTIO_BLK_ID_BYTES: u32 = 20;
export const VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP: u32 = 1;
export const VIRTIO_BLK_SECTOR_SIZE: u32 = 512; // not a uapi macro: sectors are always 512 bytes
export const VIRTIO_BLK_OUTHDR_SIZE: u32 = 16; // struct virtio_blk_outhdr
export const VIRTIO_BLK_OUTHDR_TYPE: u32 = 0; // le32
export const VIRTIO_BLK_OUTHDR_IOPRIO: u32 = 4; // le32 (reserved in 1.x)
export const VIRTIO_BLK_OUTHDR_SECTOR: u32 = 8; // le64
export const VIRTIO_BLK_DWZ_SIZE: u32 = 16; // struct virtio_blk_discard_write_zeroes
export const VIRTIO_BLK_DWZ_SECTOR: u32 = 0; // le64
export const VIRTIO_BLK_DWZ_NUM_SECTORS: u32 = 8; // le32
export const VIRTIO_BLK_DWZ_FLAGS: u32 = 12; // le32
export const VIRTIO_BLK_CONFIG_CAPACITY: u32 = 0; // le64, 512-byte sectors
export const VIRTIO_BLK_CONFIG_SIZE_MAX: u32 = 8;
export const VIRTIO_BLK_CONFIG_SEG_MAX: u32 = 12;
export const VIRTIO_BLK_CONFIG_BLK_SIZE: u32 = 20;
export const VIRTIO_BLK_CONFIG_WCE: u32 = 32; // u8 (spec: writeback)
export const VIRTIO_BLK_CONFIG_NUM_QUEUES: u32 = 34; // le16
export const VIRTIO_BLK_CONFIG_MAX_DISCARD_SECTORS: u32 = 36;
export const VIRTIO_BLK_CONFIG_MAX_DISCARD_SEG: u32 = 40;
export const VIRTIO_BLK_CONFIG_DISCARD_SECTOR_ALIGNMENT: u32 = 44;
export const VIRTIO_BLK_CONFIG_MAX_WRITE_ZEROES_SECTORS: u32 = 48;
export const VIRTIO_BLK_CONFIG_MAX_WRITE_ZEROES_SEG: u32 = 52;
export const VIRTIO_BLK_CONFIG_WRITE_ZEROES_MAY_UNMAP: u32 = 56; // u8
export const VIRTIO_BLK_CONFIG_SIZE: u32 = 60; // the fields up to write_zeroes_may_unmap + unused1[3]

// ---- transports (src/transports) ---------------------------------------------------------
// Counters CNT_TRANSPORT_BASE..639: a common block every transport counts in (448..479), then
// 16 ids per transport id. The range 640..1023 is left to devices.
// Common block. "Traps" are guest accesses to the device's register window that leave the
// guest (KVM exit, Xen IOREQ); each one is also counted and priced by the hypervisor model.
export const CNT_TR_REG_TRAPS: u32 = 448; // every register access that trapped
export const CNT_TR_REG_TRAPS_NOTIFY: u32 = 449; // ... QueueNotify writes (kicks)
export const CNT_TR_REG_TRAPS_ISR: u32 = 450; // ... InterruptStatus reads and InterruptACK writes
export const CNT_TR_NOTIFICATIONS: u32 = 451; // available-buffer notifications that reached the backend
export const CNT_TR_INTERRUPTS: u32 = 452; // interrupts delivered to the guest (used buffers, configuration changes)
export const CNT_TR_INTERRUPTS_MERGED: u32 = 453; // ... raised while one was still pending (no new delivery)
export const CNT_TR_COPIES_GUEST: u32 = 454; // payload copies the transport makes, by whom
export const CNT_TR_COPY_BYTES_GUEST: u32 = 455;
export const CNT_TR_COPIES_HV: u32 = 456;
export const CNT_TR_COPY_BYTES_HV: u32 = 457;
export const CNT_TR_COPIES_BACKEND: u32 = 458;
export const CNT_TR_COPY_BYTES_BACKEND: u32 = 459;
export const CNT_TR_DEV_READ_BYTES: u32 = 460; // payload bytes devices read through a ChainIo
export const CNT_TR_DEV_WRITE_BYTES: u32 = 461; // payload bytes devices wrote through a ChainIo
export const CNT_TR_PAGES_EXPOSED_IO: u32 = 462; // guest pages made reachable for one I/O (map, grant)
export const CNT_TR_EXPOSED_REACHABLE: u32 = 463; // gauge: guest pages backends could reach now
export const CNT_TR_EXPOSED_MAPPED: u32 = 464; // gauge: guest pages backends have mapped now
export const CNT_TR_IO_ERRORS: u32 = 465; // chains whose buffers the transport could not reach
export const CNT_TR_BACKEND_PASSES: u32 = 466; // backend service passes that found work
// kvm-ioeventfd (480..495): the KVM baseline.
export const CNT_TR_KVM_BASE: u32 = 480;
export const CNT_KVM_EXITS_IOEVENTFD: u32 = 480; // exits completed in the kernel by an ioeventfd match
export const CNT_KVM_EXITS_USER: u32 = 481; // exits returned to the VMM in user space (KVM_EXIT_MMIO)
export const CNT_KVM_EVENTFD_SIGNALS: u32 = 482; // ioeventfd signals (counter was 0: a wake-up)
export const CNT_KVM_EVENTFD_MERGED: u32 = 483; // ioeventfd signals on a counter not yet read
export const CNT_KVM_BACKEND_WAKEUPS: u32 = 484; // the VMM's I/O thread read a non-zero eventfd
export const CNT_KVM_IRQFD_SIGNALS: u32 = 485; // the backend's writes to an irqfd
export const CNT_KVM_IRQ_INJECTIONS: u32 = 486; // interrupts injected into the guest
// mmio-foreign (496..511): VirtIO-EPAM, virtio-mmio + IOREQ + foreign mapping.
export const CNT_TR_MMIO_FOREIGN_BASE: u32 = 496;
export const CNT_MF_MAP_CALLS: u32 = 496; // xenforeignmemory_map calls for buffers (one batch each)
export const CNT_MF_PAGES_MAPPED: u32 = 497; // buffer pages mapped
export const CNT_MF_PAGES_UNMAPPED: u32 = 498; // buffer pages unmapped (one remove_from_physmap each)
export const CNT_MF_CACHE_HITS: u32 = 499; // buffer pages found in the map cache
export const CNT_MF_CACHE_MISSES: u32 = 500;
export const CNT_MF_CACHE_EVICTIONS: u32 = 501;
export const CNT_MF_RING_PAGES_MAPPED: u32 = 502; // ring pages mapped at QueueReady
export const CNT_MF_IRQ_LEVEL_OPS: u32 = 503; // set_irq_level dm_ops (raise and lower)
export const CNT_MF_ISA_IRQ_OPS: u32 = 504; // x86: set_isa_irq_level dm_ops (raise and lower)
// Reserved for the transports other helpers add (16 ids each).
export const CNT_TR_GRANT_MAP_BASE: u32 = 512;
// grant-map (512..527): VirtIO-SuSE, virtio-mmio + IOREQ control, buffers granted per I/O.
export const CNT_GM_GRANTS: u32 = 512; // buffer pages the frontend granted (one gref each)
export const CNT_GM_END_ACCESS: u32 = 513; // buffer grefs the frontend revoked after completion
export const CNT_GM_END_BUSY: u32 = 514; // revocations refused: still mapped (the device is broken)
export const CNT_GM_MAP_CALLS: u32 = 515; // map_grant_ref hypercalls for buffers (one batch per chain)
export const CNT_GM_PAGES_MAPPED: u32 = 516; // buffer pages mapped
export const CNT_GM_UNMAP_CALLS: u32 = 517; // unmap_grant_ref hypercalls for buffers (one per chain)
export const CNT_GM_PAGES_UNMAPPED: u32 = 518;
export const CNT_GM_MAP_FAILS: u32 = 519; // map ops with a status other than GNTST_okay
export const CNT_GM_RING_GRANTS: u32 = 520; // ring pages the frontend granted at QueueReady
export const CNT_GM_RING_PAGES_MAPPED: u32 = 521; // ring pages the backend mapped (kept until reset)
export const CNT_GM_IRQ_LEVEL_OPS: u32 = 522; // set_irq_level dm_ops (raise and lower)
export const CNT_GM_ISA_IRQ_OPS: u32 = 523; // x86: set_isa_irq_level dm_ops (raise and lower)
export const CNT_TR_GRANT_PERSISTENT_BASE: u32 = 528;
// grant-persistent (528..543): blkback's persistent grants, a pool granted and mapped once.
export const CNT_GP_POOL_GRANTS: u32 = 528; // pool pages granted at set-up
export const CNT_GP_POOL_PAGES_MAPPED: u32 = 529; // pool pages the backend mapped at set-up (kept)
export const CNT_GP_POOL_TAKES: u32 = 530; // pool pages a buffer used (per I/O)
export const CNT_GP_POOL_EXHAUSTED: u32 = 531; // buffers that found no run of free pool pages: granted and mapped per request
export const CNT_TR_GRANT_COPY_BASE: u32 = 544;
// grant-copy (544..559): the backend copies through GNTTABOP_copy instead of mapping.
export const CNT_GC_COPY_CALLS: u32 = 544; // GNTTABOP_copy hypercalls (one per device read or write of a chain, per bounce batch)
export const CNT_GC_COPY_OPS: u32 = 545; // successful copy ops (one per segment piece within a page)
export const CNT_GC_COPY_FAILS: u32 = 546; // copy ops with a status other than GNTST_okay
export const CNT_TR_ARGO_BASE: u32 = 560;
// argo (560..575): VirtIO-Argo, each side its own virtqueue, descriptors and payload over Argo rings.
export const CNT_AR_REQUESTS_SENT: u32 = 560; // request messages the frontend sent (one per chain)
export const CNT_AR_COMPLETIONS_SENT: u32 = 561; // completion messages the backend sent
export const CNT_AR_SEND_EAGAIN: u32 = 562; // sendv's refused for lack of ring space (either side)
export const CNT_AR_SPACE_WAITS: u32 = 563; // notify queries asking to be woken when a message fits
export const CNT_AR_VIRQS_TAKEN: u32 = 564; // VIRQ_ARGO handled by a side that found messages
export const CNT_AR_MESSAGES_RECEIVED: u32 = 565; // messages consumed from either ring
export const CNT_TR_PV_P2M_BASE: u32 = 576;
export const CNT_TR_FAT_VIRTQUEUE_BASE: u32 = 592;
export const CNT_TR_PRESHARED_BOUNCE_BASE: u32 = 608;
// pv-p2m (576..591): xenbus handshake, machine addresses in descriptors, dom0 maps machine
// frames (by mfn, through the guest's p2m) per request; all guest RAM is reachable.
export const CNT_PP_PFN_TO_MFN: u32 = 576; // guest pfn -> mfn translations for descriptor addresses
export const CNT_PP_MAP_CALLS: u32 = 577; // per-chain foreign-map batches of machine frames
export const CNT_PP_PAGES_MAPPED: u32 = 578; // buffer pages mapped (one per page a chain touches)
export const CNT_PP_PAGES_UNMAPPED: u32 = 579;
export const CNT_PP_RING_PAGES_MAPPED: u32 = 580; // ring pages mapped at Connected (ring-ref mfns)
export const CNT_PP_KICKS: u32 = 581; // event-channel sends guest -> backend
export const CNT_PP_IRQS: u32 = 582; // event-channel sends backend -> guest
export const CNT_PP_BAD_MFN: u32 = 583; // descriptor machine frames not owned by the guest
export const CNT_PP_SWIOTLB_BOUNCES: u32 = 584; // buffers not machine-contiguous, bounced through the guest's swiotlb pool
export const CNT_PP_SWIOTLB_BYTES: u32 = 585; // bytes the guest copied to and from that pool
// fat-virtqueue (592..607): payload inline in slots of an enlarged ring; only the ring (with
// its slots) is shared, foreign-mapped once by the backend; the frontend copies into a slot.
export const CNT_FV_SLOT_COPIES_IN: u32 = 592; // frontend copies of a device-readable buffer into its slot
export const CNT_FV_SLOT_BYTES_IN: u32 = 593;
export const CNT_FV_SLOT_COPIES_OUT: u32 = 594; // frontend copies of a device-written slot back out
export const CNT_FV_SLOT_BYTES_OUT: u32 = 595;
export const CNT_FV_RING_PAGES_MAPPED: u32 = 596; // ring pages (slots included) the backend mapped at set-up
export const CNT_FV_KICKS: u32 = 597; // event-channel sends guest -> backend
export const CNT_FV_IRQS: u32 = 598; // event-channel sends backend -> guest
export const CNT_FV_OVERSIZE: u32 = 599; // requests refused: a buffer larger than a slot
export const CNT_FV_SLOTS_EXHAUSTED: u32 = 600; // requests refused: no free slot
// preshared-bounce (608..623): one pre-shared region per device (rings + buffer pool),
// foreign-mapped once by the backend; the guest bounces payload through the pool.
export const CNT_PB_BOUNCE_IN_COPIES: u32 = 608; // guest copies of a device-readable buffer into the pool
export const CNT_PB_BOUNCE_IN_BYTES: u32 = 609;
export const CNT_PB_BOUNCE_OUT_COPIES: u32 = 610; // guest copies of a device-written pool slot back out
export const CNT_PB_BOUNCE_OUT_BYTES: u32 = 611;
export const CNT_PB_REGION_PAGES_MAPPED: u32 = 612; // region pages the backend mapped at set-up
export const CNT_PB_KICKS: u32 = 613; // event-channel sends guest -> backend
export const CNT_PB_IRQS: u32 = 614; // event-channel sends backend -> guest
export const CNT_PB_POOL_EXHAUSTED: u32 = 615; // expose() found no room in the pool
// Xen's Arm guest layout for virtio-mmio devices (public/arch-arm.h, tools-only macros).
export const GUEST_VIRTIO_MMIO_BASE: u32 = 0x02000000;
export const GUEST_VIRTIO_MMIO_SIZE: u32 = 0x00100000;
export const GUEST_VIRTIO_MMIO_SPI_FIRST: u32 = 33;
export const GUEST_VIRTIO_MMIO_SPI_LAST: u32 = 43;
// x86 HVM guests: Xen has no virtio-mmio layout for x86, so this is vxsim's choice. Windows
// sit at the top of hvmloader's default PCI hole, below its reserved area (RESERVED_MEMBASE
// 0xfc000000); the interrupt is an ISA IRQ out of hvmloader's PCI_ISA_IRQ_MASK (5, 10, 11),
// the lines its MADT declares level-triggered (and shareable), which a virtio-mmio line needs.
export const GUEST_X86_VIRTIO_MMIO_BASE: u32 = 0xfbf00000;
export const GUEST_X86_VIRTIO_MMIO_ISA_IRQ_MASK: u32 = 0x0c20;
