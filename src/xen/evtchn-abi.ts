// Xen 4.17 public ABI used by the event-channel, IOREQ and foreign-mapping models (x86_64
// layout; xen/include/public/{xen,event_channel,memory}.h, hvm/{ioreq,dm_op}.h). Names follow
// the rule of the "Xen ABI" section of layout.ts: macros keep their Xen name upper-cased,
// <STRUCT>_SIZE is sizeof, <STRUCT>_<FIELD> is offsetof, a field named `size` gets _OFF.

// ---- hypercalls ----------------------------------------------------------------------------
export const HYPERVISOR_MEMORY_OP = 12;
export const HYPERVISOR_EVENT_CHANNEL_OP = 32;
export const HYPERVISOR_DM_OP = 41;

// ---- event_channel.h -----------------------------------------------------------------------
export const EVTCHNOP_BIND_INTERDOMAIN = 0;
export const EVTCHNOP_BIND_VIRQ = 1;
export const EVTCHNOP_BIND_PIRQ = 2;
export const EVTCHNOP_CLOSE = 3;
export const EVTCHNOP_SEND = 4;
export const EVTCHNOP_STATUS = 5;
export const EVTCHNOP_ALLOC_UNBOUND = 6;
export const EVTCHNOP_BIND_IPI = 7;
export const EVTCHNOP_BIND_VCPU = 8;
export const EVTCHNOP_UNMASK = 9;
export const EVTCHNOP_RESET = 10;
export const EVTCHNOP_INIT_CONTROL = 11;
export const EVTCHNOP_EXPAND_ARRAY = 12;
export const EVTCHNOP_SET_PRIORITY = 13;

export const EVTCHNSTAT_CLOSED = 0;
export const EVTCHNSTAT_UNBOUND = 1;
export const EVTCHNSTAT_INTERDOMAIN = 2;
export const EVTCHNSTAT_PIRQ = 3;
export const EVTCHNSTAT_VIRQ = 4;
export const EVTCHNSTAT_IPI = 5;

export const EVTCHN_ALLOC_UNBOUND_SIZE = 8;
export const EVTCHN_ALLOC_UNBOUND_DOM = 0; // u16
export const EVTCHN_ALLOC_UNBOUND_REMOTE_DOM = 2; // u16
export const EVTCHN_ALLOC_UNBOUND_PORT = 4; // u32 out
export const EVTCHN_BIND_INTERDOMAIN_SIZE = 12;
export const EVTCHN_BIND_INTERDOMAIN_REMOTE_DOM = 0; // u16
export const EVTCHN_BIND_INTERDOMAIN_REMOTE_PORT = 4; // u32
export const EVTCHN_BIND_INTERDOMAIN_LOCAL_PORT = 8; // u32 out
export const EVTCHN_BIND_VIRQ_SIZE = 12;
export const EVTCHN_BIND_VIRQ_VIRQ = 0; // u32
export const EVTCHN_BIND_VIRQ_VCPU = 4; // u32
export const EVTCHN_BIND_VIRQ_PORT = 8; // u32 out
export const EVTCHN_BIND_IPI_SIZE = 8;
export const EVTCHN_BIND_IPI_VCPU = 0; // u32
export const EVTCHN_BIND_IPI_PORT = 4; // u32 out
export const EVTCHN_BIND_VCPU_SIZE = 8;
export const EVTCHN_BIND_VCPU_PORT = 0; // u32
export const EVTCHN_BIND_VCPU_VCPU = 4; // u32
export const EVTCHN_PORT_SIZE = 4; // evtchn_send / evtchn_close / evtchn_unmask: one u32 port
export const EVTCHN_STATUS_SIZE = 24;
export const EVTCHN_STATUS_DOM = 0; // u16 in
export const EVTCHN_STATUS_PORT = 4; // u32 in
export const EVTCHN_STATUS_STATUS = 8; // u32 out EVTCHNSTAT_*
export const EVTCHN_STATUS_VCPU = 12; // u32 out
export const EVTCHN_STATUS_UNBOUND_DOM = 16; // u16 (union u)
export const EVTCHN_STATUS_INTERDOMAIN_DOM = 16; // u16
export const EVTCHN_STATUS_INTERDOMAIN_PORT = 20; // u32
export const EVTCHN_STATUS_VIRQ = 16; // u32

