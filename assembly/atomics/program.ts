// What each instruction set executes for an operation: the micro-op program an agent steps
// through (one instruction per step), and the value arithmetic of every operation.
//
// Register instructions are steps only inside a retry loop, where they widen the window
// between load-exclusive and store-exclusive; setup before the first memory access and
// barriers after the last one are not modelled (they do not change what other agents see).
import {
  AT_ISA_X86, AT_ISA_ARM_LSE, AT_ISA_RISCV, AT_OP_CMPXCHG, AT_OP_FETCH_ADD, AT_OP_FETCH_OR,
  AT_OP_FETCH_AND, AT_OP_FETCH_XOR, AT_OP_XCHG, AT_OP_TEST_SET_BIT, AT_OP_TEST_CLEAR_BIT,
  AT_OP_CAS_INC, AT_OP_LOAD, AT_OP_STORE, AT_U_LX, AT_U_ALU, AT_U_CHK, AT_U_SX, AT_U_RETRY,
  AT_U_AMO, AT_U_LD, AT_U_ST, AT_U_NEXT, AGT_SEQ, AGT_SEQ_LEN, AGT_LOOP_PC, AGT_EXIT_PC,
} from "../layout";

@inline export function isRmw(op: u32): bool {
  return op <= AT_OP_CAS_INC;
}

@inline export function fieldMask(size: u32): u64 {
  return size == 8 ? <u64>-1 : (<u64>1 << (<u64>size << 3)) - 1;
}

function put(ag: usize, n: u32, u: u32): u32 {
  store<u8>(ag + AGT_SEQ + n, <u8>u);
  return n + 1;
}

/** One attempt of a read-modify-write, as the ISA's own code does it. */
function body(ag: usize, n: u32, isa: u32, op: u32, masked: bool): u32 {
  // x86 LOCK CMPXCHG / XADD / BTS / BTR / XCHG, and Arm LSE CASAL / LDADDAL / LDSETAL /
  // LDCLRAL / LDEORAL / SWPAL: one instruction, nothing can come between read and write.
  if (isa == AT_ISA_X86 || isa == AT_ISA_ARM_LSE) return put(ag, n, AT_U_AMO);
  const cas = op == AT_OP_CMPXCHG;
  if (isa == AT_ISA_RISCV) {
    if (!masked) {
      if (!cas) return put(ag, n, AT_U_AMO); // AMOSWAP / AMOADD / AMOOR / AMOAND / AMOXOR
      n = put(ag, n, AT_U_LX); // 0: lr.w/d
      n = put(ag, n, AT_U_CHK); //    bne old, expected, 1f
      n = put(ag, n, AT_U_SX); //    sc.w/d
      return put(ag, n, AT_U_RETRY); //    bnez 0b
    }
    // Sub-word: or/and/xor widen the operand so the neighbour bytes are left as they are and
    // use one AMO*.W; the rest run LR.W/SC.W on the containing word with a mask.
    if (op == AT_OP_FETCH_OR || op == AT_OP_FETCH_AND || op == AT_OP_FETCH_XOR) return put(ag, n, AT_U_AMO);
    n = put(ag, n, AT_U_LX); // lr.w
    if (cas) {
      n = put(ag, n, AT_U_ALU); // and  t, old, mask
      n = put(ag, n, AT_U_CHK); // bne  t, expected << shift, 1f
      n = put(ag, n, AT_U_ALU); // and  t, old, ~mask
      n = put(ag, n, AT_U_ALU); // or   t, t, desired << shift
    } else if (op == AT_OP_XCHG) {
      n = put(ag, n, AT_U_ALU); // and  t, old, ~mask
      n = put(ag, n, AT_U_ALU); // or   t, t, new << shift
    } else {
      n = put(ag, n, AT_U_ALU); // add  t, old, addend << shift
      n = put(ag, n, AT_U_ALU); // and  t, t, mask
      n = put(ag, n, AT_U_ALU); // and  u, old, ~mask
      n = put(ag, n, AT_U_ALU); // or   t, t, u
    }
    n = put(ag, n, AT_U_SX); // sc.w
    return put(ag, n, AT_U_RETRY); // bnez
  }
  // Arm v8.0, as Xen's arm64 cmpxchg.h / bitops.c / atomic.h loops.
  n = put(ag, n, AT_U_LX); // 1: ldxr{b,h}
  if (cas) {
    n = put(ag, n, AT_U_ALU); // cmp old, expected
    n = put(ag, n, AT_U_CHK); // b.ne 2f
  } else if (op != AT_OP_XCHG) {
    n = put(ag, n, AT_U_ALU); // add / orr / and / eor / bic
  }
  n = put(ag, n, AT_U_SX); // stxr{b,h}
  return put(ag, n, AT_U_RETRY); // cbnz 1b
}

/** Writes the agent's program for `op` and where its loop starts and its compare exits to. */
export function buildProgram(ag: usize, isa: u32, op: u32, masked: bool): void {
  let n: u32 = 0;
  if (op == AT_OP_LOAD) n = put(ag, n, AT_U_LD);
  else if (op == AT_OP_STORE) n = put(ag, n, AT_U_ST);
  else if (op == AT_OP_CAS_INC) {
    n = put(ag, n, AT_U_LD);
    n = body(ag, n, isa, AT_OP_CMPXCHG, masked);
    n = put(ag, n, AT_U_NEXT);
  } else n = body(ag, n, isa, op, masked);
  store<u8>(ag + AGT_SEQ_LEN, <u8>n);
  let loop: u32 = 0;
  let exit: u32 = n;
  for (let k: u32 = n; k-- > 0; ) {
    const u = <u32>load<u8>(ag + AGT_SEQ + k);
    if (u == AT_U_LX || u == AT_U_AMO) loop = k;
    if (u == AT_U_RETRY || u == AT_U_AMO) exit = k + 1;
  }
  store<u8>(ag + AGT_LOOP_PC, <u8>loop);
  store<u8>(ag + AGT_EXIT_PC, <u8>exit);
}

/** The field value `op` writes, given the field's old value (all values within `mask`). */
export function newField(op: u32, old: u64, a: u64, b: u64, expect: u64, mask: u64): u64 {
  switch (op) {
    case AT_OP_CMPXCHG: return b & mask;
    case AT_OP_CAS_INC: return (expect + a) & mask;
    case AT_OP_FETCH_ADD: return (old + a) & mask;
    case AT_OP_FETCH_OR: return (old | a) & mask;
    case AT_OP_FETCH_AND: return old & a & mask;
    case AT_OP_FETCH_XOR: return (old ^ a) & mask;
    case AT_OP_TEST_SET_BIT: return old | (<u64>1 << a);
    case AT_OP_TEST_CLEAR_BIT: return old & ~(<u64>1 << a);
    default: return a & mask; // xchg, store
  }
}

@inline export function mergeField(word: u64, field: u64, shift: u32, mask: u64): u64 {
  return (word & ~(mask << shift)) | ((field & mask) << shift);
}

export function loadWord(addr: usize, size: u32): u64 {
  if (size == 1) return <u64>load<u8>(addr);
  if (size == 2) return <u64>load<u16>(addr);
  if (size == 4) return <u64>load<u32>(addr);
  return load<u64>(addr);
}

export function storeWord(addr: usize, size: u32, v: u64): void {
  if (size == 1) store<u8>(addr, <u8>v);
  else if (size == 2) store<u16>(addr, <u16>v);
  else if (size == 4) store<u32>(addr, <u32>v);
  else store<u64>(addr, v);
}
