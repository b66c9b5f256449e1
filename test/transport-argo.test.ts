import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { runHarness } from "../src/transports/harness.ts";
import { TransportSetupError } from "../src/transports/types.ts";
import { EAGAIN } from "../src/xen/errno.ts";
import { SiloPolicy } from "../src/xen/xsm.ts";
import { parseXsmPolicy } from "../src/xen/xsm-policy.ts";
import { BlkPattern } from "./helpers/blk-pattern.ts";
import { ARGO_DOMU, DISK_BYTES, FileDisk, MemDisk, GUEST, argoDomains, argoWorld, tempImage } from "./helpers/transport-world.ts";

const PER_IO = {
  hypercalls: L.CNT_HYPERCALLS, sendv: L.CNT_ARGO_OP_SENDV, notify: L.CNT_ARGO_OP_NOTIFY, virqs: L.CNT_ARGO_VIRQ_RAISED,
  virqsTaken: L.CNT_AR_VIRQS_TAKEN, requests: L.CNT_AR_REQUESTS_SENT, completions: L.CNT_AR_COMPLETIONS_SENT,
  received: L.CNT_AR_MESSAGES_RECEIVED, eagain: L.CNT_AR_SEND_EAGAIN, evtchnVirqs: L.CNT_EVTCHN_VIRQS, upcalls: L.CNT_EVTCHN_UPCALLS,
  copiesGuest: L.CNT_TR_COPIES_GUEST, copiesHv: L.CNT_TR_COPIES_HV, copiesBackend: L.CNT_TR_COPIES_BACKEND,
  interrupts: L.CNT_TR_INTERRUPTS, notifications: L.CNT_TR_NOTIFICATIONS, exposedIo: L.CNT_TR_PAGES_EXPOSED_IO,
};
const BYTES = { guest: L.CNT_TR_COPY_BYTES_GUEST, hv: L.CNT_TR_COPY_BYTES_HV, backend: L.CNT_TR_COPY_BYTES_BACKEND, argo: L.CNT_ARGO_BYTES_SENT };

const PER_MESSAGE_OVERHEAD = 16; // the transport's header in every message

function scaled(per: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(Object.entries(per).map(([k, v]) => [k, v * n]));
}

const FLASK = `
allow * xen_t argo_enable
allow front_t back_t argo_send,argo_register_single_source
allow back_t front_t argo_send,argo_register_single_source
`;

