// The report layer's public surface: the HTML report, the Chrome/Perfetto trace and the
// speedscope profile of JobResults (re-exported by src/index.ts).
export type { ExperimentTable, ReportInput } from "./types.ts";
export { renderReport, escapeHtml } from "./html.ts";
export { resultCharts, groupCharts, renderChart, chartView, MECHANISMS, MAX_CHART_WIDTH, type ChartSpec } from "./charts.ts";
export { jobGroups, describeJob, type JobGroup } from "./jobs.ts";
export { buildTrace, traceToJson, domainsOf, jobLabel, tracksOf, XEN_DOMAIN, type ChromeTrace, type TraceEvent } from "./trace.ts";
export { buildProfile, profileToJson, SPEEDSCOPE_SCHEMA, type SpeedscopeFile, type SampledProfile, type SpeedscopeFrame } from "./profile.ts";
