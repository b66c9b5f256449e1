// Public library API: `import { ... } from "vxsim"`.
export { Machine, MachineError, machineStatusName, type MachineOptions } from "./wasm/machine.ts";
export * as layout from "./wasm/layout.ts";
export * from "./cost/index.ts";
export * from "./sim/index.ts";
