/** The trainer writes report.html when a run ends, whether it finished or failed. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { alignprop } from "../helpers/cli.js";
import { TINY_RUN_FLAGS } from "../helpers/tiny-model.js";

const runs = mkdtempSync(join(tmpdir(), "alignprop-report-end-"));
after(() => rmSync(runs, { recursive: true, force: true }));

test("a run that diverges still gets a report showing FAILED, the error and the steps before it", async () => {
  const cli = await alignprop(["train", "--ci", ...TINY_RUN_FLAGS, "--runs_dir", runs, "--run_name", "diverges", "--num_epochs", "5", "--save_freq", "1000", "--train_learning_rate", "1e12"]);
  assert.equal(cli.exitCode, 1, "the report does not change the run's exit code");
  const report = join(runs, "diverges", "report.html");
  assert.ok(existsSync(report), `${report} was written`);
  const html = readFileSync(report, "utf8");
  assert.match(html, /<span class="state FAILED">FAILED<\/span>/);
  assert.match(html, /<div class="errors">[^<]* step \d+: training diverged/);
  assert.match(html, /<path class="line" d="M[^"]+ L/);
  assert.doesNotMatch(String(cli.stderr), /report\.html not written/);
});
