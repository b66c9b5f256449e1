// The device-model side of an IOREQ server, as xen-troops' demu/virtio-disk runs it: create a
// server for the guest, map its ioreq page into the emulator's own p2m (acquire_resource),
// enable it, bind every vCPU's vp_eport, claim ranges, then loop: take the requests whose ports
// are pending (READY -> INPROCESS), emulate, answer (data, IORESP_READY) and notify. All slot
// accesses go through the emulator's mapping of the page: real bytes, rights-checked.
import { XenConfigError } from "./hypervisor.ts";
import type { EventChannels } from "./evtchn.ts";
import type { IoreqServers } from "./ioreq.ts";
import type { ForeignMapping } from "./foreign.ts";
import type { IoDir } from "./mmio.ts";
import { GuestEvtchn } from "./evtchn-guest.ts";
import { Privcmd } from "./privcmd.ts";
import { CNT_IOREQ_EMU_HANDLED, PAGE_SIZE } from "../wasm/layout.ts";
import * as L from "../wasm/layout.ts";
import { ioreqDir, ioreqState, withIoreqState } from "./ioreq-state.ts";

export interface IoRequest {
  vcpu: number;
  type: number; // IOREQ_TYPE_*
  addr: bigint;
  size: number;
  count: number;
  dir: IoDir;
  /** The value written (dir "write"); 0n for reads. */
  data: bigint;
}

/** Emulates one access; returns the value read (ignored for writes). */
export type IoHandler = (req: IoRequest) => bigint | number | void;

export interface IoreqEmulatorOptions {
  evtchn: EventChannels;
  ioreq: IoreqServers;
  foreign?: ForeignMapping;
  /** The emulator (backend) domain and the guest it serves. */
  domid: number;
  target: number;
  /** A page of the emulator's RAM for hypercall arguments. */
  scratchGfn: number;
  /** Where the server's pages go in the emulator's p2m (above its RAM): the ioreq page at
   *  pageGfn, or, with buffered ioreqs, the buffered page at pageGfn and the ioreq page next. */
  pageGfn: number;
  /** handle_bufioreq (default HVM_IOREQSRV_BUFIOREQ_LEGACY, as demu asks). */
  bufioreq?: number;
  handler: IoHandler;
}

export class IoreqEmulator {
  readonly opts: IoreqEmulatorOptions;
  readonly guest: GuestEvtchn;
  readonly privcmd: Privcmd;
  /** Server id once started. */
  id = -1;
  ioreqGfn = -1;
  bufioreqPort = 0;
  /** The emulator's end of the buffered-ioreq channel (0 without one); buffered requests are
   *  not modelled, so its notifications are swallowed. */
  bufLocalPort = 0;
  /** The emulator's local port for each target vCPU. */
  readonly localPorts: number[] = [];
  private readonly vcpuOfPort = new Map<number, number>();

  constructor(opts: IoreqEmulatorOptions) {
    this.opts = opts;
    this.guest = new GuestEvtchn(opts.evtchn, opts.domid, opts.scratchGfn);
    this.privcmd = new Privcmd({ ioreq: opts.ioreq, foreign: opts.foreign, domid: opts.domid, scratchGfn: opts.scratchGfn });
  }

  private get m() {
    return this.opts.ioreq.hv.machine;
  }

  /** Brings the server up (demu's order). Returns 0 or the first failing call's -errno. */
  start(): number {
    const { target } = this.opts;
    const pc = this.privcmd;
    const buf = this.opts.bufioreq ?? L.HVM_IOREQSRV_BUFIOREQ_LEGACY;
    const id = pc.createIoreqServer(target, buf);
    if (id < 0) return id;
    this.id = id;
    const hasBuf = buf !== L.HVM_IOREQSRV_BUFIOREQ_OFF;
    const gfns = hasBuf ? [this.opts.pageGfn, this.opts.pageGfn + 1] : [this.opts.pageGfn];
    let rc = pc.acquireIoreqPages(target, id, hasBuf ? 0 : 1, gfns);
    if (rc < 0) return rc;
    this.ioreqGfn = gfns[gfns.length - 1]!;
    const info = pc.getIoreqServerInfo(target, id);
    if (typeof info === "number") return info;
    this.bufioreqPort = info.bufioreqPort;
    rc = pc.setIoreqServerState(target, id, true);
    if (rc < 0) return rc;
    const nr = pc.nrVcpus(target);
    if (nr < 0) return nr;
    for (let v = 0; v < nr; v++) {
      const eport = this.slotView(v).getUint32(L.IOREQ_VP_EPORT, true);
      const local = this.guest.bindInterdomain(target, eport);
      if (local < 0) return local;
      this.localPorts[v] = local;
      this.vcpuOfPort.set(local, v);
    }
    if (hasBuf) {
      const local = this.guest.bindInterdomain(target, this.bufioreqPort);
      if (local < 0) return local;
      this.bufLocalPort = local;
    }
    return 0;
  }

