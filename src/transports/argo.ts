// argo (VirtIO-Argo, the OpenXT design): no guest memory is shared. Each side keeps its own
// virtqueue in its own RAM: the guest's driver uses an ordinary split ring that the frontend
// transport (guest kernel code) serves locally; the backend keeps a shadow of each chain in
// its own RAM. Chains travel as Argo messages: the frontend sendv's a request (a header naming
// the chain and its sizes, then the device-readable bytes) into the ring the backend
// registered; the backend consumes it, runs the device, and sendv's a completion (header, then
// the bytes the device wrote) into the ring the frontend registered; the frontend copies those
// bytes into the buffers its own descriptors name and pushes the used entry.
//
// Two variants: "buffered" stages every payload in a send buffer before sendv and copies it
// out of the ring into a receive buffer on receipt (3 copies per message: sender, Xen,
// receiver); "sg" gathers straight from the source buffers (sendv's iovs name the driver's or
// device's buffers) and lets the backend's device read the request in place in its ring (Xen's
// copy only); the frontend still copies a completion's bytes out of its ring into the driver's
// buffers.
// Every copy of the transport's own is a machine copy (gpa_copy, argo-copy.ts), counted on the
// side that makes it; a refused copy fails its chain (CNT_TR_IO_ERRORS) and moves nothing more.
//
// Notifications: Xen raises VIRQ_ARGO on the ring owner after each sendv; each side bound it to
// an event-channel port, and a side runs when its upcall shows that port pending. A sendv
// refused with EAGAIN (ring full) leaves the message queued on its side and registers a space
// wait (notify with space_required); the receiver's notify after consuming wakes the waiter
// with a VIRQ, and the sender retries.
//
// Configuration: the frontend serves the driver's register window from a local register file
// whose device is a snapshot of the backend's (id, features, queue sizes, config space) taken
// at bring-up, and negotiated features / reset are forwarded as control calls. That exchange is
// modelled as direct calls, not Argo messages (documented in docs/transports.md).
import { dmaGpa } from "../virtio/dma-addr.ts";
import * as L from "../wasm/layout.ts";
import { DeviceIoError, type Chain, type ChainIo, type VirtioDevice } from "../devices/types.ts";
import { defersCompletions, isDeferred, type DeferringDevice } from "../devices/deferred.ts";
import { GuestPages } from "../virtio/guest-pages.ts";
import type { FrontendPort } from "../virtio/port.ts";
import type { Used } from "../virtio/rings.ts";
import type { Argo } from "../xen/argo.ts";
import { ArgoGuest, ArgoGuestRing } from "../xen/argo-guest.ts";
import { ringPages, slotUp } from "../xen/argo-ring.ts";
import { errnoName, EAGAIN } from "../xen/errno.ts";
import { VirtioBackend } from "./backend.ts";
import { SegmentChainIo } from "./chain-io.ts";
import { copyPieces, ringPieces, type Piece } from "./argo-copy.ts";
import { GuestEvtchn } from "../xen/evtchn-guest.ts";
import { UpcallRouter, type XenEnv } from "./xen-env.ts";
import type { EventChannels } from "../xen/evtchn.ts";
import { TransportSetupError, type Exposure, type Transport } from "./types.ts";

/** buffered (3 copies) or sg (scatter-gather source, 1 copy); the first is what bare `argo` means. */

/** Who makes a transport copy, and where it is counted: the backend's own copies also go in its
 *  size histogram, so pricing moves them to it by size. */
interface Copier {
  copies: number;
  bytes: number;
  histogram?: { ops: number; bytes: number };
}
const COPIERS: Readonly<Record<"guest" | "backend", Copier>> = {
  guest: { copies: L.CNT_TR_COPIES_GUEST, bytes: L.CNT_TR_COPY_BYTES_GUEST },
  backend: { copies: L.CNT_TR_COPIES_BACKEND, bytes: L.CNT_TR_COPY_BYTES_BACKEND, histogram: { ops: L.CNT_BE_COPIES_BASE, bytes: L.CNT_BE_COPY_BYTES_BASE } },
};
export const ARGO_VARIANTS = ["buffered", "sg"] as const;
export type ArgoVariant = (typeof ARGO_VARIANTS)[number];

