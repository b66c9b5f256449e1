import { describe, expect, it } from "vitest";
import { Machine } from "../src/wasm/machine.ts";
import { Hypervisor } from "../src/xen/hypervisor.ts";
import { Xenstore } from "../src/xen/xenstore.ts";
import type { XsClient } from "../src/xen/xenstore-client.ts";
import {
  XS_DIRECTORY, XS_READ, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_WATCH, XS_WATCH_EVENT, XS_WRITE,
  xsTypeName, type XsResult,
} from "../src/xen/xenstore-wire.ts";
import {
  XenbusState as S, backendPath, checkTransition, frontendPath, parseState, runXenbus,
  toolstackAddDevice, toolstackDestroyDevice, toolstackRemoveDevice, type XenbusDevice,
} from "../src/xen/xenbus.ts";
import { XenbusBackend, XenbusFrontend, type BackendConfig, type FrontendRing } from "../src/xen/xenbus-drivers.ts";

const RAM = 64;

function ok<T>(r: XsResult<T>): T {
  if (!r.ok) throw new Error(`expected success, got ${r.error}`);
  return r.value;
}

function world(build: "release" | "debug") {
  const hv = new Hypervisor({ machine: new Machine({ build }) });
  const xs = hv.register(new Xenstore(hv, { trace: true }));
  hv.createDomain({ name: "dom0", ramPages: RAM, control: true });
  hv.createDomain({ name: "guest", ramPages: RAM });
  hv.createDomain({ name: "netdd", ramPages: RAM, driverDomain: true });
  return { hv, xs, ts: xs.toolstack };
}

/** The wire exchange of one connection as [direction, type, payload length]. */
type Wire = [string, string, number];
const bytes = (s: string) => new TextEncoder().encode(s).length;
const req = (type: number, ...args: string[]): Wire => ["req", xsTypeName(type), bytes(args.map((a) => a + "\0").join(""))];
const write = (path: string, value: string): Wire => ["req", "WRITE", bytes(path) + 1 + bytes(value)];
const rsp = (type: number, raw: string): Wire => ["rsp", xsTypeName(type), bytes(raw)];
const OK = "OK\0";
/** Linux's xenbus_switch_state: a transaction reading then writing our state. */
const switchState = (node: string, from: number, to: number, tx: number): Wire[] => [
  req(XS_TRANSACTION_START, ""), rsp(XS_TRANSACTION_START, `${tx}\0`),
  req(XS_READ, `${node}/state`), rsp(XS_READ, String(from)),
  write(`${node}/state`, String(to)), rsp(XS_WRITE, OK),
  req(XS_TRANSACTION_END, "T"), rsp(XS_TRANSACTION_END, OK),
];
const framed = (ws: Wire[], dir: string) => ws.filter((w) => w[0] === dir).reduce((s, w) => s + 16 + w[2], 0);

function exchangeOf(xs: Xenstore, connId: number, from = 0): Wire[] {
  return xs.trace!.filter((t) => t.conn === connId).slice(from).map((t) => [t.dir, xsTypeName(t.type), t.len]);
}

const vbd: XenbusDevice = { type: "vbd", devid: 51712, frontend: 1, backend: 0 };

