/** `writeReport(runDir)`: reads the run directory and writes `report.html` beside its events (atomically). */
import { writeFileAtomic } from "../io/atomic.js";
import { runFiles } from "../run/index.js";
import { readRun } from "./read-run.js";
import { reportHtml } from "./report-html.js";

/** Returns the report's path. Throws, naming the path, when `runDir` is not a run directory. */
export async function writeReport(runDir: string): Promise<string> {
  const html = reportHtml(await readRun(runDir));
  const path = runFiles(runDir).report;
  await writeFileAtomic(path, html);
  return path;
}
