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

// ---- the Xen model -------------------------------------------------------------------------
export { createXen, type Xen, type XenOptions } from "./xen/xen.ts";
export {
  Hypervisor, XenConfigError, XEN_ARCHES, type XenArch, type HypervisorOptions, type Subsystem, type HypercallHandler,
} from "./xen/hypervisor.ts";
export { Domain, type DomainConfig, type DomainState } from "./xen/domain.ts";
export { MemoryOps, type MemoryOpTable, type MemoryCmdHandler, type PhysmapHandler, type ResourceHandler } from "./xen/memory-op.ts";
export { DummyPolicy, SiloPolicy, type XsmPolicy, type XsmOp } from "./xen/xsm.ts";
export { FlaskPolicy, XsmPolicyError, parseXsmPolicy, loadXsmPolicy, type XsmRule } from "./xen/xsm-policy.ts";
export * as errno from "./xen/errno.ts";
export {
  ArmV80GuestAtomics, ArmLseGuestAtomics, RiscvGuestAtomics, X86EmulatedGuestAtomics, ARCH_ISA,
  type EmulatedAtomicsOptions, type GuestOpStats, type Interferer,
} from "./xen/atomics.ts";
export { GrantTables, type GrantOptions } from "./xen/grant-table.ts";
export { GuestGrants, type GuestGrantsOptions, type MapOp, type MapOutcome, type UnmapOp, type CopyOp, type CopyEnd } from "./xen/grant-guest.ts";
export { gntstName, XEN_GRANT_DMA_ADDR_OFF } from "./xen/grant-abi.ts";
export { EventChannels, virqIsGlobal, type EventChannelsOptions, type EvtchnStatus, type Upcall, type XenConsumer } from "./xen/evtchn.ts";
export { GuestEvtchn, HypercallError, must } from "./xen/evtchn-guest.ts";
export { ForeignMapping, type ForeignEntry, type Exposure } from "./xen/foreign.ts";
export { IoreqServers, type IoreqOptions, type IoreqServerInfo } from "./xen/ioreq.ts";
export { IoreqEmulator, type IoRequest, type IoHandler, type IoreqEmulatorOptions } from "./xen/ioreq-emulator.ts";
export { Privcmd } from "./xen/privcmd.ts";
export type { IoDir, MmioResult, MmioDone } from "./xen/mmio.ts";
export { Argo, parseArgoBootOption, type ArgoOptions } from "./xen/argo.ts";
export { ArgoGuest, ArgoGuestRing, type ArgoAddr, type ArgoMessage, type ArgoRingQuery, type ArgoRingAnswer, type SendOptions } from "./xen/argo-guest.ts";
export { Xenstore, type XenstoreOptions } from "./xen/xenstore.ts";
export { XsClient, type XsWatchEvent } from "./xen/xenstore-client.ts";
export type { XsResult, XsErrorName } from "./xen/xenstore-wire.ts";
export {
  XenbusState, xenbusStateName, toolstackAddDevice, toolstackRemoveDevice, toolstackDestroyDevice, runXenbus,
  type XenbusDevice, type XenbusStateValue, type XenbusResult,
} from "./xen/xenbus.ts";
export { XenbusFrontend, XenbusBackend, type FrontendConfig, type BackendConfig, type FrontendRing } from "./xen/xenbus-drivers.ts";

// Worlds and jobs (src/run): a complete setup per transport x device, and its workloads.
export { buildWorld, transportChoice, type World, type WorldOptions, type Endpoint, type BackendPlacement } from "./run/world.ts";
export { XEN_ARCH_OF, type WorldDomain, type DomainRole } from "./run/world-hosts.ts";
export { createTransport, driverFor, ringPagesFor } from "./run/world-transport.ts";
export { buildJob, runJobRounds, settle, worldOptionsFor, type Job, type JobOptions } from "./run/job.ts";
export { FioLoad, NetLoad, RngLoad } from "./run/job-loads.ts";
export { NetGuest, NET_DRIVER_FEATURES, type NetTag, type NetEvent } from "./devices/net-guest.ts";
export { RngGuest, type RngTag } from "./devices/rng-guest.ts";
// ---- timed runs: real transports in virtual time ------------------------------------------
export { runTimed, TimedRunner } from "./run/timed.ts";
export { cpuName, type TimedDomain, type TimedLane, type TimedOptions, type TimedTarget } from "./run/timed-target.ts";
export type { TimedResult } from "./run/timed-result.ts";
export { perIoFrom, PER_IO_COUNTERS } from "./run/per-io.ts";
export { splitStep, type CpuPart, type StepCharge } from "./run/step-charge.ts";
// Reports: HTML with SVG charts, Chrome/Perfetto trace, speedscope profile.
export * from "./report/index.ts";
// Experiments: the claims of the Xen VirtIO discussion, each a sweep, a table and a computed verdict.
export {
  EXPERIMENTS, experimentByName, formatTable, findCrossover, ExperimentError,
  type Experiment, type ExperimentName, type ExperimentTable, type RunJob, type RunOptions as ExperimentRunOptions,
  type Verdict, type Cell, type CrossPoint, type Crossover,
} from "./experiments/index.ts";
// Scenario workloads as jobs, and sweep grids (the CLI's run and sweep use these).
export { scenarioJobs, type ScenarioJob } from "./run/scenario-jobs.ts";
export { loadGrid, parseGrid, type Grid, type GridAxis, type GridPoint } from "./cli/grid.ts";

// ---- the simulation entry point: one JobSpec in, one verified, timed JobResult out ----------
export { runJob, resolveProfile, type RunJobOptions } from "./run/run-job.ts";
export { RESULT_FORMAT, type JobSpec, type JobResult, type PerIo, type CpuUse, type TimelineSpan, type DeviceKind } from "./run/result.ts";
export { compareJobs, COMPARE_TRANSPORTS } from "./cli/compare-jobs.ts";
