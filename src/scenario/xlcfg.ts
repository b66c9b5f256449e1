// xl domain configuration files (xl.cfg(5)) as typed domain configs. Syntax: xlcfg-syntax.ts;
// device specs: xl-disk.ts, xl-devices.ts. A key vxsim does not know is an error unless it is
// a real xl key that does not change what vxsim simulates (IGNORED_XL_KEYS), so a typo never
// passes silently. Values follow xl's readers: numbers are read with strtol base 0 (0x hex,
// a leading 0 means octal), quoted digits count as numbers, and booleans are numbers (0 false,
// anything else true: xl does not accept "true"/"false").
import { readFileSync } from "node:fs";
import { ConfigError, closest } from "./config-error.ts";
import { parseXlSettings, type XlAtom, type XlSetting, type XlSourceOptions, type XlValue } from "./xlcfg-syntax.ts";
import { parseDiskSpec, type XlDisk } from "./xl-disk.ts";
import { parseVifSpec, parseVirtioSpec, type XlVif, type XlVirtio } from "./xl-devices.ts";
import { TRANSPORT_SPELLINGS, parseTransport, type TransportChoice } from "./vocabulary.ts";
import { choices } from "./config-error.ts";

export type DomainType = "pv" | "pvh" | "hvm";
export const DOMAIN_TYPES: readonly DomainType[] = ["pv", "pvh", "hvm"];

export interface XlDomainConfig {
  /** The file as named in messages. */
  file: string;
  name: string;
  /** undefined: xl's default for the architecture (pv on x86, pvh on Arm). */
  type: DomainType | undefined;
  /** MiB. Default 32, libxl's default maximum when the file sets none. */
  memory: number;
  /** MiB; defaults to memory. */
  maxmem: number;
  vcpus: number;
  maxvcpus: number;
  driverDomain: boolean;
  /** Flask label `user:role:type`. */
  seclabel: string | undefined;
  maxGrantFrames: number | undefined;
  maxMaptrackFrames: number | undefined;
  maxEventChannels: number | undefined;
  disks: XlDisk[];
  vifs: XlVif[];
  virtios: XlVirtio[];
  /** `vxsim_transport = "..."`: the default transport of this domain's devices. */
  vxsimTransport: TransportChoice | undefined;
  /** Known xl keys present in the file that vxsim does not model, in file order. */
  ignored: string[];
  /** Line of each key set (reported line numbers). */
  lines: Record<string, number>;
}

type Kind = "string" | "int" | "bool" | "list";

/** Keys vxsim reads. */
const USED_KEYS: Record<string, Kind> = {
  name: "string", type: "string", builder: "string", memory: "int", maxmem: "int", vcpus: "int",
  maxvcpus: "int", driver_domain: "bool", seclabel: "string", max_grant_frames: "int",
  max_maptrack_frames: "int", max_event_channels: "int", disk: "list", vif: "list", virtio: "list",
  vxsim_transport: "string",
};

/** Real xl.cfg keys (Xen 4.17 xl.cfg(5)) that do not change what vxsim simulates: boot,
 *  firmware, display, scheduling, emulated hardware, passthrough, lifecycle actions. */
export const IGNORED_XL_KEYS: readonly string[] = [
  "acpi", "acpi_firmware", "acpi_s3", "acpi_s4", "altp2m", "altp2mhvm", "apic", "bios",
  "bios_path_override", "boot", "bootloader", "bootloader_args", "cap", "channel", "cmdline",
  "cpu_weight", "cpuid", "cpus", "cpus_soft", "device_model_args", "device_model_args_hvm",
  "device_model_args_pv", "device_model_override", "device_model_stubdomain_override",
  "device_model_stubdomain_seclabel", "device_model_user", "device_model_version", "device_tree",
  "dm_restrict", "dtdev", "e820_host", "extra", "firmware", "firmware_override", "gfx_passthru",
  "gic_version", "hap", "hdtype", "init_seclabel", "iomem", "ioports", "irqs", "kernel", "keymap",
  "localtime", "max_grant_version", "mca_caps", "msitranslate", "nestedhvm", "nomigrate",
  "on_crash", "on_poweroff", "on_reboot", "on_soft_reset", "on_watchdog", "opengl", "p9", "pae",
  "passthrough", "pci", "pci_permissive", "pci_power_mgmt", "pci_seize", "pool", "pvcalls",
  "pvshim", "pvshim_cmdline", "pvshim_extra", "pvshim_path", "ramdisk", "rdm", "rdm_mem_boundary",
  "root", "rtc_timeoffset", "sdl", "serial", "shadow_memory", "smbios_firmware", "soundhw",
  "spice", "spice_clipboard_sharing", "spicedisable_ticketing", "spicehost", "spicepasswd",
  "spiceport", "spicetls_port", "spiceusbredirection", "spicevdagent", "stdvga",
  "stubdomain_kernel", "stubdomain_memory", "stubdomain_ramdisk", "tee", "timer_mode", "tsc_mode",
  "usb", "usbctrl", "usbdev", "usbdevice", "uuid", "vdispl", "vfb", "vga", "videoram", "viridian",
  "vkb", "vkb_device", "vnc", "vncconsole", "vncdisplay", "vnclisten", "vncpasswd", "vncunused",
  "vnuma", "vsnd", "vtpm", "vuart", "xen_platform_pci", "xend_suspend_evtchn_compat",
];

