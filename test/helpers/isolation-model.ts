// The reference model of test/xen-isolation.test.ts: who may touch which frame, written from
// the rules (xen-interfaces.md 1, 3.5, 4, the XSM hooks) and not from the model's code. It
// keeps a byte image of every domain's RAM, the grant entries, pins and maptrack handles, each
// domain's p2m window above RAM, the Argo rings, and what every refusal must have been counted
// as. Each method predicts one operation's outcome and applies its effects.
import * as L from "../../src/wasm/layout.ts";

export const RAM = 16; // pages of RAM per domain
export const DATA = 8; // gfns 0..7 are shared around (grants, foreign maps, payloads)
export const RING_GFNS = [8, 9] as const; // Argo rings live here
export const ARGS_GFN = 10; // the harness builds hypercall arguments here
export const GG_GFN = 11; // GuestGrants' argument area
export const TABLE_GFN = RAM + 4; // grant-table frame 0 (a Xen page): never a data target, not next to RAM
export const WIN = RAM + 8; // 8 window slots for grant and foreign mappings
export const SLOTS = 8;
export const NOT_RAM = RAM + 40; // above RAM, never mapped
export const MAX_GFN = RAM + 0x10000; // p2m size of every domain (Machine.createDomain's default)
export const PAGE = L.PAGE_SIZE;
export const REFS = 512; // one table frame of v1 entries
export const ANY = L.XEN_ARGO_DOMID_ANY;

export interface Dom {
  readonly domid: number;
  readonly control: boolean;
  readonly target?: number;
}

export interface Entry { grantee: number; gfn: number; ro: boolean; valid: boolean }
/** Pins on (granter, ref), held by its grantee: the frame is the entry's gfn at the first pin. */
export interface Pin { owner: number; gfn: number; r: number; w: number }
export interface Handle { granter: number; ref: number; ro: boolean }
export type WinEnt = { kind: "grant"; owner: number; gfn: number; ro: boolean } | { kind: "foreign"; owner: number; gfn: number };
export interface Ring { owner: number; aport: number; partner: number; len: number; gfn: number; tx: number }

/** The counters a refusal must show up in. */
export interface Refusals {
  machine: number; // CNT_ACCESS_REFUSED
  grant: number; // CNT_GNT_FAILED
  endBusy: number; // CNT_GNT_GUEST_END_BUSY
  foreignDenied: number; // CNT_FOREIGN_DENIED
  foreignErrors: number; // CNT_FOREIGN_ERRORS
  memoryOp: number; // CNT_HC_MEMORY_OP_ERRORS
  argo: number; // CNT_ARGO_OP_ERRORS
}