describe.each(["release", "debug"] as const)("xenbus (%s machine)", (build) => {
  describe("the toolstack's device directories", () => {
    it("creates both ends at Initialising, cross-linked, each readable by the other only", () => {
      const { xs, ts } = world(build);
      ok(toolstackAddDevice(ts, vbd, { backend: { params: "disk.img" } }));
      const fe = frontendPath(vbd);
      const be = backendPath(vbd);
      expect(fe).toBe("/local/domain/1/device/vbd/51712");
      expect(be).toBe("/local/domain/0/backend/vbd/1/51712");
      const g = xs.client(1);
      expect(ok(g.getPerms(fe))).toEqual(["n1", "r0"]);
      expect(ok(g.read(`${fe}/backend`))).toBe(be);
      expect(ok(g.read(`${fe}/backend-id`))).toBe("0");
      expect(ok(g.read(`${fe}/state`))).toBe("1");
      expect(ok(g.getPerms(be))).toEqual(["n0", "r1"]);
      expect(ok(g.read(`${be}/frontend`))).toBe(fe);
      expect(ok(g.read(`${be}/params`))).toBe("disk.img");
      expect(g.write(`${be}/state`, "4")).toEqual({ ok: false, error: "EACCES" });
      expect(ok(g.getPerms(`${fe}/state`))).toEqual(["n1", "r0"]);
      expect(xs.client(2).read(`${fe}/state`)).toEqual({ ok: false, error: "EACCES" });
    });
  });

  describe("legal transitions", () => {
    it("follow the state graph and the connect preconditions", () => {
      expect(checkTransition("backend", S.Initialising, S.InitWait, S.Initialising)).toBeUndefined();
      expect(checkTransition("frontend", S.Initialising, S.Initialised, S.InitWait)).toBeUndefined();
      expect(checkTransition("backend", S.InitWait, S.Connected, S.Initialised)).toBeUndefined();
      expect(checkTransition("frontend", S.Initialised, S.Connected, S.Connected)).toBeUndefined();
      expect(checkTransition("frontend", S.Initialising, S.Connected, S.InitWait)).toBeUndefined(); // netfront
      expect(checkTransition("frontend", S.Connected, S.Closing, S.Connected)).toBeUndefined();
      expect(checkTransition("backend", S.Closed, S.InitWait, S.Initialising)).toBeUndefined();
      expect(checkTransition("frontend", S.Initialised, S.Connected, S.InitWait)).toBeUndefined();
      expect(checkTransition("frontend", S.Initialising, S.Connected, S.Initialising)).toBe(
        "frontend Initialising -> Connected: backend is Initialising, neither InitWait nor Connected",
      );
      expect(checkTransition("backend", S.InitWait, S.Connected, S.Initialising)).toBe(
        "backend InitWait -> Connected: frontend is Initialising, has not published its ring",
      );
      expect(checkTransition("frontend", S.Closed, S.Connected, S.Connected)).toBe("frontend Closed -> Connected: not a legal transition");
      expect(checkTransition("backend", S.Connected, S.InitWait, S.Connected)).toBe("backend Connected -> InitWait: not a legal transition");
      expect(checkTransition("frontend", S.Closing, S.Initialised, S.Closed)).toBe("frontend Closing -> Initialised: not a legal transition");
      expect(checkTransition("frontend", S.Connected, 9, S.Connected)).toBe("frontend Connected -> invalid(9): not a XenbusState");
      expect(checkTransition("frontend", S.Connected, 0, S.Connected)).toBe("frontend Connected -> Unknown: not a XenbusState");
      expect(parseState("4")).toBe(4);
      for (const bad of ["", "9", "44", "-1", "x", " 4"]) expect(parseState(bad), bad).toBeUndefined();
    });

    it("are refused by switchState as a value, writing nothing", () => {
      const { xs, ts } = world(build);
      ok(toolstackAddDevice(ts, vbd));
      const fe = new XenbusFrontend(xs.client(1), vbd, { ringRefs: [8], eventChannel: 5 });
      expect(fe.probe()).toEqual({ ok: true });
      const r = fe.switchState(S.Connected);
      expect(r).toEqual({ ok: false, error: "frontend Initialising -> Connected: backend is Unknown, neither InitWait nor Connected" });
      expect(fe.errors).toEqual([r.ok ? "" : r.error]);
      expect(ok(xs.client(1).read(`${frontendPath(vbd)}/state`))).toBe("1");
      expect(fe.state).toBe(S.Initialising);
    });
  });

  describe("startup and teardown, domU frontend and dom0 backend", () => {
    it("reaches Connected in the canonical order with the exact wire traffic, then closes", () => {
      const { xs, ts } = world(build);
      ok(toolstackAddDevice(ts, vbd));
      const mapped: FrontendRing[] = [];
      const unmapped: FrontendRing[] = [];
      const be = new XenbusBackend(xs.client(0), vbd, {
        features: { "feature-flush-cache": "1" },
        properties: { sectors: "2048" },
        connectRing: (r) => void mapped.push(r),
        disconnectRing: (r) => void unmapped.push(r),
      });
      const fe = new XenbusFrontend(xs.client(1), vbd, { ringRefs: [8], eventChannel: 5 });
      expect(be.probe()).toEqual({ ok: true });
      expect(be.state).toBe(S.InitWait);
      expect(fe.probe()).toEqual({ ok: true });
      expect(runXenbus([fe, be])).toBe(3);

      expect(fe.transitions).toEqual([[S.Initialising, S.Initialised], [S.Initialised, S.Connected]]);
      expect(be.transitions).toEqual([[S.Initialising, S.InitWait], [S.InitWait, S.Connected]]);
      expect([fe.errors, be.errors]).toEqual([[], []]);
      expect(mapped).toEqual([{ ringRefs: [8], ringPageOrder: 0, eventChannel: 5 }]);
      expect(fe.backendFeatures).toEqual({ "feature-flush-cache": "1" });
      expect(fe.backendProperties).toEqual({ "feature-flush-cache": "1", sectors: "2048" });

      // The frontend's whole conversation, message by message.
      const F = frontendPath(vbd);
      const B = backendPath(vbd);
      const T = `frontend:${F}`;
      const bookkeeping = "frontend\0frontend-id\0online\0state\0";
      const expected: Wire[] = [
        req(XS_READ, `${F}/backend-id`), rsp(XS_READ, "0"),
        req(XS_READ, `${F}/backend`), rsp(XS_READ, B),
        req(XS_WATCH, `${B}/state`, T), rsp(XS_WATCH, OK), rsp(XS_WATCH_EVENT, `${B}/state\0${T}\0`),
        req(XS_READ, `${B}/state`), rsp(XS_READ, "2"),
        req(XS_DIRECTORY, B), rsp(XS_DIRECTORY, `${bookkeeping}feature-flush-cache\0`),
        req(XS_READ, `${B}/feature-flush-cache`), rsp(XS_READ, "1"),
        req(XS_TRANSACTION_START, ""), rsp(XS_TRANSACTION_START, "1\0"),
        write(`${F}/ring-ref`, "8"), rsp(XS_WRITE, OK),
        write(`${F}/event-channel`, "5"), rsp(XS_WRITE, OK),
        req(XS_TRANSACTION_END, "T"), rsp(XS_TRANSACTION_END, OK),
        ...switchState(F, S.Initialising, S.Initialised, 2),
        rsp(XS_WATCH_EVENT, `${B}/state\0${T}\0`),
        req(XS_READ, `${B}/state`), rsp(XS_READ, "4"),
        req(XS_DIRECTORY, B), rsp(XS_DIRECTORY, `${bookkeeping}feature-flush-cache\0sectors\0`),
        req(XS_READ, `${B}/feature-flush-cache`), rsp(XS_READ, "1"),
        req(XS_READ, `${B}/sectors`), rsp(XS_READ, "2048"),
        ...switchState(F, S.Initialised, S.Connected, 3),
      ];
      const feConn = xs.connection(1)!.id;
      expect(exchangeOf(xs, feConn)).toEqual(expected);
      // What crossed the ring page, measured there, matches the framing of that exchange.
      const s1 = xs.stats(1);
      expect(s1).toMatchObject({ reqMsgs: 22, rspMsgs: 24, events: 2 });
      expect(s1.reqBytes).toBe(framed(expected, "req"));
      expect(s1.rspBytes).toBe(framed(expected, "rsp"));
      expect([s1.reqBytes, s1.rspBytes]).toEqual([1091, 744]); // 22 requests, 22 replies + 2 events
      // The backend's side, from its own trace.
      const beConn = xs.connection(0)!.id;
      const beWire = exchangeOf(xs, beConn);
      const s0 = xs.stats(0);
      expect(s0.reqBytes).toBe(framed(beWire, "req"));
      expect(s0.rspBytes).toBe(framed(beWire, "rsp"));
      // probe 3 + features tx 3 + InitWait 4; per frontend event a state read (3); connect:
      // ring-page-order (absent), ring-ref, event-channel 3 + properties tx 3 + Connected 4
      expect(s0).toMatchObject({ reqMsgs: 23, rspMsgs: 26, events: 3 });
      // dom0 (the backend) reads the published ring-ref; the nodes are the frontend's
      expect(ok(xs.client(0).read(`${F}/ring-ref`))).toBe("8");
      expect(ok(xs.client(0).getPerms(`${F}/ring-ref`))).toEqual(["n1", "r0"]);

      // Frontend-initiated teardown: Closing -> backend Closing -> both Closed.
      const mark = exchangeOf(xs, feConn).length;
      const s1b = xs.stats(1);
      expect(fe.close()).toEqual({ ok: true });
      runXenbus([fe, be]);
      expect(fe.transitions.slice(2)).toEqual([[S.Connected, S.Closing], [S.Closing, S.Closed]]);
      expect(be.transitions.slice(2)).toEqual([[S.Connected, S.Closing], [S.Closing, S.Closed]]);
      expect(unmapped).toEqual(mapped);
      expect(be.unregistered).toBe(false); // still online: the toolstack did not ask for removal
      const teardown: Wire[] = [
        ...switchState(F, S.Connected, S.Closing, 4),
        rsp(XS_WATCH_EVENT, `${B}/state\0${T}\0`),
        req(XS_READ, `${B}/state`), rsp(XS_READ, "5"),
        ...switchState(F, S.Closing, S.Closed, 5),
        rsp(XS_WATCH_EVENT, `${B}/state\0${T}\0`),
        req(XS_READ, `${B}/state`), rsp(XS_READ, "6"),
      ];
      expect(exchangeOf(xs, feConn, mark)).toEqual(teardown);
      expect(xs.stats(1).reqBytes - s1b.reqBytes).toBe(framed(teardown, "req"));
      expect(xs.stats(1).rspBytes - s1b.rspBytes).toBe(framed(teardown, "rsp"));
    });

    it("tears down when the toolstack removes the device, then deletes both directories", () => {
      const { xs, ts } = world(build);
      ok(toolstackAddDevice(ts, vbd));
      const be = new XenbusBackend(xs.client(0), vbd);
      const fe = new XenbusFrontend(xs.client(1), vbd, { ringRefs: [8], eventChannel: 5 });
      be.probe();
      fe.probe();
      runXenbus([fe, be]);
      expect([fe.state, be.state]).toEqual([S.Connected, S.Connected]);
      ok(toolstackRemoveDevice(ts, vbd));
      runXenbus([fe, be]);
      expect(fe.state).toBe(S.Closed);
      expect(be.state).toBe(S.Closed);
      expect(be.unregistered).toBe(true); // offline and closed
      expect(be.transitions.at(-1)).toEqual([S.Connected, S.Closed]); // its node said Closing; it never wrote it
      ok(toolstackDestroyDevice(ts, vbd));
      expect(xs.node(frontendPath(vbd))).toBeUndefined();
      expect(xs.node(backendPath(vbd))).toBeUndefined();
      runXenbus([fe, be]); // the removals fire both watches; nothing more happens
      expect([fe.errors, be.errors]).toEqual([[], []]);
    });
  });

  describe("a driver-domain backend", () => {
    const vif: XenbusDevice = { type: "vif", devid: 0, frontend: 1, backend: 2 };

    function connectVif(build: "release" | "debug", cfg: BackendConfig = {}, fcfg = {}) {
      const w = world(build);
      ok(toolstackAddDevice(w.ts, vif));
      const be = new XenbusBackend(w.xs.client(2), vif, { features: { "feature-rx-copy": "1" }, ...cfg });
      const fe = new XenbusFrontend(w.xs.client(1), vif, { ringRefs: [20], eventChannel: 7, ...fcfg });
      be.probe();
      fe.probe();
      runXenbus([fe, be]);
      return { ...w, be, fe };
    }

    it("connects with each side owning what it writes and reading only the other's device", () => {
      const { xs, be, fe } = connectVif(build);
      expect([fe.state, be.state]).toEqual([S.Connected, S.Connected]);
      const dd: XsClient = xs.client(2);
      expect(ok(dd.getPerms(backendPath(vif)))).toEqual(["n2", "r1"]);
      expect(ok(dd.getPerms(`${backendPath(vif)}/feature-rx-copy`))).toEqual(["n2", "r1"]);
      expect(ok(dd.getPerms(`${frontendPath(vif)}/ring-ref`))).toEqual(["n1", "r2"]);
      expect(ok(dd.read(`${frontendPath(vif)}/event-channel`))).toBe("7");
      expect(dd.read("/local/domain/1/name")).toEqual({ ok: false, error: "EACCES" });
      expect(xs.client(1).read("/local/domain/2/name")).toEqual({ ok: false, error: "EACCES" });
      expect(be.ring).toEqual({ ringRefs: [20], ringPageOrder: 0, eventChannel: 7 });
    });

    it("closes the backend when the frontend domain dies, and the frontend when the backend domain dies", () => {
      const a = connectVif(build);
      a.hv.destroyDomain(1);
      runXenbus([a.be]);
      expect(a.be.state).toBe(S.Closed);
      expect(a.be.unregistered).toBe(true);
      expect(a.be.ring).toBeUndefined();
      expect(a.be.errors).toEqual([]);

      const b = connectVif(build);
      b.hv.destroyDomain(2);
      expect(runXenbus([b.fe])).toBe(2);
      expect(b.fe.state).toBe(S.Closed);
      expect(b.fe.transitions.at(-1)).toEqual([S.Connected, S.Closed]);
      expect(b.xs.node(backendPath(vif))).toBeUndefined();
    });

    it("supports netfront's order (Connected straight after publishing) and a backend skipping InitWait", () => {
      const n = connectVif(build, {}, { skipInitialised: true });
      expect(n.fe.transitions).toEqual([[S.Initialising, S.Connected]]);
      expect(n.be.transitions).toEqual([[S.Initialising, S.InitWait], [S.InitWait, S.Connected]]);
      expect(n.fe.connected).toBe(true);

      const k = connectVif(build, { skipInitWait: true }, { publishAtProbe: true });
      expect(k.be.transitions).toEqual([[S.Initialising, S.Connected]]);
      expect(k.fe.transitions).toEqual([[S.Initialising, S.Initialised], [S.Initialised, S.Connected]]);
    });

    it("maps multi-page rings within the backend's max-ring-page-order", () => {
      const { be, fe } = connectVif(build, { features: { "max-ring-page-order": "2" } }, { ringRefs: [10, 11, 12, 13] });
      expect([fe.state, be.state]).toEqual([S.Connected, S.Connected]);
      expect(be.ring).toEqual({ ringRefs: [10, 11, 12, 13], ringPageOrder: 2, eventChannel: 7 });
      expect(() => new XenbusFrontend(be.client, vif, { ringRefs: [1, 2, 3], eventChannel: 1 })).toThrow(/power of two/);
      expect(() => new XenbusFrontend(be.client, vif, { ringRefs: [-1], eventChannel: 1 })).toThrow(/grant refs/);
      expect(() => new XenbusFrontend(be.client, vif, { ringRefs: [1], eventChannel: 1.5 })).toThrow(/port/);
    });
  });

  describe("a misbehaving peer is reported, never a crash", () => {
    function hostileFront(build: "release" | "debug", nodes: Record<string, string>, cfg: BackendConfig = {}) {
      const { xs, ts } = world(build);
      ok(toolstackAddDevice(ts, vbd));
      const be = new XenbusBackend(xs.client(0), vbd, cfg);
      be.probe();
      const g = xs.client(1);
      for (const [k, v] of Object.entries(nodes)) ok(g.write(`${frontendPath(vbd)}/${k}`, v));
      ok(g.write(`${frontendPath(vbd)}/state`, "3"));
      runXenbus([be]);
      return { xs, be };
    }

    it("a bad or missing ring-ref, event channel or ring order makes the backend fail the device", () => {
      const cases: [Record<string, string>, string][] = [
        [{ "event-channel": "5" }, "reading ring-ref: missing"],
        [{ "ring-ref": "x8", "event-channel": "5" }, 'reading ring-ref: "x8" is not a grant ref'],
        [{ "ring-ref": "8" }, "reading event-channel: missing"],
        [{ "ring-ref": "8", "event-channel": "99999999999" }, 'reading event-channel: "99999999999" is not a port'],
        [{ "ring-page-order": "3", "ring-ref0": "1", "event-channel": "5" }, 'ring-page-order "3" not supported (max 0)'],
      ];
      for (const [nodes, msg] of cases) {
        const { xs, be } = hostileFront(build, nodes);
        expect(be.errors, msg).toEqual([`backend ${backendPath(vbd)}: ${msg}`]);
        expect(be.state).toBe(S.Closing);
        expect(be.ring).toBeUndefined();
        expect(ok(xs.client(0).read(`/local/domain/0/error/backend/vbd/1/51712/error`))).toBe(msg);
      }
    });

    it("a ring the backend cannot map fails the device", () => {
      const { be } = hostileFront(build, { "ring-ref": "8", "event-channel": "5" }, { connectRing: () => "GNTST_bad_gntref" });
      expect(be.errors).toEqual([`backend ${backendPath(vbd)}: mapping ring: GNTST_bad_gntref`]);
      expect(be.state).toBe(S.Closing);
    });

    it("a state node holding garbage is a reported protocol error", () => {
      const { xs, ts } = world(build);
      ok(toolstackAddDevice(ts, vbd));
      const fe = new XenbusFrontend(xs.client(1), vbd, { ringRefs: [8], eventChannel: 5 });
      fe.probe();
      runXenbus([fe]);
      ok(xs.client(0).write(`${backendPath(vbd)}/state`, "banana"));
      runXenbus([fe]);
      expect(fe.errors).toEqual([`frontend ${frontendPath(vbd)}: peer state "banana" is not a XenbusState`]);
      expect(fe.state).toBe(S.Initialising);
    });

    it("a frontend whose device directory is missing fails its probe with a clear error", () => {
      const { xs } = world(build);
      const fe = new XenbusFrontend(xs.client(1), vbd, { ringRefs: [8], eventChannel: 5 });
      expect(fe.probe()).toEqual({ ok: false, error: `frontend ${frontendPath(vbd)}: cannot read backend details (ENOENT)` });
    });
  });
});
