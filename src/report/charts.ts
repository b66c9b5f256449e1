// The report's charts: Vega-Lite specs over the results' plain data, compiled to Vega and
// rendered to SVG in Node (a headless View, no canvas, no network: every chart's data is
// inline). Every chart is drawn for one job group (jobs.ts: one device and workload), so no
// mark ever adds up or joins figures of different jobs; within a group a mark is one job
// (transport x profile), or one component / domain of it in a stack. Bars run horizontally
// with transports as rows and profiles as wrapped panels, so every chart fits a 1200 px page.
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { COMPONENTS } from "../cost/primitives.ts";
import type { JobResult, PerIo } from "../run/result.ts";
import { jobGroups, type JobGroup } from "./jobs.ts";

export interface ChartSpec {
  /** Stable id, used as the figure's data-chart attribute: `<kind>-<group id>`, e.g. `cost-blk`. */
  id: string;
  /** The job group's id (`blk`, `net`, ...). */
  group: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

/** Widest a chart may render, the report's page width. */
export const MAX_CHART_WIDTH = 1200;

const CONFIG = {
  font: "sans-serif",
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal" },
  header: { labelFontSize: 12, labelFontWeight: "bold", title: null },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: "top", direction: "horizontal", columns: 6 },
  facet: { spacing: 28 },
};

type Row = Record<string, string | number>;

/** Panels per line: at most four, fewer when there are fewer panels. */
const wrapAt = (n: number) => Math.min(4, Math.max(1, n));

/** Small multiples over `field`, wrapped four to a line, in the order given. */
function panels(rows: Row[], field: string, order: readonly string[], inner: Record<string, unknown>, independentX = false): TopLevelSpec {
  return {
    data: { values: rows },
    facet: { field, type: "nominal", sort: [...order] },
    columns: wrapAt(order.length),
    spec: inner,
    resolve: { scale: independentX ? { x: "independent" } : {} },
    config: CONFIG,
  } as unknown as TopLevelSpec;
}

/** Transports as rows of a horizontal bar chart. */
const transportRows = (g: JobGroup) => ({ field: "transport", type: "nominal", title: null, sort: g.transports });
/** Height for a bar per transport, or `perRow` thinner bars side by side per transport. */
const barsHeight = (g: JobGroup, perRow = 1) => g.transports.length * (perRow === 1 ? 16 : 4 * perRow + 6);

/** Cycles per I/O by component, stacked: one bar per job, one panel per profile. */
export function costChart(g: JobGroup): ChartSpec {
  const rows: Row[] = [];
  for (const r of g.results) {
    COMPONENTS.forEach((c, i) => rows.push({ profile: r.profile, transport: r.spec.transport, component: c, order: i, cycles: r.price.byComponent[c] / r.ios }));
  }
  const spec = panels(rows, "profile", g.profiles, {
    width: 200,
    height: barsHeight(g),
    mark: "bar",
    encoding: {
      y: transportRows(g),
      x: { field: "cycles", type: "quantitative", stack: "zero", title: `cycles per ${g.short}`, axis: { labelExpr: "datum.value === 0 ? '0' : format(datum.value, '~s')" } },
      color: { field: "component", type: "nominal", scale: { domain: [...COMPONENTS] }, title: "component" },
      order: { field: "order" },
    },
  });
  return {
    id: `cost-${g.id}`, group: g.id, title: `Cost: cycles per ${g.unit}, by component`, spec,
    caption: `Priced cycles per completed I/O of this job, split into guest (frontend), hypervisor and backend work, one panel per architecture profile (the same scale in every panel). ${g.ioMeaning}`,
  };
}

export const MECHANISMS: readonly (keyof PerIo)[] = ["copies", "maps", "unmaps", "tlbFlushes", "traps", "hypercalls", "notifications", "interrupts"];
const MECHANISM_NAMES: Record<string, string> = { tlbFlushes: "TLB flushes" };

