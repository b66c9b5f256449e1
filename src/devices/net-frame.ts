// Ethernet frame helpers shared by virtio-net and the backend bridge: MAC addresses, frame
// size limits and the checksum a device completes for NEEDS_CSUM.

export const ETH_ALEN = 6;
/** Destination + source + ethertype: the shortest frame the bridge can forward. */
export const ETH_HLEN = 14;
/** Ethernet header plus one 802.1Q tag: what a frame may add to the MTU. */
export const ETH_OVERHEAD = 18;

/** Parses "52:54:00:12:34:56" (or "-" separators) or takes 6 bytes; refuses multicast
 *  addresses, which cannot name one port. */
export function parseMac(mac: string | Uint8Array, what: string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof mac === "string") {
    const parts = mac.split(/[:-]/);
    if (parts.length !== ETH_ALEN || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
      throw new Error(`${what}: MAC address must look like 52:54:00:12:34:56, got "${mac}"`);
    }
    bytes = Uint8Array.from(parts, (p) => parseInt(p, 16));
  } else {
    if (mac.length !== ETH_ALEN) throw new Error(`${what}: MAC address must be ${ETH_ALEN} bytes, got ${mac.length}`);
    bytes = Uint8Array.from(mac);
  }
  if (isMulticast(bytes)) throw new Error(`${what}: MAC address ${formatMac(bytes)} is multicast (low bit of the first octet set)`);
  return bytes;
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac.subarray(0, ETH_ALEN), (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Group bit of the first octet: multicast and broadcast. */
export function isMulticast(mac: Uint8Array): boolean {
  return (mac[0]! & 1) !== 0;
}

/** The destination address of a frame of at least ETH_HLEN bytes, as a string key. */
export function destMac(frame: Uint8Array): string {
  return formatMac(frame.subarray(0, ETH_ALEN));
}

/** What a device does for NEEDS_CSUM: the 16-bit ones'-complement sum of frame[start..]
 *  (the field already holds the driver's pseudo-header sum), complemented and stored
 *  big-endian at start + offset. The caller checked that the field lies inside the frame. */
export function completeChecksum(frame: Uint8Array, start: number, offset: number): void {
  let sum = 0;
  let i = start;
  for (; i + 1 < frame.length; i += 2) sum += (frame[i]! << 8) | frame[i + 1]!;
  if (i < frame.length) sum += frame[i]! << 8; // odd length: pad with a zero byte
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const csum = ~sum & 0xffff;
  frame[start + offset] = csum >>> 8;
  frame[start + offset + 1] = csum & 0xff;
}
