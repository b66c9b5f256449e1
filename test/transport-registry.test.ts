// The transport registry is the one list of transports: every spelling the vocabulary accepts
// comes from it, and what an entry says of its transport (the Xen subsystems it needs, whether
// its backend reads shared memory, the platform's features) is what the transport does.
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { buildWorld } from "../src/run/world.ts";
import { parseTransport, transportName, TRANSPORT_SPELLINGS } from "../src/scenario/vocabulary.ts";
import { TRANSPORTS, TRANSPORT_VARIANT_NAMES, transportEntry } from "../src/transports/registry.ts";
import { TRANSPORT_IDS, TransportSetupError } from "../src/transports/types.ts";
import { COPYING, SHARED } from "../src/experiments/c7-double-fetch.ts";

describe("transport registry", () => {
  it("has an entry per id, and every spelling parses to the entry it names and back", () => {
    expect(Object.keys(TRANSPORTS).sort()).toEqual([...TRANSPORT_IDS].sort());
    expect(TRANSPORT_VARIANT_NAMES).toEqual([
      "kvm-ioeventfd", "mmio-foreign", "grant-map", "grant-copy", "grant-persistent", "argo:buffered", "argo:sg", "pv-p2m",
      "fat-virtqueue", "preshared-bounce",
    ]);
    expect(TRANSPORT_SPELLINGS).toEqual([...TRANSPORT_IDS, "argo:buffered", "argo:sg"].sort());
    for (const name of TRANSPORT_VARIANT_NAMES) expect(transportName(parseTransport(name)!)).toBe(name);
    // A bare id with variants means its first one; a variant on a transport without any is refused.
    expect(parseTransport("argo")).toEqual({ id: "argo", variant: "buffered" });
    expect(parseTransport("grant-map:sg")).toBeUndefined();
    expect(parseTransport("argo:owl")).toBeUndefined();
    expect(transportEntry("virtio-owl:sg")).toBeUndefined();
  });

  it("splits transports as the double-fetch claim does: only grant-copy and argo hand the backend a copy", () => {
    expect([...COPYING]).toEqual(["grant-copy", "argo:buffered", "argo:sg"]);
    expect([...SHARED]).toEqual(["kvm-ioeventfd", "mmio-foreign", "grant-map", "grant-persistent", "pv-p2m", "fat-virtqueue", "preshared-bounce"]);
  });

  it("offers ACCESS_PLATFORM exactly for the grant-DMA transports, and the driver negotiates it", () => {
    const bit = 1n << BigInt(L.VIRTIO_F_ACCESS_PLATFORM);
    for (const id of TRANSPORT_IDS) expect([id, TRANSPORTS[id].platformFeatures]).toEqual([id, id.startsWith("grant-") ? bit : 0n]);
    const w = buildWorld({ transport: "grant-copy", arch: "x86-64", device: "blk" });
    try {
      expect(w.drivers[0]!.features & bit).toBe(bit);
    } finally {
      w.close();
    }
  });

  it.each(TRANSPORT_IDS.filter((id) => TRANSPORTS[id].needs.length > 0))("%s is built only in a world that started what its entry needs", (id) => {
    const what = { "grant-tables": "grant tables", argo: "Argo", xenstore: "xenstore" };
    const w = buildWorld({ transport: id, arch: "x86-64", device: "blk" });
    try {
      const env = w.env!;
      expect({ gt: env.gt !== undefined, argo: env.argo !== undefined, xenstore: env.xenstore !== undefined }).toEqual({
        gt: TRANSPORTS[id].needs.includes("grant-tables"), argo: TRANSPORTS[id].needs.includes("argo"), xenstore: TRANSPORTS[id].needs.includes("xenstore"),
      });
      const bare = { ...env, gt: undefined, argo: undefined, xenstore: undefined };
      const site = { choice: { id }, env: bare, guest: 1, backend: 0, device: w.transports[0]!.device };
      const err = (() => { try { TRANSPORTS[id].create(site); } catch (e) { return e; } })();
      expect(err).toBeInstanceOf(TransportSetupError);
      expect((err as Error).message).toBe(`${id}: the world has no ${what[TRANSPORTS[id].needs[0]!]} for it`);
    } finally {
      w.close();
    }
  });
});
