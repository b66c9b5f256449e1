// A ChainIo over a transport's way of reaching buffers: `reach` says, for a descriptor address,
// through which domain and at which gpa of its space the backend touches the bytes (the guest
// itself for a VMM that maps all RAM, the backend's own p2m for foreign or grant mappings), and
// how many bytes are contiguous there. Bytes move with the machine's rights-checked access; a
// refusal is a DeviceIoError, counted once per chain.
import { DeviceIoError, type Chain, type ChainIo, type Segment } from "../devices/types.ts";
import type { Machine } from "../wasm/machine.ts";
import { machineStatusName } from "../wasm/machine.ts";
import * as L from "../wasm/layout.ts";
import { dmaAdd, dmaHex, type DmaAddr } from "../virtio/dma-addr.ts";

export interface Reached {
  domid: number;
  gpa: number;
  /** Bytes contiguous from `gpa` (at least 1, at most the length asked). */
  len: number;
}

/** Where the bytes at descriptor address `addr` are, or why they cannot be reached. */
export type Reach = (addr: DmaAddr, len: number, write: boolean) => Reached | string;

/** A DMA through the IOMMU's view of `domid`'s p2m: the frame each entry names, read or
 *  written directly, leaving the entry's accessed/dirty bits alone (the CPU's walk sets them).
 *  An absent or read-only entry takes the CPU path, which refuses it (counted) or populates RAM. */
function dmaMove(m: Machine, domid: number, gpa: number, buf: Uint8Array, write: boolean): number {
  for (let done = 0; done < buf.length;) {
    const a = gpa + done;
    const off = a % L.PAGE_SIZE;
    const n = Math.min(L.PAGE_SIZE - off, buf.length - done);
    const part = buf.subarray(done, done + n);
    const ent = m.p2mLookup(domid, Math.floor(a / L.PAGE_SIZE));
    if (ent <= 0 || (write && (ent & L.P2MF_RO) !== 0)) {
      const st = write ? m.tryWrite(domid, a, part) : m.tryRead(domid, a, part);
      if (st < 0) return st;
    } else {
      const mfn = ent >>> L.P2M_MFN_SHIFT;
      if (write) m.writeMfn(mfn, off, part);
      else part.set(m.readMfn(mfn, off, n));
    }
    done += n;
  }
  return 0;
}

export class SegmentChainIo implements ChainIo {
  private readonly machine: Machine;
  private readonly chain: Chain;
  private readonly reach: Reach;
  /** A buffer could not be reached (the chain's I/O failed). */
  failed = false;

  constructor(machine: Machine, chain: Chain, reach: Reach) {
    this.machine = machine;
    this.chain = chain;
    this.reach = reach;
  }

  read(offset: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.walk(false, offset, len, (seg, segOff, at, n) => {
      const part = out.subarray(at, at + n);
      this.move(seg, segOff, n, (r) => this.machine.tryRead(r.domid, r.gpa, part.subarray(r.at, r.at + r.len)));
    });
    this.machine.bump(L.CNT_TR_DEV_READ_BYTES, len);
    return out;
  }

  write(offset: number, data: Uint8Array): number {
    this.walk(true, offset, data.length, (seg, segOff, at, n) => {
      const part = data.subarray(at, at + n);
      this.move(seg, segOff, n, (r) => this.machine.tryWrite(r.domid, r.gpa, part.subarray(r.at, r.at + r.len)));
    });
    this.machine.bump(L.CNT_TR_DEV_WRITE_BYTES, data.length);
    return data.length;
  }

  dmaRead(offset: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.walk(false, offset, len, (seg, segOff, at, n) => {
      const part = out.subarray(at, at + n);
      this.move(seg, segOff, n, (r) => dmaMove(this.machine, r.domid, r.gpa, part.subarray(r.at, r.at + r.len), false));
    });
    this.machine.bump(L.CNT_TR_DEV_READ_BYTES, len);
    return out;
  }

  dmaWrite(offset: number, data: Uint8Array): number {
    this.walk(true, offset, data.length, (seg, segOff, at, n) => {
      const part = data.subarray(at, at + n);
      this.move(seg, segOff, n, (r) => dmaMove(this.machine, r.domid, r.gpa, part.subarray(r.at, r.at + r.len), true));
    });
    this.machine.bump(L.CNT_TR_DEV_WRITE_BYTES, data.length);
    return data.length;
  }

  /** Calls `f` for each piece of [offset, offset+len) of the readable or writable part. */
  private walk(write: boolean, offset: number, len: number, f: (seg: Segment, segOff: number, at: number, n: number) => void): void {
    const total = write ? this.chain.writable : this.chain.readable;
    if (!Number.isInteger(offset) || !Number.isInteger(len) || offset < 0 || len < 0 || offset + len > total) {
      throw new RangeError(`chain ${this.chain.id}: ${write ? "write" : "read"} of [${offset}, ${offset + len}) outside its ${total} ${write ? "writable" : "readable"} bytes`);
    }
    let pos = 0;
    let done = 0;
    for (const seg of this.chain.segs) {
      if (seg.write !== write || done === len) continue;
      const start = Math.max(offset + done - pos, 0);
      if (start < seg.len) {
        const n = Math.min(seg.len - start, len - done);
        f(seg, start, done, n);
        done += n;
      }
      pos += seg.len;
    }
  }

  /** Moves `n` bytes at `segOff` of `seg`, one reachable run at a time. */
  private move(seg: Segment, segOff: number, n: number, io: (r: Reached & { at: number }) => number): void {
    let k = 0;
    while (k < n) {
      const addr = dmaAdd(seg.addr, segOff + k);
      const r = this.reach(addr, n - k, seg.write);
      if (typeof r === "string") this.fail(`buffer at ${dmaHex(addr)}: ${r}`);
      if (!(r.len >= 1 && r.len <= n - k)) throw new Error(`reach returned ${r.len} bytes for a request of ${n - k}`);
      const st = io({ ...r, at: k });
      if (st < 0) this.fail(`buffer at ${dmaHex(addr)}: ${machineStatusName(st)}`);
      k += r.len;
    }
  }

  private fail(why: string): never {
    if (!this.failed) this.machine.bump(L.CNT_TR_IO_ERRORS);
    this.failed = true;
    throw new DeviceIoError(`chain ${this.chain.id}: ${why}`);
  }
}
