import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../src/scenario/config-error.ts";
import { loadXlCfg, parseXlCfg, xlInteger } from "../src/scenario/xlcfg.ts";
import { parseXlSettings } from "../src/scenario/xlcfg-syntax.ts";
import { parseDiskSpec } from "../src/scenario/xl-disk.ts";
import { parseVifSpec, parseVirtioSpec } from "../src/scenario/xl-devices.ts";

const cfg = (text: string) => parseXlCfg(text, { file: "guest.cfg" });
const site = { file: "guest.cfg", line: 1, field: "disk[0]" };
const disk = (spec: string) => parseDiskSpec(spec, 0, site);

/** The message of the ConfigError `fn` throws. */
function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error("expected a ConfigError");
}

describe("xl.cfg syntax", () => {
  it("reads quoted strings, numbers, comments, ';' and lists spanning lines with a trailing comma", () => {
    const s = parseXlSettings(
      [
        "# a comment line",
        "name = 'guest1'   # trailing comment",
        'kernel = "/boot/vmlinuz"; memory = 0x200',
        "disk = [",
        "   'a',   # first",
        "",
        '   "b",',
        "]",
        "empty = []",
        "nested = [ [ 'pnode=0', 'size=512' ], [ 'pnode=1' ] ]",
      ].join("\n"),
      { file: "t.cfg" },
    );
    expect(s.get("name")).toEqual({ key: "name", op: "=", line: 2, value: { kind: "atom", text: "guest1", quoted: true, line: 2 } });
    expect(s.get("kernel")!.value).toMatchObject({ text: "/boot/vmlinuz", line: 3 });
    expect(s.get("memory")!.value).toMatchObject({ text: "0x200", quoted: false, line: 3 });
    const disk = s.get("disk")!.value;
    expect(disk.kind).toBe("list");
    if (disk.kind === "list") expect(disk.items.map((i) => [i.kind === "atom" && i.text, i.line])).toEqual([["a", 5], ["b", 7]]);
    expect(s.get("empty")!.value).toEqual({ kind: "list", items: [], line: 9 });
    const nested = s.get("nested")!.value;
    expect(nested.kind === "list" && nested.items.length).toBe(2);
  });

  it("decodes backslash escapes in both quote styles", () => {
    const s = parseXlSettings(String.raw`a = "x\"y\\z\tq\x41\101\0" ; b = 'it\'s'`, { file: "t.cfg" });
    expect(s.get("a")!.value).toMatchObject({ text: 'x"y\\z\tqAA\0' });
    expect(s.get("b")!.value).toMatchObject({ text: "it's" });
  });

  it("refuses a second '=' to a key at its line, after '=' or '+='", () => {
    expect(message(() => parseXlSettings('name = "a"\nmemory = 256\nname = "a"', { file: "t.cfg" }))).toBe(
      "t.cfg:3: name: set again (first set on line 1); a key takes one '=' (xl would silently keep only the last; use += to add to a list or string)",
    );
    expect(message(() => parseXlSettings("x = 1\n\ndisk += [ 'a' ]\ndisk = [ 'b' ]", { file: "s.yaml", lineMap: (l) => l + 10 }))).toBe(
      "s.yaml:14: disk: set again (first set on line 13); a key takes one '=' (xl would silently keep only the last; use += to add to a list or string)",
    );
  });

  it("lets '+=' append lists and concatenate strings", () => {
    const s = parseXlSettings(
      ["memory = 512", "disk = [ 'a' ]", "disk += [ 'b',", "  'c' ]", "extra = 'x'", "extra += ' y'", "vif += [ 'v' ]"].join("\n"),
      { file: "t.cfg" },
    );
    expect(s.get("memory")!.value).toMatchObject({ text: "512", line: 1 });
    const d = s.get("disk")!;
    expect(d.op).toBe("+=");
    expect(d.value.kind === "list" && d.value.items.map((i) => [i.kind === "atom" && i.text, i.line])).toEqual([["a", 2], ["b", 3], ["c", 4]]);
    expect(s.get("extra")!.value).toMatchObject({ text: "x y" });
    expect(s.get("vif")!.value).toMatchObject({ kind: "list" });
  });

  it("maps lines through lineMap (inline xl.cfg inside a scenario file)", () => {
    const s = parseXlSettings("name = 'a'\n\ndisk = [\n 'x' ]", { file: "s.yaml", lineMap: (l) => l + 10 });
    expect(s.get("name")!.line).toBe(11);
    const d = s.get("disk")!.value;
    expect(d.kind === "list" && d.items[0]!.line).toBe(14);
    expect(message(() => parseXlSettings("name = 'a'\nmemory = 5M", { file: "s.yaml", lineMap: (l) => l + 10 }))).toBe(
      "s.yaml:12: memory: malformed number '5M' (xl numbers are decimal or 0x hexadecimal, without units)",
    );
  });

  it("reads integers as xl's strtol(…, 0) does", () => {
    expect(xlInteger("512")).toBe(512);
    expect(xlInteger("0x200")).toBe(512);
    expect(xlInteger("010")).toBe(8); // a leading 0 is octal
    expect(xlInteger("0")).toBe(0);
    expect(xlInteger(" +7")).toBe(7);
    expect(xlInteger("-3")).toBe(-3);
    expect(xlInteger("08")).toBeUndefined();
    expect(xlInteger("12abc")).toBeUndefined();
    expect(xlInteger("")).toBeUndefined();
    expect(xlInteger("99999999999999999999")).toBeUndefined();
    expect(cfg("name = 'g'\nmemory = 010").memory).toBe(8);
    expect(cfg("name = 'g'\nmemory = \"1024\"").memory).toBe(1024); // quoted digits are numbers to xl
  });
});

