// One instruction of one agent. Memory is sequentially consistent at instruction
// granularity; what differs between instruction sets is how many instructions an operation
// takes and which of them another agent's store can break (the store-exclusive).
import {
  ACTX_SPURIOUS, ACTX_SAFE_MAX, AGT_FLAGS, AGT_ISA, AGT_OP, AGT_OPSIZE, AGT_PC, AGT_LOOP_PC,
  AGT_EXIT_PC, AGT_PHASE, AGT_MON_VALID, AGT_MON_ADDR, AGT_DOMID, AGT_SHARER, AGT_WORD, AGT_WSIZE,
  AGT_SHIFT, AGT_SXST, AGT_REPEAT, AGT_A, AGT_B, AGT_OLD, AGT_RESULT, AGT_EXPECT, AGT_LAST_PROGRESS,
  AGT_OPS_DONE, AGT_STEPS, AGT_LLSC, AGT_SC_FAILS, AGT_PAUSES, AGT_TRIES, AGT_SPURIOUS, AGT_SEQ,
  AGT_SEQ_LEN, AGF_FOREVER, AGF_GUEST_SAFE, AGF_DONE, AGF_MASKED, AGF_STARVED, ACTX_REMAINING,
  AT_ISA_ARM_LSE, AT_OP_CMPXCHG, AT_OP_CAS_INC, AT_OP_LOAD, AT_U_LX, AT_U_ALU, AT_U_CHK, AT_U_SX,
  AT_U_RETRY, AT_U_AMO, AT_U_LD, AT_U_ST, AT_U_NEXT, DOMID_XEN, CNT_ATOMIC_OPS,
  CNT_ATOMIC_LLSC_ATTEMPTS, CNT_ATOMIC_SC_FAILS, CNT_ATOMIC_SUBWORD, CNT_ATOMIC_LSE_OPS,
  CNT_ATOMIC_PAUSES, CNT_ATOMIC_XEN_STEPS,
} from "../layout";
import { count } from "../counters";
import { rngBelow } from "./rng";
import { fieldMask, isRmw, loadWord, mergeField, newField, storeWord } from "./program";
import { foreignStore, pauseDomain } from "./agents";

@inline function bump(ag: usize, field: u32): void {
  store<u32>(ag + field, load<u32>(ag + field) + 1);
}

/** The loop of a read-modify-write is over: a guest-safe redo lets the sharer run again. */
function bodyDone(ctx: usize, i: u32, ag: usize): void {
  store<u32>(ag + AGT_TRIES, 0);
  if (load<u8>(ag + AGT_PHASE) == 1) {
    pauseDomain(ctx, i, load<u16>(ag + AGT_SHARER), false);
    store<u8>(ag + AGT_PHASE, 0);
  }
}

/** A store-exclusive failed. Xen's guest-safe helpers give up after guest_safe_atomic_max
 *  failures, pause the sharing domain and redo the operation with the unbounded loop (XSA-295). */
function retry(ctx: usize, i: u32, ag: usize): void {
  bump(ag, AGT_SC_FAILS);
  count(CNT_ATOMIC_SC_FAILS);
  if ((load<u32>(ag + AGT_FLAGS) & AGF_GUEST_SAFE) == 0 || load<u8>(ag + AGT_PHASE) != 0) return;
  const tries = load<u32>(ag + AGT_TRIES) + 1;
  if (tries < load<u32>(ctx + ACTX_SAFE_MAX)) {
    store<u32>(ag + AGT_TRIES, tries);
    return;
  }
  store<u32>(ag + AGT_TRIES, 0);
  store<u8>(ag + AGT_PHASE, 1);
  bump(ag, AGT_PAUSES);
  count(CNT_ATOMIC_PAUSES);
  pauseDomain(ctx, i, load<u16>(ag + AGT_SHARER), true);
}

/** The agent finished one operation at context step `now` (the step just executed). */
function opDone(ctx: usize, ag: usize, op: u32, now: u64): void {
  bump(ag, AGT_OPS_DONE);
  store<u64>(ag + AGT_LAST_PROGRESS, now);
  const flags = load<u32>(ag + AGT_FLAGS) & ~AGF_STARVED;
  store<u32>(ag + AGT_FLAGS, flags);
  if (isRmw(op)) {
    count(CNT_ATOMIC_OPS);
    if ((flags & AGF_MASKED) != 0) count(CNT_ATOMIC_SUBWORD);
  }
  if ((flags & AGF_FOREVER) != 0) return;
  const left = load<u32>(ag + AGT_REPEAT) - 1;
  store<u32>(ag + AGT_REPEAT, left);
  if (left == 0) {
    store<u32>(ag + AGT_FLAGS, flags | AGF_DONE);
    store<u32>(ctx + ACTX_REMAINING, load<u32>(ctx + ACTX_REMAINING) - 1);
  }
}