export interface ArgoTransportOptions {
  env: XenEnv;
  argo: Argo;
  guest: number;
  backend: number;
  device: VirtioDevice;
  variant: ArgoVariant;
  /** Argo port both rings use (default 0x7649). */
  aport?: number;
  /** Data bytes of each ring (default 64 KiB). */
  ringLen?: number;
  /** Guest gfn of the frontend's area: ring, then send buffer, then Argo scratch (default 3072). */
  guestGfn?: number;
  /** Backend gfn of its area: ring, send buffer, local buffers, scratch (default 16). */
  backendGfn?: number;
  /** Gfn (in each side's RAM) of the page its event-channel hypercalls use (default 0). */
  scratchGfn?: number;
}

/** The transport's header at the start of every message's payload (Xen copies it too). */
export const ARGO_TR_HDR_BYTES = 16;
const HDR = ARGO_TR_HDR_BYTES; // request: u32 chain id, u32 queue, u32 readable, u32 writable; completion: id, queue, written, 0
const MSG_REQUEST = 1;
const MSG_COMPLETION = 2;
/** Passes of one service() call at most (each side's VIRQ taken once per pass). */
const SERVICE_ROUNDS = 64;

interface Outgoing {
  hdr: Uint8Array;
  /** Where the payload bytes are, in the sender's RAM (gathered as iovs in "sg"). */
  parts: { gpa: number; len: number }[];
  bytes: number;
  /** Called once the message is sent (frees the local buffer it was gathered from). */
  sent?: () => void;
  /** The sender's staging copy was refused: the message is dropped, this fails its chain. */
  refused: () => void;
  /** "buffered": the payload is in the send buffer (staged once, however often sendv is retried). */
  staged?: boolean;
}

export class ArgoTransport implements Transport {
  readonly id = "argo" as const;
  readonly guest: number;
  readonly backendDomid: number;
  readonly device: VirtioDevice;
  readonly variant: ArgoVariant;
  readonly argo: Argo;
  readonly frontend: FrontendPort;
  /** The frontend's local device side (register file and the guest's own rings). */
  readonly local: VirtioBackend;
  readonly feRing: ArgoGuestRing;
  readonly beRing: ArgoGuestRing;
  private readonly fe: ArgoGuest;
  private readonly be: ArgoGuest;
  private readonly aport: number;
  private readonly ringLen: number;
  private readonly feSendGpa: number;
  private readonly beSendGpa: number;
  /** "buffered": where the backend copies a request's bytes out of its ring for the device. */
  private readonly beRecvGpa: number;
  private readonly feHdrGpa: number;
  private readonly beHdrGpa: number;
  private readonly inflight = new Map<number, { q: number; chain: Chain }>(); // key q*65536+id
  private readonly feOut: Outgoing[] = [];
  private readonly beOut: Outgoing[] = [];
  private irq = false;
  private closed = false;
  private readonly router: UpcallRouter;
  private readonly virqPorts: (() => void)[] = [];
  /** VIRQ_ARGO reached the side's bound port since it last ran. */
  private feWoken = false;
  private beWoken = false;
  /** The backend's local buffers (the device writes there), one run of pages per chain. */
  private readonly beLocal: GuestPages;
  /** Chains the device keeps for later (virtio-net rx buffers) and their local buffer runs. */
  private readonly beParked = new Map<number, { base: number; pages: number }>();
  private readonly deferring: DeferringDevice | undefined;
  /** The device finished parked chains outside the backend's own pass (a frame arrived). */
  private beLate = false;

