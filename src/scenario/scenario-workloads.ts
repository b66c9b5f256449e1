// Workloads: fio-like block jobs, netperf-like streams and request/response, rng reads, each
// bound to a simulated device of the right kind, with sizes checked against the device.
import { choices } from "./config-error.ts";
import { parseSize, SIZE_SYNTAX } from "./vocabulary.ts";
import type { Duration, ScenarioContext, ScenarioDevice, Workload } from "./scenario-types.ts";
import type { DeviceKind } from "./vocabulary.ts";

/** Largest netperf message and rng read: one 64 KiB buffer. */
const MAX_MESSAGE = 65536;
/** rng read size when not given (bytes per request). */
const RNG_READ_DEFAULT = 64;

type Path = (string | number)[];

export function resolveWorkloads(ctx: ScenarioContext, devices: ScenarioDevice[]): Workload[] {
  const { src } = ctx;
  const byId = new Map(devices.map((d) => [d.id, d]));
  const names = new Map<string, number>();
  return ctx.raw.workloads.map((w, i): Workload => {
    const kind = Object.keys(w)[0] as "fio" | "netperf" | "rng";
    const at = (...rest: Path): Path => ["workloads", i, kind, ...rest];
    const site = { file: src.file, line: src.line(at()), field: `workloads[${i}].${kind}` };
    const body = w[kind]!;
    const name = body.name ?? `${kind}${i}`;
    const earlier = names.get(name);
    if (earlier !== undefined) throw src.error(at("name"), `workload name '${name}' is already used by workloads[${earlier}]`);
    names.set(name, i);

    const device = (path: Path, ref: string, want: DeviceKind, what: string): ScenarioDevice => {
      const d = byId.get(ref);
      if (!d) {
        const known = devices.length > 0 ? `expected one of: ${choices(devices.map((x) => x.id))}` : "this scenario has no simulated devices";
        throw src.error(path, `unknown device '${ref}' (${known})`);
      }
      if (d.kind !== want) throw src.error(path, `${what} needs a ${want} device; '${ref}' is a ${d.kind} device`);
      return d;
    };
    const size = (key: string, v: number | string | undefined, dflt: number): number => {
      if (v === undefined) return dflt;
      const n = parseSize(v);
      if (n === undefined) throw src.error(at(key), `invalid size ${typeof v === "string" ? `'${v}'` : v} (expected ${SIZE_SYNTAX})`);
      return n;
    };
    const messageSize = (key: string, v: number | string | undefined, dflt: number): number => {
      const n = size(key, v, dflt);
      if (n < 1 || n > MAX_MESSAGE) throw src.error(at(key), `must be 1 to ${MAX_MESSAGE} bytes, got ${n}`);
      return n;
    };

    if (kind === "fio") {
      const f = w.fio!;
      const d = device(at("device"), f.device, "blk", "fio");
      const blk = d.blk!;
      const bs = size("bs", f.bs, 4096);
      if (bs === 0 || bs % 512 !== 0) throw src.error(at("bs"), `must be a positive multiple of 512 bytes (the virtio-blk sector), got ${bs}`);
      const sz = size("size", f.size, blk.sizeBytes - (blk.sizeBytes % bs));
      if (sz > blk.sizeBytes) throw src.error(at("size"), `${sz} bytes is more than ${f.device} holds (${blk.sizeBytes} bytes)`);
      if (sz < bs || sz % bs !== 0) throw src.error(at("size"), `must be a positive multiple of bs (${bs}), got ${sz}`);
      if (f.rwmixread !== undefined && f.rw !== "randrw") throw src.error(at("rwmixread"), `only applies to rw: randrw (rw is ${f.rw})`);
      if (blk.readonly && f.rw !== "read" && f.rw !== "randread") {
        throw src.error(at("rw"), `${f.rw} writes, but ${f.device} is read-only (access=ro in ${d.site.file}:${d.site.line})`);
      }
      return {
        kind, name, device: d.id, rw: f.rw, bs, iodepth: f.iodepth ?? 1, size: sz, rwmixread: f.rwmixread ?? 50,
        verify: f.verify ?? false, site,
      };
    }
    if (kind === "netperf") {
      const n = w.netperf!;
      const d = device(at("device"), n.device, "net", "netperf");
      if (n.peer !== "loopback") {
        device(at("peer"), n.peer, "net", "netperf's peer");
        if (n.peer === n.device) throw src.error(at("peer"), "the peer must be another net device (or loopback)");
      }
      if (n.test === "stream") {
        if (n.message_size === undefined) throw src.error(at("message_size"), "missing (stream needs message_size)");
        for (const k of ["request_size", "response_size"] as const) {
          if (n[k] !== undefined) throw src.error(at(k), "only applies to test: rr (use message_size for stream)");
        }
      } else if (n.message_size !== undefined) {
        throw src.error(at("message_size"), "only applies to test: stream (use request_size and response_size for rr)");
      }
      return {
        kind, name, device: d.id, peer: n.peer, test: n.test, messageSize: n.test === "stream" ? messageSize("message_size", n.message_size, 0) : 0,
        requestSize: n.test === "rr" ? messageSize("request_size", n.request_size, 1) : 0,
        responseSize: n.test === "rr" ? messageSize("response_size", n.response_size, 1) : 0, site,
      };
    }
    const r = w.rng!;
    const d = device(at("device"), r.device, "rng", "rng");
    return { kind, name, device: d.id, readSize: messageSize("read_size", r.read_size, RNG_READ_DEFAULT), site };
  });
}

export function resolveDuration(ctx: ScenarioContext): Duration {
  // The schema requires ios (a duration in virtual time is not supported).
  return { kind: "ios", ios: ctx.raw.duration.ios };
}