describe("xl.cfg syntax properties", () => {
  // Any one-line string, quoted either way with the needed escapes, reads back as itself,
  // alone or in a list spread over lines with comments and a trailing comma.
  const quote = (s: string, q: string) => q + s.replace(/\\/g, "\\\\").replaceAll(q, `\\${q}`) + q;
  const oneLine = fc.string({ unit: fc.constantFrom(..."ab z09_-,=[]#;:/.'\"\\\tü") });

  it("round-trips quoted strings and lists", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(oneLine, fc.boolean(), fc.boolean()), { maxLength: 6 }), fc.boolean(), (items, trailingComma) => {
        const body = items.map(([s, single, newline]) => quote(s, single ? "'" : '"') + (newline ? " # c\n" : " ")).join(",");
        const text = `name = ${quote("g", "'")}\nl = [ ${body}${trailingComma && items.length > 0 ? "," : ""} ]\n`;
        const v = parseXlSettings(text, { file: "p.cfg" }).get("l")!.value;
        expect(v.kind === "list" && v.items.map((i) => i.kind === "atom" && i.text)).toEqual(items.map(([s]) => s));
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe("xl.cfg domain configs (real-world files)", () => {
  it("parses an Arm guest with the Xen 4.17 virtio disk syntax", () => {
    const d = cfg(
      [
        "# DomU with a virtio-mmio disk served by a standalone backend in dom0",
        'name = "DomU"',
        'type = "pvh"',
        'kernel = "/home/root/Image"',
        "memory = 1024",
        "vcpus = 2",
        'extra = "console=hvc0 root=/dev/vda1 rw"',
        "disk = [ 'phy:/dev/mmcblk0p3,xvda1,backendtype=standalone,specification=virtio' ]",
      ].join("\n"),
    );
    expect(d).toMatchObject({ name: "DomU", type: "pvh", memory: 1024, maxmem: 1024, vcpus: 2, maxvcpus: 2, driverDomain: false });
    expect(d.ignored).toEqual(["kernel", "extra"]);
    expect(d.lines).toMatchObject({ name: 2, disk: 8 });
    expect(d.disks).toEqual([
      {
        index: 0, line: 8, spec: "phy:/dev/mmcblk0p3,xvda1,backendtype=standalone,specification=virtio",
        target: "/dev/mmcblk0p3", format: "raw", vdev: "xvda1", readonly: false, cdrom: false, backend: undefined,
        backendtype: "standalone", specification: "virtio", transport: "mmio", grantUsage: undefined, script: undefined,
        directIoSafe: false, discard: undefined, trusted: undefined, vxsimTransport: undefined, vxsimMemdisk: undefined,
      },
    ]);
  });

  it("parses the commit-message spelling with blanks after commas, transport=mmio and grant_usage", () => {
    const d = disk("phy:/dev/mmcblk0p3, xvda1, backendtype=standalone, specification=virtio, transport=mmio, grant_usage=1, backend=drv");
    expect(d).toMatchObject({ target: "/dev/mmcblk0p3", vdev: "xvda1", specification: "virtio", transport: "mmio", grantUsage: true, backend: "drv" });
  });

  it("parses an x86 PV guest with classic disks, a cdrom and vifs over several lines", () => {
    const d = cfg(
      [
        "name = 'web1'",
        "builder = 'generic'",
        "memory = 2048",
        "maxmem = 4096",
        "vcpus = 2",
        "maxvcpus = 4",
        "bootloader = 'pygrub'",
        "disk = [ 'phy:/dev/vg0/web1-disk,xvda,w',",
        "         'file:/srv/xen/web1-swap.img,xvdb,w',",
        "         'tap:aio:/srv/iso/debian.iso,xvdc:cdrom,r',",
        "         ',hdd:cdrom,r',",
        "       ]",
        "vif = [ 'mac=00:16:3e:5a:01:01, bridge=xenbr0',",
        "        'bridge=xenbr1,backend=netdom,vifname=web1.1,rate=10Mb/s,mtu=9000' ]",
        "on_reboot = 'restart'",
        "on_crash = 'restart'",
      ].join("\n"),
    );
    expect(d).toMatchObject({ name: "web1", type: "pv", memory: 2048, maxmem: 4096, vcpus: 2, maxvcpus: 4 });
    expect(d.disks.map((x) => [x.target, x.vdev, x.readonly, x.cdrom, x.format, x.specification, x.line])).toEqual([
      ["/dev/vg0/web1-disk", "xvda", false, false, "raw", "xen", 8],
      ["/srv/xen/web1-swap.img", "xvdb", false, false, "raw", "xen", 9],
      ["/srv/iso/debian.iso", "xvdc", true, true, "raw", "xen", 10],
      ["", "hdd", true, true, "empty", "xen", 11],
    ]);
    expect(d.vifs.map((v) => [v.mac, v.bridge, v.backend, v.vifname, v.rate, v.mtu, v.devid, v.line])).toEqual([
      ["00:16:3e:5a:01:01", "xenbr0", undefined, undefined, undefined, undefined, 0, 13],
      [undefined, "xenbr1", "netdom", "web1.1", "10Mb/s", 9000, 1, 14],
    ]);
    expect(d.ignored).toEqual(["bootloader", "on_reboot", "on_crash"]);
  });

  it("parses HVM keys, format prefixes, the generic virtio list and the vxsim keys", () => {
    const d = cfg(
      [
        'name = "hvm1"',
        'type = "hvm"',
        "memory = 512",
        "driver_domain = 1",
        'seclabel = "system_u:system_r:domU_t"',
        "max_grant_frames = 64",
        "max_maptrack_frames = 1024",
        'vxsim_transport = "argo:sg"',
        "disk = [ 'qcow2:/images/a.qcow2,hda,w', '/images/b.img,raw,xvdb,rw',",
        "         'vdev=xvdc, specification=virtio, vxsim_memdisk=64M, vxsim_transport=grant-copy' ]",
        "vif = [ 'type=ioemu,model=virtio-net,mac=00:16:3e:00:00:02,vxsim_transport=grant-map' ]",
        "virtio = [ 'backend=Domain-0,type=virtio,device4,transport=mmio,grant_usage=0',",
        "           'type=virtio,device22', 'type=virtio,device' ]",
      ].join("\n"),
    );
    expect(d).toMatchObject({
      type: "hvm", driverDomain: true, seclabel: "system_u:system_r:domU_t", maxGrantFrames: 64, maxMaptrackFrames: 1024,
      vxsimTransport: { id: "argo", variant: "sg" },
    });
    expect(d.disks.map((x) => [x.target, x.format, x.vdev])).toEqual([
      ["/images/a.qcow2", "qcow2", "hda"],
      ["/images/b.img", "raw", "xvdb"],
      [undefined, "raw", "xvdc"],
    ]);
    expect(d.disks[2]).toMatchObject({ vxsimMemdisk: 64 << 20, vxsimTransport: { id: "grant-copy" }, line: 10 });
    expect(d.vifs[0]).toMatchObject({ type: "ioemu", model: "virtio-net", vxsimTransport: { id: "grant-map" } });
    expect(d.virtios.map((v) => [v.type, v.deviceId, v.backend, v.grantUsage, v.line])).toEqual([
      ["virtio,device4", 4, "Domain-0", false, 12],
      ["virtio,device22", 0x22, undefined, undefined, 13],
      ["virtio,device", undefined, undefined, undefined, 13],
    ]);
  });

  it("applies xl's positional rules to disk specs", () => {
    expect(disk("/images/g.img,raw,xvda,r")).toMatchObject({ target: "/images/g.img", format: "raw", vdev: "xvda", readonly: true });
    expect(disk("/images/g.img,,xvda")).toMatchObject({ format: "raw", vdev: "xvda" }); // an empty format is raw
    expect(disk("vdev=xvda,target=/a,b")).toMatchObject({ vdev: "xvda", target: "/a,b" });
    expect(disk("nbd:server:1234,xvda")).toMatchObject({ script: "block-nbd", target: "server:1234", vdev: "xvda" });
    expect(disk("phy:/dev/sdb,xvda,w,devtype=disk,discard,direct-io-safe,trusted")).toMatchObject({
      discard: true, directIoSafe: true, trusted: true, cdrom: false,
    });
    expect(disk("phy:/dev/sdb,d0p1,ro,no-discard,untrusted")).toMatchObject({ vdev: "d0p1", readonly: true, discard: false, trusted: false });
    expect(disk("/dev/sr0,raw,hdc,r,devtype=cdrom").cdrom).toBe(true);
    expect(disk("phy:/dev/vda,xvda,backendtype=qdisk,specification=virtio").backendtype).toBe("qdisk");
  });

  it("reads a file from disk and names it in errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "vxsim-xlcfg-"));
    const p = join(dir, "g.cfg");
    writeFileSync(p, "name = 'g'\nmemory = 64\n");
    expect(loadXlCfg(p)).toMatchObject({ file: p, name: "g", memory: 64 });
    writeFileSync(p, "name = 'g'\nmemroy = 64\n");
    expect(message(() => loadXlCfg(p))).toBe(`${p}:2: memroy: unknown key 'memroy' (did you mean 'memory'?)`);
  });

  it("defaults as xl does: 32 MiB, one vcpu, type left to the architecture", () => {
    expect(cfg("name = 'g'")).toMatchObject({ memory: 32, maxmem: 32, vcpus: 1, maxvcpus: 1, type: undefined, disks: [], vifs: [], virtios: [] });
  });

  it("exposes file, line and field on the error", () => {
    try {
      cfg("name = 'g'\n\ndisk = [ 'phy:/a,xvda',\n  'phy:/b,xvdb,specifcation=virtio' ]");
      expect.unreachable();
    } catch (e) {
      const err = e as ConfigError;
      expect([err.file, err.line, err.field]).toEqual(["guest.cfg", 4, "disk[1]"]);
      expect(err.reason).toBe(
        "unknown key 'specifcation' (did you mean 'specification'? expected one of: access, active-disk, backend, backendtype, cdrom, colo, colo-export, colo-host, colo-port, devtype, direct-io-safe, discard, format, grant_usage, hidden-disk, no-colo, no-discard, script, specification, target, transport, trusted, untrusted, vdev, vxsim_memdisk, vxsim_transport)",
      );
      expect(err.all).toEqual([err]);
    }
  });
});

describe("malformed xl.cfg: every error names file, line and field", () => {
  const DISK_KEYS =
    "access, active-disk, backend, backendtype, cdrom, colo, colo-export, colo-host, colo-port, devtype, direct-io-safe, discard, format, grant_usage, hidden-disk, no-colo, no-discard, script, specification, target, transport, trusted, untrusted, vdev, vxsim_memdisk, vxsim_transport";
  const TRANSPORTS =
    "argo, argo:buffered, argo:sg, fat-virtqueue, grant-copy, grant-map, grant-persistent, kvm-ioeventfd, mmio-foreign, preshared-bounce, pv-p2m";
  const cases: Array<[string, string, string]> = [
    // syntax
    ["missing '='", "name = 'g'\nmemory 512", "guest.cfg:2: memory: expected '=' or '+=' after 'memory', found '512'"],
    ["missing value", "name = 'g'\nmemory =\n", "guest.cfg:2: memory: expected a value (a quoted string, a number or a [list]), found the end of the line"],
    ["unit on a number", "name = 'g'\nmemory = 512M", "guest.cfg:2: memory: malformed number '512M' (xl numbers are decimal or 0x hexadecimal, without units)"],
    ["unterminated string", "name = 'g\nmemory = 1", "guest.cfg:1: name: unterminated string (a single-quoted string must end on the line it starts)"],
    ["bad escape", 'name = "a\\qb"', "guest.cfg:1: name: invalid escape '\\q' in quoted string (expected one of \\\" \\' \\\\ \\a \\b \\f \\n \\r \\t \\v \\xHH \\ooo)"],
    ["bad hex escape", 'name = "a\\xZZ"', "guest.cfg:1: name: invalid escape '\\x' in quoted string (expected two hex digits, as \\x41)"],
    ["python", "name = 'g'\nmemory = int(512)", "guest.cfg:2: memory: expected a value (a quoted string, a number or a [list]), found 'int'"],
    ["python call", "name = 'g'\nvcpus = (2)", "guest.cfg:2: vcpus: unexpected character '(' (xl.cfg is not Python: values are quoted strings, numbers or [lists])"],
    ["negative number", "name = 'g'\nmemory = -1", "guest.cfg:2: memory: unexpected character '-'"],
    ["two values", "name = 'g' 'h'", "guest.cfg:1: name: expected the end of the line or ';' after the value, found the string \"h\""],
    ["unclosed list", "name = 'g'\ndisk = [ 'phy:/a,xvda',\n  'phy:/b,xvdb'\n", "guest.cfg:4: disk: list opened on line 2 is not closed (expected ']')"],
    ["missing comma", "name = 'g'\ndisk = [ 'phy:/a,xvda'\n 'phy:/b,xvdb' ]", "guest.cfg:3: disk: expected ',' or ']' after a list item, found the string \"phy:/b,xvdb\""],
    ["empty list item", "name = 'g'\ndisk = [ , 'a' ]", "guest.cfg:2: disk: expected a list item or ']', found ','"],
    ["stray value", "'g'", "guest.cfg:1: expected a setting (key = value), found the string \"g\""],
    ["+= of mixed kinds", "name = 'g'\ndisk = [ 'a' ]\ndisk += 'b'", "guest.cfg:3: disk: cannot add a string to a list (use += with the same kind of value)"],
    // top-level keys and values
    ["unknown key with a suggestion", "name = 'g'\n\n\nmemroy = 512", "guest.cfg:4: memroy: unknown key 'memroy' (did you mean 'memory'?)"],
    ["unknown key", "name = 'g'\nfrobnicate = 1", "guest.cfg:2: frobnicate: unknown key 'frobnicate' (expected an xl.cfg key)"],
    ["unknown vxsim key", "name = 'g'\nvxsim_transprot = 'argo'", "guest.cfg:2: vxsim_transprot: unknown key 'vxsim_transprot' (the vxsim key of a domain is vxsim_transport)"],
    ["no name", "memory = 512", "guest.cfg: name: missing (every domain needs a name)"],
    ["numeric name", "name = '12'", "guest.cfg:1: name: '12' is all digits (it would read as a domid)"],
    ["name is a list", "name = [ 'a' ]", "guest.cfg:1: name: expected a single value, got a list"],
    ["bad type", "name = 'g'\ntype = 'kvm'", "guest.cfg:2: type: unknown domain type 'kvm' (expected one of: pv, pvh, hvm)"],
    ["bad builder", "name = 'g'\nbuilder = 'linux'", "guest.cfg:2: builder: unknown builder 'linux' (expected hvm or generic; prefer type=)"],
    ["memory not a number", "name = 'g'\nmemory = 'lots'", "guest.cfg:2: memory: expected an integer, got 'lots'"],
    ["zero vcpus", "name = 'g'\nvcpus = 0", "guest.cfg:2: vcpus: must be at least 1, got 0"],
    ["+= on a number", "name = 'g'\nmemory += 5", "guest.cfg:2: memory: '+=' cannot be used with numbers"],
    ["maxmem below memory", "name = 'g'\nmemory = 512\nmaxmem = 256", "guest.cfg:3: maxmem: 256 MiB is less than memory (512 MiB)"],
    ["maxvcpus below vcpus", "name = 'g'\nvcpus = 4\nmaxvcpus = 2", "guest.cfg:3: maxvcpus: 2 is less than vcpus (4)"],
    ["boolean as a word", "name = 'g'\ndriver_domain = 'true'", "guest.cfg:2: driver_domain: expected 0 or 1 (xl reads booleans as numbers), got 'true'"],
    ["disk not a list", "name = 'g'\ndisk = 'phy:/a,xvda'", "guest.cfg:2: disk: expected a list ([ '...', ... ]), got a single value"],
    ["bad seclabel", "name = 'g'\nseclabel = 'domU_t'", "guest.cfg:2: seclabel: expected a Flask label user:role:type, got 'domU_t'"],
    ["nested disk list", "name = 'g'\ndisk = [ 'phy:/a,xvda',\n [ 'x' ] ]", "guest.cfg:3: disk[1]: expected a string, got a list"],
    ["bad vxsim_transport", "name = 'g'\nvxsim_transport = 'grant'", `guest.cfg:2: vxsim_transport: unknown transport 'grant' (expected one of: ${TRANSPORTS})`],
    // disk specs
    ["misspelt disk key", "name = 'g'\ndisk = [ 'phy:/a,xvda',\n\n  'phy:/b,xvdb,backendtype=standalone,specifcation=virtio' ]", `guest.cfg:4: disk[1]: unknown key 'specifcation' (did you mean 'specification'? expected one of: ${DISK_KEYS})`],
    ["bad specification", "name = 'g'\ndisk = [ 'phy:/a,xvda,specification=vhost' ]", "guest.cfg:2: disk[0]: unknown value 'vhost' for specification (expected xen or virtio)"],
    ["bad backendtype", "name = 'g'\ndisk = [ 'phy:/a,xvda,backendtype=qemu' ]", "guest.cfg:2: disk[0]: unknown value 'qemu' for backendtype (expected one of: phy, tap, qdisk, standalone)"],
    ["bad transport", "name = 'g'\ndisk = [ 'phy:/a,xvda,specification=virtio,transport=pci' ]", "guest.cfg:2: disk[0]: unknown value 'pci' for transport (expected mmio)"],
    ["bad grant_usage", "name = 'g'\ndisk = [ 'phy:/a,xvda,specification=virtio,grant_usage=yes' ]", "guest.cfg:2: disk[0]: grant_usage must be 0 or 1, got 'yes'"],
    ["standalone without virtio", "name = 'g'\ndisk = [ 'phy:/a,xvda,backendtype=standalone' ]", "guest.cfg:2: disk[0]: backendtype=standalone needs specification=virtio"],
    ["phy backend for virtio", "name = 'g'\ndisk = [ 'phy:/a,xvda,backendtype=phy,specification=virtio' ]", "guest.cfg:2: disk[0]: backendtype=phy cannot serve a virtio disk (expected standalone or qdisk)"],
    ["vxsim key on a PV disk", "name = 'g'\ndisk = [ 'phy:/a,xvda,vxsim_transport=grant-map' ]", "guest.cfg:2: disk[0]: vxsim_transport= needs specification=virtio (this is a Xen PV disk)"],
    ["bad vxsim transport", "name = 'g'\ndisk = [ 'phy:/a,xvda,specification=virtio,vxsim_transport=argo:zerocopy' ]", `guest.cfg:2: disk[0]: unknown transport 'argo:zerocopy' for vxsim_transport (expected one of: ${TRANSPORTS})`],
    ["bad memdisk size", "name = 'g'\ndisk = [ 'vdev=xvda,specification=virtio,vxsim_memdisk=64Q' ]", "guest.cfg:2: disk[0]: invalid size '64Q' for vxsim_memdisk (expected bytes, or a number with a K, M, G or T suffix such as 4k or 64M)"],
    ["unaligned memdisk", "name = 'g'\ndisk = [ 'vdev=xvda,specification=virtio,vxsim_memdisk=1000' ]", "guest.cfg:2: disk[0]: vxsim_memdisk must be a multiple of 512 bytes (sectors), got 1000"],
    ["format where the vdev was meant", "name = 'g'\ndisk = [ '/dev/sdb,xvda,w' ]", "guest.cfg:2: disk[0]: unknown value 'xvda' for format (expected one of: raw, qcow, qcow2, vhd, qed, empty; with no prefix such as phy: on the target, the second positional parameter is the format — give the vdev as vdev=...)"],
    ["too many positionals", "name = 'g'\ndisk = [ 'phy:/a,xvda,w,extra' ]", "guest.cfg:2: disk[0]: too many positional parameters at 'extra' (expected at most target, format, vdev, access)"],
    ["bad access", "name = 'g'\ndisk = [ 'phy:/a,xvda,rx' ]", "guest.cfg:2: disk[0]: unknown value 'rx' for access (expected r, ro, rw or w)"],
    ["unknown prefix", "name = 'g'\ndisk = [ 'lvm:/dev/vg/a,xvda' ]", "guest.cfg:2: disk[0]: unknown deprecated disk prefix 'lvm:' (expected one of: aio, drbd, enbd, file, ioemu, iscsi, nbd, phy, qcow, qcow2, raw, tap, tap2, tapdisk, vhd)"],
    ["no vdev", "name = 'g'\ndisk = [ 'phy:/dev/sdb' ]", "guest.cfg:2: disk[0]: no vdev specified"],
    ["bad vdev", "name = 'g'\ndisk = [ 'phy:/dev/sdb,vda' ]", "guest.cfg:2: disk[0]: invalid vdev 'vda' (expected a name like xvda, xvda1, hda, sda or d0p1)"],
    ["no target", "name = 'g'\ndisk = [ 'vdev=xvda,specification=virtio' ]", "guest.cfg:2: disk[0]: no target specified (the disk image path, or vxsim_memdisk=SIZE for an in-memory image)"],
    ["vdev respecified", "name = 'g'\ndisk = [ 'phy:/a,xvda,vdev=xvdb' ]", "guest.cfg:2: disk[0]: vdev respecified ('xvda', then 'xvdb')"],
    ["duplicate vdev", "name = 'g'\ndisk = [ 'phy:/a,xvda',\n 'phy:/b,xvda' ]", "guest.cfg:3: disk[1]: vdev 'xvda' is already used by disk[0] (line 2)"],
    ["virtio cdrom", "name = 'g'\ndisk = [ 'phy:/a,xvda,specification=virtio,devtype=cdrom' ]", "guest.cfg:2: disk[0]: a virtio disk cannot be a cdrom"],
    // vif and virtio specs
    ["bad mac", "name = 'g'\nvif = [ 'mac=00:16:3e:zz:00:01' ]", "guest.cfg:2: vif[0]: invalid mac '00:16:3e:zz:00:01' (expected six hex bytes such as 00:16:3e:12:34:56)"],
    ["unknown vif key", "name = 'g'\nvif = [ 'bridge=xenbr0,modle=e1000' ]", "guest.cfg:2: vif[0]: unknown key 'modle' (did you mean 'model'? expected one of: accel, backend, bridge, devid, forwarddev, gatewaydev, ip, mac, model, mtu, netdev, rate, script, type, vifname, vxsim_transport)"],
    ["bad vif type", "name = 'g'\nvif = [ 'type=pv' ]", "guest.cfg:2: vif[0]: unknown value 'pv' for type (expected vif or ioemu)"],
    ["vif mtu", "name = 'g'\nvif = [ 'mtu=70000' ]", "guest.cfg:2: vif[0]: mtu must be 68..65535, got 70000"],
    ["duplicate devid", "name = 'g'\nvif = [ 'bridge=a', 'devid=0' ]", "guest.cfg:2: vif[1]: devid 0 is already used by vif[0] (line 2)"],
    ["virtio without type", "name = 'g'\nvirtio = [ 'backend=dom0' ]", "guest.cfg:2: virtio[0]: no type specified (expected type=virtio,device<id>)"],
    ["virtio bad type", "name = 'g'\nvirtio = [ 'type=i2c' ]", "guest.cfg:2: virtio[0]: unknown value 'i2c' for type (expected virtio,device or virtio,device<id>, the id in lower-case hex: virtio,device1 net, virtio,device2 block, virtio,device4 rng)"],
    ["virtio unknown key", "name = 'g'\nvirtio = [ 'type=virtio,device4,grant=1' ]", "guest.cfg:2: virtio[0]: unknown key 'grant' (expected one of: backend, grant_usage, transport, type, vxsim_memdisk, vxsim_transport)"],
    ["virtio memdisk on rng", "name = 'g'\nvirtio = [ 'type=virtio,device4,vxsim_memdisk=1M' ]", "guest.cfg:2: virtio[0]: vxsim_memdisk= only applies to a block device (type=virtio,device2)"],
  ];

  it("has at least 20 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)("%s", (_what, text, expected) => {
    expect(message(() => cfg(text))).toBe(expected);
  });
});

describe("device spec parsers alone", () => {
  const vsite = { file: "v.cfg", line: 3, field: "vif[0]" };
  it("parse vif and virtio items with blanks and empty items as xl's strtok does", () => {
    expect(parseVifSpec(" mac=00:16:3e:00:00:01 ,, bridge=br0,", 0, vsite)).toMatchObject({ mac: "00:16:3e:00:00:01", bridge: "br0" });
    expect(parseVirtioSpec("type=virtio,device1, backend=netdom", 0, { ...vsite, field: "virtio[0]" })).toMatchObject({ deviceId: 1, backend: "netdom" });
    expect(message(() => parseVifSpec("bridge", 0, vsite))).toBe("v.cfg:3: vif[0]: bridge needs a value (bridge=...)");
  });
});