/** Mechanism counts per I/O: one panel per mechanism, a bar per transport and profile. */
export function mechanismChart(g: JobGroup): ChartSpec {
  const rows: Row[] = [];
  for (const r of g.results) for (const m of MECHANISMS) rows.push({ mechanism: MECHANISM_NAMES[m] ?? m, transport: r.spec.transport, profile: r.profile, perIo: r.perIo[m] });
  const spec = panels(rows, "mechanism", MECHANISMS.map((m) => MECHANISM_NAMES[m] ?? m), {
    width: 170,
    height: barsHeight(g, g.profiles.length),
    mark: "bar",
    encoding: {
      y: transportRows(g),
      yOffset: { field: "profile", type: "nominal", sort: g.profiles },
      x: { field: "perIo", type: "quantitative", title: `count per ${g.short}`, scale: { domain: { unionWith: [0, 1] } }, axis: { tickMinStep: 1, format: "~g" } },
      color: { field: "profile", type: "nominal", sort: g.profiles, title: "profile" },
    },
  }, true);
  return {
    id: `mechanisms-${g.id}`, group: g.id, title: `Copies, maps, flushes and traps per ${g.unit}`, spec,
    caption: `Mechanism counts per completed I/O of this job, one bar per transport and profile (each panel has its own scale; no bar: none): the causes behind the cost chart. ${g.ioMeaning}`,
  };
}

const PERCENTILES = ["min", "p50", "p90", "p99", "max"] as const;

/** Latency percentiles: a line per transport, one panel per profile. */
export function latencyChart(g: JobGroup): ChartSpec {
  const rows: Row[] = [];
  for (const r of g.results) for (const p of PERCENTILES) rows.push({ profile: r.profile, transport: r.spec.transport, percentile: p, us: r.latency[p] / 1000 });
  const spec = panels(rows, "profile", g.profiles, {
    width: 200,
    height: 170,
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "percentile", type: "ordinal", sort: [...PERCENTILES], title: "percentile", axis: { labelAngle: 0 } },
      y: { field: "us", type: "quantitative", title: `µs per ${g.short} (virtual)` },
      color: { field: "transport", type: "nominal", sort: g.transports, title: "transport", legend: { columns: 5 } },
      detail: { field: "transport" },
    },
  });
  return {
    id: `latency-${g.id}`, group: g.id, title: `Latency of one ${g.unit}: percentiles in µs`, spec,
    caption: `Completion latency percentiles in virtual time, one line per transport (transports with equal latencies draw on top of each other), one panel per profile (the same scale in every panel). ${g.ioMeaning}`,
  };
}

/** Domains in stacking order, each with its colour in every chart; others follow, in grey tones. */
const DOMAINS: readonly [string, string][] = [["guest", "#4c78a8"], ["peer", "#72b7b2"], ["Domain-0", "#e45756"], ["vmm", "#f58518"], ["xen", "#54a24b"]];
const domainRank = (d: string) => { const i = DOMAINS.findIndex(([n]) => n === d); return i < 0 ? DOMAINS.length : i; };
const OTHER_COLOURS = ["#9d755d", "#bab0ac", "#79706e", "#b279a2"];
const domainColour = (d: string, i: number) => DOMAINS.find(([n]) => n === d)?.[1] ?? OTHER_COLOURS[i % OTHER_COLOURS.length]!;

