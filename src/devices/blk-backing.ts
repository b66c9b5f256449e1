// What a virtio-blk device stores its sectors in: a raw disk-image file (positional reads and
// writes through Node's fs, fsync on flush) or memory. Offsets and lengths are bytes; the
// device has already checked them against the capacity.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { VIRTIO_BLK_SECTOR_SIZE } from "../wasm/layout.ts";

export interface BlkBacking {
  /** Size in bytes (a multiple of 512). */
  readonly size: number;
  readonly readOnly: boolean;
  read(off: number, len: number): Uint8Array;
  write(off: number, data: Uint8Array): void;
  /** Makes [off, off+len) read as zeroes. */
  zero(off: number, len: number): void;
  /** The range's contents are no longer needed (reads may return old data or zeroes). */
  discard(off: number, len: number): void;
  /** Writes so far are durable. */
  flush(): void;
  close(): void;
}

const ZERO_CHUNK = 1 << 20;

function checkSize(what: string, size: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size % VIRTIO_BLK_SECTOR_SIZE !== 0) {
    throw new Error(`${what}: size ${size} is not a multiple of ${VIRTIO_BLK_SECTOR_SIZE} bytes`);
  }
}

export class MemDisk implements BlkBacking {
  readonly size: number;
  readonly readOnly: boolean;
  readonly bytes: Uint8Array;
  flushes = 0;

  constructor(sizeOrBytes: number | Uint8Array, readOnly = false) {
    this.bytes = typeof sizeOrBytes === "number" ? new Uint8Array(sizeOrBytes) : sizeOrBytes;
    checkSize("memory disk", this.bytes.length);
    this.size = this.bytes.length;
    this.readOnly = readOnly;
  }

  read(off: number, len: number): Uint8Array {
    return this.bytes.slice(off, off + len);
  }
  write(off: number, data: Uint8Array): void {
    this.bytes.set(data, off);
  }
  zero(off: number, len: number): void {
    this.bytes.fill(0, off, off + len);
  }
  discard(): void {}
  flush(): void {
    this.flushes++;
  }
  close(): void {}
}

export interface FileDiskOptions {
  readOnly?: boolean;
  /** fsync on flush (default true); off for tests that do not care about durability. */
  fsync?: boolean;
}

export class FileDisk implements BlkBacking {
  readonly path: string;
  readonly size: number;
  readonly readOnly: boolean;
  private fd: number;
  private readonly fsync: boolean;
  flushes = 0;

  constructor(path: string, opts: FileDiskOptions = {}) {
    this.path = path;
    this.readOnly = opts.readOnly ?? false;
    this.fsync = opts.fsync ?? true;
    this.fd = openSync(path, this.readOnly ? "r" : "r+");
    const st = fstatSync(this.fd);
    if (!st.isFile()) {
      closeSync(this.fd);
      throw new Error(`disk image ${path}: not a regular file`);
    }
    try {
      checkSize(`disk image ${path}`, st.size);
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
    this.size = st.size;
  }

  read(off: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd, out, done, len - done, off + done);
      if (n === 0) throw new Error(`disk image ${this.path}: short read at ${off + done}`);
      done += n;
    }
    return out;
  }

  write(off: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, off + done);
  }

  zero(off: number, len: number): void {
    const z = new Uint8Array(Math.min(len, ZERO_CHUNK));
    for (let done = 0; done < len; done += z.length) this.write(off + done, z.subarray(0, Math.min(z.length, len - done)));
  }

  discard(): void {}

  flush(): void {
    this.flushes++;
    if (this.fsync) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