  constructor(o: ArgoTransportOptions) {
    const fail = (msg: string): never => {
      throw new TransportSetupError("argo", msg);
    };
    const { hv } = o.env;
    this.argo = o.argo;
    this.guest = o.guest;
    this.backendDomid = o.backend;
    this.device = o.device;
    this.variant = o.variant;
    if (o.variant !== "buffered" && o.variant !== "sg") fail(`variant must be "buffered" or "sg", got ${String(o.variant)}`);
    const g = hv.live(o.guest) ?? fail(`guest domain ${o.guest} does not exist`);
    const b = hv.live(o.backend) ?? fail(`backend domain ${o.backend} does not exist`);
    if (g === b) fail("the guest cannot be its own backend");
    if (!o.argo.hasState(g.domid)) fail(`guest d${g.domid} has no Argo (Argo off, or XSM argo_enable denied)`);
    if (!o.argo.hasState(b.domid)) fail(`backend d${b.domid} has no Argo (Argo off, or XSM argo_enable denied)`);
    this.aport = o.aport ?? 0x7649;
    this.ringLen = o.ringLen ?? 0x10000;
    const pages = ringPages(this.ringLen);
    const bufPages = Math.ceil(this.ringLen / L.PAGE_SIZE);
    const gg = o.guestGfn ?? 3072;
    const bg = o.backendGfn ?? 16;
    // Frontend area: ring | send buffer | header page | scratch (8 pages).
    this.feRing = new ArgoGuestRing(o.argo, g.domid, { aport: this.aport, partner: b.domid, len: this.ringLen, baseGfn: gg });
    this.feSendGpa = (gg + pages) * L.PAGE_SIZE;
    this.feHdrGpa = (gg + pages + bufPages) * L.PAGE_SIZE;
    this.fe = new ArgoGuest(o.argo, g.domid, (gg + pages + bufPages + 1) * L.PAGE_SIZE);
    // Backend area: ring | send buffer | local buffers | receive buffer | header page | scratch.
    this.beRing = new ArgoGuestRing(o.argo, b.domid, { aport: this.aport, partner: g.domid, len: this.ringLen, baseGfn: bg });
    this.beSendGpa = (bg + pages) * L.PAGE_SIZE;
    this.beRecvGpa = (bg + pages + 2 * bufPages) * L.PAGE_SIZE;
    this.beHdrGpa = (bg + pages + 3 * bufPages) * L.PAGE_SIZE;
    this.be = new ArgoGuest(o.argo, b.domid, (bg + pages + 3 * bufPages + 1) * L.PAGE_SIZE);
    this.beLocal = new GuestPages(b.domid, bg + pages + bufPages, bufPages);
    if (defersCompletions(o.device)) {
      this.deferring = o.device;
      o.device.onCompletions = () => {
        this.beLate = true;
      };
    }
    const need = (d: { ramPages: number; domid: number }, last: number) => {
      if (last > d.ramPages) fail(`d${d.domid} needs RAM up to gfn ${last} for its Argo area, has ${d.ramPages} pages`);
    };
    need(g, gg + pages + bufPages + 9);
    need(b, bg + pages + 3 * bufPages + 9);

    // Each side registers the ring it receives on, single-source (its partner only).
    const rb = this.be.register(this.beRing);
    if (rb < 0) fail(`backend d${b.domid} could not register its ring for guest d${g.domid}: ${errnoName(rb)} (XSM denies Argo between them?)`);
    const rf = this.fe.register(this.feRing);
    if (rf < 0) {
      this.be.unregister(this.aport, g.domid);
      fail(`guest d${g.domid} could not register its ring for backend d${b.domid}: ${errnoName(rf)} (XSM denies Argo between them?)`);
    }
    this.argo.ackVirq(g.domid);
    this.argo.ackVirq(b.domid);
    // Each side binds VIRQ_ARGO to an event-channel port; a side runs when its port fires.
    // A domain binds it once (a second bind_virq is -EEXIST): transports of one backend
    // domain share the port, and each looks at its own ring when it fires.
    this.router = UpcallRouter.for(o.env.evtchn);
    for (const [domid, wake] of [[g.domid, () => (this.feWoken = true)], [b.domid, () => (this.beWoken = true)]] as const) {
      const v = bindArgoVirq(o.env.evtchn, this.router, domid, o.scratchGfn ?? 0, wake);
      if (typeof v !== "number") {
        this.virqPorts.push(v);
        continue;
      }
      {
        this.unbind();
        this.be.unregister(this.aport, g.domid);
        this.fe.unregister(this.aport, b.domid);
        fail(`d${domid} could not bind VIRQ_ARGO: ${errnoName(v)}`);
      }
    }

    const m = hv.machine;
    const guest = g.domid;
    this.local = new VirtioBackend({
      machine: m,
      device: this.snapshotDevice(o.device),
      ringFeatures: 0n,
      bufDomid: guest,
      hooks: {
        placeRing: (_q, ring) => ({ ringDomid: guest, ring }), // the guest's own rings, served in the guest
        releaseRings: () => {},
        openChain: (_q, chain) => ({ io: new SegmentChainIo(m, chain, (addr, len) => ({ domid: guest, gpa: dmaGpa(addr), len })), close: () => {} }),
        interrupt: () => this.raise(),
      },
    });
    this.frontend = {
      isrRegisters: false,
      readReg: (off, size) => this.local.regs.read(off, size),
      writeReg: (off, size, value) => this.local.regs.write(off, size, value),
      expose: (buf) => buf.gpa, // descriptors hold the guest's own addresses; only the guest reads them
      unexpose: () => {},
      notify: (q) => this.kick(q),
      takeInterrupt: () => {
        const i = this.irq;
        this.irq = false;
        return i;
      },
    };
  }

