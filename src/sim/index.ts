// The discrete-event core's public surface.
export { Sim, Process, sleep, wait, work, type Body, type CpuReport, type Op, type RunOptions, type SimResults } from "./engine.ts";
export { Cpu, type CpuOptions, type CpuSpan, type Job } from "./cpu.ts";
export { Signal } from "./signal.ts";
export { EventQueue } from "./queue.ts";
export { LatencyRecorder, percentile, throughput, type LatencySummary } from "./stats.ts";
export { Rng } from "./rng.ts";
