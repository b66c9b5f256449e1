// The guest's virtio-rng driver on top of the generic virtio driver (Linux's virtio-rng): one
// device-writable buffer per read, in pages of its own, and the bytes the device wrote read
// back from guest memory at completion.
import * as L from "../wasm/layout.ts";
import type { Machine } from "../wasm/machine.ts";
import type { Completion, VirtioDriver } from "../virtio/driver.ts";
import type { GuestPages } from "../virtio/guest-pages.ts";

export interface RngTag<U = unknown> {
  gfn: number;
  pages: number;
  len: number;
  user: U;
}

export class RngGuest<U = unknown> {
  readonly driver: VirtioDriver<RngTag<U>>;
  readonly machine: Machine;
  readonly domid: number;
  readonly pages: GuestPages;

  constructor(driver: VirtioDriver<RngTag<U>>, pages: GuestPages) {
    this.driver = driver;
    this.machine = driver.opts.machine;
    this.domid = driver.opts.domid;
    this.pages = pages;
  }

  /** Posts a `len`-byte buffer for entropy; false (nothing allocated) when the ring is full. */
  read(len: number, user: U): boolean {
    if (!Number.isInteger(len) || len < 1) throw new RangeError(`virtio-rng guest: read length must be a positive integer, got ${len}`);
    const pages = Math.ceil(len / L.PAGE_SIZE);
    const gfn = this.pages.alloc(pages);
    if (this.driver.submit(0, [{ gpa: gfn * L.PAGE_SIZE, len, write: true }], { gfn, pages, len, user })) return true;
    this.pages.release(gfn, pages);
    return false;
  }

  /** The bytes the device wrote (at most the buffer) and the caller's tag. */
  complete(c: Completion<RngTag<U>>): { user: U; data: Uint8Array; written: number } {
    const t = c.tag;
    const data = this.machine.read(this.domid, t.gfn * L.PAGE_SIZE, Math.min(c.written, t.len));
    this.pages.release(t.gfn, t.pages);
    return { user: t.user, data, written: c.written };
  }
}
