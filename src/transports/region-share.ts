// How a shared-region transport (shared-region.ts) makes its one region of guest RAM reachable
// by the backend, once at set-up and never again:
// - "foreign": the backend foreign-maps the region (xenforeignmemory_map in chunks of 128
//   frames); it needs map_gmfn_foreign over the guest (dom0, the guest's device-model target).
//   preshared-bounce.
// - "grant": the guest grants each region page to the backend (consecutive grefs, writable:
//   the backend writes used entries and slots) and the backend maps those grants
//   (GNTTABOP_map_grant_ref in batches of 128, host_map at consecutive gfns); it needs only
//   the grants, so a driver domain can do it. fat-virtqueue ("only the ring is shared").
// Both put region page i at backend gfn beBase + i.
import * as L from "../wasm/layout.ts";
import type { Domain } from "../xen/domain.ts";
import { errnoName } from "../xen/errno.ts";
import type { GrantTables } from "../xen/grant-table.ts";
import { GuestGrants } from "../xen/grant-guest.ts";
import { Privcmd } from "../xen/privcmd.ts";
import { takeBackendGfns, type XenEnv } from "./xen-env.ts";

const PAGE = L.PAGE_SIZE;
const CHUNK = 128;

export interface RegionShare {
  readonly kind: "foreign" | "grant";
  /** Backend gfn of region page 0. */
  readonly beBase: number;
  /** Undoes the sharing (close, or a failed set-up after it). */
  release(): void;
}

export interface ShareSite {
  env: XenEnv;
  guest: Domain;
  backend: Domain;
  regionGfn: number;
  pages: number;
  /** Backend RAM page for hypercall arguments. */
  scratchGfn: number;
  /** Called with a message when sharing fails; must throw. */
  fail: (msg: string) => never;
}

const chunks = (n: number) => Array.from({ length: Math.ceil(n / CHUNK) }, (_, i) => [i * CHUNK, Math.min(CHUNK, n - i * CHUNK)] as const);

/** The backend foreign-maps the region. */
export function foreignShare(s: ShareSite): RegionShare {
  const { env, guest: g, backend: be } = s;
  if (env.foreign.exposure(be.domid, g.domid).reachable === 0) {
    s.fail(`backend d${be.domid} (${be.name}) may not map guest d${g.domid}'s memory (XSM map_gmfn_foreign denied); ` +
      "it must be the control domain or the guest's device-model target");
  }
  const privcmd = new Privcmd({ ioreq: env.ioreq, foreign: env.foreign, domid: be.domid, scratchGfn: s.scratchGfn });
  const beBase = takeBackendGfns(env.hv, be.domid, s.pages);
  const unmap = (n: number) => {
    for (let i = 0; i < n; i++) privcmd.unmapGfn(beBase + i);
  };
  for (const [i, n] of chunks(s.pages)) {
    const own = Array.from({ length: n }, (_, k) => s.regionGfn + i + k);
    const at = Array.from({ length: n }, (_, k) => beBase + i + k);
    const r = privcmd.mapForeign(g.domid, own, at);
    const bad = typeof r === "number" ? r : r.find((e) => e !== 0);
    if (bad !== undefined) {
      unmap(i + (typeof r === "number" ? 0 : r.findIndex((e) => e !== 0)));
      s.fail(`mapping the region returned ${errnoName(bad)}`);
    }
  }
  return { kind: "foreign", beBase, release: () => unmap(s.pages) };
}

/** Guest gfn of the page the guest puts its grant hypercall arguments in (below its allocator). */
const GUEST_SCRATCH_GFN = 8;

/** The guest grants the region, the backend maps the grants. `flags(i)` reads region page i's
 *  grant entry (GTF_permit_access, then GTF_reading | GTF_writing once Xen has mapped it). */
export function grantShare(s: ShareSite & { gt: GrantTables }): RegionShare & { firstRef: number; flags(i: number): number } {
  const { env, guest: g, backend: be } = s;
  const hv = env.hv;
  const frames = Math.ceil((s.pages + L.GNTTAB_NR_RESERVED_ENTRIES) / (PAGE / L.GRANT_ENTRY_V1_SIZE));
  const guestGrants = new GuestGrants(s.gt, g.domid, { baseGfn: takeBackendGfns(hv, g.domid, frames), scratchGpa: GUEST_SCRATCH_GFN * PAGE });
  const rc = guestGrants.setup(frames);
  if (rc !== 0) s.fail(`guest d${g.domid}: setup_table(${frames}) returned ${errnoName(rc)}`);
  const first = guestGrants.allocRefs(s.pages);
  if (first < 0) s.fail(`guest d${g.domid} has no run of ${s.pages} free grant references`);
  for (let i = 0; i < s.pages; i++) guestGrants.grantAccess(first + i, be.domid, s.regionGfn + i, false);
  const revoke = () => {
    for (let i = 0; i < s.pages; i++) if (guestGrants.endAccess(first + i)) guestGrants.freeRefs(first + i);
  };
  const backendGrants = new GuestGrants(s.gt, be.domid, { baseGfn: 0, scratchGpa: s.scratchGfn * PAGE });
  const beBase = takeBackendGfns(hv, be.domid, s.pages);
  const handles: { handle: number; hostAddr: number }[] = [];
  const unmap = () => {
    for (const [i, n] of chunks(handles.length)) backendGrants.unmap(handles.slice(i, i + n));
    handles.length = 0;
  };
  for (const [i, n] of chunks(s.pages)) {
    const ops = Array.from({ length: n }, (_, k) => ({ dom: g.domid, ref: first + i + k, hostAddr: (beBase + i + k) * PAGE }));
    const { results } = backendGrants.map(ops);
    results.forEach((r, k) => {
      if (r.status === L.GNTST_OKAY) handles.push({ handle: r.handle, hostAddr: ops[k]!.hostAddr });
    });
    const bad = results.find((r) => r.status !== L.GNTST_OKAY);
    if (bad) {
      unmap();
      revoke();
      s.fail(`backend d${be.domid} (${be.name}) could not map the grants of guest d${g.domid}'s region: GNTST ${bad.status}`);
    }
  }
  return {
    kind: "grant", beBase, firstRef: first,
    flags: (i) => guestGrants.flags(first + i),
    release: () => {
      unmap();
      revoke();
    },
  };
}
