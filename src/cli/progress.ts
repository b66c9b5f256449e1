// Progress on stderr for long runs: a bar (cli-progress) only when stderr is a terminal and
// --quiet is not given, so pipes, files and scripts see nothing of it.
import { SingleBar } from "cli-progress";

export interface Progress {
  tick(failed: boolean): void;
  stop(): void;
}

export function progressBar(what: string, total: number, quiet: boolean | undefined): Progress {
  if (quiet || !process.stderr.isTTY || total === 0) return { tick() {}, stop() {} };
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${what} [{bar}] {value}/{total} | {failed} failed | {duration_formatted}`,
    hideCursor: true,
    clearOnComplete: true,
  });
  let failed = 0;
  bar.start(total, 0, { failed });
  return {
    tick(f) {
      if (f) failed++;
      bar.increment(1, { failed });
    },
    stop() {
      bar.stop();
    },
  };
}
