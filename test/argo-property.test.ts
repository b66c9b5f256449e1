// Property test of the whole Argo path (hypercalls, ring insert, receiver loop, notify):
// random sends from two senders into a wildcard ring, random consumption and notifies. Every
// message must arrive once, in order, byte-exact; the ring is never completely full; the
// indices always account exactly for the messages in flight; waits and wake-ups follow Xen.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as L from "../src/wasm/layout.ts";
import { slotUp } from "../src/xen/argo-ring.ts";
import { EAGAIN, EMSGSIZE } from "../src/xen/errno.ts";
import { BUF, pattern, world } from "./helpers/argo-world.ts";

type Action =
  | { kind: "send"; from: 1 | 2; sizes: number[]; type: number }
  | { kind: "consume"; max: number }
  | { kind: "notify" };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("send" as const), from: fc.constantFrom(1 as const, 2 as const), sizes: fc.array(fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 60 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 400 }) }), { minLength: 0, maxLength: 3 }), type: fc.integer({ min: 0, max: 0xffffffff }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("consume" as const), max: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: "notify" as const }) },
);

interface Expected {
  from: number;
  type: number;
  payload: Uint8Array;
}

describe.each(["release", "debug"] as const)("Argo send/consume/notify sequences (%s)", (build) => {
  it("deliver every message in order, byte-exact, and never fill the ring", () => {
    const seen = { sent: 0, eagain: 0, emsgsize: 0, woken: 0, wraps: 0 };
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 64 }), fc.array(actionArb, { minLength: 20, maxLength: 80 }), (slots, actions) => {
        const len = slots * 16;
        const w = world({ build, argo: { macPermissive: true } });
        const ring = w.ring(0, { aport: 1, partner: L.XEN_ARGO_DOMID_ANY, len });
        expect(w.guest(0).register(ring)).toBe(0);
        const virqs = new Map<number, number>();
        w.argo.onVirq = (d) => virqs.set(d, (virqs.get(d) ?? 0) + 1);
        const queue: Expected[] = [];
        const waits = new Map<number, number>();
        let rx = 0;
        let tx = 0;
        let serial = 0;
        const free = () => (rx === tx ? len : (rx - tx + len) % len);
        for (const a of actions) {
          if (a.kind === "send") {
            const parts = a.sizes.map((n) => pattern(n, ++serial));
            // Each part in its own place, straddling page boundaries.
            const iovs = parts.map((p, i) => ({ gpa: BUF + i * 0x2000 + 0xff0, len: p.length }));
            parts.forEach((p, i) => w.machine.write(a.from, iovs[i]!.gpa, p));
            const total = parts.reduce((s, p) => s + p.length, 0);
            const rc = w.guest(a.from).sendv({ domid: 0, aport: 1 }, iovs, { messageType: a.type, srcAport: a.from * 10 });
            if (len <= 16 + slotUp(total)) {
              expect(rc).toBe(-EMSGSIZE);
              seen.emsgsize++;
            } else if (slotUp(total) + 16 >= free()) {
              expect(rc).toBe(-EAGAIN);
              seen.eagain++;
              waits.set(a.from, Math.max(waits.get(a.from) ?? 0, total));
            } else {
              expect(rc).toBe(total);
              queue.push({ from: a.from, type: a.type, payload: Uint8Array.from(parts.flatMap((p) => [...p])) });
              if (tx + slotUp(16 + total) > len) seen.wraps++;
              tx = (tx + slotUp(16 + total)) % len;
              seen.sent++;
            }
          } else if (a.kind === "consume") {
            const got = ring.receive(a.max);
            for (const m of got) {
              const e = queue.shift()!;
              expect(m.source).toEqual({ domid: e.from, aport: e.from * 10 });
              expect(m.messageType).toBe(e.type);
              expect(m.payload).toEqual(e.payload);
              rx = (rx + slotUp(16 + e.payload.length)) % len;
            }
            expect(got.length).toBe(Math.min(a.max, got.length + queue.length));
          } else {
            const before = new Map(virqs);
            expect(w.guest(0).notify().rc).toBe(0);
            const space = Math.max(0, free() - 32);
            for (const [d, want] of [...waits]) {
              const woken = space > 0 && space >= want;
              expect(virqs.get(d) ?? 0).toBe((before.get(d) ?? 0) + (woken ? 1 : 0));
              if (woken) {
                waits.delete(d);
                seen.woken++;
              }
            }
          }
          // Invariants: indices match the model, in-flight bytes are accounted, never full.
          expect([ring.rxPtr, ring.txPtr]).toEqual([rx, tx]);
          const used = queue.reduce((s, m) => s + slotUp(16 + m.payload.length), 0);
          expect((tx - rx + len) % len).toBe(used);
          expect(used).toBeLessThan(len);
          expect(Object.fromEntries(w.argo.ring(0, 1, L.XEN_ARGO_DOMID_ANY)!.pending)).toEqual(Object.fromEntries(waits));
        }
        const left = ring.receive();
        expect(left.map((m) => m.payload)).toEqual(queue.map((e) => e.payload));
      }),
      { seed: 1729, numRuns: build === "release" ? 120 : 40 },
    );
    // The sequences must exercise every path: sends, wraps, full rings, oversize, wake-ups.
    for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(10);
  });
});
