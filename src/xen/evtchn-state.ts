// Event-channel state Xen keeps per domain (struct evtchn and the port table), with the
// model-only sizes of that table. The guest-visible ABI is in layout.ts.
import * as L from "../wasm/layout.ts";

/** Xen grows a domain's port space in buckets (PAGE_SIZE / sizeof(struct evtchn) = 64). */
export const EVTCHNS_PER_BUCKET = 64;
/** Bits in one pending/mask word of the 2-level ABI (a xen_ulong_t). */
export const BITS_PER_EVTCHN_WORD = L.ULONG_SIZE * 8;
