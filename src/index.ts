// Public library API: `import { ... } from "vxsim"`.
export { Machine, MachineError, machineStatusName, type MachineOptions } from "./wasm/machine.ts";
export * as layout from "./wasm/layout.ts";
export { ConfigError } from "./scenario/config-error.ts";
export { loadScenario, parseScenario, type Scenario, type ScenarioOptions } from "./scenario/scenario.ts";
export { loadXlCfg, parseXlCfg, type XlDomainConfig } from "./scenario/xlcfg.ts";