// ---- VIRQs (xen.h) -------------------------------------------------------------------------
export const VIRQ_TIMER = 0; // per vCPU
export const VIRQ_DEBUG = 1; // per vCPU
export const VIRQ_CONSOLE = 2;
export const VIRQ_DOM_EXC = 3;
export const VIRQ_TBUF = 4;
export const VIRQ_DEBUGGER = 6;
export const VIRQ_XENOPROF = 7; // per vCPU
export const VIRQ_CON_RING = 8;
export const VIRQ_PCPU_STATE = 9;
export const VIRQ_MEM_EVENT = 10;
export const VIRQ_ARGO = 11;
export const VIRQ_ENOMEM = 12;
export const VIRQ_XENPMU = 13; // per vCPU
export const VIRQ_ARCH_0 = 16; // VIRQ_ARCH_0..7 are global on x86 and Arm
export const NR_VIRQS = 24;

// ---- shared_info / vcpu_info, 2-level ABI (x86_64) -----------------------------------------
export const XEN_LEGACY_MAX_VCPUS = 32;
export const VCPU_INFO_SIZE = 64;
export const VCPU_INFO_EVTCHN_UPCALL_PENDING = 0; // u8
export const VCPU_INFO_EVTCHN_UPCALL_MASK = 1; // u8
export const VCPU_INFO_EVTCHN_PENDING_SEL = 8; // xen_ulong_t (u64)
export const SHARED_INFO_SIZE = 3136;
export const SHARED_INFO_VCPU_INFO = 0; // vcpu_info[XEN_LEGACY_MAX_VCPUS]
export const SHARED_INFO_EVTCHN_PENDING = 2048; // xen_ulong_t[64]
export const SHARED_INFO_EVTCHN_MASK = 2560; // xen_ulong_t[64]
export const SHARED_INFO_WC_VERSION = 3072;
export const BITS_PER_EVTCHN_WORD = 64;
export const EVTCHN_2L_NR_CHANNELS = 4096;
/** Xen grows a domain's port space in buckets (PAGE_SIZE / sizeof(struct evtchn) = 64). */
export const EVTCHNS_PER_BUCKET = 64;

// ---- hvm/ioreq.h ---------------------------------------------------------------------------
export const IOREQ_READ = 1;
export const IOREQ_WRITE = 0;
export const IOREQ_TYPE_PIO = 0;
export const IOREQ_TYPE_COPY = 1; // MMIO
export const IOREQ_TYPE_PCI_CONFIG = 2;
export const IOREQ_TYPE_TIMEOFFSET = 7;
export const IOREQ_TYPE_INVALIDATE = 8;
export const STATE_IOREQ_NONE = 0;
export const STATE_IOREQ_READY = 1; // set by Xen
export const STATE_IOREQ_INPROCESS = 2; // set by the device model
export const STATE_IORESP_READY = 3; // set by the device model

export const IOREQ_SIZE = 32; // struct ioreq; shared_iopage_t is ioreq_t vcpu_ioreq[] (128 per page)
export const IOREQ_ADDR = 0; // u64
export const IOREQ_DATA = 8; // u64
export const IOREQ_COUNT = 16; // u32
export const IOREQ_SIZE_OFF = 20; // u32 bytes per access
export const IOREQ_VP_EPORT = 24; // u32
export const IOREQ_STATE_BYTE = 30; // bits 0-3 state, 4 data_is_ptr, 5 dir, 6 df
export const IOREQ_STATE_BITS = 4;
export const IOREQ_DATA_IS_PTR_SHIFT = 4;
export const IOREQ_DIR_SHIFT = 5;
export const IOREQ_DF_SHIFT = 6;
export const IOREQ_TYPE = 31; // u8
export const IOREQS_PER_PAGE = 4096 / IOREQ_SIZE;

