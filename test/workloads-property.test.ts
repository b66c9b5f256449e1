import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Rng } from "../src/sim/rng.ts";
import { BLK_T_IN } from "../src/workloads/blk-request.ts";
import { FioJob } from "../src/workloads/fio-job.ts";
import { ETH_HEADER, parseMac } from "../src/workloads/eth.ts";
import { RrFlow } from "../src/workloads/net-rr.ts";
import { StreamFlow } from "../src/workloads/net-stream.ts";
import type { NetFlow, Side } from "../src/workloads/net-flow.ts";
import { getWire } from "../src/workloads/net-wire.ts";
import { MemDisk, runBlk } from "./helpers/workload-devices.ts";

const RUNS = { seed: 20260104, numRuns: 60 };
const A = parseMac("02:00:00:00:00:01");
const B = parseMac("02:00:00:00:00:02");

describe("workload properties", () => {
  it("an honest disk passes any job; one flipped bit in one read is exactly one corrupt sector", () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.nat(),
          rw: fc.constantFrom("randrw" as const, "randwrite" as const, "write" as const),
          bsSectors: fc.integer({ min: 1, max: 16 }),
          alignSectors: fc.integer({ min: 1, max: 8 }),
          regionBlocks: fc.integer({ min: 1, max: 32 }),
          iodepth: fc.integer({ min: 1, max: 16 }),
          order: fc.nat(),
          victim: fc.nat(),
          bit: fc.nat(),
        }),
        (p) => {
          const bs = p.bsSectors * 512;
          const make = () => new FioJob({
            rw: p.rw, bs, iodepth: p.iodepth, size: bs * p.regionBlocks, rwmixread: 50, verify: true, numberIos: 60,
            blockalign: p.alignSectors * 512, rng: new Rng(p.seed),
          });
          const honest = make();
          const run = runBlk(honest, new MemDisk(1 << 20), { order: new Rng(p.order) });
          expect(honest.failures).toEqual([]);
          expect(run.maxInFlight).toBeLessThanOrEqual(p.iodepth);
          const reads = run.requests.filter((r) => r.type === BLK_T_IN).length;
          const victim = p.victim % reads;
          let seen = 0;
          let sector = -1;
          const tampered = make();
          runBlk(tampered, new MemDisk(1 << 20), {
            order: new Rng(p.order),
            tamper: (r, c) => {
              if (r.type !== BLK_T_IN || seen++ !== victim) return undefined;
              const data = c.data!.slice();
              const bit = p.bit % (data.length * 8);
              data[bit >>> 3]! ^= 1 << (bit & 7);
              sector = r.sector + Math.floor((bit >>> 3) / 512);
              return { status: c.status, data };
            },
          });
          expect(tampered.failures.map((f) => [f.kind, f.sector, f.badSectors])).toEqual([["corrupt", sector, 1]]);
        },
      ),
      RUNS,
    );
  });

  it("streams and RR: honest channels pass; one dropped or duplicated frame is reported once", () => {
    fc.assert(
      fc.property(
        fc.record({
          rr: fc.boolean(),
          size: fc.integer({ min: 1, max: 5000 }),
          size2: fc.integer({ min: 1, max: 5000 }),
          mtu: fc.integer({ min: 68, max: 9000 }),
          victim: fc.nat(),
          action: fc.constantFrom("drop" as const, "duplicate" as const),
        }),
        (p) => {
          const make = (): NetFlow => p.rr
            ? new RrFlow({ flowId: 1, rng: new Rng(p.size), a: A, b: B, mtu: p.mtu, requestSize: p.size, responseSize: p.size2, transactions: 6 })
            : new StreamFlow({ flowId: 1, rng: new Rng(p.size), a: A, b: B, mtu: p.mtu, messageSize: p.size, messages: 6 });
          const pump = (flow: NetFlow, tamper: (f: Uint8Array, from: Side) => Uint8Array[]) => {
            for (let round = 0, now = 0; round < 10_000 && !flow.done; round++) {
              let moved = 0;
              for (const [from, to] of [["a", "b"], ["b", "a"]] as const) {
                for (let f = flow.next(from, now); f; f = flow.next(from, now), moved++) for (const g of tamper(f, from)) flow.receive(to, g, ++now);
              }
              if (moved === 0) break;
            }
          };
          const honest = make();
          let total = 0;
          pump(honest, (f) => {
            if ((getWire(f, ETH_HEADER)!.flags & 1) === 0) total++;
            return [f];
          });
          expect(honest.failures).toEqual([]);
          expect(honest.completed).toBe(6);
          // Pick a frame that is not the last of its message (a lost last frame
          // stalls RR and cannot be seen as a gap in a stream's tail).
          const flow = make();
          if (total === 0) return; // every message fits one frame
          let i = 0;
          pump(flow, (f) => {
            if ((getWire(f, ETH_HEADER)!.flags & 1) !== 0 || i++ !== p.victim % total) return [f];
            return p.action === "drop" ? [] : [f, f];
          });
          expect(flow.failures.map((f) => [f.kind, f.count])).toEqual([[p.action, 1]]);
        },
      ),
      RUNS,
    );
  });
});