export const slotUp = (v: number): number => ((v + L.XEN_ARGO_MSG_SLOT_SIZE - 1) & ~(L.XEN_ARGO_MSG_SLOT_SIZE - 1)) >>> 0;
export const ringPages = (len: number): number => Math.ceil((slotUp(len) + L.ARGO_RING_SIZE) / PAGE);
const u32 = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset).getUint32(off, true);
const setU32 = (b: Uint8Array, off: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(off, v >>> 0, true);

export class IsolationModel {
  readonly doms: Map<number, Dom>;
  readonly silo: boolean;
  readonly image = new Map<string, Uint8Array>(); // "domid:gfn" -> 4096 bytes
  readonly entries = new Map<string, Entry>(); // "granter:ref"
  readonly pins = new Map<string, Pin>(); // "granter:ref"
  readonly handles = new Map<number, Map<number, Handle>>(); // grantee -> handle -> what it maps
  readonly window = new Map<string, WinEnt>(); // "domid:gfn" above RAM
  readonly rings = new Map<string, Ring>(); // "owner:aport:partner"
  readonly refused: Refusals = { machine: 0, grant: 0, endBusy: 0, foreignDenied: 0, foreignErrors: 0, memoryOp: 0, argo: 0 };
  xsmDenied = 0;

  constructor(doms: Dom[], silo: boolean, page: (domid: number, gfn: number) => Uint8Array) {
    this.doms = new Map(doms.map((d) => [d.domid, d]));
    this.silo = silo;
    for (const d of doms) {
      this.handles.set(d.domid, new Map());
      for (let g = 0; g < RAM; g++) this.image.set(`${d.domid}:${g}`, page(d.domid, g).slice());
    }
  }

  get totalRefused(): number {
    return Object.values(this.refused).reduce((a, b) => a + b, 0);
  }

  live(domid: number): boolean {
    return this.doms.has(domid);
  }

  private ctl(domid: number): boolean {
    return this.doms.get(domid)?.control ?? false;
  }

  /** SILO's silo_mode_dom_check (the dummy policy allows these hooks): counts a denial. */
  private siloDenies(a: number, b: number, caller: number): boolean {
    if (!this.silo || a === b || this.ctl(a) || this.ctl(b) || this.ctl(caller)) return false;
    this.xsmDenied++;
    return true;
  }

  frame(domid: number, gfn: number): Uint8Array {
    return this.image.get(`${domid}:${gfn}`)!;
  }

  // ---- guest-physical access -------------------------------------------------------------

  /** The frame behind `gfn` of `domid` for an access, or undefined when it must be refused. */
  private resolve(domid: number, gfn: number, write: boolean): { owner: number; gfn: number } | undefined {
    if (gfn < RAM) return { owner: domid, gfn };
    const w = this.window.get(`${domid}:${gfn}`);
    if (!w || (write && w.kind === "grant" && w.ro)) return undefined;
    return { owner: w.owner, gfn: w.gfn };
  }

  /** The page pieces of [gpa, gpa+len) if every page may be accessed. */
  private pieces(domid: number, gpa: number, len: number, write: boolean): { frame: Uint8Array; off: number; n: number }[] | undefined {
    const out: { frame: Uint8Array; off: number; n: number }[] = [];
    for (let done = 0; done < len; ) {
      const a = gpa + done;
      const off = a % PAGE;
      const n = Math.min(len - done, PAGE - off);
      const f = this.resolve(domid, Math.floor(a / PAGE), write);
      if (!f) return undefined;
      out.push({ frame: this.frame(f.owner, f.gfn), off, n });
      done += n;
    }
    return out;
  }

  /** A guest load: the bytes it must see, or undefined when the machine must refuse it. */
  read(domid: number, gpa: number, len: number): Uint8Array | undefined {
    const p = this.pieces(domid, gpa, len, false);
    if (!p) {
      this.refused.machine++;
      return undefined;
    }
    const out = new Uint8Array(len);
    let at = 0;
    for (const x of p) {
      out.set(x.frame.subarray(x.off, x.off + x.n), at);
      at += x.n;
    }
    return out;
  }

  /** A guest store: false when the machine must refuse it (nothing written). */
  write(domid: number, gpa: number, bytes: Uint8Array): boolean {
    const p = this.pieces(domid, gpa, bytes.length, true);
    if (!p) {
      this.refused.machine++;
      return false;
    }
    let at = 0;
    for (const x of p) {
      x.frame.set(bytes.subarray(at, at + x.n), x.off);
      at += x.n;
    }
    return true;
  }

  // ---- grant tables ----------------------------------------------------------------------

  grant(granter: number, ref: number, grantee: number, gfn: number, ro: boolean): void {
    this.entries.set(`${granter}:${ref}`, { grantee, gfn, ro, valid: true });
  }

  /** gnttab_end_foreign_access_ref: refused while the grantee holds the entry. */
  endAccess(granter: number, ref: number): boolean {
    if (this.pins.has(`${granter}:${ref}`)) {
      this.refused.endBusy++;
      return false;
    }
    const e = this.entries.get(`${granter}:${ref}`);
    if (e) e.valid = false;
    return true;
  }

  private failGrant(st: number): number {
    if (st !== L.GNTST_OKAY) this.refused.grant++;
    return st;
  }

  /** Xen's acquire of (granter, ref) by `user`, as map and copy do it: a status and the
   *  frame's gfn. `extra` is a pin the same hypercall holds already (copy's source). */
  private acquire(granter: number, ref: number, user: number, readonly: boolean, extra?: { r: number }): { st: number; gfn: number } {
    if (ref >= REFS) return { st: L.GNTST_BAD_GNTREF, gfn: 0 };
    const key = `${granter}:${ref}`;
    const pin = this.pins.get(key);
    const held = pin ?? (extra ? { owner: user, gfn: -1, r: extra.r, w: 0 } : undefined);
    if (held && held.owner !== user) return { st: L.GNTST_GENERAL_ERROR, gfn: 0 };
    const e = this.entries.get(key);
    if (!held || (!readonly && held.w === 0)) {
      if (!held && (!e || !e.valid || e.grantee !== user)) return { st: L.GNTST_GENERAL_ERROR, gfn: 0 };
      if (!readonly && e!.ro) return { st: L.GNTST_GENERAL_ERROR, gfn: 0 };
      if (e!.gfn >= RAM) return { st: L.GNTST_BAD_PAGE, gfn: 0 };
      return { st: L.GNTST_OKAY, gfn: pin ? pin.gfn : e!.gfn };
    }
    return { st: L.GNTST_OKAY, gfn: pin ? pin.gfn : e!.gfn };
  }

  /** GNTTABOP_map_grant_ref by `grantee` at window gfn `at` with raw `flags`. */
  map(grantee: number, granter: number, ref: number, at: number, flags: number): { st: number; gfn: number } {
    const bad = (st: number) => ({ st: this.failGrant(st), gfn: 0 });
    if ((flags & (L.GNTMAP_DEVICE_MAP | L.GNTMAP_HOST_MAP)) === 0) return bad(L.GNTST_BAD_GNTREF);
    if (flags & (L.GNTMAP_DEVICE_MAP | L.GNTMAP_APPLICATION_MAP | L.GNTMAP_CONTAINS_PTE)) return bad(L.GNTST_GENERAL_ERROR);
    if (!this.live(granter)) return bad(L.GNTST_BAD_DOMAIN);
    if (this.siloDenies(grantee, granter, grantee)) return bad(L.GNTST_PERMISSION_DENIED);
    const ro = (flags & L.GNTMAP_READONLY) !== 0;
    const a = this.acquire(granter, ref, grantee, ro);
    if (a.st !== L.GNTST_OKAY) return bad(a.st);
    // The host mapping needs a free gfn above RAM.
    if (at < RAM || at >= MAX_GFN || at === TABLE_GFN || this.window.has(`${grantee}:${at}`)) return bad(L.GNTST_GENERAL_ERROR);
    const key = `${granter}:${ref}`;
    const pin = this.pins.get(key) ?? { owner: grantee, gfn: a.gfn, r: 0, w: 0 };
    if (ro) pin.r++;
    else pin.w++;
    this.pins.set(key, pin);
    this.window.set(`${grantee}:${at}`, { kind: "grant", owner: granter, gfn: pin.gfn, ro });
    return { st: L.GNTST_OKAY, gfn: pin.gfn };
  }

  /** Records the handle a successful map returned. */
  mapped(grantee: number, handle: number, granter: number, ref: number, ro: boolean): void {
    this.handles.get(grantee)!.set(handle, { granter, ref, ro });
  }

  /** GNTTABOP_unmap_grant_ref of `handle` at window gfn `at` (0: no host address). */
  unmap(grantee: number, handle: number, at: number): number {
    const h = this.handles.get(grantee)!.get(handle);
    if (!h) return this.failGrant(L.GNTST_BAD_HANDLE);
    if (at === 0) return L.GNTST_OKAY; // no host address: nothing to remove, the handle stays
    const key = `${h.granter}:${h.ref}`;
    const pin = this.pins.get(key)!;
    const w = this.window.get(`${grantee}:${at}`);
    if (!w || w.kind !== "grant" || w.owner !== h.granter || w.gfn !== pin.gfn) return this.failGrant(L.GNTST_GENERAL_ERROR);
    this.window.delete(`${grantee}:${at}`);
    this.handles.get(grantee)!.delete(handle);
    if (h.ro) pin.r--;
    else pin.w--;
    if (pin.r + pin.w === 0) this.pins.delete(key);
    return L.GNTST_OKAY;
  }

  /** One GNTTABOP_copy op by `caller`. A side is a grant (domid, ref) or a gmfn of `domid`. */
  copy(caller: number, src: CopySide, dst: CopySide, so: number, doff: number, len: number): number {
    const fail = (st: number) => this.failGrant(st);
    const lock = (s: CopySide): number | { st: number } => {
      if (s.kind === "gmfn" && s.domid !== L.DOMID_SELF) return { st: L.GNTST_PERMISSION_DENIED };
      const d = s.domid === L.DOMID_SELF ? caller : s.domid;
      return this.live(d) ? d : { st: L.GNTST_BAD_DOMAIN };
    };
    const sd = lock(src);
    if (typeof sd !== "number") return fail(sd.st);
    const dd = lock(dst);
    if (typeof dd !== "number") return fail(dd.st);
    if (this.siloDenies(sd, dd, caller)) return fail(L.GNTST_PERMISSION_DENIED);
    const claim = (s: CopySide, d: number, readonly: boolean, extra?: { r: number }): { st: number; gfn: number } => {
      if (s.kind === "gref") return this.acquire(d, s.ref, caller, readonly, extra);
      return s.gfn < RAM ? { st: L.GNTST_OKAY, gfn: s.gfn } : { st: L.GNTST_BAD_PAGE, gfn: 0 };
    };
    const cs = claim(src, sd, true);
    if (cs.st !== L.GNTST_OKAY) return fail(cs.st);
    const same = src.kind === "gref" && dst.kind === "gref" && sd === dd && src.ref === dst.ref;
    const cd = claim(dst, dd, false, same ? { r: 1 } : undefined);
    if (cd.st !== L.GNTST_OKAY) return fail(cd.st);
    if (so + len > PAGE || doff + len > PAGE) return fail(L.GNTST_BAD_COPY_ARG);
    const bytes = this.frame(sd, cs.gfn).slice(so, so + len);
    this.frame(dd, cd.gfn).set(bytes, doff);
    return L.GNTST_OKAY;
  }

  // ---- foreign mapping -------------------------------------------------------------------

  /** One gmfn_foreign entry of XENMEM_add_to_physmap_batch by `mapper` (DOMID_SELF physmap). */
  foreignMap(mapper: number, owner: number, idx: number, at: number): number {
    const err = (rc: number) => {
      this.refused.foreignErrors++;
      return rc;
    };
    const od = owner === L.DOMID_SELF ? mapper : owner;
    if (!this.live(od)) return err(-3); // ESRCH
    if (od === mapper) return err(-22); // EINVAL
    const m = this.doms.get(mapper)!;
    // XSM map_gmfn_foreign (XSM_TARGET): the control domain or the owner's device model.
    if (!m.control && m.target !== od) {
      this.xsmDenied++;
      this.refused.foreignDenied++;
      return -1; // EPERM
    }
    if (idx >= RAM) return err(-22);
    if (at < RAM || at >= MAX_GFN) return err(-22);
    const w = this.window.get(`${mapper}:${at}`);
    if (at === TABLE_GFN || (w && w.kind !== "foreign")) return err(-16); // EBUSY
    this.window.set(`${mapper}:${at}`, { kind: "foreign", owner: od, gfn: idx });
    return 0;
  }

  /** XENMEM_remove_from_physmap of `at` in the caller's own physmap. */
  removeFromPhysmap(domid: number, at: number): number {
    const err = (rc: number) => {
      this.refused.memoryOp++;
      return rc;
    };
    if (at >= MAX_GFN) return err(-2); // ENOENT
    if (at < RAM) return err(-95); // EOPNOTSUPP: no ballooning
    const w = this.window.get(`${domid}:${at}`);
    if (!w || w.kind !== "foreign") return err(-2); // nothing there, or a grant mapping
    this.window.delete(`${domid}:${at}`);
    return 0;
  }

  // ---- Argo ------------------------------------------------------------------------------

  private argoErr(rc: number): number {
    this.refused.argo++;
    return rc;
  }

  ring(owner: number, aport: number, partner: number): Ring | undefined {
    return this.rings.get(`${owner}:${aport}:${partner}`);
  }

  /** XEN_ARGO_OP_register_ring of one page at `gfn` (npages as given). */
  register(owner: number, aport: number, partner: number, len: number, gfn: number, npages: number, flags: number): number {
    if ((flags & ~L.XEN_ARGO_REGISTER_FLAG_FAIL_EXIST) !== 0) return this.argoErr(-22);
    if (len < L.ARGO_MIN_RING_LEN || len > L.XEN_ARGO_MAX_RING_SIZE || len % L.XEN_ARGO_MSG_SLOT_SIZE !== 0 || ringPages(len) !== npages) {
      return this.argoErr(-22);
    }
    if (partner !== ANY) {
      if (!this.live(partner)) return this.argoErr(-3);
      if (this.siloDenies(owner, partner, owner)) return this.argoErr(-1);
    }
    const key = `${owner}:${aport}:${partner}`;
    const old = this.rings.get(key);
    if (old && ((flags & L.XEN_ARGO_REGISTER_FLAG_FAIL_EXIST) !== 0 || old.len !== len)) return this.argoErr(-17);
    if (gfn >= RAM) {
      // Not the owner's writable RAM: refused, and a ring being re-registered is dropped.
      this.rings.delete(key);
      return this.argoErr(-22);
    }
    const page = this.frame(owner, gfn);
    let tx = u32(page, L.ARGO_RING_TX_PTR);
    if (tx >= len || slotUp(tx) !== tx) {
      tx = slotUp(u32(page, L.ARGO_RING_RX_PTR));
      if (tx >= len) tx = 0;
      setU32(page, L.ARGO_RING_TX_PTR, tx);
    }
    this.rings.set(key, { owner, aport, partner, len, gfn, tx });
    return 0;
  }

  /** XEN_ARGO_OP_sendv of one iov (gpa, len) by `sender`. Returns the length sent or -errno. */
  sendv(sender: number, srcField: number, dst: number, aport: number, gpa: number, len: number, msgType: number): number {
    const src = srcField === ANY ? sender : srcField;
    if (src !== sender) return this.argoErr(-1); // no sending on behalf of another domain
    if (!this.live(dst)) return this.argoErr(-3);
    if (this.siloDenies(sender, dst, sender)) return this.argoErr(-1);
    const ring = this.ring(dst, aport, sender) ?? this.ring(dst, aport, ANY);
    if (!ring) return this.argoErr(-111); // ECONNREFUSED
    if (ring.len <= L.ARGO_RING_MESSAGE_HEADER_SIZE + slotUp(len)) return this.argoErr(-90); // EMSGSIZE
    const page = this.frame(dst, ring.gfn);
    let rx = slotUp(u32(page, L.ARGO_RING_RX_PTR));
    if (rx >= ring.len) rx = 0;
    const free = rx === ring.tx ? ring.len : (rx - ring.tx + ring.len) % ring.len;
    if (slotUp(len) + L.ARGO_RING_MESSAGE_HEADER_SIZE >= free) return this.argoErr(-11); // EAGAIN
    if (len > 0 && !this.pieces(sender, gpa, len, false)) {
      this.refused.machine++;
      return this.argoErr(-14); // EFAULT: the copy is refused before any byte moves
    }
    const at = (pos: number) => L.ARGO_RING_SIZE + pos;
    let tx = ring.tx;
    const h = new DataView(page.buffer, page.byteOffset + at(tx), L.ARGO_RING_MESSAGE_HEADER_SIZE);
    h.setUint32(L.ARGO_RING_MESSAGE_HEADER_LEN, len + L.ARGO_RING_MESSAGE_HEADER_SIZE, true);
    h.setUint32(L.ARGO_RING_MESSAGE_HEADER_SOURCE_APORT, 0, true);
    h.setUint16(L.ARGO_RING_MESSAGE_HEADER_SOURCE_DOMAIN_ID, sender, true);
    h.setUint16(L.ARGO_RING_MESSAGE_HEADER_SOURCE_PAD, 0, true);
    h.setUint32(L.ARGO_RING_MESSAGE_HEADER_MESSAGE_TYPE, msgType, true);
    tx += L.ARGO_RING_MESSAGE_HEADER_SIZE;
    if (tx === ring.len) tx = 0;
    let left = len;
    let from = gpa;
    while (left > 0) {
      const n = Math.min(left, ring.len - tx);
      page.set(this.read(sender, from, n)!, at(tx)); // the header is already in place
      tx += n;
      if (tx === ring.len) tx = 0;
      from += n;
      left -= n;
    }
    tx = slotUp(tx);
    if (tx >= ring.len) tx -= ring.len;
    ring.tx = tx;
    setU32(page, L.ARGO_RING_TX_PTR, tx);
    return len;
  }
}

export type CopySide = { kind: "gref"; domid: number; ref: number } | { kind: "gmfn"; domid: number; gfn: number };
