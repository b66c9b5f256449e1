import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Machine } from "../src/wasm/machine.ts";
import * as L from "../src/wasm/layout.ts";
import { Hypervisor } from "../src/xen/hypervisor.ts";
import { Xenstore, type XenstoreOptions } from "../src/xen/xenstore.ts";
import type { XsClient } from "../src/xen/xenstore-client.ts";
import { isValidPath } from "../src/xen/xenstore-path.ts";
import {
  XS_CONTROL, XS_GET_DOMAIN_PATH, XS_READ, XS_TRANSACTION_START, XS_WATCH, XS_WRITE, strings,
  type XsResult,
} from "../src/xen/xenstore-wire.ts";

const RAM = 64;
const STORE_GFN = RAM - 1; // default: the last RAM page

function ok<T>(r: XsResult<T>): T {
  if (!r.ok) throw new Error(`expected success, got ${r.error}`);
  return r.value;
}
const err = (r: XsResult<unknown>): string => (r.ok ? "ok" : r.error);

function setup(build: "release" | "debug", opts: XenstoreOptions = {}) {
  const hv = new Hypervisor({ machine: new Machine({ build }) });
  const xs = hv.register(new Xenstore(hv, opts));
  hv.createDomain({ name: "dom0", ramPages: RAM, control: true });
  hv.createDomain({ name: "guest1", ramPages: RAM });
  hv.createDomain({ name: "guest2", ramPages: RAM });
  const m = hv.machine;
  return {
    hv, xs, m, ts: xs.toolstack,
    get c0(): XsClient { return xs.client(0); },
    get c1(): XsClient { return xs.client(1); },
    get c2(): XsClient { return xs.client(2); },
  };
}

const wire = (payload: number) => 16 + payload;

