// Agent records in a context frame: setup with validation, exclusive monitors, and the
// pause a guest-safe helper puts on the sharing domain.
import {
  PAGE_SIZE, FRAME_XEN, ACTX_AGENTS, ACTX_GRANULE_SHIFT, ACTX_REMAINING, ACTX_ROUND_POS,
  ACTX_ROUND_LEN, ACTX_STEPS, AT_MAX_AGENTS, AGT_RECORD_SIZE, AGT_FLAGS, AGT_ISA, AGT_OP, AGT_OPSIZE,
  AGT_DOMID, AGT_SHARER, AGT_MFN, AGT_OFF, AGT_WORD, AGT_WSIZE, AGT_SHIFT, AGT_REPEAT, AGT_A, AGT_B,
  AGT_LAST_PROGRESS, AGT_EXPECT, AGT_MON_VALID, AGT_MON_ADDR, AGT_CLEARED, AGT_PAUSED, AGT_PHASE,
  AT_ISAS, AT_ISA_RISCV, AT_OPS, AT_OP_TEST_SET_BIT, AT_OP_TEST_CLEAR_BIT, AT_FOREVER,
  AGF_ACTIVE, AGF_FOREVER, AGF_GUEST_SAFE, AGF_DONE, AGF_MASKED, ATS_BAD_AGENT, ATS_BAD_ISA,
  ATS_BAD_OP, ATS_BAD_SIZE, ATS_MISALIGNED, ATS_BAD_OPERAND, MST_BAD_MFN, MST_RANGE, MST_OK,
  CNT_ATOMIC_MONITOR_CLEARS,
} from "../layout";
import { count } from "../counters";
import { frameAddr, frameKind, frameLive } from "../machine/frames";
import { buildProgram, fieldMask, isRmw } from "./program";

@inline export function agentAt(ctx: usize, i: u32): usize {
  return ctx + ACTX_AGENTS + i * AGT_RECORD_SIZE;
}

/** Linear address of context frame `mfn`, or 0 if it is not a live hypervisor frame. */
export function ctxAddr(mfn: u32): usize {
  if (!frameLive(mfn) || frameKind(mfn) != FRAME_XEN) return 0;
  return frameAddr(mfn);
}

@inline export function runnable(ag: usize): bool {
  return (load<u32>(ag + AGT_FLAGS) & (AGF_ACTIVE | AGF_DONE)) == AGF_ACTIVE && load<u8>(ag + AGT_PAUSED) == 0;
}

@inline function pending(ag: usize): bool {
  return (load<u32>(ag + AGT_FLAGS) & (AGF_ACTIVE | AGF_FOREVER | AGF_DONE)) == AGF_ACTIVE;
}

/** Empties slot `i` (an agent still inside a guest-safe redo unpauses its sharer first). */
export function agentClear(ctx: usize, i: u32): void {
  const ag = agentAt(ctx, i);
  if (pending(ag)) store<u32>(ctx + ACTX_REMAINING, load<u32>(ctx + ACTX_REMAINING) - 1);
  if ((load<u32>(ag + AGT_FLAGS) & AGF_ACTIVE) != 0 && load<u8>(ag + AGT_PHASE) == 1) {
    pauseDomain(ctx, i, load<u16>(ag + AGT_SHARER), false);
  }
  memory.fill(ag, 0, AGT_RECORD_SIZE);
  // A new round starts so the change takes effect at a well-defined point.
  store<u32>(ctx + ACTX_ROUND_POS, 0);
  store<u32>(ctx + ACTX_ROUND_LEN, 0);
}

