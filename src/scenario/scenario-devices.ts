// The simulated devices of a scenario, taken from the domains' xl.cfg, with their backend
// domain and transport resolved.
//
// What becomes a device: a disk with specification=virtio (virtio-blk), a vif with
// model=virtio-net or a vxsim_transport key (virtio-net), and a generic virtio entry of type
// virtio,device1 (net), virtio,device2 (blk, with vxsim_memdisk) or virtio,device4 (rng).
// Other entries (Xen PV disks and vifs, other virtio devices) are listed as warnings.
//
// Transport, first found wins: the scenario's `devices: {<id>: {transport}}`; the device
// spec's vxsim_transport=; the domain's vxsim_transport; the scenario's `transport:`; then
// xl's own meaning: grant_usage=1, or (when grant_usage is unset) a backend outside Domain-0,
// means grants (grant-map), else foreign mapping (mmio-foreign) — libxl emits the grant-DMA
// `iommus` property exactly then.
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigError, choices } from "./config-error.ts";
import { configPath } from "./scenario-domains.ts";
import { parseTransport, transportName, VIRTIO_DEVICE_IDS, type TransportChoice } from "./vocabulary.ts";
import type { ScenarioContext, ScenarioDevice, ScenarioDomain, ScenarioHypervisor, Site, TransportSource } from "./scenario-types.ts";
import type { XlDisk } from "./xl-disk.ts";

interface Pending {
  device: Omit<ScenarioDevice, "transport" | "transportFrom" | "transportSite">;
  specTransport: TransportChoice | undefined;
  domain: ScenarioDomain;
}

export function resolveDevices(ctx: ScenarioContext, domains: ScenarioDomain[], hv: ScenarioHypervisor): ScenarioDevice[] {
  const pending: Pending[] = [];
  for (const dom of domains) {
    const xl = dom.xl;
    if (!xl) continue;
    const site = (field: string, line: number): Site => ({ file: xl.file, line, field });
    const backendOf = (b: string | undefined, s: Site) => backendDomid(domains, dom, b, s);
    const warn = (s: Site, what: string) => ctx.warnings.push(`${s.file}:${s.line}: ${s.field}: ${what}`);

    for (const d of xl.disks) {
      const s = site(`disk[${d.index}]`, d.line);
      if (d.specification !== "virtio") {
        warn(s, "a Xen PV disk (blkfront) is not simulated; vxsim simulates disks with specification=virtio");
        continue;
      }
      pending.push({
        domain: dom, specTransport: d.vxsimTransport,
        device: {
          id: `${dom.name}/${d.vdev}`, kind: "blk", frontend: dom.domid, backend: backendOf(d.backend, s),
          grantUsage: d.grantUsage, site: s, blk: diskImage(ctx, dom, d, s),
        },
      });
    }
    for (const v of xl.vifs) {
      const s = site(`vif[${v.index}]`, v.line);
      if (v.model !== "virtio-net" && !v.vxsimTransport) {
        warn(s, "a Xen PV vif (netfront) is not simulated; add model=virtio-net or vxsim_transport= to simulate it as virtio-net");
        continue;
      }
      pending.push({
        domain: dom, specTransport: v.vxsimTransport,
        device: {
          id: `${dom.name}/vif${v.devid}`, kind: "net", frontend: dom.domid, backend: backendOf(v.backend, s),
          grantUsage: undefined, site: s, net: { mac: v.mac, bridge: v.bridge, mtu: v.mtu ?? 1500 },
        },
      });
    }
    for (const v of xl.virtios) {
      const s = site(`virtio[${v.index}]`, v.line);
      const kind = v.deviceId === undefined ? undefined : VIRTIO_DEVICE_IDS[v.deviceId];
      if (!kind) {
        const what = `${v.type} is not a device vxsim simulates (virtio,device1 net, virtio,device2 block, virtio,device4 rng)`;
        if (v.vxsimTransport) throw new ConfigError(s.file, s.line, s.field, what);
        warn(s, what);
        continue;
      }
      if (kind === "blk" && v.vxsimMemdisk === undefined) {
        throw new ConfigError(s.file, s.line, s.field, "a block device from the virtio list needs vxsim_memdisk=SIZE (it names no image file)");
      }
      pending.push({
        domain: dom, specTransport: v.vxsimTransport,
        device: {
          id: `${dom.name}/virtio${v.index}`, kind, frontend: dom.domid, backend: backendOf(v.backend, s), grantUsage: v.grantUsage, site: s,
          ...(kind === "blk" ? { blk: { image: { kind: "memory" as const }, sizeBytes: v.vxsimMemdisk!, readonly: false } } : {}),
          ...(kind === "net" ? { net: { mac: undefined, bridge: undefined, mtu: 1500 } } : {}),
        },
      });
    }
  }

  const overrides = ctx.raw.devices ?? {};
  const ids = pending.map((p) => p.device.id);
  for (const id of Object.keys(overrides)) {
    if (!ids.includes(id)) {
      throw ctx.src.error(["devices", id], `unknown device '${id}' (${ids.length > 0 ? `expected one of: ${choices(ids)}` : "this scenario has no simulated devices"})`, true);
    }
  }

  const devices = pending.map((p) => withTransport(ctx, p));
  for (const d of devices) {
    if (d.backend !== 0) domains[d.backend]!.driverDomain = true;
    checkTransport(d, domains, hv, devices);
    if (hv.xsm.module === "silo" && d.backend !== 0 && d.transport.id !== "kvm-ioeventfd") {
      ctx.warnings.push(
        `${d.site.file}:${d.site.line}: ${d.site.field}: XSM SILO denies grants, event channels and Argo between two unprivileged domains, and ${d.id}'s backend ${domains[d.backend]!.name} is not Domain-0 (set hypervisor.xsm to dummy or flask to allow it)`,
      );
    }
  }
  hv.kind = devices.length > 0 && devices.every((d) => d.transport.id === "kvm-ioeventfd") ? "kvm" : "xen";
  return devices;
}