  /** The device as the frontend's register file sees it: the backend's identity and config,
   *  learned at bring-up; negotiation and reset are forwarded to the backend. */
  private snapshotDevice(d: VirtioDevice): VirtioDevice {
    return {
      deviceId: d.deviceId, features: d.features, numQueues: d.numQueues, queueMax: d.queueMax,
      config: d.config.slice(),
      negotiated: (f) => d.negotiated(f),
      handle: () => {
        throw new Error("argo: chains are handled by the backend, over Argo");
      },
      reset: () => {
        d.reset();
        for (const r of this.beParked.values()) if (r.pages > 0) this.beLocal.release(r.base, r.pages);
        this.beParked.clear();
      },
    };
  }

  private raise(): void {
    const m = this.argo.machine;
    m.bump(this.irq ? L.CNT_TR_INTERRUPTS_MERGED : L.CNT_TR_INTERRUPTS);
    this.irq = true;
  }

  // ---- frontend -------------------------------------------------------------------------

  /** The driver's kick: pop what the driver added and send each chain to the backend. */
  private kick(q: number): void {
    if (this.closed) return;
    const m = this.argo.machine;
    m.bump(L.CNT_TR_NOTIFICATIONS);
    const dev = this.local.ring(q);
    if (!dev || dev.broken) return;
    for (let chains = dev.pop(64); chains.length > 0; chains = dev.pop(64)) {
      for (const chain of chains) {
        this.inflight.set(q * 0x10000 + chain.id, { q, chain });
        const hdr = new Uint8Array(HDR);
        const v = new DataView(hdr.buffer);
        v.setUint32(0, chain.id, true);
        v.setUint32(4, q, true);
        v.setUint32(8, chain.readable, true);
        v.setUint32(12, chain.writable, true);
        const parts = chain.segs.filter((s) => !s.write && s.len > 0).map((s) => ({ gpa: dmaGpa(s.addr), len: s.len }));
        // The driver's buffer could not be read: the chain comes back unused.
        const refused = () => {
          this.inflight.delete(q * 0x10000 + chain.id);
          this.pushLocal(q, [{ id: chain.id, len: 0 }]);
        };
        this.feOut.push({ hdr, parts, bytes: chain.readable, refused });
      }
    }
    this.flush(this.fe, this.feOut, this.feSendGpa, this.feHdrGpa, this.backendDomid, MSG_REQUEST, COPIERS.guest);
  }

