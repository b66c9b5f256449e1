// The Wasm module's exports: every `api` file's verbs and the layout constants.
export * from "./layout";
export * from "./machine/api";
export * from "./atomics/api";
export * from "./virtq/packed-api";
