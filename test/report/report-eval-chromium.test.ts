/**
 * End to end: a real short run that evaluates writes a report.html whose evaluation section headless Chromium
 * renders — the monitors chart and fidelity against reward each with a drawn line, and one grid of eval samples per
 * evaluation (newest first), every image decoded.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, test } from "node:test";
import { chromium, haveChromium, PROBE } from "../helpers/chromium.js";
import { alignprop } from "../helpers/cli.js";
import { TINY_RUN_FLAGS } from "../helpers/tiny-model.js";

const work = mkdtempSync(join(tmpdir(), "alignprop-report-eval-"));
after(() => rmSync(work, { recursive: true, force: true }));

test("the report of a run that evaluated shows its monitors, fidelity against reward and the eval grid per evaluation", async (t) => {
  if (!haveChromium(t)) return;
  const runs = join(work, "runs");
  const train = await alignprop(["train", "--ci", ...TINY_RUN_FLAGS, "--runs_dir", runs, "--num_epochs", "2", "--log_image_freq", "100",
    "--eval_freq", "1", "--eval_prompts", "a red circle,a green triangle", "--eval_seeds", "3,4", "--eval_monitors", "reward,shape-fidelity,diversity,drift"]);
  assert.equal(train.exitCode, 0, String(train.stderr));
  const runDir = join(runs, readdirSync(runs)[0]!);
  const probePath = join(runDir, "probe.html");
  writeFileSync(probePath, readFileSync(join(runDir, "report.html"), "utf8").replace("</body>", `${PROBE}</body>`));
  const dom = await chromium(work, ["--dump-dom", pathToFileURL(probePath).href]);

  const section = /<section id="eval">[\s\S]*?<\/section>\s*<section id="images">/.exec(dom)?.[0] ?? "";
  const charts = [...section.matchAll(/<svg [^>]*class="chart" data-chart="([\w-]+)"[\s\S]*?<\/svg>/g)];
  assert.deepEqual(charts.map((c) => c[1]), ["eval-monitors", "eval-fidelity-reward"]);
  // Three evaluations (steps 0, 1, 2): a three-vertex line per monitor value, and one for fidelity against reward.
  const lines = (svg: string) => [...svg.matchAll(/<path class="line" d="([^"]+)"[^>]*data-bbox-width="(\d+)"/g)];
  assert.equal(lines(charts[0]![0]).length, 6, "reward, fidelity, fidelity_colour, fidelity_shape, diversity, drift");
  for (const [, d] of [...lines(charts[0]![0]), ...lines(charts[1]![0])]) assert.equal(d!.match(/[ML]/g)?.length, 3, d);
  assert.ok(lines(charts[0]![0]).every((m) => Number(m[2]) > 500), "the monitor lines span the steps");

  const grids = [...section.matchAll(/<section class="step" data-step="(\d+)"><h3>([^<]+)<\/h3>([\s\S]*?)<\/section>/g)];
  assert.deepEqual(grids.map((g) => g[2]), ["eval · step 2", "eval · step 1", "eval · step 0"]);
  for (const [, step, , body] of grids) {
    const captions = [...body!.matchAll(/<figcaption>([^|<]*) \|/g)].map((m) => m[1]);
    assert.deepEqual(captions, ["a red circle", "a red circle", "a green triangle", "a green triangle"], `step ${step}`);
    const natural = [...body!.matchAll(/data-natural="(\d+)x(\d+)"/g)];
    assert.equal(natural.length, 4);
    assert.ok(natural.every((m) => Number(m[1]) > 0 && Number(m[2]) > 0), "every eval image decoded");
  }
});
