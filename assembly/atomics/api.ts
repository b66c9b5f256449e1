// Host boundary of the guest atomics: values cross as f64 (exact for 32-bit words and for
// 64-bit words below 2^53; event bitmaps use 64-bit words, accessed by the host per 32-bit half).
import { cmpxchg, fetchOp } from "./x86";
import {
  PAGE_SIZE, MST_OK, MST_BAD_MFN, DOMID_XEN, ATS_BAD_CTX, ATS_BAD_CONFIG, ATS_BAD_AGENT, AT_MAX_AGENTS,
  AT_SCHED_SCRIPT, AT_SCRIPT_MAX, ACTX_POLICY, ACTX_GRANULE_SHIFT, ACTX_SPURIOUS, ACTX_SAFE_MAX,
  ACTX_WINDOW, ACTX_STARVED, ACTX_SCRIPT, ACTX_SCRIPT_POS, ACTX_SCRIPT_LEN, AGT_MON_VALID, AGF_GUEST_SAFE,
} from "../layout";
import { rngSeed } from "./rng";
import { agentAt, agentClear, agentSet, agentsLive, ctxAddr } from "./agents";
import { run } from "./sched";

export function atomic_cmpxchg(mfn: u32, off: u32, size: u32, expected: f64, desired: f64): f64 {
  return <f64>cmpxchg(mfn, off, size, <u64>expected, <u64>desired);
}
export function atomic_fetch_op(mfn: u32, off: u32, size: u32, op: u32, v: f64): f64 {
  return <f64>fetchOp(mfn, off, size, op, <u64>v);
}

// ---- the instruction-granular engine (agents, monitors, scheduler) -------------------------
// A context is a hypervisor frame (its mfn is the handle). 64-bit operands cross as two u32
// halves so every value is exact. Results and statistics are read from the context frame.

/** Sets up context frame `ctx`: seed, policy (AT_SCHED_*), reservation granule in bytes
 *  (power of two, 8..4096), spurious store-exclusive failure chance in 1/65536, the bound of
 *  the guest-safe helpers (guest_safe_atomic_max, >= 1), the starvation window (>= 1 step). */
export function arch_ctx_init(ctx: u32, seed: u32, policy: u32, granule: u32, spurious: u32, safeMax: u32, window: u32): i32 {
  const c = ctxAddr(ctx);
  if (c == 0) return ATS_BAD_CTX;
  if (policy > AT_SCHED_SCRIPT || granule < 8 || granule > PAGE_SIZE || (granule & (granule - 1)) != 0 ||
      spurious > 65536 || safeMax == 0 || window == 0) return ATS_BAD_CONFIG;
  memory.fill(c, 0, PAGE_SIZE);
  rngSeed(c, seed);
  store<u32>(c + ACTX_POLICY, policy);
  store<u32>(c + ACTX_GRANULE_SHIFT, ctz(granule));
  store<u32>(c + ACTX_SPURIOUS, spurious);
  store<u32>(c + ACTX_SAFE_MAX, safeMax);
  store<u32>(c + ACTX_WINDOW, window);
  store<i32>(c + ACTX_STARVED, -1);
  return MST_OK;
}

function readyCtx(ctx: u32): usize {
  const c = ctxAddr(ctx);
  return c != 0 && load<u32>(c + ACTX_GRANULE_SHIFT) != 0 ? c : 0;
}

export function arch_agent_set(
  ctx: u32, i: u32, isa: u32, op: u32, size: u32, mfn: u32, off: u32,
  aLo: u32, aHi: u32, bLo: u32, bHi: u32, domid: u32, sharer: u32, flags: u32, repeat: u32,
): i32 {
  const c = readyCtx(ctx);
  if (c == 0) return ATS_BAD_CTX;
  const a = <u64>aLo | (<u64>aHi << 32);
  const b = <u64>bLo | (<u64>bHi << 32);
  return agentSet(c, i, isa, op, size, mfn, off, a, b, domid, sharer, flags, repeat);
}

export function arch_agent_clear(ctx: u32, i: u32): i32 {
  const c = readyCtx(ctx);
  if (c == 0) return ATS_BAD_CTX;
  if (i >= AT_MAX_AGENTS) return ATS_BAD_AGENT;
  agentClear(c, i);
  return MST_OK;
}

/** CLREX on agent i's CPU (also what an exception or a context switch does to its monitor). */
export function arch_clrex(ctx: u32, i: u32): i32 {
  const c = readyCtx(ctx);
  if (c == 0) return ATS_BAD_CTX;
  if (i >= AT_MAX_AGENTS) return ATS_BAD_AGENT;
  store<u8>(agentAt(c, i) + AGT_MON_VALID, 0);
  return MST_OK;
}

/** Installs the first `len` bytes the host wrote at ACTX_SCRIPT as the step script. */
export function arch_script_set(ctx: u32, len: u32): i32 {
  const c = readyCtx(ctx);
  if (c == 0) return ATS_BAD_CTX;
  if (len > AT_SCRIPT_MAX) return ATS_BAD_CONFIG;
  for (let k: u32 = 0; k < len; k++) if (<u32>load<u8>(c + ACTX_SCRIPT + k) >= AT_MAX_AGENTS) return ATS_BAD_AGENT;
  store<u32>(c + ACTX_SCRIPT_POS, 0);
  store<u32>(c + ACTX_SCRIPT_LEN, len);
  return MST_OK;
}

/** Runs up to `budget` steps; returns AT_RUN_* or a negative status. */
export function arch_run(ctx: u32, budget: u32): i32 {
  const c = readyCtx(ctx);
  if (c == 0) return ATS_BAD_CTX;
  if (!agentsLive(c)) return MST_BAD_MFN;
  return run(c, budget);
}

/** One hypervisor operation: agent 0 runs `op` once as Xen (guest-safe if asked, pausing
 *  `sharer` on timeout), interleaved with whatever other agents are installed. */
export function arch_xen_op(
  ctx: u32, isa: u32, op: u32, size: u32, mfn: u32, off: u32,
  aLo: u32, aHi: u32, bLo: u32, bHi: u32, sharer: u32, guestSafe: u32, budget: u32,
): i32 {
  const c = readyCtx(ctx);
  if (c == 0) return ATS_BAD_CTX;
  const a = <u64>aLo | (<u64>aHi << 32);
  const b = <u64>bLo | (<u64>bHi << 32);
  const st = agentSet(c, 0, isa, op, size, mfn, off, a, b, DOMID_XEN, sharer, guestSafe != 0 ? AGF_GUEST_SAFE : 0, 1);
  if (st != MST_OK) return st;
  if (!agentsLive(c)) return MST_BAD_MFN;
  return run(c, budget);
}
