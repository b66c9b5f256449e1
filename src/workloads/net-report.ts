// What the net workloads report when a frame is not what the receiver expects.

export type NetFailureKind =
  /** Shorter than its headers, or its payload was cut short. */
  | "short"
  /** More bytes than its header says (beyond zero padding to 60 bytes). */
  | "long"
  /** A damaged header (bad CRC) or payload bytes that differ from the pattern. */
  | "corrupt"
  /** A valid frame for another flow, direction, MAC or EtherType. */
  | "misdelivered"
  /** Frames skipped: a later sequence number arrived first (`count` of them). */
  | "drop"
  /** A sequence number that was already received. */
  | "duplicate"
  /** A frame that arrived after a later one (it was counted as dropped then). */
  | "reorder";

export interface NetFailure {
  kind: NetFailureKind;
  /** The frame's sequence number, -1 when its header could not be read. */
  seq: number;
  /** Frames concerned (drops: how many were skipped; otherwise 1). */
  count: number;
  detail: string;
}
