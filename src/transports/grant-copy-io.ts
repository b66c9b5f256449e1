// grant-copy's ChainIo: the backend never maps a guest page. A chain's readable part is copied
// in whole at the device's first read, and what the device writes is copied out when the chain
// closes: one GNTTABOP_copy batch each (as QEMU's and netback's grant-copy paths batch a
// request), one op per piece of a segment that lies in one granted page, between the guest's
// gref and a bounce page in the backend's own RAM; the hypervisor does the copying. A failed
// op (bad gref, read-only grant written) fails the chain, counted once: on the way in as a
// DeviceIoError (the device drops it), on the way out as flush() = false (used with length 0).
import { dmaAdd, dmaHex } from "../virtio/dma-addr.ts";
import { DeviceIoError, type Chain, type ChainIo } from "../devices/types.ts";
import type { GuestGrants, CopyOp } from "../xen/grant-guest.ts";
import type { Machine } from "../wasm/machine.ts";
import * as L from "../wasm/layout.ts";
import { decodeGrantDma } from "./grant-map.ts";

const PAGE = L.PAGE_SIZE;

export interface GrantCopyIoOptions {
  machine: Machine;
  grants: GuestGrants; // the backend's
  guest: number;
  chain: Chain;
  /** First of `bouncePages` consecutive gfns of the backend's RAM. */
  bounceGfn: number;
  bouncePages: number;
}

/** A run of a segment inside one granted page, and where its bytes sit in the chain's buffer. */
interface Piece {
  gref: number;
  off: number;
  n: number;
  at: number;
}

export class GrantCopyChainIo implements ChainIo {
  private readonly o: GrantCopyIoOptions;
  /** The chain's readable bytes, copied in whole at the first read (one GNTTABOP_copy). */
  private fetched: Uint8Array | undefined;
  private have: Uint8Array | undefined;
  private fetchFailure: string | undefined;
  /** What the device wrote, and which bytes (1 per byte), copied out together at flush(). */
  private out: Uint8Array | undefined;
  private wrote: Uint8Array | undefined;
  failed = false;

  constructor(o: GrantCopyIoOptions) {
    this.o = o;
  }

  read(offset: number, len: number): Uint8Array {
    const total = this.checkRange(false, offset, len);
    // A copying backend works on its private copy: the whole readable part comes in with the
    // first read (as a backend copies a request's out-segments in one call), and is never
    // fetched from the guest again (no double fetch).
    if (!this.fetched) {
      this.fetched = new Uint8Array(total);
      this.have = new Uint8Array(total);
      this.fetchFailure = this.run(false, this.pieces(false, 0, total), this.fetched, this.have);
      if (this.fetchFailure) this.markFailed();
    }
    // A read of bytes whose copy failed fails (the device answers the request with IOERR when it
    // can, as it reads the header first); the rest of the chain's bytes are there.
    if (len > 0 && !this.have!.subarray(offset, offset + len).every((b) => b === 1)) this.fail(this.fetchFailure!);
    this.o.machine.bump(L.CNT_TR_DEV_READ_BYTES, len);
    return this.fetched.slice(offset, offset + len);
  }

  write(offset: number, data: Uint8Array): number {
    this.pieces(true, offset, data.length); // checks the range and that every address is a grant's
    this.out ??= new Uint8Array(this.o.chain.writable);
    this.wrote ??= new Uint8Array(this.o.chain.writable);
    this.out.set(data, offset);
    this.wrote.fill(1, offset, offset + data.length);
    this.o.machine.bump(L.CNT_TR_DEV_WRITE_BYTES, data.length);
    return data.length;
  }

  /** Copies out everything the device wrote, one GNTTABOP_copy for the chain (more only when
   *  it spans more pages than the bounce area). false when an op failed: the guest's buffers
   *  did not all get the bytes, and the chain must be used with length 0. */
  flush(): boolean {
    const wrote = this.wrote;
    if (!wrote) return true;
    const pieces: Piece[] = [];
    for (let i = 0; i < wrote.length; ) {
      if (wrote[i] === 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < wrote.length && wrote[j] === 1) j++;
      for (const p of this.pieces(true, i, j - i)) pieces.push({ ...p, at: p.at + i });
      i = j;
    }
    if (this.run(true, pieces, this.out!) === undefined) return true;
    this.markFailed();
    return false;
  }