  /** Claims [start, end] (inclusive) of `type` (default XEN_DMOP_IO_RANGE_MEMORY). */
  mapRange(start: bigint | number, end: bigint | number, type = L.XEN_DMOP_IO_RANGE_MEMORY): number {
    this.mustStarted();
    return this.privcmd.mapIoRange(this.opts.target, this.id, type, start, end);
  }

  private slotGpa(vcpu: number): number {
    return this.ioreqGfn * PAGE_SIZE + vcpu * L.IOREQ_SIZE;
  }

  /** The emulator's read of a vCPU's slot through its own mapping. */
  slotView(vcpu: number): DataView {
    return new DataView(this.m.read(this.opts.domid, this.slotGpa(vcpu), L.IOREQ_SIZE).buffer);
  }

  /** The 4-bit state of a vCPU's slot, as the emulator sees it. */
  slotState(vcpu: number): number {
    return ioreqState(this.slotView(vcpu).getUint8(L.IOREQ_STATE_BYTE));
  }

  /** Writes a slot state (plain store of the bit-field byte, keeping dir/df/data_is_ptr). */
  writeState(vcpu: number, state: number): void {
    const b = this.slotView(vcpu).getUint8(L.IOREQ_STATE_BYTE);
    this.m.write(this.opts.domid, this.slotGpa(vcpu) + L.IOREQ_STATE_BYTE, Uint8Array.of(withIoreqState(b, state)));
  }

  /** Takes the requests behind `ports` (default: scan the emulator's vCPU0 upcall state):
   *  each READY slot becomes INPROCESS. Ports that are not this server's come back in
   *  `others` for the backend's other handlers. */
  take(ports?: number[]): { requests: IoRequest[]; others: number[] } {
    this.mustStarted();
    const requests: IoRequest[] = [];
    const others: number[] = [];
    for (const port of ports ?? this.guest.handleUpcall(0)) {
      const v = this.vcpuOfPort.get(port);
      if (v === undefined) {
        if (port !== this.bufLocalPort || port === 0) others.push(port);
        continue;
      }
      const s = this.slotView(v);
      const bits = s.getUint8(L.IOREQ_STATE_BYTE);
      if (ioreqState(bits) !== L.STATE_IOREQ_READY) continue; // e.g. the first flag after binding
      this.writeState(v, L.STATE_IOREQ_INPROCESS);
      const dir: IoDir = ioreqDir(bits) === L.IOREQ_READ ? "read" : "write";
      requests.push({
        vcpu: v,
        type: s.getUint8(L.IOREQ_TYPE),
        addr: s.getBigUint64(L.IOREQ_ADDR, true),
        size: s.getUint32(L.IOREQ_SIZE_OFF, true),
        count: s.getUint32(L.IOREQ_COUNT, true),
        dir,
        data: dir === "write" ? s.getBigUint64(L.IOREQ_DATA, true) : 0n,
      });
    }
    return { requests, others };
  }

  /** Answers a request: data for a read, then IORESP_READY, then (unless `notify` is false)
   *  the notification that lets Xen complete the access. */
  respond(req: IoRequest, value: bigint | number = 0n, notify = true): void {
    if (req.dir === "read") {
      const d = new DataView(new ArrayBuffer(8));
      d.setBigUint64(0, BigInt.asUintN(64, BigInt(value)), true);
      this.m.write(this.opts.domid, this.slotGpa(req.vcpu) + L.IOREQ_DATA, new Uint8Array(d.buffer));
    }
    this.writeState(req.vcpu, L.STATE_IORESP_READY);
    this.m.bump(CNT_IOREQ_EMU_HANDLED);
    if (notify) this.notify(req.vcpu);
  }

  /** xenevtchn_notify() on the vCPU's local port. */
  notify(vcpu: number): number {
    const port = this.localPorts[vcpu];
    if (port === undefined) throw new XenConfigError(`emulator ${this.opts.domid}: no port for vCPU ${vcpu}`);
    return this.guest.send(port);
  }

  /** One loop iteration: take, emulate with the handler, answer. */
  poll(ports?: number[]): { handled: number; others: number[] } {
    const { requests, others } = this.take(ports);
    for (const r of requests) this.respond(r, this.opts.handler(r) ?? 0n);
    return { handled: requests.length, others };
  }

  /** Destroys the server and closes the emulator's ports. Returns 0 or -errno. */
  stop(): number {
    this.mustStarted();
    const rc = this.privcmd.destroyIoreqServer(this.opts.target, this.id);
    if (rc < 0) return rc;
    for (const p of this.vcpuOfPort.keys()) this.guest.close(p);
    if (this.bufLocalPort) this.guest.close(this.bufLocalPort);
    this.bufLocalPort = 0;
    this.vcpuOfPort.clear();
    this.localPorts.length = 0;
    this.id = -1;
    return 0;
  }

  private mustStarted(): void {
    if (this.id < 0) throw new XenConfigError(`emulator ${this.opts.domid}: not started`);
  }
}
