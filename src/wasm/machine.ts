// Machine: the one object that owns a Wasm instance and its linear memory (frames, p2m
// tables, counters, the IO window). Other wrappers in src/wasm/ reach the exports through it.
import { instantiate, type Build } from "./module.ts";
import * as L from "./layout.ts";

interface MachineExports {
  memory: WebAssembly.Memory;
  machine_init(limitFrames: number): void;
  counters_reset(): void;
  domain_create(domid: number, ramPages: number, maxGfn: number): number;
  domain_destroy(domid: number): number;
  p2m_lookup(domid: number, gfn: number): number;
  gfn_populate(domid: number, gfn: number): number;
  p2m_map(domid: number, gfn: number, mfn: number, typeFlags: number): number;
  p2m_unmap(domid: number, gfn: number): number;
  gpa_read(domid: number, gpa: number, dst: number, len: number): number;
  gpa_write(domid: number, gpa: number, src: number, len: number): number;
  gpa_copy(srcDom: number, srcGpa: number, dstDom: number, dstGpa: number, len: number): number;
  gfn_translate(domid: number, gfn: number, write: number): number;
  mfn_read(mfn: number, off: number, dst: number, len: number): number;
  mfn_write(mfn: number, off: number, src: number, len: number): number;
  xen_frame_alloc(): number;
  xen_frames_alloc(n: number): number;
  xen_frame_free(mfn: number): void;
  frame_owner(mfn: number): number;
  frame_kind(mfn: number): number;
  frame_refs(mfn: number): number;
  frame_addr(mfn: number): number;
  frames_used(): number;
}

const STATUS_NAMES: Record<number, string> = {
  [L.MST_NO_DOMAIN]: "no such domain",
  [L.MST_NOT_MAPPED]: "address not mapped",
  [L.MST_READ_ONLY]: "mapping is read-only",
  [L.MST_NOT_OWNER]: "frame not owned by the domain",
  [L.MST_NO_MEMORY]: "machine memory exhausted",
  [L.MST_RANGE]: "address range out of bounds",
  [L.MST_BAD_ARG]: "invalid argument",
  [L.MST_EXISTS]: "already exists",
  [L.MST_BAD_MFN]: "machine frame not allocated",
  [L.MST_BUSY]: "busy",
};

export function machineStatusName(status: number): string {
  return STATUS_NAMES[status] ?? `status ${status}`;
}

/** The machine layer's one error type: an operation the model refused, with its status. */
export class MachineError extends Error {
  readonly status: number;
  readonly op: string;
  constructor(op: string, status: number) {
    super(`${op}: ${machineStatusName(status)} (${status})`);
    this.name = "MachineError";
    this.op = op;
    this.status = status;
  }
}

export interface MachineOptions {
  /** Which Wasm build to run; "debug" keeps assertions and names in traps. */
  build?: Build;
  /** Upper bound on machine frames (4 KiB each); defaults to what fits in 4 GiB of Wasm memory. */
  maxFrames?: number;
}

function check(op: string, status: number): number {
  if (status < 0) throw new MachineError(op, status);
  return status;
}

export class Machine {
  readonly build: Build;
  readonly exports: MachineExports;
  private _u8: Uint8Array;
  private _dv: DataView;
  private _counters: BigUint64Array;

  constructor(opts: MachineOptions = {}) {
    this.build = opts.build ?? "release";
    this.exports = instantiate(this.build).exports as unknown as MachineExports;
    const limit = opts.maxFrames ?? L.MAX_FRAMES;
    if (!Number.isInteger(limit) || limit < 2 || limit > L.MAX_FRAMES) {
      throw new RangeError(`maxFrames must be an integer in [2, ${L.MAX_FRAMES}], got ${limit}`);
    }
    this.exports.machine_init(limit);
    this._u8 = new Uint8Array(0);
    this._dv = new DataView(new ArrayBuffer(0));
    this._counters = new BigUint64Array(0);
    this.refreshViews();
  }

  /** Typed access to another area's exports (virtqueue, xen kernels) of this instance. */
  raw<T>(): T {
    return this.exports as unknown as T;
  }

