// Plain-TS reference of the packed virtqueue (both sides), used by differential tests and by
// the benchmark as the JIT-compiled baseline. See packed-ref-common.ts for what they share.
export { RefPackedDevice } from "./packed-ref-device.ts";
export { RefPackedDriver } from "./packed-ref-driver.ts";
export { needEvent, wantsNotify } from "./packed-ref-common.ts";
