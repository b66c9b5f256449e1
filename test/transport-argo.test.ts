import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { runHarness } from "../src/transports/harness.ts";
import { TransportSetupError } from "../src/transports/types.ts";
import { SiloPolicy } from "../src/xen/xsm.ts";
import { parseXsmPolicy } from "../src/xen/xsm-policy.ts";
import { BlkPattern } from "./helpers/blk-pattern.ts";
import { ARGO_DOMU, DISK_BYTES, GUEST, argoDomains, argoWorld } from "./helpers/transport-world.ts";

const PER_IO = {
  hypercalls: L.CNT_HYPERCALLS, sendv: L.CNT_ARGO_OP_SENDV, notify: L.CNT_ARGO_OP_NOTIFY, virqs: L.CNT_ARGO_VIRQ_RAISED,
  virqsTaken: L.CNT_AR_VIRQS_TAKEN, requests: L.CNT_AR_REQUESTS_SENT, completions: L.CNT_AR_COMPLETIONS_SENT,
  received: L.CNT_AR_MESSAGES_RECEIVED, eagain: L.CNT_AR_SEND_EAGAIN,
  copiesGuest: L.CNT_TR_COPIES_GUEST, copiesHv: L.CNT_TR_COPIES_HV, copiesBackend: L.CNT_TR_COPIES_BACKEND,
  interrupts: L.CNT_TR_INTERRUPTS, notifications: L.CNT_TR_NOTIFICATIONS, exposedIo: L.CNT_TR_PAGES_EXPOSED_IO,
};
const BYTES = { guest: L.CNT_TR_COPY_BYTES_GUEST, hv: L.CNT_TR_COPY_BYTES_HV, backend: L.CNT_TR_COPY_BYTES_BACKEND, argo: L.CNT_ARGO_BYTES_SENT };

describe.each(["release", "debug"] as const)("argo x virtio-blk (%s)", (build) => {
  it("smoke", () => {
    for (const variant of ["buffered", "sg"] as const) {
      const w = argoWorld({ build, variant });
      const wl = new BlkPattern(w.guest, DISK_BYTES, 4, 11);
      w.c.mark();
      const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
      console.log(variant, r, w.c.pick(PER_IO), w.c.pick(BYTES), wl.bytesVerified);
    }
  });
});
