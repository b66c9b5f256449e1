// Layout test against the real Xen public headers: a C program compiled against libxen-dev
// (test/native/xen-layout.c) prints every struct size, field offset, bit-field position and
// constant vxsim uses, under vxsim's names, and each must equal assembly/layout.ts. A missing
// compiler or header fails the test (it never skips).
import { describe, expect, it } from "vitest";
import { cMacros, once, runC } from "./native/native.ts";
import { layoutSection } from "./native/layout-source.ts";
import * as L from "../src/wasm/layout.ts";

const HEADERS = ["xen/xen.h", "xen/grant_table.h", "xen/event_channel.h", "xen/hvm/ioreq.h", "xen/argo.h"];
// Macro families vxsim mirrors completely (every member must be printed by the C program).
const FAMILIES =
  /^(GTF_|GNTMAP_|GNTST_|GNTTABOP_|GNTCOPY_|GNTTAB_RESERVED_|GNTTAB_NR_RESERVED_ENTRIES$|EVTCHNOP_|EVTCHNSTAT_|IOREQ_TYPE_|IOREQ_READ$|IOREQ_WRITE$|STATE_IOREQ_|STATE_IORESP_|XEN_ARGO_|DOMID_|VIRQ_ARGO$|NR_VIRQS$)/;
const NOT_MIRRORED: Record<string, string> = { GNTTABOP_error_msgs: "a table of message strings, not a value" };

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
    const macros = cMacros(HEADERS, ["__XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__"]);
    const family = [...macros.keys()].filter((m) => FAMILIES.test(m) && !(m in NOT_MIRRORED));
    expect(family.length).toBeGreaterThan(90);
    expect(family.filter((m) => !(vxName(m) in c))).toEqual([]);
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