  /** Sends queued messages in order until one does not fit (EAGAIN: wait for space). */
  private flush(side: ArgoGuest, out: Outgoing[], sendGpa: number, hdrGpa: number, dst: number, type: number, copier: Copier): void {
    const m = this.argo.machine;
    while (out.length > 0) {
      const msg = out[0]!;
      m.write(side.domid, hdrGpa, msg.hdr);
      let iovs: { gpa: number; len: number }[];
      if (this.variant === "buffered" && msg.bytes > 0) {
        // Stage the payload in the send buffer (the sender's copy), once.
        const from = msg.parts.map((p) => ({ domid: side.domid, ...p }));
        if (!msg.staged && !this.copy(from, [{ domid: side.domid, gpa: sendGpa, len: msg.bytes }], copier)) {
          out.shift();
          msg.refused();
          continue;
        }
        msg.staged = true;
        iovs = [{ gpa: hdrGpa, len: HDR }, { gpa: sendGpa, len: msg.bytes }];
      } else iovs = [{ gpa: hdrGpa, len: HDR }, ...msg.parts];
      const rc = side.sendv({ domid: dst, aport: this.aport }, iovs, { srcAport: this.aport, messageType: type });
      if (rc === -EAGAIN) {
        m.bump(L.CNT_AR_SEND_EAGAIN);
        m.bump(L.CNT_AR_SPACE_WAITS);
        side.notify([{ ring: { domid: dst, aport: this.aport }, spaceRequired: HDR + msg.bytes }]);
        return;
      }
      if (rc < 0) throw new Error(`argo: sendv d${side.domid} -> d${dst} returned ${errnoName(rc)}`);
      if (msg.bytes > 0) {
        m.bump(L.CNT_TR_COPIES_HV);
        m.bump(L.CNT_TR_COPY_BYTES_HV, msg.bytes);
      }
      m.bump(type === MSG_REQUEST ? L.CNT_AR_REQUESTS_SENT : L.CNT_AR_COMPLETIONS_SENT);
      out.shift();
      msg.sent?.();
    }
  }

  /** One of the transport's own copies, counted on the side's counters by the bytes that
   *  moved. False when the machine refused it: an I/O error, counted. */
  private copy(src: readonly Piece[], dst: readonly Piece[], copier: Copier): boolean {
    const m = this.argo.machine;
    const r = copyPieces(m, src, dst, copier.histogram);
    if (r.copied > 0) {
      m.bump(copier.copies);
      m.bump(copier.bytes, r.copied);
    }
    if (r.status >= 0) return true;
    m.bump(L.CNT_TR_IO_ERRORS);
    return false;
  }

  /** Pushes used entries on the guest's own ring `q` and raises the interrupt if due. */
  private pushLocal(q: number, used: Used[]): number {
    const dev = this.local.ring(q);
    if (!dev) return 0;
    dev.push(used);
    if (dev.needInterrupt()) this.raise();
    return used.length;
  }

  // ---- one pass: the backend on its VIRQ, then the frontend on its own --------------------

  service(): number {
    if (this.closed) throw new TransportSetupError(this.id, "service() after close()");
    let done = 0;
    // A pass can wake the other side again (a retried sendv, rx_ptr moving under a space
    // wait): both vCPUs take their VIRQs until neither is pending (bounded; what is left
    // stays pending for the next call).
    for (let round = 0; round < SERVICE_ROUNDS; round++) {
      this.router.dispatch();
      if (!this.beWoken && !this.beLate && !this.feWoken) break;
      if (this.beWoken) {
        this.beWoken = false;
        this.backendPass();
      }
      if (this.beLate) {
        // Woken by its device (a frame arrived for a kept rx chain): send those completions.
        this.beLate = false;
        this.takeLate();
      }
      this.router.dispatch();
      if (!this.feWoken) continue;
      this.feWoken = false;
      done += this.frontendPass();
    }
    return done;
  }

