// One face for both ring layouts, so the driver and the backend run split or packed rings
// (VIRTIO_F_RING_PACKED negotiated) with the same code. Adapters over the Wasm kernels'
// wrappers (src/wasm/split.ts, src/wasm/packed.ts).
import * as L from "../wasm/layout.ts";
import type { Machine } from "../wasm/machine.ts";
import { SplitDevice, SplitDriver } from "../wasm/split.ts";
import { WasmPackedDevice, WasmPackedDriver } from "../wasm/packed.ts";
import type { Chain, Segment } from "../devices/types.ts";
import { dmaGpa, type DmaAddr } from "./dma-addr.ts";

/** A ring's three areas: split desc/avail/used, packed desc/driver event/device event. The
 *  addresses are u64s as the driver wrote them (a grant transport's carry bit 63). */
export interface RingAddrs {
  size: number;
  desc: DmaAddr;
  driver: DmaAddr;
  device: DmaAddr;
}

/** A ring whose areas are guest-physical addresses (numbers; FAR_GPA for any at or above
 *  2^53, which no domain's memory reaches), for transports that place rings by gpa. */
export function gpaRing(r: RingAddrs): { size: number; desc: number; driver: number; device: number } {
  return { size: r.size, desc: dmaGpa(r.desc), driver: dmaGpa(r.driver), device: dmaGpa(r.device) };
}

export interface Used {
  id: number;
  len: number;
}

/** Byte length of each area, in the order desc, driver, device. */
export function ringAreaBytes(size: number, packed: boolean): [number, number, number] {
  return packed
    ? [L.VRING_PACKED_DESC_SIZE * size, L.VRING_PACKED_DESC_EVENT_SIZE, L.VRING_PACKED_DESC_EVENT_SIZE]
    : [L.VRING_DESC_SIZE * size, 6 + 2 * size, 6 + L.VRING_USED_ELEM_SIZE * size];
}

export interface DeviceRing {
  readonly packed: boolean;
  readonly ringDomid: number;
  readonly broken: boolean;
  /** The first ring-level error (VQ_E*), 0 while healthy. */
  readonly error: number;
  pop(max: number): Chain[];
  /** Publishes used elements; a refused one is a device-model bug and throws. */
  push(used: Used[]): void;
  needInterrupt(): boolean;
  /** Re-enables kicks; true when buffers arrived meanwhile. */
  enableNotifications(): boolean;
  disableNotifications(): void;
  /** Stops the queue (reset, QueueReady = 0). */
  stop(): void;
}

export interface DriverRing {
  readonly packed: boolean;
  readonly numFree: number;
  readonly broken: boolean;
  /** Adds one chain; its id (split head, packed buffer id), or undefined when there is no room. */
  add(segs: Segment[]): number | undefined;
  /** Publishes; true when the device must be notified. */
  kick(): boolean;
  reclaim(): Used[];
  enableCallbacks(): boolean;
  disableCallbacks(): void;
}

export interface RingOptions {
  machine: Machine;
  /** Queue state block (src/virtio/queue-ids.ts). */
  qid: number;
  ringDomid: number;
  eventIdx: boolean;
}

// A split device side owns host frames for its private tables: one per queue block, reused.
const splitDevices = new WeakMap<Machine, Map<number, SplitDevice>>();

function splitDevice(m: Machine, qid: number, ringDomid: number, maxSize: number): SplitDevice {
  let per = splitDevices.get(m);
  if (!per) splitDevices.set(m, (per = new Map()));
  let d = per.get(qid);
  if (!d || d.ringDomid !== ringDomid || d.maxSize !== maxSize) per.set(qid, (d = new SplitDevice(m, qid, ringDomid, maxSize)));
  return d;
}

/** The device side of a ring, enabled on `ring`; a VQ_E* code when the ring is unusable. */
export function openDeviceRing(o: RingOptions & { bufDomid: number; queueMax: number; packed: boolean }, ring: RingAddrs): DeviceRing | number {
  if (o.packed) {
    const d = new WasmPackedDevice(o.machine, { queue: o.qid, ringDomid: o.ringDomid, bufDomid: o.bufDomid, features: { eventIdx: o.eventIdx } });
    if (ring.size > o.queueMax) {
      d.dispose();
      return L.VQ_E1_BAD_SIZE;
    }
    const rc = d.enable(ring.size, ring.desc, ring.driver, ring.device);
    if (rc !== L.VQ_OK) {
      d.dispose();
      return rc;
    }
    d.driverOk();
    return {
      packed: true,
      ringDomid: o.ringDomid,
      get broken() { return d.broken; },
      get error() { return d.error; },
      pop: (max) => d.pop(max),
      push: (used) => {
        // A queue that broke while these chains were handled publishes nothing more; any other
        // refusal is a device-model bug.
        if (d.push(used) < used.length && !d.broken) throw new Error(`packed queue ${o.qid}: push refused (error ${d.error})`);
      },
      needInterrupt: () => d.needIrq(),
      enableNotifications: () => d.enableNotify(),
      disableNotifications: () => d.disableNotify(),
      stop: () => d.dispose(),
    };
  }
  const d = splitDevice(o.machine, o.qid, o.ringDomid, o.queueMax);
  d.reset();
  const rc = d.enable({ size: ring.size, desc: ring.desc, avail: ring.driver, used: ring.device }, { eventIdx: o.eventIdx }, { bufDomid: o.bufDomid });
  if (rc !== L.VQ_OK) return rc;
  d.setDriverOk(true);
  return {
    packed: false,
    ringDomid: o.ringDomid,
    get broken() { return d.broken; },
    get error() { return d.error; },
    pop: (max) => d.pop(max).map((c) => ({ id: c.head, segs: c.segs, readable: c.readable, writable: c.writable })),
    push: (used) => d.push(used),
    needInterrupt: () => d.needInterrupt(),
    enableNotifications: () => d.enableNotifications(),
    disableNotifications: () => d.disableNotifications(),
    stop: () => d.reset(),
  };
}

/** The driver side of a ring, initialised (zeroed) on `ring`; a VQ_E* code when it cannot be. */
export function openDriverRing(o: RingOptions & { packed: boolean }, ring: RingAddrs): DriverRing | number {
  if (o.packed) {
    const d = new WasmPackedDriver(o.machine, { queue: o.qid, ringDomid: o.ringDomid, features: { eventIdx: o.eventIdx } });
    const rc = d.init(ring.size, ring.desc, ring.driver, ring.device);
    if (rc !== L.VQ_OK) return rc;
    return {
      packed: true,
      get numFree() { return d.cursors.numFree; },
      get broken() { return d.broken; },
      add: (segs) => {
        const id = d.add(segs);
        return id < 0 ? undefined : id;
      },
      kick: () => d.kickPrepare(),
      reclaim: () => d.getUsed(),
      enableCallbacks: () => d.enableCb(),
      disableCallbacks: () => d.disableCb(),
    };
  }
  const d = new SplitDriver(o.machine, o.qid, o.ringDomid, ring.size);
  const rc = d.init({ size: ring.size, desc: ring.desc, avail: ring.driver, used: ring.device }, { eventIdx: o.eventIdx });
  if (rc !== L.VQ_OK) return rc;
  return {
    packed: false,
    get numFree() { return d.numFree; },
    get broken() { return d.broken; },
    add: (segs) => d.add([{ segs }])[0],
    kick: () => d.kick(),
    reclaim: () => d.reclaim(),
    enableCallbacks: () => d.enableCallbacks(),
    disableCallbacks: () => d.disableCallbacks(),
  };
}
