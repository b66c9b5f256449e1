// What a block workload asks of a virtio-blk device, transport-free: the request a driver
// frames as header + data + status (virtio.md 5.1) and the completion it reads back.

/** virtio-blk request types and statuses used by the workloads (spec values, §5.2.6). */
export const BLK_T_IN = 0;
export const BLK_T_OUT = 1;
export const BLK_T_FLUSH = 4;
export const BLK_S_OK = 0;
export const BLK_S_IOERR = 1;
export const BLK_S_UNSUPP = 2;
/** The unit of `sector`, whatever the device's blk_size. */
export const SECTOR = 512;

export type BlkType = typeof BLK_T_IN | typeof BLK_T_OUT | typeof BLK_T_FLUSH;

export interface BlkRequest {
  /** The generator's name for this request; completions quote it. */
  tag: number;
  type: BlkType;
  /** In 512-byte units; 0 for FLUSH. */
  sector: number;
  /** Data bytes: the readable data of OUT, the writable data of IN (the status byte is extra); 0 for FLUSH. */
  len: number;
  /** OUT only: the bytes to write (`len` of them). */
  data?: Uint8Array;
}

export interface BlkCompletion {
  /** The status byte the device wrote. */
  status: number;
  /** IN only: the data bytes the device wrote (used len minus the status byte). */
  data?: Uint8Array;
}
