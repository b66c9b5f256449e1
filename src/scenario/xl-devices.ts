// Entries of `vif = [ ... ]` and of the generic `virtio = [ ... ]` list (xl.cfg(5)), both
// comma-separated key=value items.
//
//   vif:    'mac=00:16:3e:00:00:01,bridge=xenbr0,backend=netdom,model=virtio-net,type=ioemu'
//   virtio: 'backend=dom0,type=virtio,device4,transport=mmio,grant_usage=1'
//
// In a virtio entry the type value itself holds a comma (`virtio,device22`): as xl does, an
// item `type=virtio...` takes the next item with it. The device id after `virtio,device` is
// hexadecimal (the devicetree binding `virtio,device<id>`): 1 net, 2 block, 4 entropy (rng),
// 22 = 0x22 = I2C. vxsim keys: vxsim_transport=<id>, and vxsim_memdisk=<size> for a block device.
import { parseSize, SIZE_SYNTAX, type TransportChoice } from "./vocabulary.ts";
import { grantUsageValue, keyValue, specError, splitSpec, transportValue, unknownKey, type SpecSite } from "./xl-spec.ts";

export interface XlVif {
  index: number;
  line: number;
  spec: string;
  /** Lower-case `xx:xx:xx:xx:xx:xx`. */
  mac: string | undefined;
  bridge: string | undefined;
  backend: string | undefined;
  model: string | undefined;
  type: "vif" | "ioemu" | undefined;
  ip: string | undefined;
  vifname: string | undefined;
  script: string | undefined;
  rate: string | undefined;
  mtu: number | undefined;
  /** Device id: devid= or the position in the list (xl's default). */
  devid: number;
  vxsimTransport: TransportChoice | undefined;
}

const VIF_KEYS = [
  "mac", "bridge", "backend", "model", "type", "ip", "vifname", "script", "rate", "mtu", "devid",
  "gatewaydev", "netdev", "forwarddev", "accel", "vxsim_transport",
] as const;

const MAC = /^[0-9a-fA-F]{1,2}(?::[0-9a-fA-F]{1,2}){5}$/;

export function parseVifSpec(spec: string, index: number, site: SpecSite): XlVif {
  const v: XlVif = {
    index, line: site.line, spec, mac: undefined, bridge: undefined, backend: undefined, model: undefined,
    type: undefined, ip: undefined, vifname: undefined, script: undefined, rate: undefined, mtu: undefined,
    devid: index, vxsimTransport: undefined,
  };
  for (const item of splitSpec(spec)) {
    const [key, value] = keyValue(item);
    if (!(VIF_KEYS as readonly string[]).includes(key)) throw unknownKey(site, key, VIF_KEYS);
    if (value === undefined) throw specError(site, `${key} needs a value (${key}=...)`);
    switch (key) {
      case "mac":
        if (!MAC.test(value)) throw specError(site, `invalid mac '${value}' (expected six hex bytes such as 00:16:3e:12:34:56)`);
        v.mac = value.split(":").map((b) => b.toLowerCase().padStart(2, "0")).join(":");
        break;
      case "type":
        if (value !== "vif" && value !== "ioemu") throw specError(site, `unknown value '${value}' for type (expected vif or ioemu)`);
        v.type = value;
        break;
      case "mtu":
      case "devid": {
        if (!/^[0-9]+$/.test(value)) throw specError(site, `${key} must be a non-negative integer, got '${value}'`);
        const n = Number(value);
        if (key === "mtu" && (n < 68 || n > 65535)) throw specError(site, `mtu must be 68..65535, got ${n}`);
        if (key === "mtu") v.mtu = n;
        else v.devid = n;
        break;
      }
      case "vxsim_transport":
        v.vxsimTransport = transportValue(site, value);
        break;
      case "bridge":
      case "backend":
      case "model":
      case "ip":
      case "vifname":
      case "script":
      case "rate":
        v[key] = value;
        break;
      default:
        break; // gatewaydev, netdev, forwarddev, accel: accepted, not modelled
    }
  }
  return v;
}

export interface XlVirtio {
  index: number;
  line: number;
  spec: string;
  backend: string | undefined;
  /** As written: `virtio,device` or `virtio,device<hex id>`. */
  type: string;
  /** The virtio device id, undefined for the generic `virtio,device`. */
  deviceId: number | undefined;
  transport: "mmio";
  grantUsage: boolean | undefined;
  vxsimTransport: TransportChoice | undefined;
  vxsimMemdisk: number | undefined;
}

const VIRTIO_KEYS = ["backend", "type", "transport", "grant_usage", "vxsim_transport", "vxsim_memdisk"] as const;

export function parseVirtioSpec(spec: string, index: number, site: SpecSite): XlVirtio {
  const v: XlVirtio = {
    index, line: site.line, spec, backend: undefined, type: "", deviceId: undefined, transport: "mmio",
    grantUsage: undefined, vxsimTransport: undefined, vxsimMemdisk: undefined,
  };
  const items = splitSpec(spec);
  for (let i = 0; i < items.length; i++) {
    let [key, value] = keyValue(items[i]!);
    if (!(VIRTIO_KEYS as readonly string[]).includes(key)) throw unknownKey(site, key, VIRTIO_KEYS);
    if (value === undefined) throw specError(site, `${key} needs a value (${key}=...)`);
    if (key === "type" && value.startsWith("virtio") && i + 1 < items.length) value = `${value},${items[++i]}`;
    switch (key) {
      case "backend":
        v.backend = value;
        break;
      case "type": {
        const m = /^virtio,device([0-9a-f]{1,8})?$/.exec(value);
        if (!m) throw specError(site, `unknown value '${value}' for type (expected virtio,device or virtio,device<id>, the id in lower-case hex: virtio,device1 net, virtio,device2 block, virtio,device4 rng)`);
        v.type = value;
        v.deviceId = m[1] === undefined ? undefined : parseInt(m[1], 16);
        break;
      }
      case "transport":
        if (value !== "mmio") throw specError(site, `unknown value '${value}' for transport (expected mmio)`);
        break;
      case "grant_usage":
        v.grantUsage = grantUsageValue(site, value);
        break;
      case "vxsim_transport":
        v.vxsimTransport = transportValue(site, value);
        break;
      case "vxsim_memdisk": {
        const size = parseSize(value);
        if (size === undefined || size === 0) throw specError(site, `invalid size '${value}' for vxsim_memdisk (expected ${SIZE_SYNTAX})`);
        if (size % 512 !== 0) throw specError(site, `vxsim_memdisk must be a multiple of 512 bytes (sectors), got ${size}`);
        v.vxsimMemdisk = size;
        break;
      }
    }
  }
  if (v.type === "") throw specError(site, "no type specified (expected type=virtio,device<id>)");
  if (v.vxsimMemdisk !== undefined && v.deviceId !== 2) throw specError(site, "vxsim_memdisk= only applies to a block device (type=virtio,device2)");
  return v;
}
