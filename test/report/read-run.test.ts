/** Reading a run directory: metrics, images as data URIs, torn log lines, missing images, and not-a-run errors. */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { readRun, writeReport } from "../../src/report/index.js";
import { alignprop } from "../helpers/cli.js";
import { fakeRun, removeFakeRuns, tempFolder } from "./fake-run.js";

after(removeFakeRuns);

test("metrics come back in step order with NaN kept, and the last status wins", async () => {
  const run = await readRun(fakeRun({ losses: [-0.5, NaN, -0.7], imageSteps: [] }));
  assert.equal(run.name, "run-1");
  assert.deepEqual(run.metrics.map((m) => m.step), [1, 2, 3]);
  assert.ok(Number.isNaN(run.metrics[1]!.loss));
  assert.equal(run.metrics[2]!.rewardMean, 0.7);
  assert.deepEqual(run.status, { state: "DONE", message: "finished at step 3/3", step: 3, total: 3, backend: "cpu" });
  assert.equal(run.endMs! - run.startMs!, 4000);
  assert.deepEqual(run.notes, []);
});

test("logged images are embedded as PNG data URIs with their prompt and reward", async () => {
  const run = await readRun(fakeRun({ losses: [-0.5, -0.6], imageSteps: [2] }));
  assert.deepEqual(run.imageSteps.map((s) => s.step), [2]);
  const [first, second] = run.imageSteps[0]!.images;
  assert.equal(first!.prompt, "a red circle");
  assert.equal(second!.reward, 0.601);
  assert.match(first!.src!, /^data:image\/png;base64,iVBORw0KGgo/);
});

test("a torn last line in events.jsonl is skipped and noted", async () => {
  const run = await readRun(fakeRun({ losses: [-0.5, -0.6], imageSteps: [], tornTail: '{"runId":"run-1","seq":9,"metr' }));
  assert.equal(run.metrics.length, 2);
  assert.equal(run.notes.length, 1);
  assert.match(run.notes[0]!, /events\.jsonl line 5 is not a whole event/);
});

test("a missing image file is noted and left without a source", async () => {
  const run = await readRun(fakeRun({ losses: [-0.5], imageSteps: [1], missingFiles: ["images/step-1/1.png"] }));
  const images = run.imageSteps[0]!.images;
  assert.ok(images[0]!.src);
  assert.equal(images[1]!.src, undefined);
  assert.equal(images[1]!.missing, "file not found");
  assert.match(run.notes.join("\n"), /1 of 2 images could not be shown .*images\/step-1\/1\.png: file not found/);
});

test("an image path outside the run directory is not read", async () => {
  const dir = fakeRun({ losses: [-0.5], imageSteps: [1] });
  const events = join(dir, "events.jsonl");
  writeFileSync(events, readFileSync(events, "utf8").replace("images/step-1/0.png", "../../../etc/passwd"));
  const image = (await readRun(dir)).imageSteps[0]!.images[0]!;
  assert.equal(image.src, undefined);
  assert.equal(image.missing, "not a path inside the run directory");
});

test("a folder that is not a run directory is refused with its path named", async () => {
  const empty = tempFolder();
  await assert.rejects(readRun(empty), new RegExp(`${empty} is not a run directory: it has no config\\.json`));
  await assert.rejects(readRun(join(empty, "nope")), new RegExp(`${empty}/nope does not exist`));
});

test("writeReport writes report.html in the run directory and returns its path", async () => {
  const dir = fakeRun({ losses: [-0.5, -0.6], imageSteps: [1] });
  const path = await writeReport(dir);
  assert.equal(path, join(dir, "report.html"));
  assert.match(readFileSync(path, "utf8"), /^<!doctype html>[\s\S]*a red circle \| 0\.500/);
});

test("alignprop report prints the report's path, and names the folder when it is not a run (a usage mistake: exit 2)", async () => {
  const dir = fakeRun({ losses: [-0.5], imageSteps: [] });
  const ok = await alignprop(["report", dir]);
  assert.equal(ok.exitCode, 0);
  assert.equal(String(ok.stdout), join(dir, "report.html"));
  const empty = tempFolder();
  const bad = await alignprop(["report", empty]);
  assert.equal(bad.exitCode, 2);
  assert.equal(String(bad.stderr), `alignprop report: invalid input:\n${empty} is not a run directory: it has no config.json (runs/<name>/ holds config.json and events.jsonl)`);
  const usage = await alignprop(["report"]);
  assert.equal(usage.exitCode, 2);
  assert.match(String(usage.stderr), /report needs exactly one run directory \(got 0\)/);
});