  private unbind(): void {
    for (const release of this.virqPorts.splice(0)) release();
  }

  private backendPass(): void {
    const m = this.argo.machine;
    // A shared VIRQ port fired for another transport of this domain: nothing here to do.
    if (this.beRing.rxPtr === this.beRing.txPtr && this.beOut.length === 0) return;
    this.argo.ackVirq(this.backendDomid);
    m.bump(L.CNT_AR_VIRQS_TAKEN);
    // Retry completions that waited for space, then take requests.
    this.flush(this.be, this.beOut, this.beSendGpa, this.beHdrGpa, this.guest, MSG_COMPLETION, COPIERS.backend);
    const ring = this.beRing;
    let rx = ring.rxPtr;
    const tx = ring.txPtr;
    let served = 0;
    while (rx !== tx) {
      const h = new DataView(this.ringRead(ring, rx, L.ARGO_RING_MESSAGE_HEADER_SIZE + HDR).buffer);
      const len = h.getUint32(L.ARGO_RING_MESSAGE_HEADER_LEN, true);
      const at = (rx + L.ARGO_RING_MESSAGE_HEADER_SIZE + HDR) % ring.len;
      const id = h.getUint32(16, true);
      const q = h.getUint32(20, true);
      // The header is the guest's word: never read past the message the ring actually holds.
      const readable = Math.max(0, Math.min(h.getUint32(24, true), len - L.ARGO_RING_MESSAGE_HEADER_SIZE - HDR));
      const writable = Math.min(h.getUint32(28, true), this.ringLen - 2 * L.XEN_ARGO_MSG_SLOT_SIZE - HDR);
      // No local buffers until queued completions are sent: leave the request in the ring.
      if (!this.runDevice(q, id, at, readable, writable)) break;
      m.bump(L.CNT_AR_MESSAGES_RECEIVED);
      served++;
      rx = (rx + slotUp(len)) % ring.len;
      ring.rxPtr = rx;
      this.takeLate(); // handling a chain may finish kept ones (a loopback frame)
    }
    if (served > 0) {
      m.bump(L.CNT_TR_BACKEND_PASSES);
      this.be.notify(); // rx_ptr moved: Xen may wake a frontend waiting for space
    }
  }

  /** Queues (and tries to send) the completion of chain `id`: the bytes the device wrote
   *  into its local buffer run at `base`, which is freed once the message is sent. */
  private complete(q: number, id: number, written: number, base: number, pages: number): void {
    const header = (n: number) => {
      const hdr = new Uint8Array(HDR);
      const v = new DataView(hdr.buffer);
      v.setUint32(0, id, true);
      v.setUint32(4, q, true);
      v.setUint32(8, n, true);
      return hdr;
    };
    const sent = pages > 0 ? () => this.beLocal.release(base, pages) : undefined;
    // Its own buffer could not be staged: the guest gets the chain back with nothing written.
    const refused = () => this.beOut.unshift({ hdr: header(0), parts: [], bytes: 0, sent, refused: () => {} });
    this.beOut.push({ hdr: header(written), parts: written > 0 ? [{ gpa: base * L.PAGE_SIZE, len: written }] : [], bytes: written, sent, refused });
    this.flush(this.be, this.beOut, this.beSendGpa, this.beHdrGpa, this.guest, MSG_COMPLETION, COPIERS.backend);
  }

  /** Sends the completions of kept chains the device has finished (deferred.ts rules 2-3). */
  private takeLate(): void {
    for (const c of this.deferring?.takeCompletions() ?? []) {
      const key = c.q * 0x10000 + c.chain.id;
      const r = this.beParked.get(key);
      if (!r) throw new Error(`argo: device completed chain ${c.chain.id} of queue ${c.q}, which it did not keep`);
      this.beParked.delete(key);
      this.complete(c.q, c.chain.id, c.written, r.base, r.pages);
    }
  }