/** Validates and installs an agent that runs `op` `repeat` times (AT_FOREVER: until removed). */
export function agentSet(
  ctx: usize, i: u32, isa: u32, op: u32, size: u32, mfn: u32, off: u32, a: u64, b: u64,
  domid: u32, sharer: u32, flags: u32, repeat: u32,
): i32 {
  if (i >= AT_MAX_AGENTS) return ATS_BAD_AGENT;
  if (isa >= AT_ISAS) return ATS_BAD_ISA;
  if (op >= AT_OPS) return ATS_BAD_OP;
  if (size != 1 && size != 2 && size != 4 && size != 8) return ATS_BAD_SIZE;
  const bitop = op == AT_OP_TEST_SET_BIT || op == AT_OP_TEST_CLEAR_BIT;
  if (bitop && size != 4) return ATS_BAD_SIZE; // Xen's bitops work on 32-bit words
  if (bitop && a >= 32) return ATS_BAD_OPERAND;
  if (repeat == 0 || domid > 0xffff || sharer > 0xffff || (flags & ~AGF_GUEST_SAFE) != 0) return ATS_BAD_OPERAND;
  if (!frameLive(mfn)) return MST_BAD_MFN;
  if (off >= PAGE_SIZE) return MST_RANGE;
  if ((off & (size - 1)) != 0) return ATS_MISALIGNED;

  agentClear(ctx, i);
  const ag = agentAt(ctx, i);
  // RISC-V has no 8/16-bit atomics: those run on the aligned 32-bit word that contains them.
  const masked = isa == AT_ISA_RISCV && size < 4 && isRmw(op);
  const addr = frameAddr(mfn) + off;
  let f = flags | AGF_ACTIVE;
  if (repeat == AT_FOREVER) f |= AGF_FOREVER;
  if (masked) f |= AGF_MASKED;
  store<u32>(ag + AGT_FLAGS, f);
  store<u8>(ag + AGT_ISA, <u8>isa);
  store<u8>(ag + AGT_OP, <u8>op);
  store<u8>(ag + AGT_OPSIZE, <u8>size);
  store<u16>(ag + AGT_DOMID, <u16>domid);
  store<u16>(ag + AGT_SHARER, <u16>sharer);
  store<u32>(ag + AGT_MFN, mfn);
  store<u32>(ag + AGT_OFF, off);
  store<u32>(ag + AGT_WORD, <u32>(masked ? addr & ~3 : addr));
  store<u8>(ag + AGT_WSIZE, <u8>(masked ? 4 : size));
  store<u8>(ag + AGT_SHIFT, <u8>(masked ? (off & 3) << 3 : 0));
  store<u32>(ag + AGT_REPEAT, repeat);
  store<u64>(ag + AGT_A, a);
  store<u64>(ag + AGT_B, b);
  store<u64>(ag + AGT_EXPECT, a & fieldMask(size));
  store<u64>(ag + AGT_LAST_PROGRESS, load<u64>(ctx + ACTX_STEPS));
  buildProgram(ag, isa, op, masked);
  if (repeat != AT_FOREVER) store<u32>(ctx + ACTX_REMAINING, load<u32>(ctx + ACTX_REMAINING) + 1);
  return MST_OK;
}

/** A frame named by an agent may have been freed since setup: checked before every run. */
export function agentsLive(ctx: usize): bool {
  for (let i: u32 = 0; i < AT_MAX_AGENTS; i++) {
    const ag = agentAt(ctx, i);
    if ((load<u32>(ag + AGT_FLAGS) & AGF_ACTIVE) != 0 && !frameLive(load<u32>(ag + AGT_MFN))) return false;
  }
  return true;
}

/** A store by agent `self` to `word`: every other monitor on the same granule is cleared. */
export function foreignStore(ctx: usize, self: u32, word: usize): void {
  const shift = load<u32>(ctx + ACTX_GRANULE_SHIFT);
  const g = word >> shift;
  for (let j: u32 = 0; j < AT_MAX_AGENTS; j++) {
    if (j == self) continue;
    const ag = agentAt(ctx, j);
    if (load<u8>(ag + AGT_MON_VALID) != 0 && (<usize>load<u32>(ag + AGT_MON_ADDR) >> shift) == g) {
      store<u8>(ag + AGT_MON_VALID, 0);
      store<u32>(ag + AGT_CLEARED, load<u32>(ag + AGT_CLEARED) + 1);
      count(CNT_ATOMIC_MONITOR_CLEARS);
    }
  }
}

/** domain_pause_nosync / domain_unpause of every agent of `domid` but `self`. A descheduled
 *  vCPU loses its exclusive monitor; a resumed one starts a fresh progress window. */
export function pauseDomain(ctx: usize, self: u32, domid: u32, pause: bool): void {
  for (let j: u32 = 0; j < AT_MAX_AGENTS; j++) {
    const ag = agentAt(ctx, j);
    if (j == self || (load<u32>(ag + AGT_FLAGS) & AGF_ACTIVE) == 0 || <u32>load<u16>(ag + AGT_DOMID) != domid) continue;
    const n = <u32>load<u8>(ag + AGT_PAUSED);
    if (pause) {
      store<u8>(ag + AGT_PAUSED, <u8>(n + 1));
      store<u8>(ag + AGT_MON_VALID, 0);
    } else if (n > 0) {
      store<u8>(ag + AGT_PAUSED, <u8>(n - 1));
      if (n == 1) store<u64>(ag + AGT_LAST_PROGRESS, load<u64>(ctx + ACTX_STEPS));
    }
  }
}
