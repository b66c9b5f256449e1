// XENMEM_acquire_resource for XENMEM_resource_ioreq_server: the emulator maps a server's
// buffered page (frame 0) and ioreq page (frame 1) into its own p2m at the gfns it lists
// (a translated caller). The common part of the call (struct, target domain, XSM) is done by
// the caller of these functions.
import type { Domain } from "./domain.ts";
import { EBUSY, EFAULT, EINVAL, EIO, ENOENT } from "./errno.ts";
import { copyFromGuest, copyToGuest } from "./guest-copy.ts";
import * as L from "../wasm/layout.ts";
import type { IoreqCore } from "./ioreq-state.ts";

/** Frames of the resource: the buffered page and one ioreq page. */
const IOREQ_RESOURCE_FRAMES = 2;

/** The ioreq_server part of acquire_resource by `c` on guest `d`, with the struct `a` read
 *  from `argGpa`. Returns 0 or -errno. */
export function acquireIoreqFrames(core: IoreqCore, c: Domain, d: Domain, a: DataView, argGpa: number): number {
  const m = core.hv.machine;
  const nr = a.getUint32(L.MEM_ACQUIRE_RESOURCE_NR_FRAMES, true);
  const list = a.getBigUint64(L.MEM_ACQUIRE_RESOURCE_FRAME_LIST, true);
  if (nr === 0) {
    // A size query.
    if (list !== 0n) return -EINVAL;
    a.setUint32(L.MEM_ACQUIRE_RESOURCE_NR_FRAMES, IOREQ_RESOURCE_FRAMES, true);
    return copyToGuest(m, c.domid, argGpa, a) ? 0 : -EFAULT;
  }
  const frame = a.getBigUint64(L.MEM_ACQUIRE_RESOURCE_FRAME, true);
  if (nr > IOREQ_RESOURCE_FRAMES || frame + BigInt(nr) > BigInt(IOREQ_RESOURCE_FRAMES)) return -EINVAL;
  const s = core.server(core.targets.get(d.domid)!, c, a.getUint32(L.MEM_ACQUIRE_RESOURCE_ID, true));
  if (typeof s === "number") return s;
  const mfns: number[] = [];
  for (let i = 0; i < nr; i++) {
    const f = Number(frame) + i;
    if (f === L.XENMEM_RESOURCE_IOREQ_SERVER_FRAME_BUFIOREQ && !s.bufMfn) return -ENOENT;
    mfns.push(f === L.XENMEM_RESOURCE_IOREQ_SERVER_FRAME_BUFIOREQ ? s.bufMfn : s.ioreqMfn);
  }
  const gfns = copyFromGuest(m, c.domid, list, nr * L.PFN_SIZE);
  if (!gfns) return -EFAULT;
  for (let i = 0; i < nr; i++) {
    const g = gfns.getBigUint64(i * L.PFN_SIZE, true);
    let rc = 0;
    const info = m.domainInfo(c.domid);
    if (g < BigInt(info.ramPages) || g >= BigInt(info.maxGfn)) rc = -EINVAL;
    else if (m.p2mMap(c.domid, Number(g), mfns[i]!, L.P2M_XEN) !== L.MST_OK) rc = -EBUSY;
    // Xen reports a failure after the first frame as -EIO (some frames are mapped).
    if (rc) return i === 0 ? rc : -EIO;
    s.mapped.push({ domid: c.domid, gfn: Number(g), mfn: mfns[i]! });
  }
  return 0;
}
