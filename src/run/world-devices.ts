// The devices of a world and their guest-side drivers: virtio-blk over a backing store,
// virtio-net (one device per guest, joined by the backend's bridge or reflected back), or
// virtio-rng drawing from the seed. `attach` brings the generic driver up over a transport and
// wraps it in the device's guest helper.
import type { Machine } from "../wasm/machine.ts";
import { Rng } from "../sim/rng.ts";
import type { VirtioDevice } from "../devices/types.ts";
import { VirtioBlk } from "../devices/blk.ts";
import { FileDisk, MemDisk, type BlkBacking } from "../devices/blk-backing.ts";
import { BLK_CONFIG_READS, BLK_DRIVER_FEATURES, BlkGuest } from "../devices/blk-guest.ts";
import { VirtioNet } from "../devices/net.ts";
import { NetBridge } from "../devices/net-bridge.ts";
import { NET_CONFIG_READS, NET_DRIVER_FEATURES, NET_HDR_BYTES, NetGuest } from "../devices/net-guest.ts";
import { VirtioRng } from "../devices/rng.ts";
import { RngGuest } from "../devices/rng-guest.ts";
import { SeededByteStream, type ByteSource } from "../workloads/byte-stream.ts";
import type { Transport } from "../transports/types.ts";
import type { VirtioDriver } from "../virtio/driver.ts";
import type { GuestPages } from "../virtio/guest-pages.ts";
import { driverFor } from "./world-transport.ts";
import type { WorldOptions } from "./world.ts";

export const DEFAULT_DISK_BYTES = 1 << 20;
export const RNG_LABEL = "virtio-rng";
/** Ethernet header + one VLAN tag, what VirtioNet accepts above its mtu. */
const ETH_OVERHEAD = 18;

export interface WorldDevices {
  readonly device: WorldOptions["device"];
  readonly blk?: { device: VirtioBlk; backing: BlkBacking; guest: BlkGuest<any> };
  readonly net?: { topology: "pair" | "loopback"; devices: VirtioNet[]; bridge: NetBridge; guests: NetGuest<any>[] };
  /** `reference()` is a fresh copy of the stream the device draws from. */
  readonly rng?: { device: VirtioRng; guest: RngGuest<any>; reference: () => ByteSource };
}

export interface DeviceSet {
  view: WorldDevices;
  deviceOf(i: number): VirtioDevice;
  attach(i: number, m: Machine, t: Transport, pages: GuestPages, d: { eventIdx?: boolean; queueSize?: number }): VirtioDriver<any>;
  /** Closes what the world opened (an image file). */
  close(): void;
}

/** Opens the raw image file `path` (it must exist: vxsim never creates a disk image). */
export function openImage(path: string, readOnly: boolean): FileDisk {
  try {
    return new FileDisk(path, { readOnly });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`disk image ${path}: no such file (blk.image must name an existing raw image; vxsim does not create one)`);
    if (code === "EACCES" || code === "EROFS") throw new Error(`disk image ${path}: cannot open it ${readOnly ? "for reading" : "for writing"} (${code}); set blk.readOnly for a read-only image`);
    throw e;
  }
}

/** A locally administered unicast MAC per guest: 02:00:00:00:00:<i+1>. */
export const macOf = (i: number): string => `02:00:00:00:00:${(i + 1).toString(16).padStart(2, "0")}`;

export function buildDevices(o: WorldOptions, guests: number): DeviceSet {
  const view: { -readonly [K in keyof WorldDevices]: WorldDevices[K] } = { device: o.device };
  const up = <T>(m: Machine, t: Transport, pages: GuestPages, d: { eventIdx?: boolean; queueSize?: number }, features: bigint, configReads: typeof BLK_CONFIG_READS, numQueues: number) => {
    const driver = driverFor<T>(t, { machine: m, deviceFeatures: features, configReads, numQueues, eventIdx: d.eventIdx, queueSize: d.queueSize }, pages);
    driver.init();
    return driver;
  };
  switch (o.device) {
    case "blk": {
      const readOnly = o.blk?.readOnly;
      const opened = !o.blk?.backing && o.blk?.image !== undefined ? openImage(o.blk.image, readOnly ?? false) : undefined;
      const backing = o.blk?.backing ?? opened ?? new MemDisk(o.blk?.sizeBytes ?? DEFAULT_DISK_BYTES);
      let device: VirtioBlk;
      try {
        device = new VirtioBlk({ backing, readOnly, dataPath: o.backendDataPath });
      } catch (e) {
        opened?.close();
        throw e;
      }
      return {
        view,
        close: () => opened?.close(),
        deviceOf: () => device,
        attach: (_i, m, t, pages, d) => {
          const driver = up(m, t, pages, d, BLK_DRIVER_FEATURES, BLK_CONFIG_READS, 1);
          view.blk = { device, backing, guest: new BlkGuest(driver as VirtioDriver<any>, pages) };
          return driver;
        },
      };
    }
    case "net": {
      const topology = o.net?.topology ?? "pair";
      const mtu = o.net?.mtu ?? 1500;
      const rxBufBytes = o.net?.rxBufBytes ?? NET_HDR_BYTES + mtu + ETH_OVERHEAD;
      const devices = Array.from({ length: guests }, (_, i) => new VirtioNet({ mac: macOf(i), mtu, rxBacklog: o.net?.rxBacklog ?? 256 }));
      const bridge = topology === "loopback" ? NetBridge.loopback(devices[0]!) : NetBridge.pair(devices[0]!, devices[1]!);
      const net = { topology, devices, bridge, guests: [] as NetGuest<any>[] };
      view.net = net;
      return {
        view,
        close: () => {},
        deviceOf: (i) => devices[i]!,
        attach: (i, m, t, pages, d) => {
          const driver = up(m, t, pages, d, NET_DRIVER_FEATURES, NET_CONFIG_READS, 2);
          net.guests[i] = new NetGuest(driver as VirtioDriver<any>, pages, rxBufBytes);
          return driver;
        },
      };
    }
    case "rng": {
      const seed = o.seed ?? 1;
      const device = new VirtioRng({ rng: new Rng(seed), label: RNG_LABEL, maxBytesPerRequest: o.rng?.maxBytesPerRequest });
      return {
        view,
        close: () => {},
        deviceOf: () => device,
        attach: (_i, m, t, pages, d) => {
          const driver = up(m, t, pages, d, 0n, [], 1);
          view.rng = { device, guest: new RngGuest(driver as VirtioDriver<any>, pages), reference: () => new SeededByteStream(new Rng(seed).fork(RNG_LABEL)) };
          return driver;
        },
      };
    }
  }
}
