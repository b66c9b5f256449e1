// A mock transport for device tests: chains over one in-memory buffer, a ChainIo that
// scatters/gathers over their segments, and a driver-ish harness that posts chains, calls
// handle(), collects used entries (immediate and deferred) and checks the device's side of the
// contract (E21: only outstanding chains complete; E22: used len <= writable bytes).
import { defersCompletions, isDeferred } from "../../src/devices/deferred.ts";
import { DeviceIoError, type Chain, type ChainIo, type Segment, type VirtioDevice } from "../../src/devices/types.ts";

export interface SegSpec {
  len: number;
  write: boolean;
  /** Initial contents (readable segments); zero-filled otherwise. */
  data?: Uint8Array;
}

/** Flat guest memory for mock chains: segments are allocated one after the other. */
export class MockMemory {
  bytes = new Uint8Array(1 << 16);
  private next = 0x1000;

  alloc(len: number): number {
    const addr = this.next;
    this.next += (len + 7) & ~7;
    if (this.next > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.next, this.bytes.length * 2));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    return addr;
  }
}

export function buildChain(mem: MockMemory, id: number, specs: SegSpec[]): Chain {
  const segs: Segment[] = specs.map((s) => {
    const addr = mem.alloc(s.len);
    if (s.data) mem.bytes.set(s.data.subarray(0, s.len), addr);
    return { addr, len: s.len, write: s.write };
  });
  const readable = segs.filter((s) => !s.write).reduce((a, s) => a + s.len, 0);
  const writable = segs.filter((s) => s.write).reduce((a, s) => a + s.len, 0);
  return { id, segs, readable, writable };
}

/** Splits `data` into readable segments of the given sizes (the last takes the rest). */
export function readableSegs(data: Uint8Array, sizes: number[] = []): SegSpec[] {
  const out: SegSpec[] = [];
  let off = 0;
  for (const size of sizes) {
    const n = Math.min(size, data.length - off);
    if (n === 0) break;
    out.push({ len: n, write: false, data: data.subarray(off, off + n) });
    off += n;
  }
  if (off < data.length || out.length === 0) out.push({ len: data.length - off, write: false, data: data.subarray(off) });
  return out;
}

export interface IoFaults {
  /** read() throws DeviceIoError. */
  read?: boolean;
  /** write() throws DeviceIoError. */
  write?: boolean;
}

// One scratch area shared by every MockIo: read() returns a view into it that the next read
// overwrites, like a transport's IO window, so a device that keeps the view sees garbage.
let scratch = new Uint8Array(1 << 16);

export class MockIo implements ChainIo {
  reads = 0;
  writes = 0;
  private readonly mem: MockMemory;
  private readonly chain: Chain;
  faults: IoFaults;

  constructor(mem: MockMemory, chain: Chain, faults: IoFaults = {}) {
    this.mem = mem;
    this.chain = chain;
    this.faults = faults;
  }

  read(offset: number, len: number): Uint8Array {
    if (this.faults.read) throw new DeviceIoError("mock: readable buffer unreachable");
    if (offset < 0 || len < 0 || offset + len > this.chain.readable) {
      throw new Error(`device bug: read(${offset}, ${len}) beyond the readable ${this.chain.readable} bytes`);
    }
    this.reads++;
    if (scratch.length < len) scratch = new Uint8Array(len * 2);
    const out = scratch.subarray(0, len);
    this.walk(false, offset, len, (addr, n, at) => out.set(this.mem.bytes.subarray(addr, addr + n), at));
    return out;
  }

  write(offset: number, data: Uint8Array): number {
    if (this.faults.write) throw new DeviceIoError("mock: writable buffer unreachable");
    if (offset < 0 || offset + data.length > this.chain.writable) {
      throw new Error(`device bug (E22): write(${offset}, ${data.length} bytes) beyond the writable ${this.chain.writable} bytes`);
    }
    this.writes++;
    this.walk(true, offset, data.length, (addr, n, at) => this.mem.bytes.set(data.subarray(at, at + n), addr));
    return data.length;
  }

