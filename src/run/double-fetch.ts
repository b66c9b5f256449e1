// A job with a hostile guest and a double-fetch probe (C7): the device reads each request's
// readable bytes, the guest rewrites every byte of its own memory that the request's
// descriptors name, the device reads again. The guest learns what its descriptors name the
// way any guest kernel does: its DMA-mapping layer (the driver port's expose) returns the
// descriptor address for each buffer, and the guest can turn that address back into its own
// memory (a gpa, a grant ref whose entry it wrote, a slot of its shared region). It can
// always write there: it is its own RAM.
import { DoubleFetchProbe, type DoubleFetchObservation } from "../devices/double-fetch-probe.ts";
import { decodeGrantDma, GrantMapTransport } from "../transports/grant-map.ts";
import type { Exposure, Transport } from "../transports/types.ts";
import { dmaGpa, type DmaAddr } from "../virtio/dma-addr.ts";
import type { FrontendPort, GuestBuf } from "../virtio/port.ts";
import * as L from "../wasm/layout.ts";
import type { Machine } from "../wasm/machine.ts";
import { buildJob, runJobRounds, worldOptionsFor } from "./job.ts";
import type { JobSpec } from "./result.ts";
import type { Arch } from "../scenario/vocabulary.ts";
import { buildWorld } from "./world.ts";

export interface DoubleFetchResult {
  spec: JobSpec;
  /** Normalised transport spelling (`argo:buffered`). */
  transport: string;
  ios: number;
  observed: DoubleFetchObservation;
  /** Guest bytes the hostile guest rewrote between the two reads (its buffers and the
   *  copies of them its descriptors name). */
  bytesRewritten: number;
  /** What the backend could reach and had mapped (peak) during the run. */
  exposure: Exposure;
}

/** Where in the guest's own memory the bytes named by descriptor address `addr` are, or
 *  undefined when that is the buffer itself (`buf.gpa`, rewritten anyway). */
export function guestGpaOfDescriptor(t: Transport, m: Machine, addr: DmaAddr): number | undefined {
  const g = decodeGrantDma(addr);
  if (g) {
    // The guest's own grant entry says which of its frames it granted under that ref.
    if (!(t instanceof GrantMapTransport)) throw new Error(`${t.id}: a grant address from a transport that does not grant`);
    const e = m.read(t.guest, t.guestGrants.entryGpa(g.gref) + L.GRANT_ENTRY_V1_FRAME, 4);
    const gfn = new DataView(e.buffer, e.byteOffset, 4).getUint32(0, true);
    return gfn * L.PAGE_SIZE + g.offset;
  }
  // pv-p2m descriptors carry the machine address of the buffer's own page.
  if (t.id === "pv-p2m") return undefined;
  return dmaGpa(addr); // a gpa: the buffer itself, or its copy in the guest's shared region
}

/** Wraps a driver port's expose / unexpose (as the guest's DMA-mapping layer sees them):
 *  `exposed` after each expose with the address the descriptor got, `unexposing` before each
 *  unexpose, `unexposed` after it. */
export function tapPort(port: FrontendPort, hooks: {
  exposed?: (buf: GuestBuf, addr: DmaAddr) => void;
  unexposing?: (buf: GuestBuf, addr: DmaAddr) => void;
  unexposed?: (buf: GuestBuf, addr: DmaAddr) => void;
}): void {
  const expose = port.expose.bind(port);
  const unexpose = port.unexpose.bind(port);
  const p = port as { expose: FrontendPort["expose"]; unexpose: FrontendPort["unexpose"] };
  p.expose = (buf) => {
    const addr = expose(buf);
    hooks.exposed?.(buf, addr);
    return addr;
  };
  p.unexpose = (buf, addr) => {
    hooks.unexposing?.(buf, addr);
    unexpose(buf, addr);
    hooks.unexposed?.(buf, addr);
  };
}

/** The hostile guest: taps its driver's port to learn the in-flight readable buffers, and
 *  flips (then restores) every byte of them and of what their descriptors name. */
class HostileGuest {
  private readonly live = new Map<string, { buf: GuestBuf; addr: DmaAddr }>();
  private saved: { gpa: number; bytes: Uint8Array }[] = [];
  rewritten = 0;
  private readonly m: Machine;
  private readonly t: Transport;

  constructor(m: Machine, t: Transport, port: FrontendPort) {
    this.m = m;
    this.t = t;
    tapPort(port, {
      exposed: (buf, addr) => {
        if (!buf.write) this.live.set(String(addr), { buf, addr });
      },
      unexposing: (_buf, addr) => this.live.delete(String(addr)),
    });
  }

  flip(): void {
    const guest = this.t.guest;
    for (const { buf, addr } of this.live.values()) {
      const named = guestGpaOfDescriptor(this.t, this.m, addr);
      for (const gpa of named === undefined || named === buf.gpa ? [buf.gpa] : [buf.gpa, named]) {
        const bytes = this.m.read(guest, gpa, buf.len);
        this.saved.push({ gpa, bytes });
        this.m.write(guest, gpa, bytes.map((b) => b ^ 0xa5));
        this.rewritten += buf.len;
      }
    }
  }

  restore(): void {
    for (const s of this.saved.reverse()) this.m.write(this.t.guest, s.gpa, s.bytes);
    this.saved = [];
  }
}

/** Runs a blk job (untimed) with the probe and the hostile guest; every byte the job wrote
 *  is still verified (the guest restores its bytes before the device uses them). */
export function runDoubleFetch(spec: JobSpec, arch?: Arch): DoubleFetchResult {
  let probe: DoubleFetchProbe | undefined;
  let hostile: HostileGuest | undefined;
  const world = buildWorld({
    ...worldOptionsFor(spec, arch ? { arch } : {}),
    wrapDevice: (d) => (probe = new DoubleFetchProbe(d, { between: () => hostile!.flip(), after: () => hostile!.restore() })),
  });
  try {
    if (world.endpoints.length !== 1) throw new RangeError(`double fetch: one guest only, the ${spec.device} world has ${world.endpoints.length}`);
    const ep = world.endpoints[0]!;
    hostile = new HostileGuest(world.machine, ep.transport, ep.driver.port);
    const job = buildJob(world, spec);
    const r = runJobRounds(world, job);
    const failures = job.failures();
    if (failures.length > 0) throw new Error(`${spec.transport}: ${failures.length} verification failure(s): ${failures.slice(0, 3).join("; ")}`);
    return { spec, transport: world.transportName, ios: r.completed, observed: { ...probe!.observed }, bytesRewritten: hostile.rewritten, exposure: world.exposure() };
  } finally {
    world.close();
  }
}
