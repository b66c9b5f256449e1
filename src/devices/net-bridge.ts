// The backend side of virtio-net: a switch with static ports, one per device, forwarding by
// destination MAC (each port is known by its device's configured MAC; no learning). A port may
// reflect instead: everything its guest sends comes back to it (guest-to-backend loopback).
// Frames are delivered synchronously into the destination device's rx buffers.
import { destMac, formatMac, isMulticast } from "./net-frame.ts";
import type { NetBackend, VirtioNet } from "./net.ts";

export interface BridgePortStats {
  /** Frames and bytes the port's guest sent into the bridge. */
  txFrames: number;
  txBytes: number;
  /** Frames and bytes delivered to the port's guest. */
  rxFrames: number;
  rxBytes: number;
  /** Frames for this port that its device dropped (no buffer, too small...; see its stats). */
  drops: number;
}

export interface BridgeStats {
  /** Frames and bytes that entered the bridge. */
  frames: number;
  bytes: number;
  /** Deliveries (a broadcast to n ports counts n) and their bytes. */
  forwarded: number;
  forwardedBytes: number;
  drops: {
    /** No port for the destination MAC (or a broadcast with no other port). */
    noRoute: number;
    /** Deliveries the destination device refused. */
    portDropped: number;
  };
}

interface Port {
  dev: VirtioNet;
  key: string;
  reflect: boolean;
  stats: BridgePortStats;
}

export interface ConnectOptions {
  /** Send every frame from this port back to it, whatever its destination (default false). */
  reflect?: boolean;
}

export class NetBridge implements NetBackend {
  readonly stats: BridgeStats = { frames: 0, bytes: 0, forwarded: 0, forwardedBytes: 0, drops: { noRoute: 0, portDropped: 0 } };
  private readonly ports: Port[] = [];
  private readonly byMac = new Map<string, Port>();

  /** A bridge with one reflecting port: the guest's own frames come back to it. */
  static loopback(dev: VirtioNet): NetBridge {
    const b = new NetBridge();
    b.connect(dev, { reflect: true });
    return b;
  }

  /** A bridge joining two devices (two guests talking through the backend). */
  static pair(a: VirtioNet, b: VirtioNet): NetBridge {
    const br = new NetBridge();
    br.connect(a);
    br.connect(b);
    return br;
  }

  connect(dev: VirtioNet, opts: ConnectOptions = {}): void {
    const key = formatMac(dev.mac);
    if (this.ports.some((p) => p.dev === dev)) throw new Error(`net bridge: device ${key} is already connected`);
    if (this.byMac.has(key)) throw new Error(`net bridge: two ports with MAC ${key}; static forwarding needs unique MACs`);
    dev.attach(this);
    const port: Port = { dev, key, reflect: opts.reflect ?? false, stats: { txFrames: 0, txBytes: 0, rxFrames: 0, rxBytes: 0, drops: 0 } };
    this.ports.push(port);
    this.byMac.set(key, port);
  }

  disconnect(dev: VirtioNet): void {
    const i = this.ports.findIndex((p) => p.dev === dev);
    if (i < 0) throw new Error(`net bridge: device ${formatMac(dev.mac)} is not connected`);
    const [port] = this.ports.splice(i, 1);
    this.byMac.delete(port!.key);
    dev.detach();
  }

  portStats(dev: VirtioNet): BridgePortStats {
    const p = this.ports.find((x) => x.dev === dev);
    if (!p) throw new Error(`net bridge: device ${formatMac(dev.mac)} is not connected`);
    return p.stats;
  }

  transmit(from: VirtioNet, frame: Uint8Array): void {
    const src = this.ports.find((p) => p.dev === from);
    if (!src) throw new Error(`net bridge: frame from unconnected device ${formatMac(from.mac)}`);
    this.stats.frames++;
    this.stats.bytes += frame.length;
    src.stats.txFrames++;
    src.stats.txBytes += frame.length;
    for (const dst of this.route(src, frame)) this.deliver(dst, frame);
  }

  private route(src: Port, frame: Uint8Array): Port[] {
    if (src.reflect) return [src];
    let out: Port[];
    if (isMulticast(frame)) {
      out = this.ports.filter((p) => p !== src);
    } else {
      const p = this.byMac.get(destMac(frame));
      out = p ? [p] : []; // a frame to its sender's own MAC comes back (hairpin)
    }
    if (out.length === 0) this.stats.drops.noRoute++;
    return out;
  }

  private deliver(dst: Port, frame: Uint8Array): void {
    if (dst.dev.receive(frame)) {
      this.stats.forwarded++;
      this.stats.forwardedBytes += frame.length;
      dst.stats.rxFrames++;
      dst.stats.rxBytes += frame.length;
    } else {
      this.stats.drops.portDropped++;
      dst.stats.drops++;
    }
  }
}
