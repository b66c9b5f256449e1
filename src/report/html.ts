// The HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched)
// with the charts of src/report/charts.ts, a summary table of every job and the experiments'
// tables with their verdicts. Charts come per job group (jobs.ts): a section per device and
// workload, its charts under it.
import type { JobResult } from "../run/result.ts";
import { groupCharts, renderChart, type ChartSpec } from "./charts.ts";
import { jobGroups } from "./jobs.ts";
import type { ExperimentTable, ReportInput } from "./types.ts";

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]!);
}

const num = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const big = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function cell(v: string | number): string {
  if (typeof v === "number") return `<td class="n">${Number.isFinite(v) ? (Math.abs(v) >= 1000 ? big : num).format(v) : String(v)}</td>`;
  return `<td>${escapeHtml(v)}</td>`;
}

function table(columns: readonly string[], rows: readonly (readonly (string | number)[])[], cls = ""): string {
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map(cell).join("")}</tr>`).join("\n");
  return `<table${cls ? ` class="${cls}"` : ""}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const SUMMARY_COLUMNS = [
  "transport", "profile", "device", "I/Os", "cycles/I/O", "IOPS", "MB/s", "p50 µs", "p99 µs",
  "copies", "maps", "TLB flushes", "traps", "hypercalls", "notifications", "exposed pages",
];

function summaryRow(r: JobResult): (string | number)[] {
  const p = r.perIo;
  return [
    r.spec.transport, r.profile, r.spec.device, r.ios, r.cyclesPerIo, r.iops, r.throughputMBps, r.latency.p50 / 1000, r.latency.p99 / 1000,
    p.copies, p.maps, p.tlbFlushes, p.traps, p.hypercalls, p.notifications, r.exposure.reachable,
  ];
}

function checkTable(e: ExperimentTable): void {
  e.rows.forEach((row, i) => {
    if (row.length !== e.columns.length) {
      throw new RangeError(`experiment ${e.name}: row ${i} has ${row.length} cells, the table has ${e.columns.length} columns`);
    }
  });
}

function experimentSection(e: ExperimentTable): string {
  checkTable(e);
  const verdict = e.verdict.holds ? "holds" : "does not hold";
  const notes = e.notes?.length ? `<ul class="notes">${e.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>` : "";
  return `<section class="experiment" id="exp-${escapeHtml(e.name)}" data-experiment="${escapeHtml(e.name)}">
<h3>${escapeHtml(e.title)}</h3>
<p class="claim"><b>Claim:</b> ${escapeHtml(e.claim)}</p>
<p class="verdict ${e.verdict.holds ? "holds" : "fails"}"><b>Verdict: ${verdict}.</b> ${escapeHtml(e.verdict.text)}</p>
${table(e.columns, e.rows)}
${notes}
</section>`;
}

async function figure(c: ChartSpec): Promise<string> {
  const svg = await renderChart(c);
  return `<figure data-chart="${c.id}" data-group="${c.group}"><h4>${escapeHtml(c.title)}</h4>
<div class="chart">${svg}</div>
<figcaption>${escapeHtml(c.caption)}</figcaption></figure>`;
}

const STYLE = `
body { font: 14px/1.45 sans-serif; color: #222; margin: 2em auto; max-width: 1200px; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 0 1em; color: #555; }
dl.meta dt { font-weight: bold; } dl.meta dd { margin: 0; }
figure { margin: 1.5em 0; overflow-x: auto; } figure h4 { margin: 0 0 0.4em; } figcaption { color: #555; font-size: 13px; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; } th { background: #f4f4f4; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.summary { font-size: 12px; } table.summary td { white-space: nowrap; padding: 2px 6px; }
.verdict { padding: 4px 8px; border-left: 4px solid; } .verdict.holds { border-color: #2a8a3e; background: #eef8f0; }
.verdict.fails { border-color: #b3261e; background: #fbeeed; }
`;

/** Renders the whole report. Async because charts render through Vega's (async) dataflow. */
export async function renderReport(input: ReportInput): Promise<string> {
  const { results, experiments = [] } = input;
  if (results.length === 0 && experiments.length === 0) throw new RangeError("report: no results and no experiments to report");
  const meta = Object.entries(input.meta).map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(String(v))}</dd>`).join("");
  const parts = [`<h1>${escapeHtml(input.title)}</h1>`, `<dl class="meta">${meta}</dl>`];
  if (results.length > 0) {
    parts.push(`<h2>Jobs</h2>`, table(SUMMARY_COLUMNS, results.map(summaryRow), "summary"));
    parts.push(`<h2>Charts</h2>`);
    for (const g of jobGroups(results)) {
      parts.push(`<section class="jobs" data-group="${escapeHtml(g.id)}"><h3>${escapeHtml(g.title)}</h3>`);
      for (const c of groupCharts(g)) parts.push(await figure(c));
      parts.push(`</section>`);
    }
  }
  if (experiments.length > 0) {
    const held = experiments.filter((e) => e.verdict.holds).length;
    parts.push(`<h2>Experiments</h2>`, `<p>${held} of ${experiments.length} claims hold.</p>`);
    for (const e of experiments) parts.push(experimentSection(e));
  }
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title><style>${STYLE}</style></head>
<body>
${parts.join("\n")}
</body></html>
`;
}
