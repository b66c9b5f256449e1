// Scenario files: YAML naming the machine and its cost profile, hypervisor options, the
// domains (xl.cfg files or inline xl.cfg), per-device transports with a global default,
// workloads, a duration and a seed. Loading validates against scenario.schema.json, then
// resolves names, paths, sizes and transports; every error names file, line and field.
//
//   machine: { profile: arm64-v8.0 }   (or a profile file, validated here, and its arch)
//   hypervisor: { grant_frames: 64, tlb_flush_elision: true, xsm: flask, xsm_policy: argo.xsm,
//                 argo: { enabled: true, mac_permissive: false } }
//   transport: grant-map
//   domains: [ { cfg: guest.cfg }, { xl: "name = 'drv'" } ]
//   devices: { guest/xvda: { transport: grant-copy } }
//   workloads: [ { fio: { device: guest/xvda, rw: randread, bs: 4k, iodepth: 16 } } ]
//   duration: { ios: 10000 }
//   seed: 1
import { readFileSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { loadProfile, ProfileError } from "../cost/profile.ts";
import { loadXsmPolicy, XsmPolicyError } from "../xen/xsm-policy.ts";
import { ConfigError, choices, closest } from "./config-error.ts";
import { checkSchema } from "./schema-check.ts";
import { configPath, loadDomains } from "./scenario-domains.ts";
import { resolveDevices } from "./scenario-devices.ts";
import { resolveDuration, resolveWorkloads } from "./scenario-workloads.ts";
import { YamlSource } from "./yaml-source.ts";
import { ARCHES, isArch, type Arch } from "./vocabulary.ts";
import type { RawScenario, Scenario, ScenarioContext, ScenarioHypervisor, ScenarioMachine, XsmChoice } from "./scenario-types.ts";

export type * from "./scenario-types.ts";

/** Xen's defaults: gnttab_max_frames and gnttab_max_maptrack_frames (xen/common/grant_table.c). */
export const XEN_DEFAULT_GRANT_FRAMES = 64;
export const XEN_DEFAULT_MAPTRACK_FRAMES = 1024;

export interface ScenarioOptions {
  /** Name of the file in messages. */
  file: string;
  /** Directory relative paths are resolved against (default: the file's directory). */
  baseDir?: string;
}

/** Reads and loads a scenario file. */
export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(path, 0, "", `cannot read the scenario file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseScenario(text, { file: path });
}

export function parseScenario(text: string, opts: ScenarioOptions): Scenario {
  const src = YamlSource.parse(text, opts.file);
  checkSchema(src);
  const raw = src.data as RawScenario;
  const ctx: ScenarioContext = { src, raw, baseDir: opts.baseDir ?? dirname(opts.file), warnings: [] };
  const machine = resolveMachine(ctx);
  const hypervisor = resolveHypervisor(ctx, machine.arch);
  const domains = loadDomains(ctx, machine.arch, hypervisor);
  const devices = resolveDevices(ctx, domains, hypervisor);
  const workloads = resolveWorkloads(ctx, devices);
  return {
    file: opts.file,
    name: raw.name ?? basename(opts.file).replace(/\.ya?ml$/, ""),
    machine, hypervisor, domains, devices, workloads,
    duration: resolveDuration(ctx),
    seed: raw.seed,
    warnings: ctx.warnings,
  };
}

function resolveMachine(ctx: ScenarioContext): ScenarioMachine {
  const { src } = ctx;
  const m = ctx.raw.machine;
  if (isArch(m.profile)) {
    if (m.arch !== undefined && m.arch !== m.profile) {
      throw src.error(["machine", "arch"], `'${m.arch}' contradicts the built-in profile '${m.profile}' (give arch only with a profile file)`);
    }
    return { profile: { kind: "builtin", id: m.profile }, arch: m.profile };
  }
  if (!/[/\\.]/.test(m.profile)) {
    const guess = closest(m.profile, ARCHES);
    throw src.error(["machine", "profile"], `unknown profile '${m.profile}' (${guess ? `did you mean '${guess}'? ` : ""}expected one of: ${choices(ARCHES)}, or the path of a profile file)`);
  }
  const path = configPath(ctx.baseDir, m.profile);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    // reported below
  }
  if (!isFile) throw src.error(["machine", "profile"], `profile file '${path}' not found`);
  if (m.arch === undefined) throw src.error(["machine", "arch"], `missing (a profile file needs arch: one of ${choices(ARCHES)})`);
  try {
    loadProfile(path);
  } catch (e) {
    if (e instanceof ProfileError) throw ConfigError.many(e.issues.map((i) => new ConfigError(i.file, i.line, i.field, i.message)));
    throw src.error(["machine", "profile"], (e as Error).message);
  }
  return { profile: { kind: "file", path }, arch: m.arch };
}

function resolveHypervisor(ctx: ScenarioContext, arch: Arch): ScenarioHypervisor {
  const { src } = ctx;
  const h = ctx.raw.hypervisor ?? {};
  const module = h.xsm ?? (arch.startsWith("arm64") ? "silo" : "dummy");
  let xsm: XsmChoice;
  if (module === "flask") {
    if (h.xsm_policy === undefined) throw src.error(["hypervisor", "xsm"], "flask needs a policy file (xsm_policy: <file>)");
    const path = configPath(ctx.baseDir, h.xsm_policy);
    try {
      xsm = { module, policyFile: path, policy: loadXsmPolicy(path) };
    } catch (e) {
      if (e instanceof XsmPolicyError) throw new ConfigError(e.file, e.line, e.field, e.message.slice(`${e.file}:${e.line}: `.length));
      throw src.error(["hypervisor", "xsm_policy"], `cannot read policy file '${path}' (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  } else {
    if (h.xsm_policy !== undefined) throw src.error(["hypervisor", "xsm_policy"], `only used with xsm: flask (xsm is ${module}${h.xsm ? "" : `, the default on ${arch}`})`);
    xsm = { module };
  }
  const argo = { enabled: h.argo?.enabled ?? false, macPermissive: h.argo?.mac_permissive ?? false };
  if (argo.macPermissive && !argo.enabled) throw src.error(["hypervisor", "argo", "mac_permissive"], "has no effect while Argo is disabled (set enabled: true)");
  return {
    kind: "xen",
    grantFrames: h.grant_frames ?? XEN_DEFAULT_GRANT_FRAMES,
    maptrackFrames: h.maptrack_frames ?? XEN_DEFAULT_MAPTRACK_FRAMES,
    tlbFlushElision: h.tlb_flush_elision ?? false,
    xsm, argo,
  };
}
