// The interleaving scheduler: picks which agent executes the next instruction, runs whole
// batches of steps inside Wasm, and stops on completion, budget, starvation or deadlock.
import {
  ACTX_STEPS, ACTX_POLICY, ACTX_WINDOW, ACTX_STARVED, ACTX_ROUND_POS, ACTX_ROUND_LEN,
  ACTX_SCRIPT_POS, ACTX_SCRIPT_LEN, ACTX_REMAINING, ACTX_ORDER, ACTX_SCRIPT, AT_MAX_AGENTS,
  AT_SCHED_RANDOM, AT_SCHED_SCRIPT, AT_RUN_DONE, AT_RUN_BUDGET, AT_RUN_STARVED, AT_RUN_STUCK,
  AGT_FLAGS, AGT_LAST_PROGRESS, AGF_FOREVER, AGF_DONE, AGF_STARVED,
} from "../layout";
import { rngBelow } from "./rng";
import { agentAt, runnable } from "./agents";
import { step } from "./step";

/** Writes the runnable agents, in index order, to ACTX_ORDER; returns how many. */
function collect(ctx: usize): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; i < AT_MAX_AGENTS; i++) {
    if (runnable(agentAt(ctx, i))) store<u8>(ctx + ACTX_ORDER + n++, <u8>i);
  }
  return n;
}

/** The next agent to step, or -1 when none may run. */
function pick(ctx: usize): i32 {
  const policy = load<u32>(ctx + ACTX_POLICY);
  if (policy == AT_SCHED_SCRIPT) {
    let pos = load<u32>(ctx + ACTX_SCRIPT_POS);
    const len = load<u32>(ctx + ACTX_SCRIPT_LEN);
    while (pos < len) {
      const i = <u32>load<u8>(ctx + ACTX_SCRIPT + pos++);
      if (runnable(agentAt(ctx, i))) {
        store<u32>(ctx + ACTX_SCRIPT_POS, pos);
        return <i32>i;
      }
    }
    store<u32>(ctx + ACTX_SCRIPT_POS, pos);
    // Script exhausted: carry on in lockstep.
  } else if (policy == AT_SCHED_RANDOM) {
    const n = collect(ctx);
    if (n == 0) return -1;
    return <i32>load<u8>(ctx + ACTX_ORDER + rngBelow(ctx, n));
  }
  // Lockstep: each round every runnable agent steps once, in an order drawn for the round,
  // as CPUs running at the same speed whose accesses to the line arrive in a random order.
  for (;;) {
    let pos = load<u32>(ctx + ACTX_ROUND_POS);
    const len = load<u32>(ctx + ACTX_ROUND_LEN);
    while (pos < len) {
      const i = <u32>load<u8>(ctx + ACTX_ORDER + pos++);
      if (runnable(agentAt(ctx, i))) {
        store<u32>(ctx + ACTX_ROUND_POS, pos);
        return <i32>i;
      }
    }
    const n = collect(ctx);
    if (n == 0) {
      store<u32>(ctx + ACTX_ROUND_POS, 0);
      store<u32>(ctx + ACTX_ROUND_LEN, 0);
      return -1;
    }
    for (let k = n - 1; k > 0; k--) {
      const j = rngBelow(ctx, k + 1);
      const o = ctx + ACTX_ORDER;
      const t = load<u8>(o + k);
      store<u8>(o + k, load<u8>(o + j));
      store<u8>(o + j, t);
    }
    store<u32>(ctx + ACTX_ROUND_POS, 0);
    store<u32>(ctx + ACTX_ROUND_LEN, n);
  }
  return -1; // not reached: the loop returns
}

/** Runs up to `budget` steps. An agent with pending operations that completes none within
 *  ACTX_WINDOW steps is starved: reported (ACTX_STARVED, AGF_STARVED), never waited for. */
export function run(ctx: usize, budget: u32): i32 {
  store<i32>(ctx + ACTX_STARVED, -1);
  const window = <u64>load<u32>(ctx + ACTX_WINDOW);
  let done: u32 = 0;
  for (;;) {
    if (load<u32>(ctx + ACTX_REMAINING) == 0) return AT_RUN_DONE;
    if (done >= budget) return AT_RUN_BUDGET;
    const i = pick(ctx);
    if (i < 0) return AT_RUN_STUCK;
    const ag = agentAt(ctx, <u32>i);
    const now = load<u64>(ctx + ACTX_STEPS) + 1;
    store<u64>(ctx + ACTX_STEPS, now);
    step(ctx, <u32>i, ag, now);
    done++;
    const flags = load<u32>(ag + AGT_FLAGS);
    if ((flags & (AGF_FOREVER | AGF_DONE)) == 0 && now - load<u64>(ag + AGT_LAST_PROGRESS) >= window) {
      store<u32>(ag + AGT_FLAGS, flags | AGF_STARVED);
      store<i32>(ctx + ACTX_STARVED, i);
      return AT_RUN_STARVED;
    }
  }
  return AT_RUN_STUCK; // not reached: the loop returns
}