describe.each(["release", "debug"] as const)("xenstore (%s machine)", (build) => {
  describe("domain creation by the toolstack", () => {
    it("gives each domain a home it owns, readable name and domid, and introduces it", () => {
      const { xs, c1, c2 } = setup(build);
      expect(ok(c1.getPerms("/local/domain/1"))).toEqual(["n1"]);
      expect(ok(c1.read("name"))).toBe("guest1");
      expect(ok(c1.read("/local/domain/1/domid"))).toBe("1");
      expect(ok(c1.getPerms("name"))).toEqual(["n0", "r1"]);
      expect(err(c1.write("name", "evil"))).toBe("EACCES");
      expect(ok(c1.directory("/local/domain/1"))).toEqual(["name", "domid", "device", "control", "data"]);
      expect(ok(c1.getPerms("device"))).toEqual(["n1"]);
      expect(ok(c2.getDomainPath(7))).toBe("/local/domain/7");
      expect(ok(c1.isDomainIntroduced(2))).toBe(true);
      expect(ok(c1.isDomainIntroduced(9))).toBe(false);
      expect(xs.tree.owned(1)).toBe(4); // home, device, control, data
    });

    it("puts the ring in the guest's last RAM page, maps it into xenstored's domain, and says it reports errors", () => {
      const { m, xs } = setup(build);
      const mfn = m.populate(1, STORE_GFN);
      expect(xs.connection(1)!.ring!.mfn).toBe(mfn);
      expect(m.frameRefs(mfn)).toBe(1); // dom0's foreign mapping
      const page = m.read(1, STORE_GFN * 4096, L.XENSTORE_DOMAIN_INTERFACE_SIZE);
      const dv = new DataView(page.buffer);
      expect(dv.getUint32(L.XENSTORE_DOMAIN_INTERFACE_SERVER_FEATURES, true)).toBe(L.XENSTORE_SERVER_FEATURE_ERROR);
      expect(dv.getUint32(L.XENSTORE_DOMAIN_INTERFACE_ERROR, true)).toBe(L.XENSTORE_ERROR_NONE);
      // dom0's own ring is local: nothing mapped
      expect(m.frameRefs(m.populate(0, STORE_GFN))).toBe(0);
    });
  });

  describe("operations", () => {
    it("write, read, mkdir, directory, rm, with relative and absolute paths", () => {
      const { c1 } = setup(build);
      ok(c1.write("data/a/b/c", "v1")); // creates a and a/b with empty values
      expect(ok(c1.read("/local/domain/1/data/a/b/c"))).toBe("v1");
      expect(ok(c1.read("data/a"))).toBe("");
      ok(c1.write("data/a/b/c", "v2"));
      expect(ok(c1.read("data/a/b/c"))).toBe("v2");
      ok(c1.mkdir("data/a/b/c")); // existing: left alone
      expect(ok(c1.read("data/a/b/c"))).toBe("v2");
      ok(c1.mkdir("data/a/z"));
      ok(c1.write("data/a/y", ""));
      expect(ok(c1.directory("data/a"))).toEqual(["b", "z", "y"]);
      expect(ok(c1.directory("data/a/z"))).toEqual([]);
      ok(c1.rm("data/a/b"));
      expect(err(c1.read("data/a/b/c"))).toBe("ENOENT");
      expect(err(c1.read("data/a/b"))).toBe("ENOENT");
      expect(ok(c1.directory("data/a"))).toEqual(["z", "y"]);
      ok(c1.rm("data/a/missing")); // parent exists: fine
      expect(err(c1.rm("data/nothere/missing"))).toBe("ENOENT");
    });

    it("agrees with a plain map model over random writes, mkdirs and removals (seeded)", () => {
      const names = ["a", "b", "c"];
      const paths = names.flatMap((x) => [`data/${x}`, ...names.map((y) => `data/${x}/${y}`)]);
      const op = fc.record({ kind: fc.constantFrom("write", "mkdir", "rm"), path: fc.constantFrom(...paths), v: fc.nat(99) });
      fc.assert(
        fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
          const { c1, xs } = setup(build);
          const model = new Map<string, string>([["data", ""]]);
          for (const o of ops) {
            if (o.kind === "rm") {
              const parentThere = model.has(o.path.slice(0, o.path.lastIndexOf("/")));
              expect(c1.rm(o.path)).toEqual(parentThere ? { ok: true, value: undefined } : { ok: false, error: "ENOENT" });
              for (const k of [...model.keys()]) if (k === o.path || k.startsWith(o.path + "/")) model.delete(k);
            } else {
              if (o.kind === "write") ok(c1.write(o.path, String(o.v)));
              else ok(c1.mkdir(o.path));
              const parent = o.path.slice(0, o.path.lastIndexOf("/"));
              if (!model.has(parent)) model.set(parent, "");
              if (o.kind === "write") model.set(o.path, String(o.v));
              else if (!model.has(o.path)) model.set(o.path, "");
            }
          }
          for (const p of paths) {
            const r = c1.read(p);
            if (model.has(p)) expect(r).toEqual({ ok: true, value: model.get(p) });
            else expect(r).toEqual({ ok: false, error: "ENOENT" });
          }
          return xs.tree.owned(1) === 3 + model.size; // device, control, data are 3 of the 4 home nodes
        }),
        { seed: 7, numRuns: 40 },
      );
    });

    it("keeps values as bytes, NULs included", () => {
      const { c1 } = setup(build);
      const v = Uint8Array.of(1, 0, 2, 0, 255);
      ok(c1.write("data/bin", v));
      expect(ok(c1.request(XS_READ, strings("data/bin")))).toEqual(v);
    });

    it("answers every malformed request with the protocol's error string", () => {
      const { c1, c0 } = setup(build);
      const bad = ["/a b", "/a/", "//a", "/a//b", "data/", "", "/a\u00e9", "/" + "x".repeat(2048)];
      for (const p of bad) expect(err(c1.read(p)), p).toBe("EINVAL");
      expect(err(c1.write("/bad path", "x"))).toBe("EINVAL");
      expect(err(c1.mkdir("bad!"))).toBe("EINVAL");
      expect(err(c1.rm("/x/"))).toBe("EINVAL");
      expect(err(c1.directory("a//b"))).toBe("EINVAL");
      expect(err(c1.request(XS_READ, Uint8Array.of(0x2f, 0x61)))).toBe("EINVAL"); // no NUL
      expect(err(c1.request(XS_READ, strings("/a", "/b")))).toBe("EINVAL"); // two args
      expect(err(c1.request(XS_WRITE, new TextEncoder().encode("/local/domain/1/data/x")))).toBe("EINVAL");
      expect(err(c1.request(XS_WATCH, strings("data")))).toBe("EINVAL");
      expect(err(c1.request(XS_GET_DOMAIN_PATH, strings("one")))).toBe("EINVAL");
      expect(err(c1.request(XS_CONTROL, strings("print", "x")))).toBe("ENOSYS");
      expect(err(c1.request(99, strings("")))).toBe("ENOSYS");
      expect(err(c0.rm("/"))).toBe("EINVAL");
      expect(err(c1.rm("/"))).toBe("EACCES");
    });

    it("bounds path length as xenstored: 2048 below a domain's home, 3072 absolute", () => {
      const home = "/local/domain/1/";
      expect(isValidPath(home + "a".repeat(2048))).toBe(true);
      expect(isValidPath(home + "a".repeat(2049))).toBe(false);
      expect(isValidPath("/" + "a".repeat(2047))).toBe(true);
      expect(isValidPath("/" + "a".repeat(2048))).toBe(false);
      expect(isValidPath("@releaseDomain", true)).toBe(true);
      expect(isValidPath("@releaseDomain")).toBe(false);
      fc.assert(
        fc.property(fc.string({ maxLength: 40 }), (s) => {
          const p = "/local/domain/3/" + s;
          const good = /^[A-Za-z0-9\-_@]+(\/[A-Za-z0-9\-_@]+)*$/.test(s);
          return isValidPath(p) === good;
        }),
        { seed: 42, numRuns: 500 },
      );
    });

    it("refuses payloads above 4096 bytes in the client (E2BIG), moving nothing", () => {
      const { c1, xs } = setup(build);
      const before = xs.stats(1);
      expect(err(c1.write("data/big", "x".repeat(4097)))).toBe("E2BIG");
      expect(xs.stats(1)).toEqual(before);
    });
  });

  describe("permissions", () => {
    it("keeps a domain out of another's home without telling it what exists", () => {
      const { c1, c2 } = setup(build);
      ok(c1.write("data/secret", "s"));
      expect(err(c2.read("/local/domain/1/data/secret"))).toBe("EACCES");
      expect(err(c2.read("/local/domain/1/data/none"))).toBe("EACCES"); // not ENOENT
      expect(err(c2.write("/local/domain/1/data/x", "y"))).toBe("EACCES");
      expect(err(c2.directory("/local/domain/1"))).toBe("EACCES");
      expect(err(c2.getPerms("/local/domain/1"))).toBe("EACCES");
      expect(err(c2.rm("/local/domain/1/data"))).toBe("EACCES");
      expect(err(c2.read("/local/domain/0/name"))).toBe("EACCES");
      expect(err(c2.write("/tool/x", "y"))).toBe("EACCES"); // root is n0
      expect(err(c1.read("/local/domain/1/data/none"))).toBe("ENOENT"); // the owner may know
    });

    it("lets a domain read what it was given, and write only with w or b", () => {
      const { c1, c2, c0 } = setup(build);
      ok(c1.write("data/shared", "hello"));
      ok(c1.setPerms("data/shared", ["n1", "r2"]));
      expect(ok(c2.read("/local/domain/1/data/shared"))).toBe("hello");
      expect(err(c2.write("/local/domain/1/data/shared", "x"))).toBe("EACCES");
      ok(c1.setPerms("data/shared", ["n1", "b2"]));
      ok(c2.write("/local/domain/1/data/shared", "from2"));
      // a child created by domain 2 is owned by 2, keeping the rest of the parent's ACL
      ok(c2.write("/local/domain/1/data/shared/kid", "k"));
      expect(ok(c0.getPerms("/local/domain/1/data/shared/kid"))).toEqual(["n2", "b2"]);
      // the first entry is the default for everyone else
      ok(c1.setPerms("data/shared", ["r1"]));
      expect(ok(c2.read("/local/domain/1/data/shared"))).toBe("from2");
      // dom0 sees everything
      expect(ok(c0.read("/local/domain/1/data/shared"))).toBe("from2");
    });

    it("lets only the owner set permissions, and an unprivileged owner not give a node away", () => {
      const { c1, c2, c0 } = setup(build);
      ok(c1.write("data/n", "v"));
      ok(c1.setPerms("data/n", ["n1", "b2"]));
      expect(err(c2.setPerms("/local/domain/1/data/n", ["n1", "b2", "r0"]))).toBe("EACCES");
      expect(err(c1.setPerms("data/n", ["n2"]))).toBe("EPERM");
      expect(err(c1.setPerms("data/n", ["x1"]))).toBe("EINVAL");
      expect(err(c1.setPerms("data/n", ["n1", "b"]))).toBe("EINVAL");
      expect(err(c1.setPerms("data/n", []))).toBe("EINVAL");
      expect(err(c1.setPerms("data/none", ["n1"]))).toBe("ENOENT");
      ok(c0.setPerms("/local/domain/1/data/n", ["n2"])); // dom0 may chown
      expect(ok(c2.getPerms("/local/domain/1/data/n"))).toEqual(["n2"]);
      expect(err(c1.read("data/n"))).toBe("EACCES");
    });

    it("gives a device model its target's rights", () => {
      const { hv, xs, c1 } = setup(build);
      hv.createDomain({ name: "stubdom", ramPages: RAM, target: 1 });
      const dm = xs.client(3);
      ok(c1.write("data/for-qemu", "q"));
      expect(ok(dm.read("/local/domain/1/data/for-qemu"))).toBe("q");
      expect(err(xs.client(2).read("/local/domain/1/data/for-qemu"))).toBe("EACCES");
    });

    it("restricts the special watch nodes to dom0 unless their ACL says otherwise", () => {
      const { c0, c2 } = setup(build);
      expect(ok(c0.getPerms("@releaseDomain"))).toEqual(["n0"]);
      expect(err(c2.getPerms("@releaseDomain"))).toBe("EACCES");
      expect(err(c2.setPerms("@releaseDomain", ["n0", "r2"]))).toBe("EACCES");
      expect(err(c0.getPerms("@nosuch"))).toBe("ENOENT");
      ok(c0.setPerms("@releaseDomain", ["n0", "r2"]));
      expect(ok(c2.getPerms("@releaseDomain"))).toEqual(["n0", "r2"]);
    });
  });

  describe("watches", () => {
    it("fire once at registration, then for changes at or below the path, with the token", () => {
      const { c1, c0 } = setup(build);
      ok(c1.watch("data", "tok"));
      expect(c1.takeEvents()).toEqual([{ path: "data", token: "tok" }]); // relative as registered
      ok(c1.watch("/local/domain/1/control", "abs"));
      expect(c1.takeEvents()).toEqual([{ path: "/local/domain/1/control", token: "abs" }]);
      ok(c0.write("/local/domain/1/data/x/y", "1"));
      ok(c0.write("/local/domain/1/name2", "elsewhere"));
      c1.poll();
      expect(c1.takeEvents()).toEqual([{ path: "data/x/y", token: "tok" }]);
      ok(c1.write("data", "self")); // the node itself, by the watcher
      expect(c1.takeEvents("tok")).toEqual([{ path: "data", token: "tok" }]);
      ok(c0.setPerms("/local/domain/1/data/x", ["n1", "r2"]));
      c1.poll();
      expect(c1.takeEvents()).toEqual([{ path: "data/x", token: "tok" }]);
    });

    it("fire on removal: exactly on removed nodes below, and for the removed node above", () => {
      const { c1, c0 } = setup(build);
      ok(c1.write("data/a/b/c", "1"));
      ok(c1.watch("data/a/b/c", "leaf"));
      ok(c1.watch("data/a/b/none", "absent"));
      ok(c1.watch("data", "top"));
      c1.takeEvents();
      ok(c0.rm("/local/domain/1/data/a"));
      c1.poll();
      expect(c1.takeEvents()).toEqual([
        { path: "data/a/b/c", token: "leaf" },
        { path: "data/a", token: "top" },
      ]);
    });

    it("stop after unwatch; unknown watches are ENOENT and duplicates EEXIST", () => {
      const { c1 } = setup(build);
      ok(c1.watch("data", "t"));
      expect(err(c1.watch("data", "t"))).toBe("EEXIST");
      ok(c1.watch("data", "t2")); // another token is another watch
      expect(err(c1.watch("bad path", "t"))).toBe("EINVAL");
      c1.takeEvents();
      ok(c1.write("data/k", "1"));
      expect(c1.takeEvents().map((e) => e.token)).toEqual(["t", "t2"]);
      ok(c1.unwatch("data", "t"));
      expect(err(c1.unwatch("data", "t"))).toBe("ENOENT");
      expect(err(c1.unwatch("bad path", "t"))).toBe("EINVAL");
      ok(c1.write("data/k", "2"));
      expect(c1.takeEvents().map((e) => e.token)).toEqual(["t2"]);
      ok(c1.resetWatches());
      ok(c1.write("data/k", "3"));
      expect(c1.takeEvents()).toEqual([]);
    });

    it("only deliver changes the watcher may read (counted when suppressed)", () => {
      const { c1, c2, m } = setup(build);
      ok(c2.watch("/local/domain/1", "spy")); // allowed to watch, fires once
      expect(c2.takeEvents()).toEqual([{ path: "/local/domain/1", token: "spy" }]);
      ok(c1.write("data/private", "p"));
      c2.poll();
      expect(c2.takeEvents()).toEqual([]);
      expect(m.counter(L.CNT_XS_WATCH_SUPPRESSED)).toBe(1);
      ok(c1.write("data/public", "p"));
      ok(c1.setPerms("data/public", ["n1", "r2"])); // now 2 may read it: the change is shown
      c2.poll();
      expect(c2.takeEvents()).toEqual([{ path: "/local/domain/1/data/public", token: "spy" }]);
    });

    it("queue events in xenstored while the guest's reply ring is full, and deliver all in order", () => {
      const { c1, c0, xs } = setup(build);
      ok(c1.watch("data", "w"));
      c1.takeEvents();
      const n = 40;
      for (let i = 0; i < n; i++) ok(c0.write(`/local/domain/1/data/k${i}`, String(i)));
      const conn = xs.connection(1)!;
      expect(conn.out.length).toBeGreaterThan(0); // could not all fit in 1024 bytes
      expect(c1.poll()).toBe(n);
      expect(c1.takeEvents().map((e) => e.path)).toEqual(Array.from({ length: n }, (_, i) => `data/k${i}`));
      expect(conn.out.length).toBe(0);
    });

    it("tell dom0 about introduced and released domains", () => {
      const { hv, c0, c2, m } = setup(build);
      ok(c0.watch("@introduceDomain", "intro"));
      ok(c0.watch("@releaseDomain", "rel"));
      ok(c2.watch("@releaseDomain", "rel2")); // registration fires; releases are dom0's business
      c0.takeEvents();
      expect(c2.takeEvents()).toEqual([{ path: "@releaseDomain", token: "rel2" }]);
      hv.createDomain({ name: "guest3", ramPages: RAM });
      hv.destroyDomain(3);
      c0.poll();
      expect(c0.takeEvents()).toEqual([
        { path: "@introduceDomain", token: "intro" },
        { path: "@releaseDomain", token: "rel" },
      ]);
      c2.poll();
      expect(c2.takeEvents()).toEqual([]);
      expect(m.counter(L.CNT_XS_WATCH_SUPPRESSED)).toBe(1);
    });
  });

  describe("transactions", () => {
    it("commit atomically; changes stay private until then and fire watches at commit", () => {
      const { c1, c0 } = setup(build);
      ok(c0.watch("/local/domain/1/data", "w"));
      c0.takeEvents();
      const tx = ok(c1.transactionStart());
      expect(tx).toBe(1);
      ok(c1.write("data/a", "1", tx));
      ok(c1.write("data/b", "2", tx));
      expect(ok(c1.read("data/a", tx))).toBe("1");
      expect(err(c1.read("data/a"))).toBe("ENOENT");
      expect(ok(c1.directory("data", tx))).toEqual(["a", "b"]);
      c0.poll();
      expect(c0.takeEvents()).toEqual([]);
      ok(c1.transactionEnd(tx, true));
      expect(ok(c1.read("data/a"))).toBe("1");
      c0.poll();
      expect(c0.takeEvents().map((e) => e.path)).toEqual(["/local/domain/1/data/a", "/local/domain/1/data/b"]);
    });

    it("abort with EAGAIN when a node it read changed, applying nothing", () => {
      const { c1, c0, m } = setup(build);
      ok(c1.write("data/x", "0"));
      const tx = ok(c1.transactionStart());
      expect(ok(c1.read("data/x", tx))).toBe("0");
      ok(c1.write("data/y", "from-tx", tx));
      ok(c0.write("/local/domain/1/data/x", "changed"));
      expect(err(c1.transactionEnd(tx, true))).toBe("EAGAIN");
      expect(err(c1.read("data/y"))).toBe("ENOENT");
      expect(m.counter(L.CNT_XS_TX_EAGAIN)).toBe(1);
      expect(err(c1.transactionEnd(tx, true))).toBe("ENOENT"); // it is gone
    });

    it("conflict when a sibling appears under a directory it changed, not for unrelated nodes", () => {
      const { c1, c0 } = setup(build);
      ok(c1.mkdir("data/d"));
      ok(c1.mkdir("data/e"));
      const t1 = ok(c1.transactionStart());
      ok(c1.write("data/d/mine", "1", t1));
      ok(c0.write("/local/domain/1/data/e/other", "x")); // unrelated
      ok(c1.transactionEnd(t1, true));
      const t2 = ok(c1.transactionStart());
      ok(c1.write("data/d/mine2", "1", t2));
      ok(c0.write("/local/domain/1/data/d/theirs", "x")); // d's child list changed
      expect(err(c1.transactionEnd(t2, true))).toBe("EAGAIN");
    });

    it("discard on abort, and report tx ids and payload errors", () => {
      const { c1 } = setup(build);
      const tx = ok(c1.transactionStart());
      ok(c1.write("data/gone", "1", tx));
      ok(c1.transactionEnd(tx, false));
      expect(err(c1.read("data/gone"))).toBe("ENOENT");
      expect(err(c1.read("data/gone", 77))).toBe("ENOENT");
      expect(err(c1.write("data/gone", "1", 77))).toBe("ENOENT");
      expect(err(c1.transactionEnd(77, true))).toBe("ENOENT");
      const t2 = ok(c1.transactionStart());
      expect(err(c1.request(7, strings("X"), t2))).toBe("EINVAL");
      expect(err(c1.request(XS_TRANSACTION_START, strings(""), t2))).toBe("EBUSY");
      ok(c1.transactionEnd(t2, false));
    });

    it("the client helper retries on EAGAIN", () => {
      const { c1, c0 } = setup(build);
      ok(c1.write("data/ctr", "0"));
      let attempts = 0;
      const r = c1.transaction((tx) => {
        attempts++;
        const v = Number(ok(c1.read("data/ctr", tx)));
        if (attempts === 1) ok(c0.write("/local/domain/1/data/ctr", "10")); // race once
        return c1.write("data/ctr", String(v + 1), tx);
      });
      expect(r.ok).toBe(true);
      expect(attempts).toBe(2);
      expect(ok(c1.read("data/ctr"))).toBe("11");
    });
  });

  describe("quotas", () => {
    it("limit the nodes a domain owns (ENOSPC), not dom0's, transactions included", () => {
      const { c1, c0, xs, m } = setup(build, { quota: { nodes: 8 } });
      expect(xs.tree.owned(1)).toBe(4);
      ok(c1.write("data/a/b", "x")); // 2 more -> 6
      expect(err(c1.write("data/c/d/e", "x"))).toBe("ENOSPC"); // would be 9
      expect(err(c1.read("data/c"))).toBe("ENOENT"); // nothing half-made
      const tx = ok(c1.transactionStart());
      ok(c1.write("data/t1", "x", tx));
      ok(c1.write("data/t2", "x", tx));
      expect(err(c1.write("data/t3", "x", tx))).toBe("ENOSPC");
      ok(c1.transactionEnd(tx, false));
      for (let i = 0; i < 20; i++) ok(c0.write(`/local/domain/0/data/n${i}`, "x"));
      expect(m.counter(L.CNT_XS_QUOTA_DENIED)).toBe(2);
    });

    it("limit a node's record size and ACL length for unprivileged writers", () => {
      const { c1, c0 } = setup(build);
      expect(err(c1.write("data/big", "x".repeat(2100)))).toBe("ENOSPC");
      ok(c1.write("data/ok", "x".repeat(1900)));
      ok(c0.write("/local/domain/1/data/big", "x".repeat(4000)));
      expect(ok(c1.read("data/big")).length).toBe(4000);
      expect(err(c1.setPerms("data/ok", ["n1", "r2", "r3", "r4", "r5", "r6"]))).toBe("ENOSPC");
      ok(c1.setPerms("data/ok", ["n1", "r2", "r3", "r4", "r5"]));
    });

    it("limit watches per domain (E2BIG as C xenstored, or EQUOTA) and transactions per connection", () => {
      const a = setup(build, { quota: { watches: 3, transactions: 2 } });
      for (let i = 0; i < 3; i++) ok(a.c1.watch("data", `t${i}`));
      expect(err(a.c1.watch("data", "t3"))).toBe("E2BIG");
      for (let i = 0; i < 5; i++) ok(a.c0.watch("/local", `d${i}`)); // dom0 unlimited
      ok(a.c1.transactionStart());
      ok(a.c1.transactionStart());
      expect(err(a.c1.transactionStart())).toBe("ENOSPC");
      const b = setup(build, { quota: { watches: 1 }, watchQuotaError: "EQUOTA" });
      ok(b.c1.watch("data", "a"));
      expect(err(b.c1.watch("data", "b"))).toBe("EQUOTA");
    });
  });

  describe("the ring in guest memory", () => {
    it("carries the real header and payload, and counts bytes with the real framing", () => {
      const { c1, xs, m } = setup(build);
      const before = xs.stats(1);
      const reqBytesBefore = m.counter(L.CNT_XS_RING_REQ_BYTES);
      expect(ok(c1.read("name"))).toBe("guest1");
      const s = xs.stats(1);
      expect(s.reqMsgs - before.reqMsgs).toBe(1);
      expect(s.reqBytes - before.reqBytes).toBe(wire("name\0".length));
      expect(s.rspMsgs - before.rspMsgs).toBe(1);
      expect(s.rspBytes - before.rspBytes).toBe(wire("guest1".length));
      expect(m.counter(L.CNT_XS_RING_REQ_BYTES) - reqBytesBefore).toBe(21);
      // the bytes are in the page: header {READ, req_id, tx 0, len 5} then "name\0"
      const page = m.read(1, STORE_GFN * 4096, L.XENSTORE_DOMAIN_INTERFACE_SIZE);
      const dv = new DataView(page.buffer);
      const reqProd = dv.getUint32(L.XENSTORE_DOMAIN_INTERFACE_REQ_PROD, true);
      expect(dv.getUint32(L.XENSTORE_DOMAIN_INTERFACE_REQ_CONS, true)).toBe(reqProd);
      expect(reqProd).toBe(s.reqBytes); // free-running, never reset
      expect(dv.getUint32(L.XENSTORE_DOMAIN_INTERFACE_RSP_PROD, true)).toBe(s.rspBytes);
      const at = (reqProd - 21) & 1023;
      if (at + 21 <= 1024) {
        expect(dv.getUint32(L.XENSTORE_DOMAIN_INTERFACE_REQ + at, true)).toBe(XS_READ);
        expect(dv.getUint32(L.XENSTORE_DOMAIN_INTERFACE_REQ + at + 12, true)).toBe(5);
        expect(new TextDecoder().decode(page.subarray(at + 16, at + 21))).toBe("name\0");
      }
    });

    it("moves messages larger than the ring in pieces, wrapping the indices", () => {
      const { c0, xs } = setup(build);
      const v = "0123456789".repeat(300); // 3000 bytes, > 1024
      const path = "/local/domain/0/data/big";
      const before = xs.stats(0);
      ok(c0.write(path, v));
      expect(ok(c0.read(path))).toBe(v);
      const s = xs.stats(0);
      expect(s.reqBytes - before.reqBytes).toBe(wire(path.length + 1 + 3000) + wire(path.length + 1));
      expect(s.rspBytes - before.rspBytes).toBe(wire(3) + wire(3000));
      expect(s.reqMsgs - before.reqMsgs).toBe(2);
    });

    it("gives up on a guest that corrupts its ring indices (RINGIDX) or sends an oversized header (PROTO)", () => {
      const { c1, c2, m, xs } = setup(build);
      const u32 = (v: number) => {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setUint32(0, v, true);
        return b;
      };
      // guest 1 claims 2000 unread request bytes
      const base = STORE_GFN * 4096;
      const cons = new DataView(m.read(1, base + L.XENSTORE_DOMAIN_INTERFACE_REQ_CONS, 4).buffer).getUint32(0, true);
      m.write(1, base + L.XENSTORE_DOMAIN_INTERFACE_REQ_PROD, u32(cons + 2000));
      xs.service(xs.connection(1)!); // its kick reaches xenstored
      expect(err(c1.read("name"))).toBe("EIO");
      expect(new DataView(m.read(1, base + L.XENSTORE_DOMAIN_INTERFACE_ERROR, 4).buffer).getUint32(0, true)).toBe(L.XENSTORE_ERROR_RINGIDX);
      expect(xs.connection(1)!.error).toBe(L.XENSTORE_ERROR_RINGIDX);
      // guest 2 writes a header announcing 5000 payload bytes
      const hdr = new Uint8Array(16);
      new DataView(hdr.buffer).setUint32(12, 5000, true);
      const prod = new DataView(m.read(2, base + L.XENSTORE_DOMAIN_INTERFACE_REQ_PROD, 4).buffer).getUint32(0, true);
      m.write(2, base + L.XENSTORE_DOMAIN_INTERFACE_REQ + (prod & 1023), hdr);
      m.write(2, base + L.XENSTORE_DOMAIN_INTERFACE_REQ_PROD, u32(prod + 16));
      expect(err(c2.read("name"))).toBe("EIO");
      expect(xs.connection(2)!.error).toBe(L.XENSTORE_ERROR_PROTO);
      // others are unaffected
      expect(ok(xs.client(0).read("/local/domain/0/name"))).toBe("dom0");
    });

    it("counts every ring message and byte in the counters block, and the event-channel kicks", () => {
      const { c1, c2, xs, m } = setup(build);
      ok(c1.write("data/x", "1"));
      ok(c2.watch("/local/domain/2/data", "w"));
      ok(c1.directory("data"));
      const s = [0, 1, 2].map((d) => xs.stats(d));
      const sum = (f: (x: (typeof s)[0]) => number) => s.reduce((a, x) => a + f(x), 0);
      expect(m.counter(L.CNT_XS_RING_REQ_MSGS)).toBe(sum((x) => x.reqMsgs));
      expect(m.counter(L.CNT_XS_RING_REQ_BYTES)).toBe(sum((x) => x.reqBytes));
      expect(m.counter(L.CNT_XS_RING_RSP_MSGS)).toBe(sum((x) => x.rspMsgs));
      expect(m.counter(L.CNT_XS_RING_RSP_BYTES)).toBe(sum((x) => x.rspBytes));
      expect(m.counter(L.CNT_XS_EVTCHN_NOTIFY)).toBe(sum((x) => x.notifyToGuest + x.notifyToServer));
      expect(s[2]!.events).toBe(1);
      // guest 1: one kick per request produced; xenstored: one after reading, one after replying
      expect(s[1]!).toMatchObject({ reqMsgs: 2, notifyToServer: 2, notifyToGuest: 4 });
      expect(m.counter(L.CNT_XS_REQUESTS)).toBeGreaterThanOrEqual(3);
      expect(m.counter(L.CNT_XS_WRITE_OPS)).toBeGreaterThanOrEqual(1);
    });
  });

  describe("domain introduction and release", () => {
    it("introduce and release are privileged and checked", () => {
      const { xs, ts } = setup(build, { toolstack: false });
      expect(xs.isIntroduced(1)).toBe(false);
      expect(() => xs.client(1)).toThrow(/not introduced/);
      expect(err(ts.introduce(1, RAM, 0))).toBe("EINVAL"); // not a RAM page
      expect(err(ts.introduce(9, 0, 0))).toBe("ENOENT");
      expect(err(ts.request(8, strings("1", "x", "0")))).toBe("EINVAL");
      ok(ts.introduce(0, STORE_GFN, 0));
      ok(ts.introduce(1, STORE_GFN, 3));
      ok(ts.introduce(1, STORE_GFN, 4)); // same page: re-bind the channel
      expect(xs.connection(1)!.port).toBe(4);
      expect(err(ts.introduce(1, 5, 4))).toBe("EINVAL");
      const g1 = xs.client(1);
      expect(err(g1.introduce(2, STORE_GFN, 0))).toBe("EACCES");
      expect(err(g1.release(0))).toBe("EACCES");
      expect(err(ts.release(2))).toBe("ENOENT");
      expect(err(ts.release(0))).toBe("EINVAL"); // xenstored's own domain
      expect(err(ts.request(9, strings("x")))).toBe("EINVAL");
      ok(ts.release(1));
      expect(xs.isIntroduced(1)).toBe(false);
      expect(err(g1.read("/local/domain/1"))).toBe("EIO"); // its connection is gone
    });

    it("answers ENOMEM when the machine has no frame left for the store page", () => {
      const hv = new Hypervisor({ machine: new Machine({ build, maxFrames: 32 }) });
      const xs = hv.register(new Xenstore(hv, { toolstack: false }));
      hv.createDomain({ name: "dom0", ramPages: RAM, control: true });
      hv.createDomain({ name: "guest1", ramPages: RAM });
      expect(() => {
        for (let g = 0; g < RAM; g++) hv.machine.populate(0, g);
      }).toThrow(/exhausted/);
      expect(err(xs.toolstack.introduce(1, STORE_GFN, 0))).toBe("ENOMEM");
      expect(xs.isIntroduced(1)).toBe(false);
    });

    it("needs xenstored's domain to map rings: a clear error before it exists or after it died", () => {
      const hv = new Hypervisor({ machine: new Machine({ build }) });
      const xs = hv.register(new Xenstore(hv));
      hv.createDomain({ domid: 1, name: "early", ramPages: RAM });
      expect(() => xs.client(1).read("name")).toThrow(/domain 0 \(xenstored\) cannot map the ring of domain 1/);
      hv.createDomain({ domid: 0, name: "dom0", ramPages: RAM, control: true });
      expect(ok(xs.client(1).read("name"))).toBe("early");
      hv.destroyDomain(0);
      expect(() => xs.client(1).read("name")).toThrow(/xenstored/);
      hv.destroyDomain(1); // still tidy
      expect(xs.node("/local/domain/1")).toBeUndefined();
      // registered after domains exist: they are set up at registration
      const hv2 = new Hypervisor({ machine: new Machine({ build }) });
      hv2.createDomain({ name: "dom0", ramPages: RAM, control: true });
      hv2.createDomain({ name: "late", ramPages: RAM });
      expect(ok(hv2.register(new Xenstore(hv2)).client(1).read("name"))).toBe("late");
    });

    it("destroying a domain removes its tree, watches and ring mapping, and forgets it in ACLs", () => {
      const { hv, xs, c0, c1, m } = setup(build);
      ok(c1.write("data/x", "1"));
      ok(c1.watch("data", "mine"));
      ok(c0.write("/local/domain/0/data/for1", "v"));
      ok(c0.setPerms("/local/domain/0/data/for1", ["n0", "r1", "r2"]));
      ok(c0.write("/local/domain/0/data/owned-by-1", "v"));
      ok(c0.setPerms("/local/domain/0/data/owned-by-1", ["n1"]));
      ok(c0.watch("/local/domain/1/data/x", "backend"));
      c0.takeEvents();
      const mfn = xs.connection(1)!.ring!.mfn;
      expect(m.frameRefs(mfn)).toBe(1);
      hv.destroyDomain(1);
      expect(xs.node("/local/domain/1")).toBeUndefined();
      expect(xs.watchCount(1)).toBe(0);
      expect(xs.isIntroduced(1)).toBe(false);
      expect(xs.tree.owned(1)).toBe(0);
      expect(ok(c0.getPerms("/local/domain/0/data/for1"))).toEqual(["n0", "r2"]);
      expect(ok(c0.getPerms("/local/domain/0/data/owned-by-1"))).toEqual(["n0"]);
      c0.poll();
      expect(c0.takeEvents()).toEqual([{ path: "/local/domain/1/data/x", token: "backend" }]);
      // a new domain with the same id starts clean
      hv.createDomain({ domid: 1, name: "again", ramPages: RAM });
      const again = xs.client(1);
      expect(ok(again.read("name"))).toBe("again");
      expect(err(again.read("data/x"))).toBe("ENOENT");
      expect(err(again.read("/local/domain/0/data/for1"))).toBe("EACCES");
    });
  });
});
