// What the generic guest virtio driver (driver.ts) asks of the transport it runs over. The
// driver speaks the virtio-mmio register protocol for configuration; the transport decides
// how each access travels (a KVM exit, a Xen IOREQ, ...), which address a buffer gets in a
// descriptor, how a kick reaches the backend and how an interrupt reaches the guest.

import type { DmaAddr } from "./dma-addr.ts";

/** One buffer of a request, in the guest's own memory. */
export interface GuestBuf {
  gpa: number;
  len: number;
  /** Device-writable (the device fills it). */
  write: boolean;
}

export interface FrontendPort {
  /** A read of the device's register window at `off` (control registers: 4 bytes; config
   *  from 0x100: the field's width). May trap. */
  readReg(off: number, size: number): number;
  writeReg(off: number, size: number, value: number): void;
  /** The address to put in the descriptor for `buf` (the gpa itself when the backend sees
   *  guest RAM; a grant address, a pool offset... otherwise). May copy a readable buffer out. */
  expose(buf: GuestBuf): DmaAddr;
  /** The device is done with `buf` (exposed as `addr`): revoke access, copy a writable
   *  buffer back. */
  unexpose(buf: GuestBuf, addr: DmaAddr): void;
  /** Available-buffer notification for queue `q` (the driver decided one is due). */
  notify(q: number): void;
  /** Takes the guest's pending interrupt for this device, if any. */
  takeInterrupt(): boolean;
  /** The handler reads InterruptStatus and writes InterruptACK (a virtio-mmio wired
   *  interrupt); false with per-queue message-signalled vectors, where it does not. */
  readonly isrRegisters: boolean;
}
