// The ring demo: a guest (domain 1) drives real chains through a split or a packed virtqueue
// to a backend in domain 0, which reaches the ring and the buffers only through foreign
// mappings of the guest's frames. Every request's bytes are transformed by the backend and
// verified by the guest; the result is the run's counters.
import { dmaGpa, type DmaAddr } from "../virtio/dma-addr.ts";
import { Machine } from "../wasm/machine.ts";
import { SplitDevice, SplitDriver } from "../wasm/split.ts";
import { WasmPackedDevice, WasmPackedDriver } from "../wasm/packed.ts";
import * as L from "../wasm/layout.ts";
import { Rng } from "../sim/rng.ts";

export type RingFormat = "split" | "packed";

export interface DemoOptions {
  format: RingFormat;
  requests: number;
  seed: number;
  queueSize?: number;
  eventIdx?: boolean;
}

export interface DemoResult {
  format: RingFormat;
  requests: number;
  verified: number;
  bytesOut: number;
  bytesIn: number;
  counters: Record<string, number>;
}

const GUEST = 1;
const BACKEND = 0;
const RAM_PAGES = 1024;
// Guest layout: rings in gfns 0x10..0x17, request buffers from gfn 0x20 (one page each slot).
const RING_GPA = 0x10000;
const BUF_GPA = 0x20000;
const MAPPED_GFNS = 0x200; // the backend maps guest gfns [0, 0x200) at its window
const WINDOW_GFN = RAM_PAGES; // first gfn above the backend's RAM

/** The address the backend uses for a guest address inside the mapped range. */
function backendAddr(guestGpa: number): number {
  return WINDOW_GFN * L.PAGE_SIZE + guestGpa;
}

/** What the backend does to each request: a byte transform the guest can check. */
function transform(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b[b.length - 1 - i]! ^ 0x5a;
  return out;
}

function setupMachine(): Machine {
  const m = new Machine();
  m.createDomain(BACKEND, RAM_PAGES, RAM_PAGES + MAPPED_GFNS);
  m.createDomain(GUEST, RAM_PAGES);
  // Foreign-map the guest's low memory into the backend (what a privileged backend does).
  for (let g = 0; g < MAPPED_GFNS; g++) {
    const mfn = m.populate(GUEST, g);
    const st = m.p2mMap(BACKEND, WINDOW_GFN + g, mfn, L.P2M_FOREIGN);
    if (st !== L.MST_OK) throw new Error(`demo: foreign map of gfn ${g} failed (${st})`);
  }
  m.resetCounters();
  return m;
}

interface Pending {
  out: Uint8Array;
  inGpa: number;
}

