// One registered Argo ring as Xen keeps it (struct argo_ring_info): identity, length, Xen's
// private tx, the ring's frames, and the senders waiting for space.
import { XEN_ARGO_DOMID_ANY, XEN_ARGO_MSG_SLOT_SIZE, ARGO_RING_SIZE, PAGE_SIZE } from "../wasm/layout.ts";

/** Rounds up to the 16-byte message slot, with C's u32 wrap-around. */
export function slotUp(v: number): number {
  return ((v + XEN_ARGO_MSG_SLOT_SIZE - 1) & ~(XEN_ARGO_MSG_SLOT_SIZE - 1)) >>> 0;
}

/** NPAGES_RING(len): frames holding the 64-byte header and `len` data bytes. */
export function ringPages(len: number): number {
  return Math.ceil((slotUp(len) + ARGO_RING_SIZE) / PAGE_SIZE);
}

/** Key of a ring within its owner: (aport, partner). */
export function ringKey(aport: number, partner: number): number {
  return aport * 0x10000 + partner;
}

export class ArgoRing {
  readonly owner: number;
  readonly aport: number;
  /** The one domain allowed to send, or XEN_ARGO_DOMID_ANY for a wildcard ring. */
  readonly partner: number;
  len: number;
  /** Xen's own copy of tx_ptr: the one it trusts (the guest-visible copy is only written). */
  tx: number;
  /** Machine frames of the ring, header first (what the guest's gfn list resolved to). */
  mfns: number[];
  /** First mfn of the hypervisor frames holding `mfns` for the copy kernel. */
  tableMfn: number;
  /** Waiting senders: domid -> payload size they wait for (insertion order = queue order). */
  readonly pending = new Map<number, number>();

  constructor(owner: number, aport: number, partner: number, len: number, tx: number, mfns: number[], tableMfn: number) {
    this.owner = owner;
    this.aport = aport;
    this.partner = partner;
    this.len = len;
    this.tx = tx;
    this.mfns = mfns;
    this.tableMfn = tableMfn;
  }

  get wildcard(): boolean {
    return this.partner === XEN_ARGO_DOMID_ANY;
  }

  /** Largest payload the ring can ever take (the max_message_size of a ring_data query). */
  get maxMessageSize(): number {
    return this.len - 2 * XEN_ARGO_MSG_SLOT_SIZE;
  }
}