  /** Runs the device on one request whose readable bytes start at ring offset `at`; the
   *  device writes into a run of the backend's local buffer pages. Sends the completion, or
   *  keeps the chain (and its run) when the device defers it. False, having done nothing,
   *  when the local buffers are taken by completions still waiting to be sent. */
  private runDevice(q: number, id: number, at: number, readable: number, writable: number): boolean {
    const m = this.argo.machine;
    const be = this.backendDomid;
    const pages = Math.ceil(writable / L.PAGE_SIZE);
    const base = pages > 0 ? this.beLocal.tryAlloc(pages) : 0;
    if (base < 0 && this.beOut.length > 0) return false;
    const run = base < 0 ? 0 : pages;
    // "buffered": the backend's copy out of its ring into its receive buffer; the device reads
    // there. "sg": the device reads in place in the ring.
    const copied = this.variant === "buffered" && readable > 0;
    if (copied && !this.copy(ringPieces(this.beRing, at, readable), [{ domid: be, gpa: this.beRecvGpa, len: readable }], COPIERS.backend)) {
      this.complete(q, id, 0, base, run);
      return true;
    }
    let written = 0;
    let noRoom = false;
    const io: ChainIo = {
      read: (off, len) => {
        if (off < 0 || len < 0 || off + len > readable) throw new RangeError(`argo request ${id}: read of [${off}, ${off + len}) outside ${readable} readable bytes`);
        m.bump(L.CNT_TR_DEV_READ_BYTES, len);
        return copied ? m.read(be, this.beRecvGpa + off, len) : this.ringRead(this.beRing, (at + off) % this.beRing.len, len);
      },
      write: (off, data) => {
        if (off < 0 || off + data.length > writable) throw new RangeError(`argo request ${id}: write of [${off}, ${off + data.length}) outside ${writable} writable bytes`);
        if (base < 0) {
          if (!noRoom) m.bump(L.CNT_TR_IO_ERRORS); // the transport's failure, once per chain
          noRoom = true;
          throw new DeviceIoError(`argo request ${id}: no room for ${writable} bytes in the backend's local buffers`);
        }
        m.write(be, base * L.PAGE_SIZE + off, data);
        m.bump(L.CNT_TR_DEV_WRITE_BYTES, data.length);
        written = Math.max(written, off + data.length);
        return data.length;
      },
    };
    const chain: Chain = { id, segs: [{ addr: 0, len: readable, write: false }, { addr: readable, len: writable, write: true }], readable, writable };
    let c;
    try {
      c = this.device.handle(q, chain, io);
    } catch (e) {
      if (!(e instanceof DeviceIoError)) throw e;
      c = { written: 0 }; // the device dropped it
    }
    if (isDeferred(c)) {
      this.beParked.set(q * 0x10000 + id, { base, pages: run });
      return true;
    }
    this.complete(q, id, Math.max(c.written, written), base, run);
    return true;
  }

