/** `alignprop bench --quickstart` and `--compare ddpo` end to end on the embedded pipeline, briefly. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { QUICKSTART } from "../../src/bench/alignprop-step.js";
import { loadRunConfig } from "../../src/config/index.js";
import { alignprop } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "alignprop-bench-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("bench --quickstart trains the main job for the budget and reports how far the reward rose and the fidelity it ended at", async () => {
  // The run goes on past the budget until the measurement has its minimum of steps, however loaded the machine.
  const r = await alignprop(["bench", "--quickstart", "--seconds", "14"]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  const out = JSON.parse(String(r.stdout)) as Record<string, number | string>;
  assert.match(String(out.run), /AlignProp on tiny-shapes .*reward tiny-aesthetic/);
  // The quickstart's eval set (tiny-shapes: every colour × shape, seeds 0 and 1) at step 0 and after the last step.
  assert.equal(out.fidelityStep, out.steps);
  for (const k of ["initialFidelity", "finalFidelity"]) assert.ok((out[k] as number) >= 0 && (out[k] as number) <= 1, k);
  assert.ok((out.evalSeconds as number) > 0);
  assert.match(String(r.stderr), /eval at step 0: .*fidelity 0\.\d{3}/);
  assert.match(String(r.stderr), /reward gap closed -?\d+% \(reward .*\) in \d+ steps, \d+ s of training; prompt fidelity 0\.\d{3} → [01]\.\d{3} \(eval at step \d+/);
  assert.ok((out.steps as number) >= 10 && (out.seconds as number) >= 14);
  assert.equal(out.samples, loadRunConfig({ file: QUICKSTART }).config.train_batch_size * (out.steps as number));
  assert.ok((out.startupSeconds as number) > 0);
  // Cut by the budget: only marks it lived to see (none unless the machine is very slow), never standing at its end.
  const marks = out.marks as unknown as { mark: number; ended: boolean }[];
  assert.ok(marks.every((m) => m.mark === 60 && !m.ended), JSON.stringify(marks));
  for (const k of ["initial", "final", "best", "gapClosed"]) assert.ok(Number.isFinite(out[k]), k);
  assert.ok((out.best as number) >= (out.final as number) - 1e-9 || (out.best as number) >= (out.initial as number));
});

test("bench --compare ddpo runs both algorithms on the same setup and writes the plot", async () => {
  const html = join(dir, "compare.html");
  // Without the eval passes here (four of 48 samples): the fidelity curves are checked on scripted runs in compare.test.
  const r = await alignprop(["bench", "--compare", "ddpo", "--seconds", "1", "--out", html, "--skip-eval"]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  type Result = { samples: number; description: string; fidelity: unknown[]; finalFidelity: number | null };
  const out = JSON.parse(String(r.stdout)) as { alignprop: Result; ddpo: Result; html: string; window: number; alignpropFidelityAtDdpoFinal: number | null };
  assert.match(out.alignprop.description, /^AlignProp on tiny-shapes/);
  assert.match(out.ddpo.description, /^DDPO on tiny-shapes/);
  assert.ok(out.alignprop.samples >= 4 && out.ddpo.samples >= 8);
  assert.deepEqual([out.alignprop.fidelity, out.ddpo.fidelity, out.ddpo.finalFidelity, out.alignpropFidelityAtDdpoFinal], [[], [], null, null]);
  assert.equal(out.html, html);
  const page = readFileSync(html, "utf8");
  assert.match(page, /data-chart="reward-vs-samples"[\s\S]*data-chart="reward-vs-seconds"[\s\S]*data-chart="fidelity-vs-samples"/);
});

test("bench names a bad --compare value", async () => {
  const r = await alignprop(["bench", "--compare", "ppo"]);
  assert.equal(r.exitCode, 2);
  assert.match(String(r.stderr), /--compare="ppo"/);
});
