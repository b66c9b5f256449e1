// A device-side probe for double fetch: wraps any device and, for each chain with
// device-readable bytes, reads them once (what a backend validates), lets a hostile guest act
// (`between`), reads them again (what the backend would then use) and counts the bytes that
// changed under it. `after` lets the guest put its bytes back, so the wrapped device then
// handles the request as the guest first wrote it and the job's own verification still holds.
// Whether the second read can differ is a property of the transport: a backend reading guest
// memory in place sees the guest's writes; one that copied the bytes into its own memory does not.
import type { Chain, ChainIo, Completion, VirtioDevice } from "./types.ts";

export interface DoubleFetchObservation {
  /** Chains probed (those with device-readable bytes). */
  chains: number;
  /** Chains whose readable bytes differed between the two reads. */
  chainsChanged: number;
  /** Readable bytes probed, and how many of them differed between the two reads. */
  bytesProbed: number;
  bytesChanged: number;
}

export interface DoubleFetchHooks {
  /** The hostile guest's move, between the backend's first and second read of `chain`. */
  between(q: number, chain: Chain): void;
  /** After the second read (the guest restores what it changed). */
  after?(q: number, chain: Chain): void;
}

export class DoubleFetchProbe implements VirtioDevice {
  readonly inner: VirtioDevice;
  readonly observed: DoubleFetchObservation = { chains: 0, chainsChanged: 0, bytesProbed: 0, bytesChanged: 0 };
  private readonly hooks: DoubleFetchHooks;

  constructor(inner: VirtioDevice, hooks: DoubleFetchHooks) {
    this.inner = inner;
    this.hooks = hooks;
  }

  get deviceId(): number { return this.inner.deviceId; }
  get features(): bigint { return this.inner.features; }
  get numQueues(): number { return this.inner.numQueues; }
  get queueMax(): number { return this.inner.queueMax; }
  get config(): Uint8Array { return this.inner.config; }

  negotiated(features: bigint): void {
    this.inner.negotiated(features);
  }

  reset(): void {
    this.inner.reset();
  }

  handle(q: number, chain: Chain, io: ChainIo): Completion {
    if (chain.readable > 0) {
      // A buffer the transport cannot reach is the wrapped device's error to answer, not ours.
      const first = tryRead(io, chain.readable);
      if (first) {
        this.hooks.between(q, chain);
        const second = tryRead(io, chain.readable);
        this.hooks.after?.(q, chain);
        if (second) this.count(first, second);
      }
    }
    return this.inner.handle(q, chain, io);
  }

  private count(first: Uint8Array, second: Uint8Array): void {
    let changed = 0;
    for (let i = 0; i < first.length; i++) if (first[i] !== second[i]) changed++;
    const o = this.observed;
    o.chains++;
    o.bytesProbed += first.length;
    o.bytesChanged += changed;
    if (changed > 0) o.chainsChanged++;
  }
}

function tryRead(io: ChainIo, len: number): Uint8Array | undefined {
  try {
    return io.read(0, len);
  } catch (e) {
    if ((e as Error).name === "DeviceIoError") return undefined;
    throw e;
  }
}