/** Busy CPU time per I/O by domain, stacked: one bar per job, one panel per profile. */
export function cpuChart(g: JobGroup): ChartSpec {
  const rows: Row[] = [];
  const domains: string[] = [];
  for (const r of g.results) {
    for (const [domain, use] of Object.entries(r.cpuByDomain)) {
      if (!domains.includes(domain)) domains.push(domain);
      rows.push({ profile: r.profile, transport: r.spec.transport, domain, us: use.total / r.ios / 1000 });
    }
  }
  domains.sort((a, b) => domainRank(a) - domainRank(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const row of rows) row.order = domains.indexOf(row.domain as string);
  const spec = panels(rows, "profile", g.profiles, {
    width: 200,
    height: barsHeight(g),
    mark: "bar",
    encoding: {
      y: transportRows(g),
      x: { field: "us", type: "quantitative", stack: "zero", title: `busy µs per ${g.short}` },
      color: { field: "domain", type: "nominal", scale: { domain: domains, range: domains.map(domainColour) }, title: "domain" },
      order: { field: "order" },
    },
  });
  return {
    id: `cpu-${g.id}`, group: g.id, title: `CPU time: busy µs per ${g.unit}, by domain`, spec,
    caption: `Busy CPU time per completed I/O on each domain's CPUs (${domains.join(", ")}; time in the hypervisor counts on the CPU that entered it, 'vmm' is the KVM host's device model), one panel per profile (the same scale in every panel). ${g.ioMeaning}`,
  };
}

const EXPOSURE = [["reachable", "reachable"], ["mapped", "mapped at the end"], ["mappedPeak", "mapped at peak"]] as const;

/** Guest pages the backend can reach and has mapped, per transport, on a log scale with every
 *  value written at its bar. A transport whose figures differ between profiles gets a row per profile. */
export function exposureChart(g: JobGroup): ChartSpec {
  const rows: Row[] = [];
  const labels: string[] = [];
  for (const t of g.transports) {
    const of = g.results.filter((r) => r.spec.transport === t);
    const same = of.every((r) => EXPOSURE.every(([k]) => r.exposure[k] === of[0]!.exposure[k]));
    for (const r of same ? of.slice(0, 1) : of) {
      const label = same ? t : `${t} on ${r.profile}`;
      labels.push(label);
      for (const [k, what] of EXPOSURE) rows.push({ transport: label, what, pages: r.exposure[k], at: Math.max(1, r.exposure[k]) });
    }
  }
  const top = Math.max(1, ...rows.map((r) => r.pages as number));
  const decades = Math.ceil(Math.log10(top * 4)); // room for the label of the longest bar
  const ticks = Array.from({ length: decades + 1 }, (_, i) => 10 ** i);
  const x = { type: "quantitative", scale: { type: "log", domain: [1, 10 ** decades] }, axis: { values: ticks, format: "," }, title: "guest pages (4 KiB, log scale)" };
  const spec = panels(rows, "what", EXPOSURE.map(([, w]) => w), {
    width: 240,
    height: { step: 18 },
    encoding: { y: { ...transportRows(g), sort: labels } },
    layer: [
      { transform: [{ filter: "datum.pages > 0" }], mark: { type: "bar", color: "#4c78a8" }, encoding: { x: { field: "pages", ...x }, x2: { datum: 1 } } },
      { mark: { type: "text", align: "left", dx: 3, fontSize: 11 }, encoding: { x: { field: "at", ...x }, text: { field: "pages", type: "quantitative", format: "," } } },
    ],
  });
  return {
    id: `exposure-${g.id}`, group: g.id, title: "Guest memory exposed to the backend: pages", spec,
    caption: "Pages of guest memory the backend may reach (map or access at will) and has mapped, at the end of the run and at its peak; each value is written at its bar (0 and 1 draw no bar). The same on every profile unless a row names its profile.",
  };
}

/** The charts of one job group, in page order. */
export function groupCharts(g: JobGroup): ChartSpec[] {
  return [costChart(g), mechanismChart(g), latencyChart(g), cpuChart(g), exposureChart(g)];
}

/** Every chart of every job group, group after group. */
export function resultCharts(results: readonly JobResult[]): ChartSpec[] {
  return jobGroups(results).flatMap(groupCharts);
}

/** A headless View of the chart, run: its scenegraph and datasets can be read (`view.scenegraph()`,
 *  `view.data(name)`). The caller finalizes it. */
export async function chartView(c: ChartSpec): Promise<vega.View> {
  const view = new vega.View(vega.parse(compile(c.spec).spec), { renderer: "none" });
  await view.runAsync();
  return view;
}

/** Renders a chart to a standalone SVG string. */
export async function renderChart(c: ChartSpec): Promise<string> {
  const view = await chartView(c);
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
