// The report of a real blk + net comparison (the `vxsim compare` job list, small): every chart is
// drawn per device, and what its marks draw is read back from the Vega scenegraph (datum and
// pixel geometry) and held to the results' own figures, so nothing adds blk and net together.
// Then headless Chromium shows that no chart is wider than its figure on a 1200 px page.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as vega from "vega";
import { compareJobs } from "../src/cli/compare-jobs.ts";
import { runJob } from "../src/run/run-job.ts";
import type { JobResult } from "../src/run/result.ts";
import { chartView, MAX_CHART_WIDTH, resultCharts, type ChartSpec } from "../src/report/charts.ts";
import { renderReport } from "../src/report/html.ts";
import { describeJob, jobGroups } from "../src/report/jobs.ts";
import { launch } from "./helpers/chromium.ts";

const PROFILES = ["x86-64", "riscv64"];
const TRANSPORTS = ["kvm-ioeventfd", "mmio-foreign", "argo:buffered"];

interface Mark {
  marktype: string;
  items: Item[];
}
interface Item {
  datum: Record<string, number | string>;
  x: number;
  width?: number;
  text?: string;
}

/** The data marks of a chart (role "mark"), each with its drawn items. */
async function marksOf(c: ChartSpec): Promise<{ marks: Mark[]; scale: (name: string) => (v: number) => number }> {
  const view: vega.View = await chartView(c);
  const marks: Mark[] = [];
  const walk = (node: { role?: string; marktype?: string; items?: unknown[] }): void => {
    if (node.role === "mark" && node.marktype !== "group") marks.push(node as unknown as Mark);
    for (const child of (node.items ?? []) as (typeof node)[]) walk(child);
  };
  walk((view.scenegraph() as unknown as { root: never }).root);
  const scales = (name: string) => view.scale(name) as (v: number) => number;
  view.finalize();
  return { marks, scale: scales };
}

const itemsOf = (marks: Mark[], type: string) => marks.filter((m) => m.marktype === type).flatMap((m) => m.items);
const of = (items: Item[], r: JobResult) => items.filter((i) => i.datum.transport === r.spec.transport && i.datum.profile === r.profile);

