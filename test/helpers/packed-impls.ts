// One interface over the three implementations of each packed side (Wasm release, Wasm
// debug, plain-TS reference), so behaviour tests run against all of them.
import { Machine } from "../../src/wasm/machine.ts";
import { newHostCounters, type HostCounters } from "../../src/wasm/ts-guest-memory.ts";
import {
  WasmPackedDevice, WasmPackedDriver, type PackedChain, type PackedCursors, type PackedDeviceConfig,
  type PackedDriverConfig, type PackedSeg, type UsedRec,
} from "../../src/wasm/packed.ts";
import { RefPackedDevice, RefPackedDriver } from "../../src/virtio/packed-ref.ts";

export type Impl = "wasm-release" | "wasm-debug" | "ts";
export const IMPLS: Impl[] = ["wasm-release", "wasm-debug", "ts"];

export function newMachine(impl: Impl): Machine {
  return new Machine({ build: impl === "wasm-debug" ? "debug" : "release" });
}

export interface DeviceUT {
  enable(size: number, desc: number, driverArea: number, deviceArea: number): number;
  driverOk(): void;
  pop(max?: number): PackedChain[];
  push(used: readonly UsedRec[]): number;
  needIrq(): boolean;
  enableNotify(): boolean;
  disableNotify(): void;
  readonly error: number;
  readonly broken: boolean;
  readonly inFlight: number;
  readonly slotsInFlight: number;
  readonly cursors: { nextAvail: number; availWrap: number; nextUsed: number; usedWrap: number };
  /** Counter as this implementation counts it (Wasm block, or the TS HostCounters). */
  counter(id: number): number;
}

export interface DriverUT {
  init(size: number, desc: number, driverArea: number, deviceArea: number): number;
  add(segs: readonly PackedSeg[], indirectTable?: number): number;
  kickPrepare(): boolean;
  getUsed(max?: number): UsedRec[];
  enableCb(): boolean;
  disableCb(): void;
  readonly error: number;
  readonly broken: boolean;
  readonly numFree: number;
  readonly cursors: { nextAvail: number; availWrap: number; nextUsed: number; usedWrap: number };
  counter(id: number): number;
}

function cur(c: PackedCursors) {
  return { nextAvail: c.nextAvail, availWrap: c.availWrap, nextUsed: c.nextUsed, usedWrap: c.usedWrap };
}

export function makeDevice(impl: Impl, m: Machine, cfg: PackedDeviceConfig, host: HostCounters = newHostCounters()): DeviceUT {
  if (impl === "ts") {
    const d = new RefPackedDevice(m, cfg, host);
    return {
      enable: (s, a, b, c) => d.enable(s, a, b, c),
      driverOk: () => d.driverOk(),
      pop: (max = 64) => d.popChains(max),
      push: (u) => d.push(u),
      needIrq: () => d.needIrq(),
      enableNotify: () => d.enableNotify(),
      disableNotify: () => d.disableNotify(),
      get error() { return d.error; },
      get broken() { return d.broken; },
      get inFlight() { return d.ring.inFlight; },
      get slotsInFlight() { return d.slotsInFlight; },
      get cursors() { return { nextAvail: d.ring.nextAvail, availWrap: d.ring.availWrap, nextUsed: d.ring.nextUsed, usedWrap: d.ring.usedWrap }; },
      counter: (id) => host[id]!,
    };
  }
  const d = new WasmPackedDevice(m, cfg);
  return {
    enable: (s, a, b, c) => d.enable(s, a, b, c),
    driverOk: () => d.driverOk(),
    pop: (max = 64) => d.pop(max),
    push: (u) => d.push(u),
    needIrq: () => d.needIrq(),
    enableNotify: () => d.enableNotify(),
    disableNotify: () => d.disableNotify(),
    get error() { return d.error; },
    get broken() { return d.broken; },
    get inFlight() { return d.cursors.inFlight; },
    get slotsInFlight() { return d.cursors.slotsInFlight; },
    get cursors() { return cur(d.cursors); },
    counter: (id) => m.counter(id),
  };
}

export function makeDriver(impl: Impl, m: Machine, cfg: PackedDriverConfig, host: HostCounters = newHostCounters()): DriverUT {
  if (impl === "ts") {
    const d = new RefPackedDriver(m, cfg, host);
    return {
      init: (s, a, b, c) => d.init(s, a, b, c),
      add: (segs, t) => d.add(segs, t),
      kickPrepare: () => d.kickPrepare(),
      getUsed: (max) => d.getUsed(max),
      enableCb: () => d.enableCb(),
      disableCb: () => d.disableCb(),
      get error() { return d.error; },
      get broken() { return d.broken; },
      get numFree() { return d.numFree; },
      get cursors() { return { nextAvail: d.ring.nextAvail, availWrap: d.ring.availWrap, nextUsed: d.ring.nextUsed, usedWrap: d.ring.usedWrap }; },
      counter: (id) => host[id]!,
    };
  }
  const d = new WasmPackedDriver(m, cfg);
  return {
    init: (s, a, b, c) => d.init(s, a, b, c),
    add: (segs, t) => d.add(segs, t),
    kickPrepare: () => d.kickPrepare(),
    getUsed: (max) => d.getUsed(max),
    enableCb: () => d.enableCb(),
    disableCb: () => d.disableCb(),
    get error() { return d.error; },
    get broken() { return d.broken; },
    get numFree() { return d.cursors.numFree; },
    get cursors() { return cur(d.cursors); },
    counter: (id) => m.counter(id),
  };
}
