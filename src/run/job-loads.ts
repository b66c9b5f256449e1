// The workload generators (src/workloads) as GuestWorkloads over a world's guest drivers: each
// adapter turns the generator's requests into chains through the device's guest helper and
// hands completions back to it, which checks every byte. One adapter per endpoint.
import * as L from "../wasm/layout.ts";
import type { GuestWorkload } from "../transports/harness.ts";
import type { Completion } from "../virtio/driver.ts";
import type { BlkGuest, BlkTag } from "../devices/blk-guest.ts";
import type { NetGuest, NetTag } from "../devices/net-guest.ts";
import type { RngGuest, RngTag } from "../devices/rng-guest.ts";
import { BLK_T_FLUSH, BLK_T_IN, SECTOR, type BlkRequest } from "../workloads/blk-request.ts";
import type { FioJob } from "../workloads/fio-job.ts";
import { peekFlow, type NetFlow, type Side } from "../workloads/net-flow.ts";
import type { RngReader, RngRequest } from "../workloads/rng-reader.ts";

/** Virtual time for the generators' latency records (a runner without a clock passes 0). */
export type Clock = () => number;

/** A fio job over a BlkGuest. Also keeps what each completed write left on every sector, so
 *  the disk image can be checked where the bytes landed (`verifyImage`). */
export class FioLoad implements GuestWorkload<BlkTag<BlkRequest>> {
  readonly job: FioJob;
  readonly guest: BlkGuest<BlkRequest>;
  /** sector -> the 512 bytes the last completed write put there. */
  readonly landed = new Map<number, Uint8Array>();
  private held: BlkRequest | undefined;
  private readonly now: Clock;

  constructor(job: FioJob, guest: BlkGuest<BlkRequest>, now: Clock) {
    this.job = job;
    this.guest = guest;
    this.now = now;
  }

  get finished(): boolean {
    return this.job.done && !this.held;
  }

  submit(room: number): number {
    let n = 0;
    while (n < room) {
      const r = this.held ?? this.job.next(this.now());
      if (!r) break;
      const ok = r.type === BLK_T_IN ? this.guest.read(r.sector, r.len, r) : r.type === BLK_T_FLUSH ? this.guest.flush(r) : this.guest.write(r.sector, r.data!, r);
      this.held = ok ? undefined : r; // ring full: the job already counts it in flight
      if (!ok) break;
      n++;
    }
    return n;
  }

  complete(c: Completion<BlkTag<BlkRequest>>): void {
    const res = this.guest.complete(c);
    const r = res.user;
    if (res.status === L.VIRTIO_BLK_S_OK && r.data) {
      for (let i = 0; i < r.len / SECTOR; i++) this.landed.set(r.sector + i, r.data.subarray(i * SECTOR, (i + 1) * SECTOR));
    }
    this.job.complete(r.tag, { status: res.status, data: res.data }, this.now());
  }

  /** Compares every sector a completed write left with `read(offset, len)` of the disk;
   *  returns the bytes checked, throws at the first difference. */
  verifyImage(read: (offset: number, len: number) => Uint8Array): number {
    let bytes = 0;
    for (const [sector, want] of [...this.landed].sort((a, b) => a[0] - b[0])) {
      const got = read(sector * SECTOR, SECTOR);
      const at = want.findIndex((b, i) => got[i] !== b);
      if (at >= 0) throw new Error(`disk sector ${sector} byte ${at}: 0x${got[at]!.toString(16)}, the job wrote 0x${want[at]!.toString(16)}`);
      bytes += SECTOR;
    }
    return bytes;
  }
}

/** One guest's part of a net flow: the sides it plays (a, b, or both for loopback). rx buffers
 *  are posted by prime() and refilled one for one as they complete (NAPI's refill). */
export class NetLoad implements GuestWorkload<NetTag<Side>> {
  readonly flow: NetFlow;
  readonly guest: NetGuest<Side>;
  readonly sides: readonly Side[];
  readonly rxBuffers: number;
  /** Frames this guest sent and received whole. */
  sent = 0;
  received = 0;
  private held: { side: Side; frame: Uint8Array } | undefined;
  private readonly now: Clock;

  constructor(flow: NetFlow, guest: NetGuest<Side>, sides: readonly Side[], rxBuffers: number, now: Clock) {
    this.flow = flow;
    this.guest = guest;
    this.sides = sides;
    this.rxBuffers = rxBuffers;
    this.now = now;
  }

  get finished(): boolean {
    return this.flow.done && !this.held;
  }

  /** Posts the rx buffers and kicks the rx queue. */
  prime(): void {
    const n = this.guest.postRx(this.rxBuffers, this.sides[0]!);
    if (n !== this.rxBuffers) throw new Error(`net: only ${n} of ${this.rxBuffers} rx buffers fit the ring`);
    this.guest.driver.kick(0);
  }

  submit(room: number): number {
    let n = 0;
    for (const side of this.sides) {
      while (n < room) {
        const h = this.held ?? (() => {
          const frame = this.flow.next(side, this.now());
          return frame && { side, frame };
        })();
        if (!h) break;
        const ok = this.guest.send(h.frame, h.side);
        this.held = ok ? undefined : h;
        if (!ok) return n;
        this.sent++;
        n++;
      }
    }
    return n;
  }

  complete(c: Completion<NetTag<Side>>): void {
    const ev = this.guest.complete(c);
    if (ev.kind === "tx") return;
    if (ev.kind === "rx") {
      this.received++;
      const to = peekFlow(ev.frame)?.side ?? this.sides[0]!;
      this.flow.receive(to, ev.frame, this.now());
    }
    // Refill the buffer just used.
    if (this.guest.postRx(1, this.sides[0]!) === 1) this.guest.driver.kick(0);
  }
}

/** rng reads over an RngGuest; every byte is compared with the reference stream (if given). */
export class RngLoad implements GuestWorkload<RngTag<RngRequest>> {
  readonly reader: RngReader;
  readonly guest: RngGuest<RngRequest>;
  private held: RngRequest | undefined;
  private readonly now: Clock;

  constructor(reader: RngReader, guest: RngGuest<RngRequest>, now: Clock) {
    this.reader = reader;
    this.guest = guest;
    this.now = now;
  }

  get finished(): boolean {
    return this.reader.done && !this.held;
  }

  submit(room: number): number {
    let n = 0;
    while (n < room) {
      const r = this.held ?? this.reader.next(this.now());
      if (!r) break;
      const ok = this.guest.read(r.len, r);
      this.held = ok ? undefined : r;
      if (!ok) break;
      n++;
    }
    return n;
  }

  complete(c: Completion<RngTag<RngRequest>>): void {
    const res = this.guest.complete(c);
    // A device claiming more than the buffer: hand the reader that many bytes so it reports it.
    const data = res.written > res.user.len ? Uint8Array.from({ length: res.written }, (_, i) => res.data[i] ?? 0) : res.data;
    this.reader.complete(res.user.tag, data, this.now());
  }
}