describe("report of a blk + net comparison", { timeout: 120_000 }, () => {
  let results: JobResult[];
  let charts: Map<string, ChartSpec>;
  const byDevice = (device: string) => results.filter((r) => r.spec.device === device);

  beforeAll(() => {
    results = compareJobs({ ios: 8, seed: 1, profiles: PROFILES, transports: TRANSPORTS }).map((s) => runJob(s));
    charts = new Map(resultCharts(results).map((c) => [c.id, c]));
  });

  it("draws each chart once per device, in job order", () => {
    expect([...charts.keys()]).toEqual(["blk", "net"].flatMap((d) => ["cost", "mechanisms", "latency", "cpu", "exposure"].map((k) => `${k}-${d}`)));
    expect(charts.get("cost-blk")!.title).toBe("Cost: cycles per 4 KiB read, by component");
    expect(charts.get("cost-net")!.title).toBe("Cost: cycles per message (1400 B, 1 frame), by component");
    expect(charts.get("cost-net")!.caption).toContain("An I/O is one 1400 B message sent by the guest and received by its peer guest: 1 packet");
  });

  it.each(["blk", "net"])("%s cost: one stacked bar per job whose end is that job's cycles per I/O", async (device) => {
    const { marks, scale } = await marksOf(charts.get(`cost-${device}`)!);
    const rects = itemsOf(marks, "rect");
    expect(rects).toHaveLength(PROFILES.length * TRANSPORTS.length * 3);
    for (const r of byDevice(device)) {
      const segs = of(rects, r);
      expect(segs.map((s) => s.datum.component)).toEqual(["guest", "hypervisor", "backend"]);
      const end = Math.max(...segs.map((s) => s.datum.cycles_end as number));
      expect(end).toBeCloseTo(r.cyclesPerIo, 6);
      // Drawn length: the last segment ends where the shared x scale puts cyclesPerIo.
      expect(Math.max(...segs.map((s) => s.x + s.width!))).toBeCloseTo(scale("x")(r.cyclesPerIo), 3);
    }
    // mmio-foreign on x86-64 is its own device's figure, not blk + net.
    const [blk, net] = ["blk", "net"].map((d) => results.find((r) => r.spec.device === d && r.spec.transport === "mmio-foreign" && r.profile === "x86-64")!);
    const mine = device === "blk" ? blk! : net!;
    expect(Math.max(...of(rects, mine).map((s) => s.datum.cycles_end as number))).toBeCloseTo(mine.cyclesPerIo, 6);
    expect(mine.cyclesPerIo).toBeLessThan(blk!.cyclesPerIo + net!.cyclesPerIo - 1);
  });

  it.each(["blk", "net"])("%s mechanisms: one bar per job and mechanism with that job's count", async (device) => {
    const { marks } = await marksOf(charts.get(`mechanisms-${device}`)!);
    const rects = itemsOf(marks, "rect");
    expect(rects).toHaveLength(PROFILES.length * TRANSPORTS.length * 8);
    for (const r of byDevice(device)) {
      const bars = of(rects, r);
      expect(bars.map((b) => [b.datum.mechanism, b.datum.perIo])).toEqual([
        ["copies", r.perIo.copies], ["maps", r.perIo.maps], ["unmaps", r.perIo.unmaps], ["TLB flushes", r.perIo.tlbFlushes],
        ["traps", r.perIo.traps], ["hypercalls", r.perIo.hypercalls], ["notifications", r.perIo.notifications], ["interrupts", r.perIo.interrupts],
      ]);
    }
    const argo = byDevice(device).find((r) => r.spec.transport === "argo:buffered" && r.profile === "x86-64")!;
    expect(argo.perIo.copies).toBe(6); // what the bar above drew for this device alone, not blk + net (12)
  });

  it.each(["blk", "net"])("%s latency: a line per transport and profile through its own five percentiles", async (device) => {
    const { marks } = await marksOf(charts.get(`latency-${device}`)!);
    const lines = marks.filter((m) => m.marktype === "line");
    expect(lines).toHaveLength(PROFILES.length * TRANSPORTS.length);
    for (const line of lines) {
      const first = line.items[0]!.datum;
      const r = byDevice(device).find((x) => x.spec.transport === first.transport && x.profile === first.profile)!;
      expect(line.items.map((i) => [i.datum.transport, i.datum.profile])).toEqual(Array(5).fill([r.spec.transport, r.profile]));
      expect(line.items.map((i) => i.datum.us)).toEqual([r.latency.min, r.latency.p50, r.latency.p90, r.latency.p99, r.latency.max].map((ns) => ns / 1000));
    }
  });

  it.each(["blk", "net"])("%s CPU: one stack per job, its domains' busy µs per I/O adding up to the job's", async (device) => {
    const { marks } = await marksOf(charts.get(`cpu-${device}`)!);
    const rects = itemsOf(marks, "rect");
    for (const r of byDevice(device)) {
      const segs = of(rects, r);
      expect(segs.map((s) => s.datum.domain).sort()).toEqual(Object.keys(r.cpuByDomain).sort());
      const total = Object.values(r.cpuByDomain).reduce((a, d) => a + d.total, 0) / r.ios / 1000;
      expect(Math.max(...segs.map((s) => s.datum.us_end as number))).toBeCloseTo(total, 9);
    }
  });

  it.each(["blk", "net"])("%s exposure: every transport's three figures written at their bars", async (device) => {
    const { marks } = await marksOf(charts.get(`exposure-${device}`)!);
    const texts = itemsOf(marks, "text");
    const expected = TRANSPORTS.flatMap((t) => {
      const rs = byDevice(device).filter((r) => r.spec.transport === t);
      expect(rs.map((r) => r.exposure)).toEqual([rs[0]!.exposure, rs[0]!.exposure]); // the same on both profiles: one row
      const e = rs[0]!.exposure;
      return [[t, "reachable", e.reachable], [t, "mapped at the end", e.mapped], [t, "mapped at peak", e.mappedPeak]];
    });
    expect(texts.map((i) => [i.datum.transport, i.datum.what, i.datum.pages]).sort()).toEqual(expected.sort());
    for (const i of texts) expect(i.text).toBe((i.datum.pages as number).toLocaleString("en-US"));
    const bars = itemsOf(marks, "rect");
    expect(bars.map((b) => b.datum.pages).sort()).toEqual(expected.map((e) => e[2]).filter((n) => (n as number) > 0).sort());
    // argo shares no guest memory with the backend: written 0, no bar.
    expect(texts.filter((i) => i.datum.transport === "argo:buffered").map((i) => i.datum.pages)).toEqual([0, 0, 0]);
  });

  describe("in Chromium", () => {
    let dir: string;
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("has no chart wider than its figure and every legend inside it", async () => {
      const html = await renderReport({ title: "blk + net", results, meta: { ios: 8 } });
      dir = mkdtempSync(join(tmpdir(), "vxsim-devices-report-"));
      writeFileSync(join(dir, "report.html"), html);
      const browser = await launch();
      try {
        const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
        await page.goto(`file://${join(dir, "report.html")}`);
        const figs = await page.locator("figure[data-chart]").evaluateAll((els) => els.map((f) => {
          const box = f.getBoundingClientRect();
          const svg = f.querySelector("svg")!.getBoundingClientRect();
          const legends = [...f.querySelectorAll("g.role-legend")].map((l) => l.getBoundingClientRect());
          return {
            id: f.getAttribute("data-chart"), scroll: f.scrollWidth, client: f.clientWidth, figLeft: box.left, figRight: box.right, svg: svg.width,
            legends: legends.map((l) => [l.left, l.right, l.width]),
          };
        }));
        expect(figs.map((f) => f.id)).toEqual([...charts.keys()]);
        for (const f of figs) {
          expect(f.client, f.id!).toBe(MAX_CHART_WIDTH);
          expect(f.scroll, f.id!).toBeLessThanOrEqual(f.client);
          expect(f.svg, f.id!).toBeLessThanOrEqual(f.client);
          for (const [left, right, width] of f.legends) {
            expect(width, f.id!).toBeGreaterThan(0);
            expect(left, f.id!).toBeGreaterThanOrEqual(f.figLeft);
            expect(right, f.id!).toBeLessThanOrEqual(f.figRight);
          }
        }
        // Charts with a colour key show it: cost, mechanisms, latency, cpu of each device.
        expect(figs.filter((f) => f.legends.length > 0).map((f) => f.id)).toEqual(figs.filter((f) => !f.id!.startsWith("exposure")).map((f) => f.id));
        const page2 = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
        expect(page2[0]).toBeLessThanOrEqual(page2[1]!);
        await expect(page.locator("section.jobs > h3").allTextContents()).resolves.toEqual([
          "virtio-blk: 4 KiB random reads, iodepth 1", "virtio-net: stream of 1400 B messages, guest to peer guest",
        ]);
      } finally {
        await browser.close();
      }
    });
  });
});

