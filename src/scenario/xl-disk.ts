// One entry of `disk = [ ... ]`: xl's disk specification language (xl-disk-configuration(5),
// libxlu's disk lexer), including the Xen 4.17 virtio keys:
//
//   'phy:/dev/mmcblk0p3,xvda1,backendtype=standalone,specification=virtio'
//   'format=raw, vdev=xvdb, access=rw, target=/images/data.img'
//   ',hdc:cdrom,r'                                   (an empty cdrom drive)
//
// Positional parameters are target, format, vdev, access; a deprecated prefix on the target
// (phy:, file:, tap:aio:, raw:, qcow2:, nbd:, ...) moves the next positional to vdev. `target=`
// takes the rest of the spec, commas included. Blanks before a parameter are ignored.
// vxsim keys: vxsim_transport=<id> picks the transport, vxsim_memdisk=<size> makes the disk an
// in-memory image of that size (no target file needed).
import { parseSize, SIZE_SYNTAX, type TransportChoice } from "./vocabulary.ts";
import { choices } from "./config-error.ts";
import { grantUsageValue, specError, transportValue, unknownKey, type SpecSite } from "./xl-spec.ts";

export const DISK_FORMATS = ["raw", "qcow", "qcow2", "vhd", "qed", "empty"] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];
export const DISK_BACKENDTYPES = ["phy", "tap", "qdisk", "standalone"] as const;
export type DiskBackendType = (typeof DISK_BACKENDTYPES)[number];

export interface XlDisk {
  /** Position in the disk list. */
  index: number;
  line: number;
  spec: string;
  /** The image path as written (pdev_path); "" for an empty cdrom. */
  target: string | undefined;
  format: DiskFormat;
  vdev: string;
  readonly: boolean;
  cdrom: boolean;
  /** Backend domain (name or domid); undefined = the toolstack domain. */
  backend: string | undefined;
  backendtype: DiskBackendType | undefined;
  specification: "xen" | "virtio";
  /** Virtio transport of the device model (4.17: mmio only); set for virtio disks. */
  transport: "mmio" | undefined;
  grantUsage: boolean | undefined;
  script: string | undefined;
  directIoSafe: boolean;
  discard: boolean | undefined;
  trusted: boolean | undefined;
  vxsimTransport: TransportChoice | undefined;
  /** In-memory image size in bytes (vxsim_memdisk=). */
  vxsimMemdisk: number | undefined;
}

const VALUE_KEYS = [
  "format", "devtype", "access", "backend", "backendtype", "specification", "transport", "vdev",
  "script", "grant_usage", "colo-host", "colo-port", "colo-export", "active-disk", "hidden-disk",
  "target", "vxsim_transport", "vxsim_memdisk",
] as const;
const FLAGS = ["cdrom", "direct-io-safe", "discard", "no-discard", "colo", "no-colo", "trusted", "untrusted"] as const;
const ALL_KEYS: readonly string[] = [...VALUE_KEYS, ...FLAGS];

const FORMAT_PREFIXES: Record<string, DiskFormat> = { raw: "raw", qcow: "qcow", qcow2: "qcow2", vhd: "vhd" };
const SCRIPT_PREFIXES = ["iscsi", "nbd", "enbd", "drbd"];
const IGNORED_PREFIXES = ["tapdisk", "tap", "tap2", "aio", "ioemu", "file", "phy"];
const ALL_PREFIXES = [...IGNORED_PREFIXES, ...Object.keys(FORMAT_PREFIXES), ...SCRIPT_PREFIXES].sort();

const VDEV = /^(?:(?:xvd|sd|hd)[a-z]+[0-9]*|d[0-9]+(?:p[0-9]+)?|[0-9]+)$/;