  /** Views over linear memory; re-created here, and only here, after the memory grew. */
  private refreshViews(): void {
    const buf = this.exports.memory.buffer;
    if (this._u8.buffer === buf) return;
    this._u8 = new Uint8Array(buf);
    this._dv = new DataView(buf);
    this._counters = new BigUint64Array(buf, L.COUNTERS_BASE, L.COUNTERS_SLOTS);
  }

  get u8(): Uint8Array {
    this.refreshViews();
    return this._u8;
  }

  get dv(): DataView {
    this.refreshViews();
    return this._dv;
  }

  /** Bytes of linear memory currently committed to the instance. */
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  // ---- counters -----------------------------------------------------------------------

  counter(id: number): number {
    this.refreshViews();
    return Number(this._counters[id]);
  }

  /** A copy of every counter slot (as numbers; exact below 2^53). */
  counters(): Float64Array {
    this.refreshViews();
    return Float64Array.from(this._counters, (v) => Number(v));
  }

  /** Adds to a counter from a host-side model (hypercalls, grant ops...): the same block the
   *  kernels increment, so one snapshot holds every count. */
  bump(id: number, n = 1): void {
    this.refreshViews();
    this._counters[id] = this._counters[id]! + BigInt(n);
  }

  resetCounters(): void {
    this.exports.counters_reset();
  }

  // ---- domains and p2m ----------------------------------------------------------------

  /** Creates a domain with `ramPages` of RAM at gfn 0..ramPages-1 (populated on first write)
   *  and a p2m able to hold `maxGfn` gfns (room above RAM for grant and foreign maps). */
  createDomain(domid: number, ramPages: number, maxGfn = Math.min(L.P2M_MAX_GFNS, ramPages + 0x10000)): void {
    check(`create domain ${domid}`, this.exports.domain_create(domid, ramPages, maxGfn));
  }

  /** Releases the domain's frames; returns how many stay alive as orphans (still mapped by others). */
  destroyDomain(domid: number): number {
    return check(`destroy domain ${domid}`, this.exports.domain_destroy(domid));
  }

  domainExists(domid: number): boolean {
    if (domid < 0 || domid >= L.MAX_DOMAINS) return false;
    return (this.dv.getUint32(L.DOMAINS_BASE + domid * L.DOMAIN_ENTRY_SIZE + L.DOM_FLAGS, true) & L.DOMF_EXISTS) !== 0;
  }

  /** Per-domain figures kept by the machine. */
  domainInfo(domid: number): { ramPages: number; maxGfn: number; populated: number; mapped: number } {
    const d = L.DOMAINS_BASE + domid * L.DOMAIN_ENTRY_SIZE;
    const dv = this.dv;
    return {
      ramPages: dv.getUint32(d + L.DOM_RAM_PAGES, true),
      maxGfn: dv.getUint32(d + L.DOM_MAX_GFN, true),
      populated: dv.getUint32(d + L.DOM_POPULATED, true),
      mapped: dv.getUint32(d + L.DOM_MAPPED, true),
    };
  }

  /** Raw p2m entry (0 = nothing mapped) or a negative status. */
  p2mLookup(domid: number, gfn: number): number {
    return this.exports.p2m_lookup(domid, gfn);
  }

  /** The mfn backing `gfn` of `domid`, populating RAM on demand. */
  populate(domid: number, gfn: number): number {
    const r = check(`populate d${domid} gfn ${gfn}`, this.exports.gfn_populate(domid, gfn));
    this.refreshViews();
    return r;
  }

  /** Status-returning form of p2m insertion (the hypervisor model decides who may). */
  p2mMap(domid: number, gfn: number, mfn: number, typeFlags: number): number {
    const st = this.exports.p2m_map(domid, gfn, mfn, typeFlags);
    this.refreshViews();
    return st;
  }

  /** Removes a grant/foreign/Xen mapping; returns the old entry (with accessed/dirty bits) or a status. */
  p2mUnmap(domid: number, gfn: number): number {
    return this.exports.p2m_unmap(domid, gfn);
  }