  private frontendPass(): number {
    const m = this.argo.machine;
    if (this.feRing.rxPtr === this.feRing.txPtr && this.feOut.length === 0) return 0;
    this.argo.ackVirq(this.guest);
    m.bump(L.CNT_AR_VIRQS_TAKEN);
    const ring = this.feRing;
    let rx = ring.rxPtr;
    const tx = ring.txPtr;
    const byQueue = new Map<number, Used[]>();
    while (rx !== tx) {
      const h = new DataView(this.ringRead(ring, rx, L.ARGO_RING_MESSAGE_HEADER_SIZE + HDR).buffer);
      const len = h.getUint32(L.ARGO_RING_MESSAGE_HEADER_LEN, true);
      const id = h.getUint32(16, true);
      const q = h.getUint32(20, true);
      const written = h.getUint32(24, true);
      m.bump(L.CNT_AR_MESSAGES_RECEIVED);
      const key = q * 0x10000 + id;
      const f = this.inflight.get(key);
      if (f && written <= f.chain.writable) {
        this.inflight.delete(key);
        // Copy the completion's bytes into the buffers the local descriptors name; a buffer
        // the machine refuses fails the chain (nothing written is reported).
        const into: Piece[] = [];
        let left = written;
        for (const s of f.chain.segs) {
          if (!s.write || left === 0) continue;
          const n = Math.min(s.len, left);
          into.push({ domid: this.guest, gpa: dmaGpa(s.addr), len: n });
          left -= n;
        }
        const from = ringPieces(ring, (rx + L.ARGO_RING_MESSAGE_HEADER_SIZE + HDR) % ring.len, written);
        const ok = written === 0 || this.copy(from, into, COPIERS.guest);
        let list = byQueue.get(q);
        if (!list) byQueue.set(q, (list = []));
        list.push({ id, len: ok ? written : 0 });
      } else m.bump(L.CNT_TR_IO_ERRORS); // a completion for nothing in flight: dropped
      rx = (rx + slotUp(len)) % ring.len;
      ring.rxPtr = rx;
    }
    this.fe.notify(); // rx_ptr moved: Xen may wake a backend waiting for space
    // The VIRQ also means space may have opened in the backend's ring: retry queued requests.
    this.flush(this.fe, this.feOut, this.feSendGpa, this.feHdrGpa, this.backendDomid, MSG_REQUEST, COPIERS.guest);
    let done = 0;
    for (const [q, used] of [...byQueue].sort((a, b) => a[0] - b[0])) done += this.pushLocal(q, used);
    return done;
  }

  /** Reads `n` data bytes of `ring` from data offset `at`, wrapping (the owner's own memory). */
  private ringRead(ring: ArgoGuestRing, at: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const pos = (at + done) % ring.len;
      const off = L.ARGO_RING_SIZE + pos;
      const k = Math.min(n - done, ring.len - pos, L.PAGE_SIZE - (off % L.PAGE_SIZE));
      out.set(this.argo.machine.read(ring.domid, ring.gpa(off), k), done);
      done += k;
    }
    return out;
  }

  /** Nothing of the guest's memory is mapped or reachable by the backend. */
  exposure(): Exposure {
    return { reachable: 0, mapped: 0, mappedPeak: 0 };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unbind();
    this.be.unregister(this.aport, this.guest);
    this.fe.unregister(this.aport, this.backendDomid);
  }
}

interface VirqBinding {
  ev: GuestEvtchn;
  port: number;
  wakers: Set<() => void>;
  detach: () => void;
}

const virqBindings = new WeakMap<EventChannels, Map<number, VirqBinding>>();

/** Joins `wake` to domain `domid`'s VIRQ_ARGO port, binding it on first use. Returns the
 *  release function (the last one closes the port), or the bind_virq errno. */
function bindArgoVirq(evtchn: EventChannels, router: UpcallRouter, domid: number, scratchGfn: number, wake: () => void): (() => void) | number {
  let per = virqBindings.get(evtchn);
  if (!per) virqBindings.set(evtchn, (per = new Map()));
  let b = per.get(domid);
  if (!b) {
    const ev = new GuestEvtchn(evtchn, domid, scratchGfn);
    const port = ev.bindVirq(L.VIRQ_ARGO);
    if (port < 0) return port;
    const wakers = new Set<() => void>();
    const detach = router.attach(domid, [port], (ports) => {
      if (!ports.includes(port)) return ports;
      for (const w of wakers) w();
      return ports.filter((p) => p !== port);
    });
    per.set(domid, (b = { ev, port, wakers, detach }));
  }
  const binding = b;
  binding.wakers.add(wake);
  return () => {
    binding.wakers.delete(wake);
    if (binding.wakers.size > 0) return;
    binding.detach();
    binding.ev.close(binding.port);
    per.delete(domid);
  };
}
