// Layout test against the real Xen public headers: a C program compiled against libxen-dev
// (test/native/xen-layout.c) prints every struct size, field offset, bit-field position and
// constant vxsim uses, under vxsim's names, and each must equal assembly/layout.ts. A missing
// compiler or header fails the test (it never skips).
import { describe, expect, it } from "vitest";
import { cMacros, once, runC } from "./native/native.ts";
import { layoutSection } from "./native/layout-source.ts";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as L from "../src/wasm/layout.ts";

const HEADERS = [
  "errno.h", "xen/xen.h", "xen/errno.h", "xen/grant_table.h", "xen/event_channel.h", "xen/hvm/ioreq.h", "xen/argo.h", "xen/memory.h",
  "xen/hvm/hvm_op.h", "xen/hvm/dm_op.h", "xen/io/xs_wire.h", "xen/io/xenbus.h",
];
// Macro families vxsim mirrors completely (every member must be printed by the C program).
const FAMILIES =
  /^(GTF_|GNTMAP_|GNTST_|GNTTABOP_|GNTCOPY_|GNTTAB_RESERVED_|GNTTAB_NR_RESERVED_ENTRIES$|EVTCHNOP_|EVTCHNSTAT_|IOREQ_TYPE_|IOREQ_READ$|IOREQ_WRITE$|STATE_IOREQ_|STATE_IORESP_|XEN_ARGO_|DOMID_|VIRQ_|NR_VIRQS$|XENMAPSPACE_|XENMAPIDX_|XENMEM_resource_|HVM_IOREQSRV_|XEN_DMOP_[a-z]|XEN_DMOP_IO_RANGE_|XENSTORE_|EVTCHN_2L_)/;
const NOT_MIRRORED: Record<string, string> = { GNTTABOP_error_msgs: "a table of message strings, not a value" };
/** Function-like macros of a family: printed at argument 0 (name + _0, the section's rule). */
const AT_ZERO = new Set(["XENMEM_resource_ioreq_server_frame_ioreq"]);

/** vxsim's name for a Xen macro (the rule at the top of the layout.ts section). */
const vxName = (macro: string) => macro.replace(/^_+/, "").toUpperCase();

const xen = once(() => JSON.parse(runC("xen-layout.c")) as Record<string, number>);

describe("Xen ABI in assembly/layout.ts vs the Xen public headers", () => {
  it("has every size, offset, bit-field and constant printed by C", () => {
    const c = xen();
    const ts = L as unknown as Record<string, number>;
    const wrong = Object.entries(c)
      .filter(([name, v]) => ts[name] !== v)
      .map(([name, v]) => `${name}: Xen ${v}, vxsim ${ts[name] ?? "missing"}`);
    expect(wrong).toEqual([]);
    expect(Object.keys(c).length).toBeGreaterThan(250);
  });

  it("checks every constant of the Xen ABI section", () => {
    const c = xen();
    const names = layoutSection("Xen ABI");
    expect(names.length).toBeGreaterThan(250);
    expect(names.filter((n) => !(n in c))).toEqual([]);
  });

  it("mirrors every macro of the families vxsim models", () => {
    const c = xen();
    const macros = cMacros(HEADERS, ["__XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__", "__XEN_TOOLS__ 1"]);
    const family = [...macros.keys()].filter((m) => FAMILIES.test(m) && !(m in NOT_MIRRORED));
    expect(family.length).toBeGreaterThan(90);
    expect(family.filter((m) => !((AT_ZERO.has(m) ? `${vxName(m)}_0` : vxName(m)) in c))).toEqual([]);
  });

  it("is the only place a Xen ABI value is written: no other source file defines one as a literal", () => {
    const abi = new Set(layoutSection("Xen ABI"));
    const src = new URL("../src/", import.meta.url).pathname;
    const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts") && f !== join("wasm", "layout.ts"));
    const found: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(src, f), "utf8");
      // A constant named after the ABI (in any case) whose value is a number, not a layout name.
      for (const m of text.matchAll(/^export const (\w+) = (-?(?:0x[0-9a-f_]+|[0-9_]+|1 << \d+));/gim)) {
        const name = m[1]!;
        if (abi.has(name.toUpperCase()) || abi.has(`XEN_${name.toUpperCase()}`) || (FAMILIES.test(name) && !/^(GNTTAB_(DEFAULT|INITIAL|UNMAP_BATCH))/.test(name))) found.push(`${f}: ${name} = ${m[2]}`);
      }
    }
    expect(found).toEqual([]);
  });

  it("agrees with the sizes listed in xen-interfaces.md section 11", () => {
    expect([L.GRANT_ENTRY_V1_SIZE, L.GNTTAB_MAP_SIZE, L.GNTTAB_UNMAP_SIZE, L.GNTTAB_SETUP_TABLE_SIZE]).toEqual([8, 32, 24, 24]);
    expect([L.GNTTAB_COPY_SIZE, L.GNTTAB_QUERY_SIZE_SIZE, L.EVTCHN_ALLOC_UNBOUND_SIZE, L.EVTCHN_BIND_INTERDOMAIN_SIZE]).toEqual([40, 16, 8, 12]);
    expect([L.EVTCHN_STATUS_SIZE, L.IOREQ_SIZE, L.ARGO_RING_SIZE, L.ARGO_RING_MESSAGE_HEADER_SIZE]).toEqual([24, 32, 64, 16]);
    expect([L.ARGO_IOV_SIZE, L.ARGO_ADDR_SIZE, L.ARGO_RING_DATA_ENT_SIZE]).toEqual([16, 8, 20]);
  });

  it("keeps the grant entry's flags and domid in one aligned 32-bit word (Xen cmpxchgs it)", () => {
    expect(L.GRANT_ENTRY_V1_FLAGS).toBe(0);
    expect(L.GRANT_ENTRY_V1_DOMID).toBe(2);
    expect(L.PAGE_SIZE / L.GRANT_ENTRY_V1_SIZE).toBe(512);
  });
});