  frameOwner(mfn: number): number {
    return this.exports.frame_owner(mfn);
  }
  frameKind(mfn: number): number {
    return this.exports.frame_kind(mfn);
  }
  frameRefs(mfn: number): number {
    return this.exports.frame_refs(mfn);
  }
  framesUsed(): number {
    return this.exports.frames_used() >>> 0;
  }

  /** A hypervisor-owned frame (grant-table or shared_info pages). */
  allocXenFrame(): number {
    const r = check("allocate xen frame", this.exports.xen_frame_alloc());
    this.refreshViews();
    return r;
  }
  /** `n` hypervisor frames contiguous in linear memory; returns the first mfn. Used for
   *  host-private tables (queue aux areas) that kernels address as one array. */
  allocXenFrames(n: number): number {
    const r = check(`allocate ${n} contiguous xen frames`, this.exports.xen_frames_alloc(n));
    this.refreshViews();
    return r;
  }

  /** Linear address of a frame (for wrappers in src/wasm/ that hand it to kernels). */
  frameAddr(mfn: number): number {
    return this.exports.frame_addr(mfn);
  }

  freeXenFrame(mfn: number): void {
    this.exports.xen_frame_free(mfn);
  }

  // ---- guest-physical access through the IO window -----------------------------------

  /** Reads guest memory; returns the status instead of throwing. `out` receives the bytes. */
  tryRead(domid: number, gpa: number, out: Uint8Array): number {
    let done = 0;
    while (done < out.length) {
      const n = Math.min(L.IO_SIZE, out.length - done);
      const st = this.exports.gpa_read(domid, gpa + done, L.IO_BASE, n);
      if (st < 0) return st;
      out.set(this.u8.subarray(L.IO_BASE, L.IO_BASE + n), done);
      done += n;
    }
    if (out.length === 0) return this.exports.gpa_read(domid, gpa, L.IO_BASE, 0);
    return L.MST_OK;
  }

  read(domid: number, gpa: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    check(`read d${domid} gpa 0x${gpa.toString(16)}+${len}`, this.tryRead(domid, gpa, out));
    return out;
  }

  /** Writes guest memory; returns the status instead of throwing. Larger than the IO window,
   *  the write is split, and each part is all-or-nothing. */
  tryWrite(domid: number, gpa: number, bytes: Uint8Array): number {
    let done = 0;
    do {
      const n = Math.min(L.IO_SIZE, bytes.length - done);
      this.u8.set(bytes.subarray(done, done + n), L.IO_BASE);
      const st = this.exports.gpa_write(domid, gpa + done, L.IO_BASE, n);
      this.refreshViews();
      if (st < 0) return st;
      done += n;
    } while (done < bytes.length);
    return L.MST_OK;
  }

  write(domid: number, gpa: number, bytes: Uint8Array): void {
    check(`write d${domid} gpa 0x${gpa.toString(16)}+${bytes.length}`, this.tryWrite(domid, gpa, bytes));
  }

  /** Copies between two domains' guest-physical spaces, both rights checked. */
  tryCopy(srcDom: number, srcGpa: number, dstDom: number, dstGpa: number, len: number): number {
    const st = this.exports.gpa_copy(srcDom, srcGpa, dstDom, dstGpa, len);
    this.refreshViews();
    return st;
  }

  /** Linear address of a guest frame for an access, or a negative status (counted if refused). */
  translate(domid: number, gfn: number, write: boolean): number {
    const r = this.exports.gfn_translate(domid, gfn, write ? 1 : 0);
    this.refreshViews();
    return r;
  }

  /** Hypervisor read of a machine frame (no p2m, no rights: Xen itself). */
  readMfn(mfn: number, off: number, len: number): Uint8Array {
    check(`read mfn ${mfn}`, this.exports.mfn_read(mfn, off, L.IO_BASE, len));
    return this.u8.slice(L.IO_BASE, L.IO_BASE + len);
  }

  writeMfn(mfn: number, off: number, bytes: Uint8Array): void {
    this.u8.set(bytes, L.IO_BASE);
    check(`write mfn ${mfn}`, this.exports.mfn_write(mfn, off, L.IO_BASE, bytes.length));
  }
}
