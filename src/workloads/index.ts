// The workloads' public surface: block jobs, net flows, rng reads, and the scenario converter.
export { BLK_S_IOERR, BLK_S_OK, BLK_S_UNSUPP, BLK_T_FLUSH, BLK_T_IN, BLK_T_OUT, SECTOR, type BlkCompletion, type BlkRequest, type BlkType } from "./blk-request.ts";
export { checkSector, stampSector, STAMP_HEADER, zeroImage, type InitialImage, type SectorVerdict } from "./blk-stamp.ts";
export { FioJob } from "./fio-job.ts";
export { type FioJobOptions, type FioRw } from "./fio-options.ts";
export { type BlkCompletionEvent, type BlkFailure, type BlkFailureKind, type BlkPhase, type FioStats } from "./fio-report.ts";
export { decodeFrame, encodeFrame, ETH_HEADER, ETHERTYPE_VXSIM, formatMac, parseMac, rxFrame, txBuffer, VIRTIO_NET_HDR, type EthFrame, type Mac } from "./eth.ts";
export { peekFlow, type NetFlow, type NetFlowOptions, type NetStats, type Side } from "./net-flow.ts";
export { type NetFailure, type NetFailureKind } from "./net-report.ts";
export { StreamFlow, type StreamOptions } from "./net-stream.ts";
export { RrFlow, type RrOptions } from "./net-rr.ts";
export { SeededByteStream, type ByteSource } from "./byte-stream.ts";
export { RngReader, type RngFailure, type RngFailureKind, type RngReadOptions, type RngRequest, type RngStats } from "./rng-reader.ts";
export { buildWorkloads, type WorkloadEnv, type WorkloadInstance } from "./from-scenario.ts";
