// Headless Chromium (Debian's, installed by .ci/run) for the report tests: launching it with
// an install hint when it cannot start, and the pixel statistics of a screenshot.
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export async function launch(): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  } catch (e) {
    throw new Error(
      `cannot launch Chromium at ${CHROMIUM} (${(e as Error).message.split("\n")[0]}); ` +
        "install it with `apt-get install -y chromium` (as root; .ci/run does this)",
    );
  }
}

export interface ShotStats {
  bytes: number;
  width: number;
  height: number;
  colours: number;
  /** Share of pixels that are not (near) white. */
  nonWhite: number;
}

/** A full-page screenshot, decoded in the page itself, summarised. */
export async function screenshotStats(page: Page): Promise<ShotStats> {
  const png = await page.screenshot({ fullPage: true });
  const stats = await page.evaluate(async (b64) => {
    const bmp = await createImageBitmap(await (await fetch(`data:image/png;base64,${b64}`)).blob());
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = c.getContext("2d")!;
    ctx.drawImage(bmp, 0, 0);
    const px = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
    const colours = new Set<number>();
    let nonWhite = 0;
    for (let i = 0; i < px.length; i += 4) {
      colours.add((px[i]! << 16) | (px[i + 1]! << 8) | px[i + 2]!);
      if (px[i]! < 250 || px[i + 1]! < 250 || px[i + 2]! < 250) nonWhite++;
    }
    return { width: bmp.width, height: bmp.height, colours: colours.size, nonWhite: nonWhite / (px.length / 4) };
  }, png.toString("base64"));
  return { bytes: png.length, ...stats };
}