export function parseDiskSpec(spec: string, index: number, site: SpecSite): XlDisk {
  function fail(reason: string): never {
    throw specError(site, reason);
  }
  const d: XlDisk = {
    index, line: site.line, spec, target: undefined, format: "raw", vdev: "", readonly: false, cdrom: false,
    backend: undefined, backendtype: undefined, specification: "xen", transport: undefined, grantUsage: undefined,
    script: undefined, directIoSafe: false, discard: undefined, trusted: undefined, vxsimTransport: undefined,
    vxsimMemdisk: undefined,
  };
  let format: DiskFormat | undefined;
  let vdev: string | undefined;
  let accessSet = false;
  let hadPrefix = false;
  let spec1: "xen" | "virtio" | undefined;
  const seen = new Set<string>();

  const setOnce = <T>(what: string, old: T | undefined, value: T): T => {
    if (old !== undefined && old !== "" && old !== value) fail(`${what} respecified ('${String(old)}', then '${String(value)}')`);
    return value;
  };
  const setFormat = (v: string, positional: boolean) => {
    const f = v === "" ? "raw" : v;
    if (!(DISK_FORMATS as readonly string[]).includes(f)) {
      const hint = positional
        ? "; with no prefix such as phy: on the target, the second positional parameter is the format — give the vdev as vdev=..."
        : "";
      fail(`unknown value '${v}' for format (expected one of: ${choices(DISK_FORMATS)}${hint})`);
    }
    format = setOnce("format", format, f as DiskFormat);
  };
  const setAccess = (v: string) => {
    if (v === "r" || v === "ro") d.readonly = true;
    else if (v === "rw" || v === "w" || v === "") d.readonly = false;
    else fail(`unknown value '${v}' for access (expected r, ro, rw or w)`);
    accessSet = true;
  };
  /** `hdc:cdrom` / `xvda:disk` (deprecated vdev:devtype); false if no colon. */
  const vdevAndDevtype = (v: string): boolean => {
    const colon = v.lastIndexOf(":");
    if (colon < 0) return false;
    const type = v.slice(colon + 1);
    vdev = setOnce("vdev", vdev, v.slice(0, colon));
    if (type === "cdrom") d.cdrom = true;
    else if (type === "disk") d.cdrom = false;
    else fail(`unknown device type '${type}' after ':' in '${v}' (expected cdrom or disk)`);
    return true;
  };
  const positional = (tok: string) => {
    if (d.target === undefined) d.target = tok;
    else if (!hadPrefix && format === undefined) {
      if (d.target === "" && vdevAndDevtype(tok)) format = "empty";
      else setFormat(tok, true);
    } else if (vdev === undefined) {
      if (!vdevAndDevtype(tok)) vdev = tok;
    } else if (!accessSet) setAccess(tok);
    else fail(`too many positional parameters at '${tok}' (expected at most target, format, vdev, access)`);
  };

  let rest = spec;
  while (rest.length > 0) {
    rest = rest.replace(/^[ \t\n]+/, "");
    if (rest.length === 0) break;
    if (rest.startsWith("target=")) {
      d.target = setOnce("target", d.target, rest.slice(7).replace(/,$/, ""));
      break;
    }
    const comma = rest.indexOf(",");
    let tok = (comma < 0 ? rest : rest.slice(0, comma)).replace(/[ \t\n]+$/, "");
    rest = comma < 0 ? "" : rest.slice(comma + 1);

    // Deprecated prefixes, possibly chained (tap:aio:/path). A known prefix is taken whatever
    // follows it; other letters + ':' are an error only when no letter or digit follows, so
    // that `xvdc:cdrom` and `host:1234` stay positional.
    for (;;) {
      const m = /^([a-z][a-z0-9]*):/.exec(tok);
      if (!m) break;
      const p = m[1]!;
      if (Object.hasOwn(FORMAT_PREFIXES, p)) setFormat(FORMAT_PREFIXES[p]!, false);
      else if (SCRIPT_PREFIXES.includes(p)) d.script = setOnce("script", d.script, `block-${p}`);
      else if (!IGNORED_PREFIXES.includes(p)) {
        if (/^[a-z0-9]/.test(tok.slice(p.length + 1))) break;
        fail(`unknown deprecated disk prefix '${p}:' (expected one of: ${choices(ALL_PREFIXES)})`);
      }
      hadPrefix = true;
      tok = tok.slice(p.length + 1);
    }

    if ((FLAGS as readonly string[]).includes(tok)) {
      if (tok === "cdrom") d.cdrom = true;
      else if (tok === "direct-io-safe") d.directIoSafe = true;
      else if (tok === "discard" || tok === "no-discard") d.discard = tok === "discard";
      else if (tok === "trusted" || tok === "untrusted") d.trusted = tok === "trusted";
      continue; // colo flags: accepted, not modelled
    }
    const eq = tok.indexOf("=");
    if (eq < 0) {
      positional(tok);
      continue;
    }
    const key = tok.slice(0, eq);
    const value = tok.slice(eq + 1);
    if (!/^[a-z][-_a-z0-9]*$/.test(key)) fail(`malformed parameter '${tok}' (expected key=value)`);
    if (!(VALUE_KEYS as readonly string[]).includes(key)) throw unknownKey(site, key, ALL_KEYS);
    if (seen.has(key) && key.startsWith("vxsim_")) fail(`${key} respecified`);
    seen.add(key);
    switch (key) {
      case "format":
        setFormat(value, false);
        break;
      case "devtype":
        if (value === "cdrom" || value === "disk") d.cdrom = value === "cdrom";
        else fail(`unknown value '${value}' for devtype (expected cdrom or disk)`);
        break;
      case "access":
        setAccess(value);
        break;
      case "backend":
        d.backend = setOnce("backend", d.backend, value);
        break;
      case "backendtype":
        if (!(DISK_BACKENDTYPES as readonly string[]).includes(value)) {
          fail(`unknown value '${value}' for backendtype (expected one of: ${choices(DISK_BACKENDTYPES)})`);
        }
        d.backendtype = setOnce("backendtype", d.backendtype, value as DiskBackendType);
        break;
      case "specification":
        if (value !== "xen" && value !== "virtio") fail(`unknown value '${value}' for specification (expected xen or virtio)`);
        spec1 = setOnce<"xen" | "virtio">("specification", spec1, value);
        break;
      case "transport":
        if (value !== "mmio") fail(`unknown value '${value}' for transport (expected mmio)`);
        d.transport = "mmio";
        break;
      case "vdev":
        vdev = setOnce("vdev", vdev, value);
        break;
      case "script":
        d.script = setOnce("script", d.script, value);
        break;
      case "grant_usage":
        d.grantUsage = grantUsageValue(site, value);
        break;
      case "vxsim_transport":
        d.vxsimTransport = transportValue(site, value);
        break;
      case "vxsim_memdisk": {
        const size = parseSize(value);
        if (size === undefined || size === 0) fail(`invalid size '${value}' for vxsim_memdisk (expected ${SIZE_SYNTAX})`);
        if (size % 512 !== 0) fail(`vxsim_memdisk must be a multiple of 512 bytes (sectors), got ${size}`);
        d.vxsimMemdisk = size;
        break;
      }
      default:
        break; // colo-*, active-disk, hidden-disk: accepted, not modelled
    }
  }

  d.specification = spec1 ?? "xen";
  if (vdev === undefined || vdev === "") fail("no vdev specified");
  if (!VDEV.test(vdev)) fail(`invalid vdev '${vdev}' (expected a name like xvda, xvda1, hda, sda or d0p1)`);
  d.vdev = vdev;
  d.format = format ?? (d.target === "" ? "empty" : "raw");
  const virtio = d.specification === "virtio";
  if ((d.target === undefined || d.target === "") && !d.cdrom && d.vxsimMemdisk === undefined) {
    fail(`no target specified (the disk image path${virtio ? ", or vxsim_memdisk=SIZE for an in-memory image" : ""})`);
  }
  if (d.backendtype === "standalone" && !virtio) fail("backendtype=standalone needs specification=virtio");
  if (virtio) {
    if (d.backendtype === "phy" || d.backendtype === "tap") {
      fail(`backendtype=${d.backendtype} cannot serve a virtio disk (expected standalone or qdisk)`);
    }
    if (d.cdrom) fail("a virtio disk cannot be a cdrom");
    d.backendtype ??= "standalone";
    d.transport ??= "mmio";
  } else {
    for (const k of ["transport", "grant_usage", "vxsim_transport", "vxsim_memdisk"]) {
      if (seen.has(k)) fail(`${k}= needs specification=virtio (this is a Xen PV disk)`);
    }
  }
  return d;
}