// ---- hvm/dm_op.h ---------------------------------------------------------------------------
export const XEN_DMOP_CREATE_IOREQ_SERVER = 1;
export const XEN_DMOP_GET_IOREQ_SERVER_INFO = 2;
export const XEN_DMOP_MAP_IO_RANGE_TO_IOREQ_SERVER = 3;
export const XEN_DMOP_UNMAP_IO_RANGE_FROM_IOREQ_SERVER = 4;
export const XEN_DMOP_SET_IOREQ_SERVER_STATE = 5;
export const XEN_DMOP_DESTROY_IOREQ_SERVER = 6;
export const XEN_DMOP_SET_IRQ_LEVEL = 19;
export const XEN_DMOP_NR_VCPUS = 20;
/** ARRAY_SIZE(op_size) in xen/arch/x86/hvm/dm.c: op numbers at or above it are -EOPNOTSUPP. */
export const XEN_DMOP_NR_OPS = 21;

export const HVM_IOREQSRV_BUFIOREQ_OFF = 0;
export const HVM_IOREQSRV_BUFIOREQ_LEGACY = 1;
export const HVM_IOREQSRV_BUFIOREQ_ATOMIC = 2;
export const XEN_DMOP_IO_RANGE_PORT = 0;
export const XEN_DMOP_IO_RANGE_MEMORY = 1;
export const XEN_DMOP_IO_RANGE_PCI = 2;
export const XEN_DMOP_NO_GFNS = 1;
export const MAX_NR_IOREQ_SERVERS = 8;
export const MAX_NR_IO_RANGES = 256;

export const XEN_DM_OP_SIZE = 32; // struct xen_dm_op
export const XEN_DM_OP_OP = 0; // u32
export const XEN_DM_OP_PAD = 4; // u32
export const XEN_DM_OP_U = 8; // union
// Offsets below are within the union.
export const XEN_DM_OP_CREATE_IOREQ_SERVER_SIZE = 6;
export const XEN_DM_OP_CREATE_IOREQ_SERVER_HANDLE_BUFIOREQ = 0; // u8
export const XEN_DM_OP_CREATE_IOREQ_SERVER_PAD = 1; // u8[3]
export const XEN_DM_OP_CREATE_IOREQ_SERVER_ID = 4; // u16 out
export const XEN_DM_OP_GET_IOREQ_SERVER_INFO_SIZE = 24;
export const XEN_DM_OP_GET_IOREQ_SERVER_INFO_ID = 0; // u16
export const XEN_DM_OP_GET_IOREQ_SERVER_INFO_FLAGS = 2; // u16
export const XEN_DM_OP_GET_IOREQ_SERVER_INFO_BUFIOREQ_PORT = 4; // u32 out
export const XEN_DM_OP_GET_IOREQ_SERVER_INFO_IOREQ_GFN = 8; // u64 out
export const XEN_DM_OP_GET_IOREQ_SERVER_INFO_BUFIOREQ_GFN = 16; // u64 out
export const XEN_DM_OP_IOREQ_SERVER_RANGE_SIZE = 24;
export const XEN_DM_OP_IOREQ_SERVER_RANGE_ID = 0; // u16
export const XEN_DM_OP_IOREQ_SERVER_RANGE_PAD = 2; // u16
export const XEN_DM_OP_IOREQ_SERVER_RANGE_TYPE = 4; // u32
export const XEN_DM_OP_IOREQ_SERVER_RANGE_START = 8; // u64 inclusive
export const XEN_DM_OP_IOREQ_SERVER_RANGE_END = 16; // u64 inclusive
export const XEN_DM_OP_SET_IOREQ_SERVER_STATE_SIZE = 4;
export const XEN_DM_OP_SET_IOREQ_SERVER_STATE_ID = 0; // u16
export const XEN_DM_OP_SET_IOREQ_SERVER_STATE_ENABLED = 2; // u8
export const XEN_DM_OP_SET_IOREQ_SERVER_STATE_PAD = 3; // u8
export const XEN_DM_OP_DESTROY_IOREQ_SERVER_SIZE = 4;
export const XEN_DM_OP_DESTROY_IOREQ_SERVER_ID = 0; // u16
export const XEN_DM_OP_DESTROY_IOREQ_SERVER_PAD = 2; // u16
export const XEN_DM_OP_SET_IRQ_LEVEL_SIZE = 8;
export const XEN_DM_OP_SET_IRQ_LEVEL_IRQ = 0; // u32
export const XEN_DM_OP_SET_IRQ_LEVEL_LEVEL = 4; // u8
export const XEN_DM_OP_SET_IRQ_LEVEL_PAD = 5; // u8[3]
export const XEN_DM_OP_NR_VCPUS_SIZE = 4;
export const XEN_DM_OP_NR_VCPUS_VCPUS = 0; // u32 out
/** Arm: interrupts below 32 are SGIs and PPIs; set_irq_level drives SPIs only. */
export const NR_LOCAL_IRQS = 32;