/** `backend=`: Domain-0 (name or 0) when absent, else a domain name or domid of the scenario. */
function backendDomid(domains: ScenarioDomain[], self: ScenarioDomain, b: string | undefined, s: Site): number {
  if (b === undefined) return 0;
  const found = /^[0-9]+$/.test(b) ? domains.find((d) => d.domid === Number(b)) : domains.find((d) => d.name === b);
  if (!found) {
    throw new ConfigError(s.file, s.line, s.field, `backend '${b}' is not a domain of this scenario (expected one of: ${choices(domains.map((d) => d.name))})`);
  }
  if (found === self) throw new ConfigError(s.file, s.line, s.field, `backend '${b}' is the domain itself`);
  return found.domid;
}

function diskImage(ctx: ScenarioContext, dom: ScenarioDomain, d: XlDisk, s: Site): NonNullable<ScenarioDevice["blk"]> {
  const fail = (what: string) => new ConfigError(s.file, s.line, s.field, what);
  if (d.vxsimMemdisk !== undefined) return { image: { kind: "memory" }, sizeBytes: d.vxsimMemdisk, readonly: d.readonly };
  if (d.format !== "raw") throw fail(`format ${d.format} is not simulated (vxsim reads raw images)`);
  // A file's relative target is relative to that file; inline xl.cfg's to the scenario.
  const dir = dom.xl!.file === ctx.src.file ? ctx.baseDir : dirname(dom.xl!.file);
  const path = configPath(dir, d.target!);
  let st;
  try {
    st = statSync(path);
  } catch {
    throw fail(`image '${path}' not found (a virtio disk needs a raw image file, or vxsim_memdisk=SIZE for an in-memory image)`);
  }
  if (!st.isFile()) throw fail(`image '${path}' is not a regular file (vxsim reads disk images from files)`);
  if (st.size === 0 || st.size % 512 !== 0) throw fail(`image '${path}' is ${st.size} bytes, not a positive multiple of 512 (the sector size)`);
  return { image: { kind: "file", path }, sizeBytes: st.size, readonly: d.readonly };
}

function withTransport(ctx: ScenarioContext, p: Pending): ScenarioDevice {
  const { src, raw } = ctx;
  const d = p.device;
  const xl = p.domain.xl!;
  const pick = (t: TransportChoice, from: TransportSource, site: Site): ScenarioDevice => ({ ...d, transport: t, transportFrom: from, transportSite: site });
  const yamlSite = (path: (string | number)[], field: string): Site => ({ file: src.file, line: src.line(path), field });

  const own = raw.devices?.[d.id];
  if (own) return pick(parseTransport(own.transport)!, "scenario device", yamlSite(["devices", d.id, "transport"], `devices.${d.id}.transport`));
  if (p.specTransport) return pick(p.specTransport, "device spec", d.site);
  if (xl.vxsimTransport) return pick(xl.vxsimTransport, "domain", { file: xl.file, line: xl.lines["vxsim_transport"] ?? 0, field: "vxsim_transport" });
  if (raw.transport !== undefined) return pick(parseTransport(raw.transport)!, "scenario default", yamlSite(["transport"], "transport"));
  const grants = d.grantUsage ?? d.backend !== 0;
  return pick({ id: grants ? "grant-map" : "mmio-foreign" }, "xl default", d.site);
}

function checkTransport(d: ScenarioDevice, domains: ScenarioDomain[], hv: ScenarioHypervisor, all: ScenarioDevice[]): void {
  const s = d.transportSite;
  const fail = (what: string) => new ConfigError(s.file, s.line, s.field, `${d.id}: ${what}`);
  const t = d.transport.id;
  if (t === "argo" && !hv.argo.enabled) throw fail(`transport ${transportName(d.transport)} needs Argo: set hypervisor.argo.enabled: true`);
  if (t === "pv-p2m" && domains[d.frontend]!.type !== "pv") {
    throw fail(`transport pv-p2m needs a pv guest (the guest writes machine frame numbers into the ring); '${domains[d.frontend]!.name}' is ${domains[d.frontend]!.type}`);
  }
  const kvm = all.find((o) => (o.transport.id === "kvm-ioeventfd") !== (t === "kvm-ioeventfd"));
  if (kvm && all.indexOf(kvm) < all.indexOf(d)) {
    throw fail(`transport ${transportName(d.transport)} cannot share a scenario with ${kvm.id}'s ${transportName(kvm.transport)}: kvm-ioeventfd is the KVM baseline, the others run on Xen`);
  }
}