/** Executes the next instruction of agent `i`; `now` is the context step count after it. */
export function step(ctx: usize, i: u32, ag: usize, now: u64): void {
  let pc = <u32>load<u8>(ag + AGT_PC);
  const op = <u32>load<u8>(ag + AGT_OP);
  const word = <usize>load<u32>(ag + AGT_WORD);
  const wsize = <u32>load<u8>(ag + AGT_WSIZE);
  const shift = <u32>load<u8>(ag + AGT_SHIFT);
  const mask = fieldMask(<u32>load<u8>(ag + AGT_OPSIZE));
  const u = <u32>load<u8>(ag + AGT_SEQ + pc);
  if (u == AT_U_LD) {
    const f = (loadWord(word, wsize) >> shift) & mask;
    store<u64>(ag + (op == AT_OP_LOAD ? AGT_RESULT : AGT_EXPECT), f);
    pc++;
  } else if (u == AT_U_ST) {
    const a = load<u64>(ag + AGT_A);
    storeWord(word, wsize, a & mask);
    foreignStore(ctx, i, word);
    store<u64>(ag + AGT_A, a ^ load<u64>(ag + AGT_B));
    pc++;
  } else if (u == AT_U_LX) {
    store<u64>(ag + AGT_OLD, loadWord(word, wsize));
    store<u8>(ag + AGT_MON_VALID, 1);
    store<u32>(ag + AGT_MON_ADDR, <u32>word);
    bump(ag, AGT_LLSC);
    count(CNT_ATOMIC_LLSC_ATTEMPTS);
    pc++;
  } else if (u == AT_U_ALU) {
    pc++;
  } else if (u == AT_U_CHK) {
    const f = (load<u64>(ag + AGT_OLD) >> shift) & mask;
    if (f != load<u64>(ag + AGT_EXPECT)) {
      store<u64>(ag + AGT_RESULT, f);
      bodyDone(ctx, i, ag);
      pc = <u32>load<u8>(ag + AGT_EXIT_PC);
    } else pc++;
  } else if (u == AT_U_SX) {
    let ok = load<u8>(ag + AGT_MON_VALID) != 0 && <usize>load<u32>(ag + AGT_MON_ADDR) == word;
    const spurious = load<u32>(ctx + ACTX_SPURIOUS);
    if (ok && spurious != 0 && rngBelow(ctx, 65536) < spurious) {
      ok = false;
      bump(ag, AGT_SPURIOUS);
    }
    store<u8>(ag + AGT_MON_VALID, 0);
    if (ok) {
      const old = load<u64>(ag + AGT_OLD);
      const f = newField(op, (old >> shift) & mask, load<u64>(ag + AGT_A), load<u64>(ag + AGT_B), load<u64>(ag + AGT_EXPECT), mask);
      storeWord(word, wsize, mergeField(old, f, shift, mask));
      foreignStore(ctx, i, word);
    }
    store<u8>(ag + AGT_SXST, ok ? 0 : 1);
    pc++;
  } else if (u == AT_U_RETRY) {
    if (load<u8>(ag + AGT_SXST) == 0) {
      store<u64>(ag + AGT_RESULT, (load<u64>(ag + AGT_OLD) >> shift) & mask);
      bodyDone(ctx, i, ag);
      pc++;
    } else {
      retry(ctx, i, ag);
      pc = <u32>load<u8>(ag + AGT_LOOP_PC);
    }
  } else if (u == AT_U_AMO) {
    const old = loadWord(word, wsize);
    const f = (old >> shift) & mask;
    const expect = load<u64>(ag + AGT_EXPECT);
    // A compare-and-swap whose compare fails stores nothing (LSE CAS; x86 writes the old
    // value back, which no other agent can tell apart).
    if ((op != AT_OP_CMPXCHG && op != AT_OP_CAS_INC) || f == expect) {
      const nf = newField(op, f, load<u64>(ag + AGT_A), load<u64>(ag + AGT_B), expect, mask);
      storeWord(word, wsize, mergeField(old, nf, shift, mask));
      foreignStore(ctx, i, word);
    }
    store<u64>(ag + AGT_RESULT, f);
    if (<u32>load<u8>(ag + AGT_ISA) == AT_ISA_ARM_LSE) count(CNT_ATOMIC_LSE_OPS);
    bodyDone(ctx, i, ag);
    pc++;
  } else if (u == AT_U_NEXT) {
    const got = load<u64>(ag + AGT_RESULT);
    if (got == load<u64>(ag + AGT_EXPECT)) pc++;
    else {
      store<u64>(ag + AGT_EXPECT, got);
      pc = <u32>load<u8>(ag + AGT_LOOP_PC);
    }
  }
  bump(ag, AGT_STEPS);
  if (<u32>load<u16>(ag + AGT_DOMID) == DOMID_XEN) count(CNT_ATOMIC_XEN_STEPS);
  if (pc >= <u32>load<u8>(ag + AGT_SEQ_LEN)) {
    pc = 0;
    store<u64>(ag + AGT_EXPECT, load<u64>(ag + AGT_A) & mask);
    opDone(ctx, ag, op, now);
  }
  store<u8>(ag + AGT_PC, <u8>pc);
}
