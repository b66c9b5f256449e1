// The domains of a scenario: Domain-0 (implicit) and one domain per `domains:` entry, each an
// xl.cfg file (`cfg: guest.cfg`) or inline xl.cfg (`xl: |` literal block, or a list of lines)
// whose errors point at the scenario's own lines.
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { isScalar, isSeq, Scalar } from "yaml";
import { MAX_DOMAINS } from "../wasm/layout.ts";
import { parseXlCfg, type DomainType, type XlDomainConfig } from "./xlcfg.ts";
import { ConfigError } from "./config-error.ts";
import { isX86, type Arch } from "./vocabulary.ts";
import type { ScenarioContext, ScenarioDomain, ScenarioHypervisor } from "./scenario-types.ts";

/** Largest guest RAM: the p2m spans 4 GiB of guest-physical space and grant, foreign and
 *  Xen mappings are placed above RAM, so RAM must leave room below 4 GiB. */
export const MAX_GUEST_MEMORY_MIB = 4095;

/** Default size of Domain-0 when the scenario does not give one. */
const DOM0_MEMORY_MIB = 1024;

/** A path written in a configuration file, relative to `dir` unless absolute. */
export function configPath(dir: string, p: string): string {
  return isAbsolute(p) ? p : join(dir, p);
}

export function readText(ctx: ScenarioContext, path: string, at: readonly (string | number)[], what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw ctx.src.error(at, `cannot read ${what} '${path}' (${code})`);
  }
}

export function loadDomains(ctx: ScenarioContext, arch: Arch, hv: ScenarioHypervisor): ScenarioDomain[] {
  const { src, raw } = ctx;
  const dom0: ScenarioDomain = {
    domid: 0, name: "Domain-0", type: isX86(arch) ? "pv" : "pvh", memoryMiB: raw.dom0?.memory ?? DOM0_MEMORY_MIB,
    maxmemMiB: raw.dom0?.memory ?? DOM0_MEMORY_MIB, vcpus: raw.dom0?.vcpus ?? 1, maxvcpus: raw.dom0?.vcpus ?? 1,
    control: true, driverDomain: false, label: undefined, maxGrantFrames: hv.grantFrames,
    maxMaptrackFrames: hv.maptrackFrames, xl: undefined,
    site: { file: src.file, line: raw.dom0 ? src.line(["dom0"], true) : 0, field: "dom0" },
  };
  if (raw.domains.length >= MAX_DOMAINS) {
    throw src.error(["domains"], `${raw.domains.length} domains do not fit: vxsim simulates domids 0..${MAX_DOMAINS - 1} (Domain-0 included)`);
  }
  const out = [dom0];
  const byName = new Map<string, number>();
  raw.domains.forEach((entry, i) => {
    const xl = entry.cfg !== undefined ? loadCfgFile(ctx, i, entry.cfg) : parseInline(ctx, i);
    const earlier = byName.get(xl.name);
    if (earlier !== undefined) {
      throw new ConfigError(xl.file, xl.lines["name"] ?? 0, "name", `domain name '${xl.name}' is already used by domains[${earlier}] (${out[earlier + 1]!.xl!.file})`);
    }
    byName.set(xl.name, i);
    if (xl.memory > MAX_GUEST_MEMORY_MIB) {
      throw new ConfigError(xl.file, xl.lines["memory"] ?? 0, "memory", `${xl.memory} MiB does not fit: vxsim's guest-physical space is 4 GiB with grant and foreign mappings above RAM (at most ${MAX_GUEST_MEMORY_MIB} MiB)`);
    }
    out.push({
      domid: i + 1, name: xl.name, type: domainType(xl, arch), memoryMiB: xl.memory, maxmemMiB: xl.maxmem,
      vcpus: xl.vcpus, maxvcpus: xl.maxvcpus, control: false, driverDomain: xl.driverDomain,
      label: xl.seclabel?.split(":")[2], maxGrantFrames: xl.maxGrantFrames ?? hv.grantFrames,
      maxMaptrackFrames: xl.maxMaptrackFrames ?? hv.maptrackFrames, xl,
      site: { file: src.file, line: src.line(["domains", i]), field: `domains[${i}]` },
    });
  });
  return out;
}

function loadCfgFile(ctx: ScenarioContext, i: number, cfg: string): XlDomainConfig {
  const path = configPath(ctx.baseDir, cfg);
  return parseXlCfg(readText(ctx, path, ["domains", i, "cfg"], "xl.cfg file"), { file: path });
}

/** Inline xl.cfg: a literal block keeps lines one to one (content starts on the line after
 *  the `|`); a list gives one line per item; a one-line string is its own line. */
function parseInline(ctx: ScenarioContext, i: number): XlDomainConfig {
  const { src } = ctx;
  const at = ["domains", i, "xl"];
  const node = src.node(at);
  const file = src.file;
  if (isSeq(node)) {
    const lines: string[] = [];
    const where: number[] = [];
    node.items.forEach((_, k) => {
      const text = (src.data as { domains: Array<{ xl: string[] }> }).domains[i]!.xl[k]!;
      if (text.includes("\n")) throw src.error([...at, k], "each item of an xl list is one line of xl.cfg");
      lines.push(text);
      where.push(src.line([...at, k]));
    });
    return parseXlCfg(lines.join("\n"), { file, lineMap: (l) => where[l - 1] ?? where[where.length - 1] ?? src.line(at) });
  }
  const text = (src.data as { domains: Array<{ xl: string }> }).domains[i]!.xl;
  const first = src.line(at);
  if (isScalar(node) && node.type === Scalar.BLOCK_LITERAL) return parseXlCfg(text, { file, lineMap: (l) => first + l });
  if (text.trimEnd().includes("\n") || src.endLine(at) > first) {
    throw src.error(at, "write multi-line xl.cfg as a literal block (xl: |) or a list of lines, so that line numbers are kept");
  }
  return parseXlCfg(text, { file, lineMap: () => first });
}

/** Resolves xl's type for the architecture: PV and HVM guests exist on x86 only. */
function domainType(xl: XlDomainConfig, arch: Arch): DomainType {
  if (isX86(arch)) return xl.type ?? "pv";
  if (xl.type === undefined || xl.type === "pvh") return "pvh";
  const key = xl.lines["type"] !== undefined ? "type" : "builder";
  throw new ConfigError(xl.file, xl.lines[key] ?? 0, key, `${xl.type} guests do not exist on ${arch} (Arm and RISC-V guests are pvh)`);
}
