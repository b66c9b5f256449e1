// The HTML report rendered in headless Chromium (Debian's chromium, installed by .ci/run):
// every chart present as SVG with marks and a size, nothing fetched, and a screenshot that
// shows something. Fails, never skips, when Chromium cannot be launched.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launch, screenshotStats } from "./helpers/chromium.ts";
import { renderReport } from "../src/report/html.ts";
import type { ExperimentTable } from "../src/report/types.ts";
import { fixtureResults } from "./helpers/report-fixtures.ts";

const EXPERIMENTS: ExperimentTable[] = [
  {
    name: "copy-vs-map", title: "Copying beats mapping for small I/O", claim: "Below 16 KiB a grant copy costs less than map + unmap + flush.",
    columns: ["size", "copy cycles", "map cycles"], rows: [["4 KiB", 9100, 14200], ["16 KiB", 30500, 15100]],
    verdict: { holds: true, text: "copy is cheaper at 4 KiB, mapping from 16 KiB" },
  },
  {
    name: "lse", title: "LSE <halves> atomics cost", claim: "Arm LSE halves the cost of the guest-atomic helpers & pauses.",
    columns: ["profile", "atomics cycles"], rows: [["arm64-v8.0", 1200], ["arm64-v8.1-lse", 900]],
    verdict: { holds: false, text: "25 % less, not half" }, notes: ["uncontended lines only"],
  },
];

/** What each chart must draw for the 3 transports x 4 profiles of the fixtures (one job, a blk
 *  one, so one chart of each kind, ids suffixed with the group `blk`). */
const MARKS: Record<string, Record<string, number>> = {
  "cost-blk": { "g.mark-rect.role-mark path": 12 * 3 }, // a stacked segment per job and component (all non-zero)
  "mechanisms-blk": { "g.mark-rect.role-mark path": 12 * 8 }, // a bar per job and mechanism
  "latency-blk": { "g.mark-line.role-mark path": 3 * 4, "g.mark-symbol.role-mark path": 12 * 5 }, // a line per transport and profile, a point per percentile
  "cpu-blk": { "g.mark-rect.role-mark path": 4 * 2 + 8 * 3 }, // kvm: guest + host; Xen transports: guest, Domain-0, xen
  // reachable, mapped, peak per transport, each written at its bar; a bar for each non-zero value
  "exposure-blk": { "g.mark-text.role-mark text": 3 * 3, "g.mark-rect.role-mark path": fixtureResults().filter((r) => r.profile === "x86-64").flatMap((r) => [r.exposure.reachable, r.exposure.mapped, r.exposure.mappedPeak]).filter((n) => n > 0).length },
};

describe("HTML report", { timeout: 60_000 }, () => {
  let html: string;
  let dir: string;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  // Each browser test awaits the set-up, so a Chromium that cannot launch fails every one of
  // them with the install hint (a failing beforeAll would only mark them skipped).
  let ready: Promise<void>;

  async function prepare(): Promise<void> {
    html = await renderReport({ title: "vxsim <report> & co", results: fixtureResults(), experiments: EXPERIMENTS, meta: { seed: 7, scenario: "fixtures" } });
    dir = mkdtempSync(join(tmpdir(), "vxsim-report-"));
    writeFileSync(join(dir, "report.html"), html);
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.route("**/*", (route) => {
      requests.push(route.request().url());
      return route.request().url().startsWith("file://") ? route.continue() : route.abort();
    });
    await page.goto(`file://${join(dir, "report.html")}`);
  }

  beforeAll(() => {
    ready = prepare();
    ready.catch(() => {}); // reported by the tests that await it
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("is one self-contained file: no script, nothing fetched", async () => {
    await ready;
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(requests).toEqual([`file://${join(dir, "report.html")}`]);
  });

  it.each(Object.entries(MARKS))("chart %s is an SVG with its marks, laid out with a size", async (id, expected) => {
    await ready;
    const fig = page.locator(`figure[data-chart="${id}"]`);
    await expect(fig.count()).resolves.toBe(1);
    const svg = fig.locator("svg").first();
    const box = await svg.boundingBox();
    expect(box!.width).toBeGreaterThan(100);
    expect(box!.height).toBeGreaterThan(100);
    for (const [sel, n] of Object.entries(expected)) await expect(fig.locator(sel).count(), sel).resolves.toBe(n);
    // Marks with a non-empty outline: the drawn ones have a path with geometry.
    const drawn = await fig.locator("g.mark-rect path, g.mark-line path, g.mark-symbol path").evaluateAll((els) =>
      els.filter((e) => (e.getAttribute("d") ?? "").length > 2).length);
    expect(drawn).toBeGreaterThan(0);
  });

  it("has the summary table and the experiments with their verdicts, escaped", async () => {
    await ready;
    expect(await page.title()).toBe("vxsim <report> & co");
    await expect(page.locator("table.summary tbody tr").count()).resolves.toBe(12);
    const exps = page.locator("section.experiment");
    await expect(exps.count()).resolves.toBe(2);
    await expect(page.locator('[data-experiment="copy-vs-map"] .verdict').textContent()).resolves.toBe("Verdict: holds. copy is cheaper at 4 KiB, mapping from 16 KiB");
    await expect(page.locator('[data-experiment="lse"] h3').textContent()).resolves.toBe("LSE <halves> atomics cost");
    await expect(page.locator('[data-experiment="lse"] .verdict.fails').count()).resolves.toBe(1);
    await expect(page.locator('[data-experiment="lse"] .notes li').allTextContents()).resolves.toEqual(["uncontended lines only"]);
    await expect(page.locator('[data-experiment="copy-vs-map"] tbody tr').first().locator("td").allTextContents()).resolves.toEqual(["4 KiB", "9,100", "14,200"]);
    await expect(page.getByText("1 of 2 claims hold.").count()).resolves.toBe(1);
  });

  it("screenshots to a non-empty image that is not one colour", async () => {
    await ready;
    const stats = await screenshotStats(page);
    expect(stats.bytes).toBeGreaterThan(10_000);
    expect(stats.width).toBe(1280);
    expect(stats.height).toBeGreaterThan(2000);
    expect(stats.colours).toBeGreaterThan(50);
    expect(stats.nonWhite).toBeGreaterThan(0.02);
  });
});

describe("HTML report input errors", () => {
  it("refuses an empty report and a table row that does not fit its columns", async () => {
    await expect(renderReport({ title: "x", results: [], meta: {} })).rejects.toThrow("report: no results and no experiments to report");
    const bad = { ...EXPERIMENTS[0]!, rows: [["4 KiB", 1]] };
    await expect(renderReport({ title: "x", results: [], experiments: [bad], meta: {} })).rejects.toThrow(
      "experiment copy-vs-map: row 0 has 2 cells, the table has 3 columns",
    );
  });

  it("a report of experiments alone has no charts", async () => {
    const h = await renderReport({ title: "x", results: [], experiments: EXPERIMENTS, meta: {} });
    expect(h).not.toContain("<svg");
    expect(h).toContain("1 of 2 claims hold.");
  });
});