/** Runs the demo for one ring format. Throws if any byte fails verification. */
export function runRingDemo(opts: DemoOptions): DemoResult {
  const size = opts.queueSize ?? 64;
  const m = setupMachine();
  const rng = new Rng(opts.seed).fork(opts.format);
  const ring = { size, desc: RING_GPA, avail: RING_GPA + 0x2000, used: RING_GPA + 0x3000 };
  const bring = { desc: backendAddr(ring.desc), avail: backendAddr(ring.avail), used: backendAddr(ring.used) };
  const features = { eventIdx: opts.eventIdx ?? true };

  // Both formats behind the same four verbs.
  let add: (out: number, outLen: number, inAddr: number, inLen: number) => number;
  let kick: () => boolean;
  let pop: () => { id: number; segs: { addr: DmaAddr; len: number; write: boolean }[] }[];
  let push: (id: number, len: number) => void;
  let needIrq: () => boolean;
  let reclaim: () => { id: number; len: number }[];
  let rearm: () => void;

  if (opts.format === "split") {
    const drv = new SplitDriver(m, 1, GUEST, size);
    const dev = new SplitDevice(m, 0, BACKEND, size);
    check("driver init", drv.init(ring, features));
    check("device enable", dev.enable({ size, ...bring }, features));
    dev.setDriverOk(true);
    add = (o, ol, i, il) => drv.add([{ segs: [{ addr: o, len: ol, write: false }, { addr: i, len: il, write: true }] }])[0] ?? -1;
    kick = () => drv.kick();
    pop = () => dev.pop(size).map((c) => ({ id: c.head, segs: c.segs }));
    push = (id, len) => dev.push([{ id, len }]);
    needIrq = () => dev.needInterrupt();
    reclaim = () => drv.reclaim();
    rearm = () => void drv.enableCallbacks();
  } else {
    const drv = new WasmPackedDriver(m, { queue: 1, ringDomid: GUEST, features });
    const dev = new WasmPackedDevice(m, { queue: 0, ringDomid: BACKEND, features });
    const area = { drv: RING_GPA + 0x2000, dev: RING_GPA + 0x3000 };
    check("driver init", drv.init(size, ring.desc, area.drv, area.dev));
    check("device enable", dev.enable(size, bring.desc, backendAddr(area.drv), backendAddr(area.dev)));
    dev.driverOk();
    add = (o, ol, i, il) => drv.add([{ addr: o, len: ol, write: false }, { addr: i, len: il, write: true }]);
    kick = () => drv.kickPrepare();
    pop = () => dev.pop(size).map((c) => ({ id: c.id, segs: c.segs }));
    push = (id, len) => {
      if (dev.push([{ id, len }]) !== 1) throw new Error(`demo: packed push of buffer ${id} failed (error ${dev.error})`);
    };
    needIrq = () => dev.needIrq();
    reclaim = () => drv.getUsed();
    rearm = () => void drv.enableCb();
  }

  const pending = new Map<number, Pending>();
  let submitted = 0;
  let verified = 0;
  let bytesOut = 0;
  let bytesIn = 0;
  while (verified < opts.requests) {
    // Guest: fill the ring with requests, one buffer page per slot, then kick.
    let added = 0;
    while (submitted < opts.requests && pending.size < size) {
      const slot = submitted % size;
      const outGpa = BUF_GPA + slot * 2 * L.PAGE_SIZE;
      const inGpa = outGpa + L.PAGE_SIZE;
      const out = rng.bytes(new Uint8Array(rng.int(1, 2048)));
      m.write(GUEST, outGpa, out);
      const id = add(outGpa, out.length, inGpa, out.length);
      if (id < 0) break;
      pending.set(id, { out, inGpa });
      submitted++;
      added++;
      bytesOut += out.length;
    }
    if (added > 0) kick();
    // Backend: pop everything available, transform through its foreign mapping, complete.
    for (const c of pop()) {
      const [rd, wr] = c.segs;
      if (!rd || !wr || rd.write || !wr.write) throw new Error(`demo: chain ${c.id} has an unexpected shape`);
      const req = m.read(BACKEND, backendAddr(dmaGpa(rd.addr)), rd.len);
      m.write(BACKEND, backendAddr(dmaGpa(wr.addr)), transform(req));
      push(c.id, rd.len);
    }
    needIrq();
    // Guest: reclaim and verify every byte that came back.
    for (const u of reclaim()) {
      const p = pending.get(u.id);
      if (!p) throw new Error(`demo: used id ${u.id} was not outstanding`);
      pending.delete(u.id);
      const back = m.read(GUEST, p.inGpa, u.len);
      const want = transform(p.out);
      if (u.len !== want.length || back.some((v, i) => v !== want[i])) throw new Error(`demo: request ${u.id} came back corrupted`);
      verified++;
      bytesIn += u.len;
    }
    // Re-arm used-buffer notifications, as a driver does after draining the used ring.
    rearm();
  }
  const c = (id: number) => m.counter(id);
  return {
    format: opts.format,
    requests: opts.requests,
    verified,
    bytesOut,
    bytesIn,
    counters: {
      "chains added": c(L.CNT_VQ_CHAINS_ADDED),
      "chains popped": c(L.CNT_VQ_CHAINS_POPPED),
      "descriptors walked": c(L.CNT_VQ_DESCS_POPPED),
      "used pushed": c(L.CNT_VQ_USED_PUSHED),
      "chains reclaimed": c(L.CNT_VQ_CHAINS_RECLAIMED),
      "kicks sent": c(L.CNT_VQ_NOTIFY_SENT),
      "kicks suppressed": c(L.CNT_VQ_NOTIFY_SUPPRESSED),
      "interrupts sent": c(L.CNT_VQ_IRQ_SENT),
      "interrupts suppressed": c(L.CNT_VQ_IRQ_SUPPRESSED),
      "ring errors": c(L.CNT_VQ_ERRORS),
      "guest bytes written": c(L.CNT_GUEST_WRITE_BYTES),
      "guest bytes read": c(L.CNT_GUEST_READ_BYTES),
      "refused accesses": c(L.CNT_ACCESS_REFUSED),
    },
  };
}

function check(what: string, status: number): void {
  if (status !== L.VQ_OK) throw new Error(`demo: ${what} failed with virtqueue status ${status}`);
}