  /** The first `len` bytes of the chain's writable part. */
  writtenBytes(len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.walk(true, 0, len, (addr, n, at) => out.set(this.mem.bytes.subarray(addr, addr + n), at));
    return out;
  }

  private walk(write: boolean, offset: number, len: number, f: (addr: number, n: number, at: number) => void): void {
    let skip = offset;
    let at = 0;
    for (const s of this.chain.segs) {
      if (s.write !== write || at >= len) continue;
      if (skip >= s.len) {
        skip -= s.len;
        continue;
      }
      const n = Math.min(s.len - skip, len - at);
      f(Number(s.addr) + skip, n, at);
      at += n;
      skip = 0;
    }
  }
}

export interface UsedEntry {
  q: number;
  id: number;
  len: number;
  /** Entries published together share a batch number. */
  batch: number;
}

/** Posts chains to one device and collects its used entries, as a transport would. */
export class MockTransport {
  readonly mem = new MockMemory();
  readonly used: UsedEntry[] = [];
  readonly ios = new Map<number, MockIo>();
  private readonly usedLen = new Map<number, number>();
  signals = 0;
  private nextId = 0;
  private batch = 0;
  private readonly outstanding = new Map<Chain, { q: number; io: MockIo }>();
  readonly dev: VirtioDevice;

  constructor(dev: VirtioDevice, features?: bigint) {
    this.dev = dev;
    dev.negotiated(features ?? dev.features);
    if (defersCompletions(dev)) {
      dev.onCompletions = () => {
        this.signals++;
        this.take();
      };
    }
  }

  /** Builds a chain, hands it to the device and returns its id (used entries name it). */
  post(q: number, specs: SegSpec[], faults: IoFaults = {}): number {
    const id = this.nextId++;
    const chain = buildChain(this.mem, id, specs);
    const io = new MockIo(this.mem, chain, faults);
    this.ios.set(id, io);
    const c = this.dev.handle(q, chain, io);
    if (isDeferred(c)) {
      this.outstanding.set(chain, { q, io });
    } else {
      if (c.written > chain.writable) throw new Error(`device bug (E22): used len ${c.written} > writable ${chain.writable}`);
      this.record({ q, id, len: c.written, batch: this.batch++ });
    }
    this.take();
    return id;
  }

  /** Collects deferred completions (called after every handle() and on each signal). */
  take(): void {
    if (!defersCompletions(this.dev)) return;
    const done = this.dev.takeCompletions();
    if (done.length === 0) return;
    const b = this.batch++;
    for (const c of done) {
      const o = this.outstanding.get(c.chain);
      if (!o || o.q !== c.q) throw new Error(`device bug (E21): completion for chain ${c.chain.id} on queue ${c.q}, not outstanding there`);
      if (c.written > c.chain.writable) throw new Error(`device bug (E22): used len ${c.written} > writable ${c.chain.writable}`);
      this.outstanding.delete(c.chain);
      this.record({ q: c.q, id: c.chain.id, len: c.written, batch: b });
    }
  }

  /** Chains handed over and not completed yet. */
  get pending(): number {
    return this.outstanding.size;
  }

  /** Forgets outstanding chains after a device reset, as a transport would. */
  resetDevice(): void {
    this.dev.reset();
    this.outstanding.clear();
  }

  usedOn(q: number): UsedEntry[] {
    return this.used.filter((u) => u.q === q);
  }

  /** The bytes the device wrote into chain `id` (its used len). */
  written(id: number): Uint8Array {
    const len = this.usedLen.get(id);
    if (len === undefined) throw new Error(`chain ${id} has no used entry`);
    return this.ios.get(id)!.writtenBytes(len);
  }

  private record(u: UsedEntry): void {
    if (this.usedLen.has(u.id)) throw new Error(`device bug (E21): chain ${u.id} used twice`);
    this.usedLen.set(u.id, u.len);
    this.used.push(u);
  }
}
