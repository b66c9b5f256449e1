// The virtio status, virtio-mmio and virtio-blk constants of assembly/layout.ts against the
// Linux uapi headers (gcc compiles test/native/virtio-abi.c; a missing compiler fails).
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { cMacros, once, runC } from "./native/native.ts";
import { layoutSection } from "./native/layout-source.ts";

const SECTION = "virtio device status, virtio-mmio, virtio-blk";
// Section constants that are not uapi macros or fields, with the reason.
const NOT_UAPI: Record<string, string> = {
  VIRTIO_MMIO_MAGIC: "the value drivers compare MagicValue with (a literal in virtio_mmio.c)",
  VIRTIO_MMIO_VERSION_2: "the modern layout's Version value",
  VIRTIO_MMIO_QUEUE_RESET: "1.2 register, missing from older headers (checked when present)",
  VIRTIO_MMIO_WINDOW_SIZE: "libxl's VIRTIO_MMIO_DEV_SIZE",
  VIRTIO_BLK_SECTOR_SIZE: "the spec's fixed 512-byte sector",
};
// Header macros of the three families vxsim does not mirror, with the reason.
const NOT_MIRRORED = new Set([
  "VIRTIO_BLK_F_BARRIER", "VIRTIO_BLK_F_SCSI", "VIRTIO_BLK_F_WCE", "VIRTIO_BLK_F_SECURE_ERASE", "VIRTIO_BLK_F_ZONED",
  "VIRTIO_BLK_F_LIFETIME", "VIRTIO_BLK_T_BARRIER", "VIRTIO_BLK_T_GET_LIFETIME", "VIRTIO_BLK_S_ZONE_INVALID_CMD",
  "VIRTIO_BLK_S_ZONE_UNALIGNED_WP", "VIRTIO_BLK_S_ZONE_OPEN_RESOURCE", "VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE",
]);
const FAMILY = /^(VIRTIO_CONFIG_S_|VIRTIO_MMIO_|VIRTIO_BLK_[FTS]_|VIRTIO_BLK_ID_BYTES$)/;

const native = once(() => JSON.parse(runC("virtio-abi.c")) as Record<string, number>);

describe("virtio status, virtio-mmio and virtio-blk ABI vs the uapi headers", () => {
  it("has every value printed by C", () => {
    const ts = L as unknown as Record<string, number>;
    const wrong = Object.entries(native()).filter(([n, v]) => ts[n] !== v).map(([n, v]) => `${n}: uapi ${v}, vxsim ${ts[n]}`);
    expect(wrong).toEqual([]);
  });

  it("checks every constant of the layout section", () => {
    const c = native();
    const unchecked = layoutSection(SECTION).filter((n) => !(n in c) && !(n in NOT_UAPI));
    expect(unchecked).toEqual([]);
  });

  it("mirrors every macro of the modelled families (zoned and legacy ones excepted)", () => {
    const macros = cMacros(["linux/virtio_config.h", "linux/virtio_mmio.h", "linux/virtio_blk.h"]);
    const c = native();
    const missing = [...macros.keys()].filter((m) => FAMILY.test(m) && !NOT_MIRRORED.has(m) && !/^VIRTIO_BLK_[TS]_ZONE/.test(m) && !(m in c));
    expect(missing).toEqual([]);
  });

  it("knows the magic as the bytes 'virt'", () => {
    expect(new TextDecoder().decode(new Uint8Array(new Uint32Array([L.VIRTIO_MMIO_MAGIC]).buffer))).toBe("virt");
  });
});
