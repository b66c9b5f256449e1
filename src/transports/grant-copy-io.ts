// grant-copy's ChainIo: the backend never maps a guest page. Each device read or write of a
// chain becomes one GNTTABOP_copy batch, one op per piece of a segment that lies in one
// granted page, between the guest's gref and a bounce page in the backend's own RAM; the
// hypervisor does the copying. A failed op (bad gref, readonly grant written) is a
// DeviceIoError, counted once per chain.
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

export class GrantCopyChainIo implements ChainIo {
  private readonly o: GrantCopyIoOptions;
  /** The readable bytes copied in so far, and which of them (1 per byte). */
  private fetched: Uint8Array | undefined;
  private have: Uint8Array | undefined;
  failed = false;

  constructor(o: GrantCopyIoOptions) {
    this.o = o;
  }

  read(offset: number, len: number): Uint8Array {
    // A copying backend works on its private copy: bytes of this chain it already copied in
    // are read from there, never fetched from the guest again (no double fetch).
    const have = this.have;
    if (have && len > 0 && offset + len <= have.length && have.subarray(offset, offset + len).every((b) => b === 1)) {
      this.o.machine.bump(L.CNT_TR_DEV_READ_BYTES, len);
      return this.fetched!.slice(offset, offset + len);
    }
    const out = new Uint8Array(len);
    this.run(false, offset, len, out);
    this.fetched ??= new Uint8Array(this.o.chain.readable);
    this.have ??= new Uint8Array(this.o.chain.readable);
    this.fetched.set(out, offset);
    this.have.fill(1, offset, offset + len);
    this.o.machine.bump(L.CNT_TR_DEV_READ_BYTES, len);
    return out;
  }

  write(offset: number, data: Uint8Array): number {
    this.run(true, offset, data.length, data);
    this.o.machine.bump(L.CNT_TR_DEV_WRITE_BYTES, data.length);
    return data.length;
  }

  /** Pieces of [offset, offset+len) of the readable or writable part, each within one page. */
  private pieces(write: boolean, offset: number, len: number): { gref: number; off: number; n: number; at: number }[] {
    const total = write ? this.o.chain.writable : this.o.chain.readable;
    if (!Number.isInteger(offset) || !Number.isInteger(len) || offset < 0 || len < 0 || offset + len > total) {
      throw new RangeError(`chain ${this.o.chain.id}: ${write ? "write" : "read"} of [${offset}, ${offset + len}) outside its ${total} bytes`);
    }
    const out: { gref: number; off: number; n: number; at: number }[] = [];
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

  private run(write: boolean, offset: number, len: number, buf: Uint8Array): void {
    const { machine: m, grants, guest, bounceGfn, bouncePages } = this.o;
    const all = this.pieces(write, offset, len);
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
      const bad = statuses.findIndex((s) => s !== L.GNTST_OKAY);
      const okN = bad < 0 ? batch.length : statuses.filter((s) => s === L.GNTST_OKAY).length;
      m.bump(L.CNT_GC_COPY_OPS, okN);
      m.bump(L.CNT_TR_COPIES_HV, okN);
      const bytes = batch.reduce((s, p, k) => s + (statuses[k] === L.GNTST_OKAY ? p.n : 0), 0);
      m.bump(L.CNT_TR_COPY_BYTES_HV, bytes);
      if (rc < 0 || bad >= 0) {
        m.bump(L.CNT_GC_COPY_FAILS, batch.length - okN);
        this.fail(`GNTTABOP_copy of gref ${batch[Math.max(bad, 0)]!.gref}: rc ${rc}, status ${bad >= 0 ? statuses[bad] : "-"}`);
      }
      if (!write) batch.forEach((p, k) => buf.set(m.read(grants.domid, (bounceGfn + k) * PAGE, p.n), p.at));
    }
  }

  private fail(why: string): never {
    if (!this.failed) this.o.machine.bump(L.CNT_TR_IO_ERRORS);
    this.failed = true;
    throw new DeviceIoError(`chain ${this.o.chain.id}: ${why}`);
  }
}