describe.each(["release", "debug"] as const)("argo x virtio-blk (%s)", (build) => {
  // 10 writes of a 4 KiB slot, then a read of each: 20 I/Os. Requests carry the 16-byte blk
  // header (+ the data for a write); completions carry the status byte (+ the data for a read).
  const N = 20;
  const REQ_BYTES = 20 * 16 + 10 * 4096;
  const DONE_BYTES = 20 * 1 + 10 * 4096;

  for (const variant of ["buffered", "sg"] as const) {
    it(`${variant}: every byte lands in the image and reads back; no guest page is exposed`, () => {
      const img = tempImage();
      const disk = new FileDisk(img.path, { fsync: false });
      try {
        const w = argoWorld({ build, variant, backing: disk });
        const wl = new BlkPattern(w.guest, DISK_BYTES, 10, 11);
        const reachable = w.m.counter(L.CNT_TR_EXPOSED_REACHABLE);
        w.c.mark();
        const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
        expect(r).toMatchObject({ submitted: N, completed: N, kicks: N, interrupts: N });
        expect(wl.verifyImage(img.read())).toBe(10 * 4096);
        expect(wl.bytesVerified).toBe(10 * 4096);
        expect(w.t.exposure()).toEqual({ reachable: 0, mapped: 0, mappedPeak: 0 });
        expect(w.c.get(L.CNT_TR_PAGES_EXPOSED_IO)).toBe(0);
        expect(w.m.counter(L.CNT_TR_EXPOSED_REACHABLE)).toBe(reachable);
        expect(w.c.get(L.CNT_TR_DEV_READ_BYTES)).toBe(REQ_BYTES);
        expect(w.c.get(L.CNT_TR_DEV_WRITE_BYTES)).toBe(DONE_BYTES);
      } finally {
        disk.close();
        img.cleanup();
      }
    });
  }

  it("buffered: 3 copies per message (sender stages, Xen copies into the ring, receiver copies out); 2 sendv + 2 notify, 2 VIRQs per I/O", () => {
    const w = argoWorld({ build, variant: "buffered" });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 10, 11);
    w.c.mark();
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    expect(wl.bytesVerified).toBe(10 * 4096);
    expect(w.c.pick(PER_IO)).toEqual(scaled({
      hypercalls: 4, sendv: 2, notify: 2, virqs: 2, virqsTaken: 2, requests: 1, completions: 1, received: 2, eagain: 0, evtchnVirqs: 2, upcalls: 2,
      copiesGuest: 2, copiesHv: 2, copiesBackend: 2, interrupts: 1, notifications: 1, exposedIo: 0,
    }, N));
    // Request path: guest stages, Xen, backend copies out; completion path: backend stages,
    // Xen, guest copies into the driver's buffers. Each payload byte is copied 3 times.
    expect(w.c.pick(BYTES)).toEqual({
      guest: REQ_BYTES + DONE_BYTES, hv: REQ_BYTES + DONE_BYTES, backend: REQ_BYTES + DONE_BYTES,
      argo: REQ_BYTES + DONE_BYTES + 2 * N * PER_MESSAGE_OVERHEAD,
    });
  });

  it("sg: sendv gathers from the buffers and the device reads in place: 1 copy (Xen) on the request path", () => {
    const w = argoWorld({ build, variant: "sg" });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 10, 11);
    w.c.mark();
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    expect(wl.bytesVerified).toBe(10 * 4096);
    // The completion path still ends with the frontend's copy out of its ring into the
    // driver's buffers (Argo writes only into registered rings): 1 guest copy per I/O.
    expect(w.c.pick(PER_IO)).toEqual(scaled({
      hypercalls: 4, sendv: 2, notify: 2, virqs: 2, virqsTaken: 2, requests: 1, completions: 1, received: 2, eagain: 0, evtchnVirqs: 2, upcalls: 2,
      copiesGuest: 1, copiesHv: 2, copiesBackend: 0, interrupts: 1, notifications: 1, exposedIo: 0,
    }, N));
    expect(w.c.pick(BYTES)).toEqual({
      guest: DONE_BYTES, hv: REQ_BYTES + DONE_BYTES, backend: 0, argo: REQ_BYTES + DONE_BYTES + 2 * N * PER_MESSAGE_OVERHEAD,
    });
    // A write's data: one copy only, Xen's (its bytes are in CNT_TR_COPY_BYTES_HV, nowhere else).
  });

  it("sg: a write's data is copied once, by Xen, and nowhere else (every byte checked on the disk)", () => {
    const w = argoWorld({ build, variant: "sg" });
    const disk = w.backing as MemDisk;
    const n = 8;
    let next = 0;
    let ok = 0;
    const data = (i: number) => Uint8Array.from({ length: 4096 }, (_, k) => (i * 31 + k * 7 + 1) & 0xff);
    w.c.mark();
    runHarness({
      driver: w.driver, transport: w.t, workload: {
        submit: () => (next < n && w.guest.write(next * 8, data(next), next) ? (next++, 1) : 0),
        complete: (c) => {
          if (w.guest.complete(c).status === L.VIRTIO_BLK_S_OK) ok++;
        },
        get finished() {
          return next === n;
        },
      },
    });
    expect(ok).toBe(n);
    for (let i = 0; i < n; i++) expect(disk.read(i * 4096, 4096)).toEqual(data(i));
    // Request: blk header + data through Xen only; completion: the status byte, Xen then guest.
    expect(w.c.pick({ ...BYTES, copiesHv: L.CNT_TR_COPIES_HV, copiesGuest: L.CNT_TR_COPIES_GUEST, copiesBackend: L.CNT_TR_COPIES_BACKEND })).toEqual({
      hv: n * (16 + 4096 + 1), guest: n * 1, backend: 0, argo: n * (16 + 4096 + 1 + 2 * PER_MESSAGE_OVERHEAD),
      copiesHv: 2 * n, copiesGuest: n, copiesBackend: 0,
    });
  });

  it("a full ring refuses sendv with EAGAIN; the sender waits with notify and progresses when woken", () => {
    // One 4 KiB write request (16 + 16 + 16 + 4096 = 4144 bytes in the ring) fits, two do not.
    const w = argoWorld({ build, variant: "sg", at: { ringLen: 6144 } });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 10, 11);
    w.c.mark();
    const refused = new Map<number, number>(); // EAGAIN by the domain that called sendv
    const op = w.env.argo.op.bind(w.env.argo);
    w.env.argo.op = (caller, cmd, a1, a2, a3, a4) => {
      const rc = op(caller, cmd, a1, a2, a3, a4);
      if (rc === -EAGAIN) refused.set(caller, (refused.get(caller) ?? 0) + 1);
      return rc;
    };
    const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 2 });
    expect(r).toMatchObject({ submitted: N, completed: N });
    expect(wl.bytesVerified).toBe(10 * 4096);
    expect(w.c.pick({ eagain: L.CNT_AR_SEND_EAGAIN, waits: L.CNT_AR_SPACE_WAITS, argoEagain: L.CNT_ARGO_EAGAIN, queued: L.CNT_ARGO_WAITERS_QUEUED, woken: L.CNT_ARGO_WAITERS_WOKEN }))
      .toEqual({ eagain: 10, waits: 10, argoEagain: 10, queued: 10, woken: 10 });
    expect(Object.fromEntries(refused)).toEqual({ [GUEST]: 5, 0: 5 });
    // Each round submits two I/Os. 5 on the request side: of each pair of writes the second
    // request finds the first still in the backend's ring and waits. 5 on the completion side:
    // two read completions (16 + 16 + 4097 bytes each) do not fit the frontend's ring
    // together, so the second of each pair waits for the frontend's notify. The wake-up comes
    // inside the same service() call (each side takes its VIRQ until neither is pending), so
    // both I/Os of a round complete in that round: 10 rounds, every wait woken.
    expect(r).toMatchObject({ rounds: 10, interrupts: 10 });
  });

  it("SILO: a dom0 backend is allowed, a domU backend is denied; a Flask policy can allow it", () => {
    const silo = argoDomains({ build, xsm: new SiloPolicy() });
    expect(() => argoWorld({ build, variant: "sg", env: silo, backend: ARGO_DOMU })).toThrow(TransportSetupError);
    expect(() => argoWorld({ build, variant: "sg", env: silo, backend: ARGO_DOMU })).toThrow(/backend d4 could not register its ring for guest d1: -EPERM/);
    expect(silo.argo.rings(ARGO_DOMU)).toEqual([]);
    expect(silo.argo.rings(GUEST)).toEqual([]);
    const w0 = argoWorld({ build, variant: "sg", env: silo });
    const wl0 = new BlkPattern(w0.guest, DISK_BYTES, 2, 3);
    runHarness({ driver: w0.driver, transport: w0.t, workload: wl0 });
    expect(wl0.bytesVerified).toBe(2 * 4096);

    const flask = argoDomains({ build, xsm: parseXsmPolicy(FLASK, "argo.xsm") });
    const w = argoWorld({ build, variant: "buffered", env: flask, backend: ARGO_DOMU });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 4, 5);
    runHarness({ driver: w.driver, transport: w.t, workload: wl });
    expect(wl.bytesVerified).toBe(4 * 4096);
    expect(w.t.exposure()).toEqual({ reachable: 0, mapped: 0, mappedPeak: 0 });
  });

  it("close() unregisters both rings", () => {
    const w = argoWorld({ build, variant: "sg" });
    expect(w.env.argo.rings(GUEST)).toHaveLength(1);
    expect(w.env.argo.rings(0)).toHaveLength(1);
    w.t.close();
    expect(w.env.argo.rings(GUEST)).toEqual([]);
    expect(w.env.argo.rings(0)).toEqual([]);
    expect(() => w.t.service()).toThrow(/service\(\) after close\(\)/);
  });

  it("rejects bad set-ups with a TransportSetupError naming the problem", () => {
    const env = argoDomains({ build });
    expect(() => argoWorld({ build, variant: "sg", env, backend: 9 })).toThrow(/backend domain 9 does not exist/);
    expect(() => argoWorld({ build, variant: "sg", env, backend: GUEST })).toThrow(/cannot be its own backend/);
    expect(() => argoWorld({ build, variant: "bogus" as never, env })).toThrow(/variant must be/);
    expect(() => argoWorld({ build, variant: "sg", env, at: { backendGfn: 250 } })).toThrow(/d0 needs RAM up to gfn/);
  });
});