// ---- memory.h ------------------------------------------------------------------------------
export const XENMEM_ADD_TO_PHYSMAP = 7;
export const XENMEM_REMOVE_FROM_PHYSMAP = 15;
export const XENMEM_ADD_TO_PHYSMAP_BATCH = 23;
export const XENMEM_ACQUIRE_RESOURCE = 28;

export const XENMAPSPACE_SHARED_INFO = 0;
export const XENMAPSPACE_GRANT_TABLE = 1;
export const XENMAPSPACE_GMFN = 2;
export const XENMAPSPACE_GMFN_RANGE = 3;
export const XENMAPSPACE_GMFN_FOREIGN = 4;
export const XENMAPSPACE_DEV_MMIO = 5;

export const XEN_ADD_TO_PHYSMAP_BATCH_SIZE = 32;
export const XEN_ADD_TO_PHYSMAP_BATCH_DOMID = 0; // u16
export const XEN_ADD_TO_PHYSMAP_BATCH_SPACE = 2; // u16
export const XEN_ADD_TO_PHYSMAP_BATCH_SIZE_OFF = 4; // u16 entries
export const XEN_ADD_TO_PHYSMAP_BATCH_FOREIGN_DOMID = 6; // u16 (union u)
export const XEN_ADD_TO_PHYSMAP_BATCH_IDXS = 8; // handle: xen_ulong_t[] (8 B each)
export const XEN_ADD_TO_PHYSMAP_BATCH_GPFNS = 16; // handle: xen_pfn_t[] (8 B each)
export const XEN_ADD_TO_PHYSMAP_BATCH_ERRS = 24; // handle: int[] (4 B each)

export const XEN_REMOVE_FROM_PHYSMAP_SIZE = 16;
export const XEN_REMOVE_FROM_PHYSMAP_DOMID = 0; // u16
export const XEN_REMOVE_FROM_PHYSMAP_GPFN = 8; // u64

export const XENMEM_RESOURCE_IOREQ_SERVER = 0;
export const XENMEM_RESOURCE_GRANT_TABLE = 1;
/** Frame indexes of the ioreq_server resource: 0 the buffered page, 1 + n the n-th ioreq page. */
export const XENMEM_RESOURCE_IOREQ_SERVER_FRAME_BUFIOREQ = 0;
export const XENMEM_RESOURCE_IOREQ_SERVER_FRAME_IOREQ0 = 1;
export const XEN_MEM_ACQUIRE_RESOURCE_SIZE = 32;
export const XEN_MEM_ACQUIRE_RESOURCE_DOMID = 0; // u16
export const XEN_MEM_ACQUIRE_RESOURCE_TYPE = 2; // u16
export const XEN_MEM_ACQUIRE_RESOURCE_ID = 4; // u32
export const XEN_MEM_ACQUIRE_RESOURCE_NR_FRAMES = 8; // u32 in/out
export const XEN_MEM_ACQUIRE_RESOURCE_PAD = 12; // u32
export const XEN_MEM_ACQUIRE_RESOURCE_FRAME = 16; // u64
export const XEN_MEM_ACQUIRE_RESOURCE_FRAME_LIST = 24; // handle: xen_pfn_t[] (gfns for a translated caller)