export interface XlCfgOptions extends XlSourceOptions {}

/** Parses xl.cfg text; `opts.file` names it in errors. */
export function parseXlCfg(text: string, opts: XlCfgOptions): XlDomainConfig {
  const settings = parseXlSettings(text, opts);
  const file = opts.file;
  function fail(s: XlSetting | XlValue, field: string, reason: string): never {
    throw new ConfigError(file, s.line, field, reason);
  }

  const ignored: string[] = [];
  const lines: Record<string, number> = {};
  for (const s of settings.values()) {
    lines[s.key] = s.line;
    if (Object.hasOwn(USED_KEYS, s.key)) continue;
    if (IGNORED_XL_KEYS.includes(s.key)) {
      ignored.push(s.key);
      continue;
    }
    const guess = closest(s.key, [...Object.keys(USED_KEYS), ...IGNORED_XL_KEYS]);
    const hint = guess ? `did you mean '${guess}'?` : "expected an xl.cfg key";
    if (s.key.startsWith("vxsim_")) fail(s, s.key, `unknown key '${s.key}' (the vxsim key of a domain is vxsim_transport)`);
    fail(s, s.key, `unknown key '${s.key}' (${hint})`);
  }

  const atom = (key: string): XlAtom | undefined => {
    const s = settings.get(key);
    if (!s) return undefined;
    if (s.value.kind === "list") fail(s, key, `expected a single value, got a list`);
    return s.value;
  };
  const str = (key: string): string | undefined => atom(key)?.text;
  const int = (key: string, min: number): number | undefined => {
    const a = atom(key);
    if (!a) return undefined;
    if (settings.get(key)!.op === "+=") fail(a, key, "'+=' cannot be used with numbers");
    const n = xlInteger(a.text);
    if (n === undefined) fail(a, key, `expected an integer, got ${a.quoted ? `'${a.text}'` : a.text}`);
    if (n < min) fail(a, key, `must be at least ${min}, got ${n}`);
    return n;
  };
  const bool = (key: string): boolean | undefined => {
    const a = atom(key);
    if (!a) return undefined;
    const n = xlInteger(a.text);
    if (n === undefined) fail(a, key, `expected 0 or 1 (xl reads booleans as numbers), got '${a.text}'`);
    return n !== 0;
  };
  const list = (key: string): XlAtom[] => {
    const s = settings.get(key);
    if (!s) return [];
    if (s.value.kind !== "list") fail(s, key, `expected a list ([ '...', ... ]), got a single value`);
    return s.value.items.map((item, i) => {
      if (item.kind === "list") fail(item, `${key}[${i}]`, "expected a string, got a list");
      return item;
    });
  };

  const nameAtom = atom("name");
  if (!nameAtom) throw new ConfigError(file, 0, "name", "missing (every domain needs a name)");
  const name = nameAtom.text;
  if (name === "") fail(nameAtom, "name", "must not be empty");
  if (/^[0-9]+$/.test(name)) fail(nameAtom, "name", `'${name}' is all digits (it would read as a domid)`);
  if (name === "Domain-0") fail(nameAtom, "name", "'Domain-0' is the name of dom0");
  if (/[\s/]/.test(name)) fail(nameAtom, "name", `'${name}' contains a blank or '/'`);

  let type: DomainType | undefined;
  const typeStr = str("type");
  if (typeStr !== undefined) {
    if (!(DOMAIN_TYPES as readonly string[]).includes(typeStr)) {
      fail(settings.get("type")!, "type", `unknown domain type '${typeStr}' (expected one of: ${choices(DOMAIN_TYPES)})`);
    }
    type = typeStr as DomainType;
  } else {
    const builder = str("builder");
    if (builder !== undefined) {
      if (builder !== "hvm" && builder !== "generic") fail(settings.get("builder")!, "builder", `unknown builder '${builder}' (expected hvm or generic; prefer type=)`);
      type = builder === "hvm" ? "hvm" : "pv";
    }
  }

  const memory = int("memory", 1) ?? 32;
  const maxmem = int("maxmem", 1) ?? memory;
  if (maxmem < memory) fail(settings.get("maxmem")!, "maxmem", `${maxmem} MiB is less than memory (${memory} MiB)`);
  const vcpus = int("vcpus", 1) ?? 1;
  const maxvcpus = int("maxvcpus", 1) ?? vcpus;
  if (maxvcpus < vcpus) fail(settings.get("maxvcpus")!, "maxvcpus", `${maxvcpus} is less than vcpus (${vcpus})`);

  let vxsimTransport: TransportChoice | undefined;
  const vt = str("vxsim_transport");
  if (vt !== undefined) {
    vxsimTransport = parseTransport(vt);
    if (!vxsimTransport) fail(settings.get("vxsim_transport")!, "vxsim_transport", `unknown transport '${vt}' (expected one of: ${choices(TRANSPORT_SPELLINGS)})`);
  }

  const disks = list("disk").map((a, i) => parseDiskSpec(a.text, i, { file, line: a.line, field: `disk[${i}]` }));
  const byVdev = new Map<string, XlDisk>();
  for (const d of disks) {
    const other = byVdev.get(d.vdev);
    if (other) throw new ConfigError(file, d.line, `disk[${d.index}]`, `vdev '${d.vdev}' is already used by disk[${other.index}] (line ${other.line})`);
    byVdev.set(d.vdev, d);
  }
  const vifs = list("vif").map((a, i) => parseVifSpec(a.text, i, { file, line: a.line, field: `vif[${i}]` }));
  const byDevid = new Map<number, XlVif>();
  for (const v of vifs) {
    const other = byDevid.get(v.devid);
    if (other) throw new ConfigError(file, v.line, `vif[${v.index}]`, `devid ${v.devid} is already used by vif[${other.index}] (line ${other.line})`);
    byDevid.set(v.devid, v);
  }
  const virtios = list("virtio").map((a, i) => parseVirtioSpec(a.text, i, { file, line: a.line, field: `virtio[${i}]` }));

  const seclabel = str("seclabel");
  if (seclabel !== undefined && !/^[^:\s]+:[^:\s]+:[^:\s]+(?::\S+)?$/.test(seclabel)) {
    fail(settings.get("seclabel")!, "seclabel", `expected a Flask label user:role:type, got '${seclabel}'`);
  }

  return {
    file, name, type, memory, maxmem, vcpus, maxvcpus,
    driverDomain: bool("driver_domain") ?? false,
    seclabel,
    maxGrantFrames: int("max_grant_frames", 1),
    maxMaptrackFrames: int("max_maptrack_frames", 0),
    maxEventChannels: int("max_event_channels", 1),
    disks, vifs, virtios, vxsimTransport, ignored, lines,
  };
}

/** Reads and parses an xl.cfg file; errors name it as `path` was given. */
export function loadXlCfg(path: string): XlDomainConfig {
  return parseXlCfg(readFileSync(path, "utf8"), { file: path });
}

/** An integer as xl's strtol(s, &end, 0) accepts a whole value: optional blanks and sign,
 *  0x hex, 0-prefixed octal, or decimal. undefined when not an integer or out of 2^53. */
export function xlInteger(text: string): number | undefined {
  const m = /^[ \t]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const digits = m[2]!;
  const n = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits[0] === "0" ? parseInt(digits, 8) : Number(digits);
  if (!Number.isSafeInteger(n)) return undefined;
  return m[1] === "-" ? -n : n;
}
