// Public library API: `import { ... } from "vxsim"`.
export { Machine, MachineError, machineStatusName, type MachineOptions } from "./wasm/machine.ts";
export * as layout from "./wasm/layout.ts";
export {
  WasmArchAtomics, AtomicsError, type ArchAtomicsEngine, type AgentSpec, type AgentStats, type EngineConfig, type Isa,
  type EngineOp, type RunResult,
} from "./wasm/arch-atomics.ts";
export { TsArchAtomics } from "./wasm/ts-arch-atomics.ts";
export {
  guestAtomicsFor, EmulatedGuestAtomics, X86GuestAtomics, AtomicStarvationError, type ArchName, type GuestAtomics,
} from "./xen/atomics.ts";
export { ConfigError } from "./scenario/config-error.ts";
export { loadScenario, parseScenario, type Scenario, type ScenarioOptions } from "./scenario/scenario.ts";
export { loadXlCfg, parseXlCfg, type XlDomainConfig } from "./scenario/xlcfg.ts";
export * from "./cost/index.ts";
export * from "./sim/index.ts";
export * from "./workloads/index.ts";
export * from "./transports/index.ts";
