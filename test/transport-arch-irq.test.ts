// The IOREQ-served virtio-mmio transports (mmio-foreign, grant-map) on every Xen architecture:
// virtio-blk end to end through buildWorld/buildJob/runJobRounds, every byte checked in the
// disk image, and the per-I/O mechanism counted exactly. The register protocol is the same
// everywhere; only the interrupt's dm_op differs: an ISA IRQ (set_isa_irq_level) on x86, an SPI
// (set_irq_level) on arm64 and on the riscv64 model (Xen 4.17 has no IOREQ on RISC-V).
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { buildWorld } from "../src/run/world.ts";
import { buildJob, runJobRounds, settle } from "../src/run/job.ts";
import type { Arch } from "../src/scenario/vocabulary.ts";
import { GrantMapTransport } from "../src/transports/grant-map.ts";
import { MmioForeignTransport } from "../src/transports/mmio-foreign.ts";
import { Counters } from "./helpers/transport-world.ts";

const N = 8; // fio writes; the job then reads each back to verify: 2N I/Os
const IOS = 2 * N;

const COUNTED = {
  traps: L.CNT_TR_REG_TRAPS, ioreqTraps: L.CNT_IOREQ_MMIO_TRAPS, notifyTraps: L.CNT_TR_REG_TRAPS_NOTIFY, isrTraps: L.CNT_TR_REG_TRAPS_ISR,
  dmOps: L.CNT_IOREQ_DM_OPS, dmOpErrors: L.CNT_IOREQ_DM_OP_ERRORS, interrupts: L.CNT_TR_INTERRUPTS, merged: L.CNT_TR_INTERRUPTS_MERGED,
  spiAssertions: L.CNT_IOREQ_IRQ_ASSERTIONS, spiRaised: L.CNT_IOREQ_IRQ_RAISED,
  isaAssertions: L.CNT_IOREQ_ISA_IRQ_ASSERTIONS, isaRaised: L.CNT_IOREQ_ISA_IRQ_RAISED,
  mfIrqLevelOps: L.CNT_MF_IRQ_LEVEL_OPS, mfIsaOps: L.CNT_MF_ISA_IRQ_OPS, gmIrqLevelOps: L.CNT_GM_IRQ_LEVEL_OPS, gmIsaOps: L.CNT_GM_ISA_IRQ_OPS,
} as const;

/** Per I/O at iodepth 1: the QueueNotify kick, then the handler's InterruptStatus read and
 *  InterruptACK write (3 traps, each an ioreq); the device model raises the line once and the
 *  ACK lowers it (2 dm_ops, 1 interrupt). */
function model(transport: "mmio-foreign" | "grant-map", isa: boolean): Record<keyof typeof COUNTED, number> {
  const mf = transport === "mmio-foreign";
  return {
    traps: 3 * IOS, ioreqTraps: 3 * IOS, notifyTraps: IOS, isrTraps: 2 * IOS, dmOps: 2 * IOS, dmOpErrors: 0, interrupts: IOS, merged: 0,
    spiAssertions: isa ? 0 : IOS, spiRaised: isa ? 0 : IOS, isaAssertions: isa ? IOS : 0, isaRaised: isa ? IOS : 0,
    mfIrqLevelOps: mf && !isa ? 2 * IOS : 0, mfIsaOps: mf && isa ? 2 * IOS : 0,
    gmIrqLevelOps: !mf && !isa ? 2 * IOS : 0, gmIsaOps: !mf && isa ? 2 * IOS : 0,
  };
}

const CASES: [Arch, "isa" | "spi", number, number][] = [
  ["x86-64", "isa", 5, L.GUEST_X86_VIRTIO_MMIO_BASE],
  ["riscv64", "spi", L.GUEST_VIRTIO_MMIO_SPI_FIRST, L.GUEST_VIRTIO_MMIO_BASE],
  ["arm64-v8.0", "spi", L.GUEST_VIRTIO_MMIO_SPI_FIRST, L.GUEST_VIRTIO_MMIO_BASE],
];

describe.each(CASES)("%s", (arch, kind, line, base) => {
  for (const transport of ["mmio-foreign", "grant-map"] as const) {
    it(`${transport} x virtio-blk: every byte lands; per I/O 3 traps, 2 ${kind === "isa" ? "set_isa_irq_level" : "set_irq_level"} dm_ops, 1 interrupt`, () => {
      const w = buildWorld({ transport, arch, device: "blk" });
      const t = w.transports[0]!;
      if (!(t instanceof MmioForeignTransport || t instanceof GrantMapTransport)) throw new Error(`unexpected transport ${t.id}`);
      expect([t.irq.kind, t.irq.line, t.base]).toEqual([kind, line, base]);
      const job = buildJob(w, { transport, profile: arch, device: "blk", workload: { kind: "fio", rw: "write", bs: 4096, iodepth: 1 }, ios: N, seed: 7 });
      job.prime();
      settle(w, job);
      const c = new Counters(w.machine);
      const r = runJobRounds(w, job);
      expect(job.failures()).toEqual([]);
      expect(r.completed).toBe(IOS);
      expect(job.fio!.verifyImage((off, len) => w.blk!.backing.read(off, len))).toBe(N * 4096);
      expect(c.pick(COUNTED)).toEqual(model(transport, kind === "isa"));
      // The guest acknowledged the last interrupt: the line is low again.
      const io = w.env!.ioreq;
      expect((kind === "isa" ? io.isaIrq(1, line) : io.spi(1, line)).level).toBe(0);
      w.close();
    });
  }
});
