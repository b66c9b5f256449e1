// The HTML report of real runs (runJob on three transports and two architectures, two real
// experiments) rendered in headless Chromium: every chart drawn, every result and verdict on
// the page, a screenshot that shows something. Fails, never skips, without Chromium.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderReport } from "../src/report/html.ts";
import { runJob } from "../src/run/run-job.ts";
import { experimentByName } from "../src/experiments/index.ts";
import { launch, screenshotStats } from "./helpers/chromium.ts";

describe("HTML report of a real run", { timeout: 120_000 }, () => {
  it("draws every chart from real results and shows the computed verdicts", async () => {
    const results = ["kvm-ioeventfd", "grant-map", "argo:sg"].flatMap((transport) =>
      ["x86-64", "arm64-v8.0"].map((profile) => runJob({
        transport, profile, device: "blk", workload: { kind: "fio", rw: "randrw", bs: 4096, iodepth: 2 }, ios: 24, seed: 3,
      })));
    const experiments = [
      experimentByName("c4").run({ seed: 1, quick: true, runJob: (s) => runJob(s), arches: ["arm64-v8.1-lse"] }),
      experimentByName("c6").run({ seed: 1, quick: true }),
    ];
    const html = await renderReport({ title: "vxsim real run", results, experiments, meta: { seed: 3 } });
    const dir = mkdtempSync(join(tmpdir(), "vxsim-real-report-"));
    const browser = await launch();
    try {
      const file = join(dir, "report.html");
      writeFileSync(file, html);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`file://${file}`);
      const charts = await page.locator("svg").evaluateAll((svgs) => svgs.map((s) => {
        const box = s.getBoundingClientRect();
        return { w: box.width, h: box.height, marks: s.querySelectorAll("g.role-mark path").length };
      }));
      expect(charts.length).toBeGreaterThanOrEqual(5);
      for (const c of charts) {
        expect(c.w).toBeGreaterThan(100);
        expect(c.h).toBeGreaterThan(100);
        expect(c.marks).toBeGreaterThan(0);
      }
      const text = await page.locator("body").innerText();
      for (const t of ["kvm-ioeventfd", "grant-map", "argo:sg"]) expect(text).toContain(t);
      for (const e of experiments) expect(text).toContain(e.title);
      const shot = await screenshotStats(page);
      expect(shot.colours).toBeGreaterThan(50);
      expect(shot.nonWhite).toBeGreaterThan(0.02);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
