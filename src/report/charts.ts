// The report's charts: Vega-Lite specs over the results' plain data, compiled to Vega and
// rendered to SVG in Node (a headless View, no canvas, no network: every chart's data is
// inline). One function per chart builds its rows; `renderChart` turns any of them into SVG.
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { COMPONENTS } from "../cost/primitives.ts";
import type { JobResult, PerIo } from "../run/result.ts";

export interface ChartSpec {
  /** Stable id, used as the figure's data-chart attribute. */
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

const CONFIG = {
  font: "sans-serif",
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 11 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 11 },
};

type Row = Record<string, string | number>;

/** Small multiples in the order the rows name them; `wrap` panels per line when given. */
function faceted(rows: Row[], inner: Record<string, unknown>, column: string, title: string, wrap?: number): TopLevelSpec {
  const order = [...new Set(rows.map((r) => r[column]))];
  const facet = { field: column, type: "nominal", title, sort: order };
  return {
    data: { values: rows },
    ...(wrap ? { facet, columns: wrap } : { facet: { column: facet } }),
    spec: { width: { step: 26 }, height: 200, ...inner },
    resolve: { scale: { x: "independent", xOffset: "independent", ...(wrap ? { y: "independent" } : {}) } },
    config: CONFIG,
  } as TopLevelSpec;
}

const transportAxis = { field: "transport", type: "nominal", title: null, sort: null, axis: { labelAngle: -40 } };

/** Cycles per I/O by component, stacked, one group of transports per profile. */
export function costChart(results: readonly JobResult[]): ChartSpec {
  const rows: Row[] = [];
  for (const r of results) {
    for (const c of COMPONENTS) rows.push({ profile: r.profile, transport: r.spec.transport, component: c, cycles: r.price.byComponent[c] / r.ios });
  }
  const spec = faceted(rows, {
    mark: "bar",
    encoding: {
      x: transportAxis,
      y: { field: "cycles", type: "quantitative", aggregate: "sum", title: "cycles per I/O" },
      color: { field: "component", type: "nominal", scale: { domain: [...COMPONENTS] }, title: "component" },
      order: { field: "component", sort: "ascending" },
    },
  }, "profile", "profile");
  return { id: "cost", title: "Cost per I/O by component", caption: "Priced cycles per completed I/O, split into guest (frontend), hypervisor and backend work, per architecture profile.", spec };
}

export const MECHANISMS: readonly (keyof PerIo)[] = ["copies", "maps", "unmaps", "tlbFlushes", "traps", "hypercalls", "notifications", "interrupts"];

/** Mechanism counts per I/O: one panel per mechanism, bars per transport and profile. */
export function mechanismChart(results: readonly JobResult[]): ChartSpec {
  const rows: Row[] = [];
  for (const r of results) for (const m of MECHANISMS) rows.push({ mechanism: m, transport: r.spec.transport, profile: r.profile, perIo: r.perIo[m] });
  const spec = faceted(rows, {
    width: 200,
    height: 140,
    mark: "bar",
    encoding: {
      x: transportAxis,
      xOffset: { field: "profile", type: "nominal", sort: null },
      y: { field: "perIo", type: "quantitative", title: "per I/O", scale: { domain: { unionWith: [0, 1] } } },
      color: { field: "profile", type: "nominal", sort: null, title: "profile" },
    },
  }, "mechanism", "mechanism", 4);
  return { id: "mechanisms", title: "Copies, maps, flushes and traps per I/O", caption: "Mechanism counts per completed I/O, the causes behind the cost chart.", spec };
}

const PERCENTILES = ["min", "p50", "p90", "p99", "max"] as const;

/** Latency percentiles per transport, one panel per profile. */
export function latencyChart(results: readonly JobResult[]): ChartSpec {
  const rows: Row[] = [];
  for (const r of results) for (const p of PERCENTILES) rows.push({ profile: r.profile, transport: r.spec.transport, percentile: p, us: r.latency[p] / 1000 });
  const spec = faceted(rows, {
    width: 150,
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "percentile", type: "ordinal", sort: [...PERCENTILES], title: null },
      y: { field: "us", type: "quantitative", title: "latency (µs, virtual)" },
      color: { field: "transport", type: "nominal", sort: null, title: "transport" },
    },
  }, "profile", "profile");
  return { id: "latency", title: "Latency distribution", caption: "Completion latency percentiles of each transport in virtual time.", spec };
}

/** Busy CPU time per I/O by domain. */
export function cpuChart(results: readonly JobResult[]): ChartSpec {
  const rows: Row[] = [];
  for (const r of results) {
    for (const [domain, use] of Object.entries(r.cpuByDomain)) rows.push({ profile: r.profile, transport: r.spec.transport, domain, us: use.total / r.ios / 1000 });
  }
  const spec = faceted(rows, {
    mark: "bar",
    encoding: {
      x: transportAxis,
      y: { field: "us", type: "quantitative", aggregate: "sum", title: "busy µs per I/O" },
      color: { field: "domain", type: "nominal", title: "domain" },
    },
  }, "profile", "profile");
  return { id: "cpu", title: "CPU time by domain", caption: "Busy CPU time per completed I/O in each domain (Xen's own time under 'xen').", spec };
}

/** Guest pages the backend can reach and has mapped, per transport (architecture-independent:
 *  the first result of each transport is shown). Symlog scale: all of RAM next to a few pages. */
export function exposureChart(results: readonly JobResult[]): ChartSpec {
  const rows: Row[] = [];
  const seen = new Set<string>();
  for (const r of results) {
    if (seen.has(r.spec.transport)) continue;
    seen.add(r.spec.transport);
    const e = r.exposure;
    for (const [what, pages] of [["reachable", e.reachable], ["mapped now", e.mapped], ["mapped at peak", e.mappedPeak]] as const) {
      rows.push({ transport: r.spec.transport, what, pages });
    }
  }
  const spec = {
    data: { values: rows },
    width: { step: 22 },
    height: 200,
    mark: "bar",
    encoding: {
      x: transportAxis,
      xOffset: { field: "what", type: "nominal", sort: null },
      y: { field: "pages", type: "quantitative", scale: { type: "symlog" }, title: "guest pages (symlog)" },
      color: { field: "what", type: "nominal", sort: null, title: null },
    },
    config: CONFIG,
  } as TopLevelSpec;
  return { id: "exposure", title: "Guest memory exposed to the backend", caption: "Pages of guest memory the backend may reach, and has mapped, at the end of the run.", spec };
}

export function resultCharts(results: readonly JobResult[]): ChartSpec[] {
  return [costChart(results), mechanismChart(results), latencyChart(results), cpuChart(results), exposureChart(results)];
}

/** Renders a chart to a standalone SVG string. */
export async function renderChart(c: ChartSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(c.spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
