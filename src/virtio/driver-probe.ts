// Bring-up of a virtio-mmio v2 device as a guest kernel does it (Linux virtio_mmio.c and
// virtio.c order, virtio.md §3.3 and §4.3). Every register access goes through the transport's
// port, so each one is a trap the transport counts. The sequence, in accesses:
//   probe        Magic, Version, DeviceID, VendorID reads                       4
//   reset        Status = 0, Status read back                                    2
//   ACKNOWLEDGE  Status read, Status write (virtio_add_status)                   2
//   DRIVER       Status read, Status write                                       2
//   features     DeviceFeaturesSel 1, DeviceFeatures, Sel 0, DeviceFeatures      4
//   accept       DriverFeaturesSel 1, DriverFeatures, Sel 0, DriverFeatures      4
//   FEATURES_OK  Status read, Status write, Status read (did the device keep it) 3
//   config       ConfigGeneration, one read per field part, ConfigGeneration     2 + reads
//   each queue   QueueSel, QueueReady, QueueNumMax, QueueNum, 6 address halves,
//                QueueReady = 1 (driver.ts)                                      11
//   DRIVER_OK    Status read, Status write (driver.ts)                           2
import * as L from "../wasm/layout.ts";
import type { FrontendPort } from "./port.ts";

/** The device could not be brought up; the driver left it FAILED where the spec says so. */
export class DriverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DriverError";
  }
}

export interface ConfigField {
  /** Offset in the device's configuration space. */
  off: number;
  /** Field width in bytes: 1, 2, 4 or 8 (8 is read as two 32-bit halves, as virtio-mmio requires). */
  size: number;
}

export interface ProbeOptions {
  /** Device-specific feature bits this driver supports. VERSION_1 is always accepted. */
  deviceFeatures: bigint;
  /** Accept VIRTIO_RING_F_EVENT_IDX when offered (default true). */
  eventIdx?: boolean;
  configReads?: ConfigField[];
}

export interface ProbeResult {
  deviceId: number;
  vendorId: number;
  offered: bigint;
  features: bigint;
  /** The configuration bytes read (zero where nothing was read). */
  config: Uint8Array;
}

const bit = (n: number) => 1n << BigInt(n);
const MAX_GENERATION_RETRIES = 8;

export function addStatus(port: FrontendPort, s: number): void {
  port.writeReg(L.VIRTIO_MMIO_STATUS, 4, port.readReg(L.VIRTIO_MMIO_STATUS, 4) | s);
}

/** Steps up to FEATURES_OK and the configuration reads. */
export function probeDevice(port: FrontendPort, opts: ProbeOptions): ProbeResult {
  const magic = port.readReg(L.VIRTIO_MMIO_MAGIC_VALUE, 4);
  const version = port.readReg(L.VIRTIO_MMIO_VERSION, 4);
  const deviceId = port.readReg(L.VIRTIO_MMIO_DEVICE_ID, 4);
  const vendorId = port.readReg(L.VIRTIO_MMIO_VENDOR_ID, 4);
  if (magic !== L.VIRTIO_MMIO_MAGIC) throw new DriverError(`virtio-mmio: wrong magic value 0x${magic.toString(16)}`);
  if (version !== L.VIRTIO_MMIO_VERSION_2) throw new DriverError(`virtio-mmio: version ${version} not supported (only 2)`);
  if (deviceId === 0) throw new DriverError("virtio-mmio: device id 0 (placeholder, no device)");

  port.writeReg(L.VIRTIO_MMIO_STATUS, 4, 0);
  if (port.readReg(L.VIRTIO_MMIO_STATUS, 4) !== 0) throw new DriverError("virtio-mmio: device did not reset");
  addStatus(port, L.VIRTIO_CONFIG_S_ACKNOWLEDGE);
  addStatus(port, L.VIRTIO_CONFIG_S_DRIVER);

  port.writeReg(L.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 1);
  const hi = BigInt(port.readReg(L.VIRTIO_MMIO_DEVICE_FEATURES, 4) >>> 0);
  port.writeReg(L.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 0);
  const offered = (hi << 32n) | BigInt(port.readReg(L.VIRTIO_MMIO_DEVICE_FEATURES, 4) >>> 0);
  if ((offered & bit(L.VIRTIO_F_VERSION_1)) === 0n) {
    addStatus(port, L.VIRTIO_CONFIG_S_FAILED);
    throw new DriverError("virtio-mmio: device does not offer VERSION_1");
  }
  const wants = opts.deviceFeatures | bit(L.VIRTIO_F_VERSION_1) | ((opts.eventIdx ?? true) ? bit(L.VIRTIO_RING_F_EVENT_IDX) : 0n);
  const features = offered & wants;
  port.writeReg(L.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 1);
  port.writeReg(L.VIRTIO_MMIO_DRIVER_FEATURES, 4, Number(features >> 32n));
  port.writeReg(L.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 0);
  port.writeReg(L.VIRTIO_MMIO_DRIVER_FEATURES, 4, Number(features & 0xffffffffn));
  addStatus(port, L.VIRTIO_CONFIG_S_FEATURES_OK);
  if ((port.readReg(L.VIRTIO_MMIO_STATUS, 4) & L.VIRTIO_CONFIG_S_FEATURES_OK) === 0) {
    addStatus(port, L.VIRTIO_CONFIG_S_FAILED);
    throw new DriverError(`virtio-mmio: device refused features 0x${features.toString(16)}`);
  }
  return { deviceId, vendorId, offered, features, config: readConfig(port, opts.configReads ?? []) };
}

/** Reads config fields between two ConfigGeneration reads, again while the generation moves. */
export function readConfig(port: FrontendPort, fields: ConfigField[]): Uint8Array {
  const end = fields.reduce((e, f) => Math.max(e, f.off + f.size), 0);
  const cfg = new Uint8Array(end);
  const dv = new DataView(cfg.buffer);
  if (fields.length === 0) return cfg;
  for (let attempt = 0; attempt < MAX_GENERATION_RETRIES; attempt++) {
    const gen = port.readReg(L.VIRTIO_MMIO_CONFIG_GENERATION, 4);
    for (const f of fields) {
      const at = L.VIRTIO_MMIO_CONFIG + f.off;
      if (f.size === 8) {
        dv.setUint32(f.off, port.readReg(at, 4) >>> 0, true);
        dv.setUint32(f.off + 4, port.readReg(at + 4, 4) >>> 0, true);
      } else if (f.size === 4) dv.setUint32(f.off, port.readReg(at, 4) >>> 0, true);
      else if (f.size === 2) dv.setUint16(f.off, port.readReg(at, 2), true);
      else if (f.size === 1) dv.setUint8(f.off, port.readReg(at, 1));
      else throw new RangeError(`config field at ${f.off}: size must be 1, 2, 4 or 8, got ${f.size}`);
    }
    if (port.readReg(L.VIRTIO_MMIO_CONFIG_GENERATION, 4) === gen) return cfg;
  }
  throw new DriverError(`virtio-mmio: configuration kept changing over ${MAX_GENERATION_RETRIES} reads`);
}
