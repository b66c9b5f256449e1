// IOREQ server state Xen keeps per target guest, with Xen's internal limits. The guest-visible
// ABI (ioreq_t, dm_op structs) is in layout.ts.
import * as L from "../wasm/layout.ts";

/** Slots in one shared ioreq page (one per vCPU). */
export const IOREQS_PER_PAGE = L.PAGE_SIZE / L.IOREQ_SIZE;
/** ARRAY_SIZE(op_size) in xen/arch/x86/hvm/dm.c: op numbers at or above it are -EOPNOTSUPP. */
export const XEN_DMOP_NR_OPS = L.XEN_DMOP_NR_VCPUS + 1;
/** MAX_NR_IOREQ_SERVERS (xen/include/xen/ioreq.h): servers per target domain. */
export const MAX_NR_IOREQ_SERVERS = 8;
/** MAX_NR_IO_RANGES: ranges per type per server. */
export const MAX_NR_IO_RANGES = 256;
/** Arm: interrupts below 32 are SGIs and PPIs; set_irq_level drives SPIs only. */
export const NR_LOCAL_IRQS = 32;

/** The 4-bit state field of the byte at IOREQ_STATE_BYTE (the other bits: data_is_ptr, dir, df). */
const STATE_FIELD = ((1 << L.IOREQ_STATE_BITS) - 1) << L.IOREQ_STATE_SHIFT;
export const ioreqState = (b: number): number => (b & STATE_FIELD) >>> L.IOREQ_STATE_SHIFT;
export const withIoreqState = (b: number, state: number): number => (b & ~STATE_FIELD & 0xff) | ((state << L.IOREQ_STATE_SHIFT) & STATE_FIELD);
/** The dir bit of that byte: IOREQ_READ or IOREQ_WRITE. */
export const ioreqDir = (b: number): number => (b >>> L.IOREQ_DIR_SHIFT) & ((1 << L.IOREQ_DIR_BITS) - 1);