describe("job groups", () => {
  const base = { transport: "grant-map", profile: "x86-64", device: "blk", ios: 4, seed: 1, workload: { kind: "fio", rw: "randrw", bs: 16384, iodepth: 4, rwmixread: 70 } } as const;
  const fake = (spec: object) => ({ spec: { ...base, ...spec }, profile: (spec as { profile?: string }).profile ?? base.profile }) as unknown as JobResult;

  it("names a job's I/O", () => {
    expect(describeJob(base)).toEqual({
      title: "virtio-blk: 16 KiB random reads and writes (70 % reads), iodepth 4", unit: "16 KiB read or write", short: "16 KiB read or write",
      ioMeaning: "An I/O is one 16 KiB block read or write request, submitted by the guest and completed by the backend.",
    });
    expect(describeJob({ ...base, device: "net", workload: { kind: "netperf", test: "stream", messageSize: 4000 } })).toMatchObject({ unit: "message (4000 B, 3 frames)", short: "message" });
    expect(describeJob({ ...base, device: "net", workload: { kind: "netperf", test: "rr", messageSize: 64, responseSize: 1024 } }).title).toBe("virtio-net: request/response, 64 B request, 1 KiB response");
    expect(describeJob({ ...base, device: "rng", workload: { kind: "rng", readSize: 64 } })).toMatchObject({ unit: "64 B read", title: "virtio-rng: 64 B reads" });
  });

  it("keeps jobs that differ only below the top level apart (block size, an option), and key order does not split a group", () => {
    const w = (base as { workload: Record<string, unknown> }).workload;
    const reordered = Object.fromEntries(Object.entries(w).reverse());
    const groups = jobGroups([
      fake({}), fake({ workload: { ...w, bs: 65536 } }), fake({ options: { tlbFlushElision: true } }), fake({ profile: "riscv64", workload: reordered }),
    ]);
    expect(groups.map((g) => g.results.length)).toEqual([2, 1, 1]);
  });

  it("keeps jobs that differ in seed apart, says how, and refuses two results for one bar", () => {
    const groups = jobGroups([fake({}), fake({ profile: "riscv64" }), fake({ seed: 2 })]);
    expect(groups.map((g) => [g.id, g.results.length, g.profiles])).toEqual([["blk", 2, ["x86-64", "riscv64"]], ["blk-2", 1, ["x86-64"]]]);
    expect(groups.map((g) => g.title.replace(/.*\(/, "("))).toEqual(["(4 I/Os, seed 1)", "(4 I/Os, seed 2)"]);
    expect(() => jobGroups([fake({}), fake({})])).toThrow("report: two results of the same blk job on grant-map and x86-64");
  });
});
