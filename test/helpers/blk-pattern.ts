// A verifying block workload for transport tests: seeded random writes to distinct 4 KiB slots
// of the disk (whole slots or a few sectors), then reads of every slot written. Writes are
// checked where they land (the caller reads the image); reads are checked in the guest against
// a shadow of what was written. Every I/O must complete with VIRTIO_BLK_S_OK.
import * as L from "../../src/wasm/layout.ts";
import { Rng } from "../../src/sim/rng.ts";
import type { Completion } from "../../src/virtio/driver.ts";
import type { BlkGuest, BlkTag } from "../../src/devices/blk-guest.ts";
import type { GuestWorkload } from "../../src/transports/harness.ts";

export interface PatternOp {
  kind: "write" | "read";
  sector: number;
  bytes: number;
}

const SLOT_SECTORS = 8;

export class BlkPattern implements GuestWorkload<BlkTag<PatternOp>> {
  readonly guest: BlkGuest<PatternOp>;
  /** What the disk must hold (only written ranges are meaningful; `written` marks them). */
  readonly shadow: Uint8Array;
  readonly written: Uint8Array;
  readonly ops: PatternOp[] = [];
  private readonly rng: Rng;
  private next = 0;
  completed = 0;
  bytesWritten = 0;
  bytesVerified = 0;

  /** `count` writes, then a read of each; sizes are whole slots unless `mixed`. */
  constructor(guest: BlkGuest<PatternOp>, diskBytes: number, count: number, seed: number, mixed = false) {
    this.guest = guest;
    this.shadow = new Uint8Array(diskBytes);
    this.written = new Uint8Array(diskBytes);
    const rng = new Rng(seed);
    const slots = Math.floor(diskBytes / (SLOT_SECTORS * L.VIRTIO_BLK_SECTOR_SIZE));
    if (count > slots) throw new Error(`pattern: ${count} writes need ${count} slots, the disk has ${slots}`);
    const order = Array.from({ length: slots }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = rng.int(i, slots - 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const writes: PatternOp[] = order.slice(0, count).map((slot) => {
      const n = mixed ? rng.int(1, SLOT_SECTORS) : SLOT_SECTORS;
      return { kind: "write", sector: slot * SLOT_SECTORS, bytes: n * L.VIRTIO_BLK_SECTOR_SIZE };
    });
    this.ops = [...writes, ...writes.map((w) => ({ ...w, kind: "read" as const }))];
    this.rng = rng;
  }

  get finished(): boolean {
    return this.next >= this.ops.length;
  }

  submit(room: number): number {
    let n = 0;
    while (n < room && this.next < this.ops.length) {
      const op = this.ops[this.next]!;
      let ok: boolean;
      if (op.kind === "write") {
        const data = this.rng.bytes(new Uint8Array(op.bytes));
        const off = op.sector * L.VIRTIO_BLK_SECTOR_SIZE;
        ok = this.guest.write(op.sector, data, op);
        if (ok) {
          this.shadow.set(data, off);
          this.written.fill(1, off, off + op.bytes);
        }
      } else ok = this.guest.read(op.sector, op.bytes, op);
      if (!ok) break;
      this.next++;
      n++;
    }
    return n;
  }

  complete(c: Completion<BlkTag<PatternOp>>): void {
    const r = this.guest.complete(c);
    const op = r.user;
    if (r.status !== L.VIRTIO_BLK_S_OK) throw new Error(`${op.kind} at sector ${op.sector}: status ${r.status}`);
    this.completed++;
    if (op.kind === "write") {
      if (r.written !== 1) throw new Error(`write at sector ${op.sector}: used len ${r.written}, expected 1`);
      this.bytesWritten += op.bytes;
      return;
    }
    if (r.written !== op.bytes + 1) throw new Error(`read at sector ${op.sector}: used len ${r.written}, expected ${op.bytes + 1}`);
    const off = op.sector * L.VIRTIO_BLK_SECTOR_SIZE;
    const want = this.shadow.subarray(off, off + op.bytes);
    const got = r.data!;
    for (let i = 0; i < op.bytes; i++) {
      if (got[i] !== want[i]) throw new Error(`read at sector ${op.sector}: byte ${i} is ${got[i]}, wrote ${want[i]}`);
    }
    this.bytesVerified += op.bytes;
  }

  /** Checks every written byte in an image of the disk; returns the bytes checked. */
  verifyImage(image: Uint8Array): number {
    let n = 0;
    for (let i = 0; i < this.shadow.length; i++) {
      if (!this.written[i]) continue;
      if (image[i] !== this.shadow[i]) throw new Error(`disk byte ${i} is ${image[i]}, the guest wrote ${this.shadow[i]}`);
      n++;
    }
    return n;
  }
}
