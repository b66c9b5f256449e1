// `vxsim exposure` and the hostile-backend probe behind it. The command's table is kept in
// docs/transports.md between marker comments: the test runs the command and requires the page
// to hold exactly its output, so the doc cannot go stale. The probe's denials are checked
// exactly for a grant transport, argo and mmio-foreign.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { hostileBackendSpec, runHostileBackend, runHostileBackendLeastPrivileged } from "../src/run/hostile-backend.ts";
import { EXPOSURE_COLUMNS, EXPOSURE_PROFILE, EXPOSURE_TRANSPORTS } from "../src/run/exposure-table.ts";

function vxsim(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "exposure", ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const probe = (transport: string) => runHostileBackendLeastPrivileged(hostileBackendSpec(transport, EXPOSURE_PROFILE));
const denied = (status: string) => ({ open: false, read: false, write: false, status });
const rw = { open: true, read: true, write: true, status: "ok" };

describe("vxsim exposure", () => {
  it("docs/transports.md holds exactly the command's current output", () => {
    const r = vxsim("--quiet");
    expect(r.status).toBe(0);
    const doc = readFileSync("docs/transports.md", "utf8");
    const m = /<!-- vxsim exposure: begin -->\n```text\n([\s\S]*?)\n```\n<!-- vxsim exposure: end -->/.exec(doc);
    expect(m, "the marker comments around the table").not.toBeNull();
    expect(m![1] + "\n").toBe(r.stdout);
  });

  it("--json gives one row per transport with the probes' results; --csv the printed columns; an unknown transport exits 2", () => {
    const j = vxsim("--json", "--transports", "argo:sg,grant-copy");
    expect(j.status).toBe(0);
    const rows = JSON.parse(j.stdout) as { transport: string; backend: { placement: { backend: string } }; doubleFetch: { observed: { bytesChanged: number } } }[];
    expect(rows.map((x) => [x.transport, x.backend.placement.backend, x.doubleFetch.observed.bytesChanged])).toEqual([["argo:sg", "driver-domain", 0], ["grant-copy", "driver-domain", 0]]);
    const c = vxsim("--csv", "--transports", "kvm-ioeventfd");
    expect(c.status).toBe(0);
    const [head, row] = c.stdout.trim().split("\n");
    for (const col of EXPOSURE_COLUMNS) expect(head).toContain(col);
    expect(head).toContain("denials.foreign");
    expect(row!.startsWith("kvm-ioeventfd,host VMM,4096,4096,4096,")).toBe(true);
    expect(head).toContain("completed.kept grant map");
    const bad = vxsim("--transports", "grant-mop");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`unknown transport(s) grant-mop; expected some of ${EXPOSURE_TRANSPORTS.join(", ")}`);
  });
});

describe("hostile backend probe", () => {
  it("grant-map in a driver domain (device-model rights, no map_gmfn_foreign): the I/O's mapping, a foreign map and the ended grant ref are all refused", () => {
    const { result: r, refused } = probe("grant-map");
    expect(refused).toEqual([]);
    // Flask refuses the foreign map (-EACCES, XSM's answer), so only what the guest grants is reachable.
    expect([r.placement, r.backendDomid, r.exposure]).toEqual([{ backend: "driver-domain", noForeignMap: false }, 3, { reachable: 3, mapped: 3, mappedPeak: 6 }]);
    expect(r.probe).toEqual({ held: denied("no mapping"), foreignMap: denied("-EACCES") });
    // ...but a mapping the backend made itself during the I/O and kept still writes the data
    // after completion; the guest's one end of access that failed is all it sees.
    expect(r.completed).toEqual({
      duringIo: denied("MST_NOT_MAPPED"), kept: rw, endAccessRefused: 1, held: denied("no mapping"), foreignMap: denied("-EACCES"), grantRef: denied("GNTST_GENERAL_ERROR"),
    });
    // The stale read and write refused by the machine; 2 foreign maps refused by XSM; the map
    // of the ended grant ref refused by Xen.
    expect(r.denials).toEqual({ machine: 2, readOnly: 0, foreign: 2, xsm: 2, grant: 1 });
  });

  it("grant-copy: the device never maps, yet the grant can be mapped and kept; grant-persistent's kept ref is a pool page", () => {
    const gc = probe("grant-copy").result.completed;
    expect([gc.duringIo, gc.kept, gc.endAccessRefused, gc.grantRef]).toEqual([undefined, rw, 1, denied("GNTST_GENERAL_ERROR")]);
    const gp = probe("grant-persistent").result.completed;
    expect([gp.kept, gp.endAccessRefused, gp.grantRef]).toEqual([{ open: true, read: false, write: false, status: "ok" }, 0, { open: true, read: false, write: false, status: "ok" }]);
  });

  it("argo in a driver domain: no mapping at all, every foreign map refused by XSM", () => {
    const { result: r, refused } = probe("argo:sg");
    expect(refused).toEqual([]);
    expect([r.placement.backend, r.exposure]).toEqual(["driver-domain", { reachable: 0, mapped: 0, mappedPeak: 0 }]);
    expect(r.probe).toEqual({ held: denied("no mapping"), foreignMap: denied("-EACCES") });
    expect(r.completed).toEqual({ duringIo: undefined, kept: undefined, endAccessRefused: 0, held: denied("no mapping"), foreignMap: denied("-EACCES"), grantRef: undefined });
    expect(r.denials).toEqual({ machine: 0, readOnly: 0, foreign: 2, xsm: 2, grant: 0 });
  });

  it("argo and grant-map with the backend in dom0: the privilege reaches any page", () => {
    for (const t of ["argo:sg", "grant-map"]) {
      const r = runHostileBackend(hostileBackendSpec(t, EXPOSURE_PROFILE), { backend: "dom0", noForeignMap: false });
      expect([t, r.probe.foreignMap, r.completed.foreignMap, r.denials.foreign, r.denials.xsm]).toEqual([t, rw, rw, 0, 0]);
    }
  });

  it("mmio-foreign in its stub domain: the I/O's mapping is gone, but the target privilege maps and changes both pages", () => {
    const { result: r, refused } = probe("mmio-foreign");
    expect(refused.map((x) => x.placement)).toEqual(["driver-domain", "stubdom, XSM without map_gmfn_foreign"]);
    expect(refused[1]!.why).toMatch(/XSM map_gmfn_foreign denied/);
    expect([r.placement, r.exposure]).toEqual([{ backend: "stubdom", noForeignMap: false }, { reachable: 4096, mapped: 3, mappedPeak: 5 }]);
    expect(r.probe).toEqual({ held: denied("no mapping"), foreignMap: rw });
    expect(r.completed).toEqual({ duringIo: denied("MST_NOT_MAPPED"), kept: undefined, endAccessRefused: 0, held: denied("no mapping"), foreignMap: rw, grantRef: undefined });
    expect(r.denials).toEqual({ machine: 2, readOnly: 0, foreign: 0, xsm: 0, grant: 0 });
  });
});
