// Host boundary of the Argo kernel. The sender's iovs (xen_argo_iov_t, as read from its guest
// memory) are placed at IO_BASE by the host; the ring is named by the first mfn of its table.
import { IO_BASE, FRAME_XEN, MST_BAD_MFN } from "../layout";
import { frameAddr, frameKind, frameLive } from "../machine/frames";
import { ringInsert } from "./argo";

/** One sendv's copy: header + gathered payload into the ring. Returns the new tx or a status. */
export function argo_ring_insert(
  tableMfn: u32, nmfns: u32, owner: u32, ringLen: u32, tx: u32,
  srcDom: u32, srcAport: u32, msgType: u32, niov: u32,
): i32 {
  if (!frameLive(tableMfn) || frameKind(tableMfn) != FRAME_XEN) return MST_BAD_MFN;
  return ringInsert(frameAddr(tableMfn), nmfns, owner, ringLen, tx, srcDom, srcAport, msgType, IO_BASE, niov);
}
