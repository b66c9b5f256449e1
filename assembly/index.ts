// The Wasm module's exports: every `api` file's verbs and the layout constants.
export * from "./layout";
export * from "./machine/api";
export * from "./atomics/api";
export * from "./virtq/ring-api";
export * from "./xen/argo-api";
export * from "./xen/grant-api";
export * from "./xen/evtchn-api";
export * from "./virtq/split-api";
export * from "./virtq/packed-api";
