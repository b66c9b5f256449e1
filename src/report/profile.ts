// A profile of a job's virtual cycles in speedscope's file format (sampled profiles with
// weights), which speedscope.app opens directly: each "sample" is a stack with a weight.
// Three views of one job, as three profiles of the file:
//  - cycles by domain -> component -> priced primitive (from price.byComponentPrimitive);
//  - cycles by component -> counter (from price.byCounter; the pricing table says which
//    component(s) a counter is charged to);
//  - busy ns by domain -> CPU -> component -> what the CPU did (from the timeline, if traced).
// The first two weigh exactly the job's priced cycles; the third its busy CPU time.
import { COMPONENTS, type Component } from "../cost/primitives.ts";
import { PRICING, type PricingTable } from "../cost/pricing-table.ts";
import { COUNTER_IDS, counterName } from "../cost/counter-names.ts";
import type { JobResult } from "../run/result.ts";
import { XEN_DOMAIN, jobLabel, tracksOf } from "./trace.ts";

export const SPEEDSCOPE_SCHEMA = "https://www.speedscope.app/file-format-schema.json";

export interface SpeedscopeFrame {
  name: string;
  file?: string;
}

export interface SampledProfile {
  type: "sampled";
  name: string;
  unit: "none" | "nanoseconds";
  startValue: number;
  endValue: number;
  /** Stacks, outermost frame first, as indices into shared.frames. */
  samples: number[][];
  weights: number[];
}

export interface SpeedscopeFile {
  $schema: typeof SPEEDSCOPE_SCHEMA;
  shared: { frames: SpeedscopeFrame[] };
  profiles: SampledProfile[];
  name: string;
  activeProfileIndex: number;
  exporter: string;
}

/** Frames shared by every profile of a file, each name once. */
class Frames {
  readonly list: SpeedscopeFrame[] = [];
  private readonly index = new Map<string, number>();
  id(name: string, file?: string): number {
    const key = `${file ?? ""}\0${name}`;
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.list.push(file ? { name, file } : { name }) - 1;
      this.index.set(key, i);
    }
    return i;
  }
}

function sampled(name: string, unit: SampledProfile["unit"], stacks: [number[], number][]): SampledProfile {
  const kept = stacks.filter(([, w]) => w > 0);
  const total = kept.reduce((s, [, w]) => s + w, 0);
  return { type: "sampled", name, unit, startValue: 0, endValue: total, samples: kept.map(([s]) => s), weights: kept.map(([, w]) => w) };
}

const FALLBACK_DOMAIN: Record<Component, string> = { guest: "guest", hypervisor: XEN_DOMAIN, backend: "backend" };

/** How a component's time divides among domains, from the CPU use the job measured; a
 *  component no CPU ran (no CPU data) is given to its usual domain whole. */
function domainShares(r: JobResult, c: Component): [string, number][] {
  const parts = Object.entries(r.cpuByDomain).map(([d, v]): [string, number] => [d, v[c]]).filter(([, ns]) => ns > 0);
  const total = parts.reduce((s, [, ns]) => s + ns, 0);
  return total > 0 ? parts.map(([d, ns]) => [d, ns / total]) : [[FALLBACK_DOMAIN[c], 1]];
}

function components(table: PricingTable, counter: string): string {
  for (const id of COUNTER_IDS) {
    if (counterName(id) !== counter) continue;
    const cs = new Set(table.get(id)?.charges.map((ch) => ch.component));
    return COMPONENTS.filter((c) => cs.has(c)).join("+") || "unpriced";
  }
  return "unknown counter";
}

/** The speedscope file of one job. `table` must be the pricing table the job was priced with. */
export function buildProfile(r: JobResult, table: PricingTable = PRICING): SpeedscopeFile {
  const f = new Frames();
  const label = jobLabel(r);
  const domainName = (d: string) => (d === XEN_DOMAIN ? "Xen" : d);

  const byPrimitive: [number[], number][] = [];
  for (const c of COMPONENTS) {
    const shares = domainShares(r, c);
    for (const [prim, cyc] of Object.entries(r.price.byComponentPrimitive[c])) {
      for (const [d, share] of shares) byPrimitive.push([[f.id(domainName(d), "domain"), f.id(c, "component"), f.id(prim, "primitive")], cyc! * share]);
    }
  }

  const byCounter: [number[], number][] = Object.entries(r.price.byCounter).map(([name, cyc]) => [
    [f.id(components(table, name), "component"), f.id(name, "counter")],
    cyc,
  ]);

  const profiles = [
    sampled(`${label}: cycles by domain, component, primitive`, "none", byPrimitive),
    sampled(`${label}: cycles by component, counter`, "none", byCounter),
  ];
  if (r.timeline) {
    const byLabel: [number[], number][] = [];
    for (const [cpu, spans] of tracksOf(r.timeline)) {
      for (const s of spans) {
        byLabel.push([[f.id(domainName(s.domain), "domain"), f.id(cpu, "cpu"), f.id(s.component, "component"), f.id(s.label, "operation")], s.durNs]);
      }
    }
    profiles.push(sampled(`${label}: busy ns by domain, CPU, component, operation`, "nanoseconds", byLabel));
  }
  return { $schema: SPEEDSCOPE_SCHEMA, shared: { frames: f.list }, profiles, name: label, activeProfileIndex: 0, exporter: "vxsim" };
}

export function profileToJson(p: SpeedscopeFile): string {
  return JSON.stringify(p);
}
