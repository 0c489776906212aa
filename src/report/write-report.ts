/** `writeReport(runDir)`: reads the run directory and writes `report.html` beside its events (atomically). */
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import { readRun } from "./read-run.js";
import { reportHtml } from "./report-html.js";

const REPORT_FILE = "report.html";

/** Returns the report's path. Throws, naming the path, when `runDir` is not a run directory. */
export async function writeReport(runDir: string): Promise<string> {
  const html = reportHtml(await readRun(runDir));
  const path = join(runDir, REPORT_FILE);
  await writeFileAtomic(path, html);
  return path;
}