  /** The readable or writable part's length; a range outside it is the device's bug (RangeError). */
  private checkRange(write: boolean, offset: number, len: number): number {
    const total = write ? this.o.chain.writable : this.o.chain.readable;
    if (!Number.isInteger(offset) || !Number.isInteger(len) || offset < 0 || len < 0 || offset + len > total) {
      throw new RangeError(`chain ${this.o.chain.id}: ${write ? "write" : "read"} of [${offset}, ${offset + len}) outside its ${total} bytes`);
    }
    return total;
  }

  /** Pieces of [offset, offset+len) of the readable or writable part, each within one page. */
  private pieces(write: boolean, offset: number, len: number): Piece[] {
    this.checkRange(write, offset, len);
    const out: Piece[] = [];
    let pos = 0;
    let done = 0;
    for (const seg of this.o.chain.segs) {
      if (seg.write !== write || done === len) continue;
      let start = Math.max(offset + done - pos, 0);
      while (start < seg.len && done < len) {
        const addr = dmaAdd(seg.addr, start);
        const d = decodeGrantDma(addr);
        if (!d) this.fail(`buffer at ${dmaHex(addr)}: not a grant DMA address`);
        const n = Math.min(PAGE - d.offset, seg.len - start, len - done);
        out.push({ gref: d.gref, off: d.offset, n, at: done });
        start += n;
        done += n;
      }
      pos += seg.len;
    }
    return out;
  }

  /** One GNTTABOP_copy per bounce area's worth of pieces, between the guest's grefs and `buf`
   *  (each piece's `at` is its offset in `buf`). Returns the first failure, if any; the pieces
   *  that copied are marked in `done` (1 per byte of `buf`). */
  private run(write: boolean, all: Piece[], buf: Uint8Array, done?: Uint8Array): string | undefined {
    const { machine: m, grants, guest, bounceGfn, bouncePages } = this.o;
    let failure: string | undefined;
    for (let i = 0; i < all.length; i += bouncePages) {
      const batch = all.slice(i, i + bouncePages);
      if (write) batch.forEach((p, k) => m.write(grants.domid, (bounceGfn + k) * PAGE, buf.subarray(p.at, p.at + p.n)));
      const ops: CopyOp[] = batch.map((p, k) => {
        const mine = { gmfn: bounceGfn + k, offset: 0 };
        const theirs = { domid: guest, ref: p.gref, offset: p.off };
        return write ? { source: mine, dest: theirs, len: p.n } : { source: theirs, dest: mine, len: p.n };
      });
      m.bump(L.CNT_GC_COPY_CALLS);
      const { rc, statuses } = grants.copy(ops);
      const ok = batch.map((_, k) => rc >= 0 && statuses[k] === L.GNTST_OKAY);
      const okN = ok.filter(Boolean).length;
      m.bump(L.CNT_GC_COPY_OPS, okN);
      m.bump(L.CNT_TR_COPIES_HV, okN);
      m.bump(L.CNT_TR_COPY_BYTES_HV, batch.reduce((sum, p, k) => sum + (ok[k] ? p.n : 0), 0));
      if (okN < batch.length) {
        m.bump(L.CNT_GC_COPY_FAILS, batch.length - okN);
        const bad = ok.indexOf(false);
        failure ??= `GNTTABOP_copy of gref ${batch[bad]!.gref}: rc ${rc}, status ${rc < 0 ? "-" : statuses[bad]}`;
      }
      batch.forEach((p, k) => {
        if (!ok[k]) return;
        if (!write) buf.set(m.read(grants.domid, (bounceGfn + k) * PAGE, p.n), p.at);
        done?.fill(1, p.at, p.at + p.n);
      });
    }
    return failure;
  }

  /** Counts the chain's failure once (the chain is what the guest loses). */
  private markFailed(): void {
    if (!this.failed) this.o.machine.bump(L.CNT_TR_IO_ERRORS);
    this.failed = true;
  }

  private fail(why: string): never {
    this.markFailed();
    throw new DeviceIoError(`chain ${this.o.chain.id}: ${why}`);
  }
}
