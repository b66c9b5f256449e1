// What a guest MMIO (or x86 port I/O) access becomes in the Xen model. The IOREQ subsystem
// (src/xen/ioreq.ts) implements the handler; Hypervisor.mmioAccess is the guest's entry point.

export type IoDir = "read" | "write";

export type MmioResult =
  /** Forwarded to IOREQ server `server`: the vCPU is blocked until the emulator answers, then
   *  `done` (if given) receives the value (reads) or 0n (writes). */
  | { kind: "pending"; server: number }
  /** Completed inside Xen without an emulator (x86: unclaimed reads return all ones, writes
   *  are discarded and give 0n). */
  | { kind: "done"; value: bigint }
  /** A fault was injected into the guest (Arm: data abort for an unclaimed access; any arch:
   *  the server's slot was not free, as Xen refuses to overwrite it). */
  | { kind: "fault" };

export type MmioDone = (value: bigint) => void;

export interface MmioHandler {
  ioAccess(space: "mmio" | "pio", domid: number, vcpu: number, addr: number, size: number, dir: IoDir, data: bigint | number, done?: MmioDone): MmioResult;
}
