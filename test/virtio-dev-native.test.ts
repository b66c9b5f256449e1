// Checks the virtio-net / virtio-rng constants of assembly/layout.ts against the real uapi
// headers: a C program compiled against <linux/virtio_ids.h> and <linux/virtio_net.h> prints
// them under vxsim's names.
import { describe, expect, it } from "vitest";
import { once, runC } from "./native/native.ts";
import { layoutSection } from "./native/layout-source.ts";
import * as L from "../src/wasm/layout.ts";

const SECTION = "virtio devices: net and rng";
// Spec values newer than some uapi headers; checked whenever the header defines them.
const SPEC_ONLY = new Set(["VIRTIO_NET_F_HOST_USO", "VIRTIO_NET_HDR_GSO_UDP_L4"]);

const native = once(() => (JSON.parse(runC("virtio-dev.c")) as { constants: Record<string, number> }).constants);

describe("virtio device uapi constants vs assembly/layout.ts", () => {
  it("has every value printed by C", () => {
    const c = native();
    const ts = L as unknown as Record<string, number>;
    const wrong = Object.entries(c).filter(([name, v]) => ts[name] !== v).map(([name, v]) => `${name}: uapi ${v}, vxsim ${ts[name]}`);
    expect(wrong).toEqual([]);
  });

  it("checks every constant of the section", () => {
    const c = native();
    const unchecked = layoutSection(SECTION).filter((n) => !(n in c) && !SPEC_ONLY.has(n));
    expect(unchecked).toEqual([]);
  });

  it("keeps the spec-only values at their spec numbers", () => {
    expect(L.VIRTIO_NET_F_HOST_USO).toBe(56);
    expect(L.VIRTIO_NET_HDR_GSO_UDP_L4).toBe(5);
  });
});
