/** The report page: self-contained, escaped, captions `prompt | reward`, placeholders and notes, both charts. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { reportHtml, type RunReport } from "../../src/report/index.js";

const PNG = "data:image/png;base64,iVBORw0KGgo=";

function report(over: Partial<RunReport> = {}): RunReport {
  return {
    name: "run-1",
    config: { model: "tiny", reward: "", train_batch_size: 2, truncated_rand_backprop_minmax: [0, 50], hidden_field: true },
    status: { state: "DONE", message: "finished at step 3/3", step: 3, total: 3, backend: "cpu" },
    metrics: [1, 2, 3].map((step) => ({ step, loss: -step / 10, rewardMean: step / 10, rewardStd: 0.05, scalars: {} })),
    imageSteps: [{ step: 3, images: [{ prompt: "a red circle", reward: 0.61234, path: "images/step-3/0.png", width: 32, height: 32, src: PNG }] }],
    evals: [],
    errors: [],
    startMs: 1_700_000_000_000,
    endMs: 1_700_000_125_000,
    notes: [],
    ...over,
  };
}

test("the page is one document with no scripts, links or remote URLs", () => {
  const html = reportHtml(report());
  assert.match(html, /^<!doctype html>\n<html lang="en">/);
  assert.match(html, /<meta charset="utf-8">/);
  assert.doesNotMatch(html, /<script|<link|@import|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
});

test("it has the reward chart with its band and the loss chart", () => {
  const html = reportHtml(report());
  const charts = [...html.matchAll(/<svg [^>]*data-chart="(\w+)"[\s\S]*?<\/svg>/g)];
  assert.deepEqual(charts.map((c) => c[1]), ["reward", "loss"]);
  assert.match(charts[0]![0], /<path class="band"/);
  assert.match(charts[0]![0], /<path class="line"/);
  assert.match(charts[1]![0], /<path class="line"/);
});

test("an algorithm's own values (Metrics.scalars, e.g. DDPO's) get one chart each, after reward and loss", () => {
  const metrics = [1, 2, 3].map((step) => ({ step, loss: 0, rewardMean: 0, rewardStd: 0, scalars: { clip_fraction: step / 4, approx_kl: step / 1000 } }));
  const html = reportHtml(report({ metrics }));
  const charts = [...html.matchAll(/<svg [^>]*data-chart="([\w-]+)"[\s\S]*?<\/svg>/g)];
  assert.deepEqual(charts.map((c) => c[1]), ["reward", "loss", "scalar-approx_kl", "scalar-clip_fraction"]);
  assert.match(charts[3]![0], /<title>clip_fraction over steps<\/title>/);
  assert.match(charts[3]![0], /<path class="line"/);
});

test("each image is a data URI captioned prompt | reward with three decimals", () => {
  const html = reportHtml(report());
  assert.match(html, /<section class="step" data-step="3"><h3>step 3<\/h3>/);
  assert.match(html, new RegExp(`<img class="pixelated" src="${PNG}" alt="a red circle" width="128" height="128"><figcaption>a red circle \\| 0\\.612</figcaption>`));
});

test("a missing image is a placeholder that says which file and why", () => {
  const images = [{ prompt: "p", reward: NaN, path: "images/step-3/0.png", width: 32, height: 32, missing: "file not found" }];
  const html = reportHtml(report({ imageSteps: [{ step: 3, images }], notes: ["1 of 1 images could not be shown"] }));
  assert.match(html, /<div class="placeholder">image missing<br>images\/step-3\/0\.png<br>file not found<\/div><figcaption>p \| NaN<\/figcaption>/);
  assert.match(html, /<ul class="notes"><li>1 of 1 images could not be shown<\/li><\/ul>/);
  assert.doesNotMatch(html, /<img/);
});

test("prompts, names, config values and errors are escaped", () => {
  const evil = `<script>alert("x")</script>&'`;
  const images = [{ prompt: evil, reward: 1, path: "a.png", width: 4, height: 4, src: PNG }];
  const html = reportHtml(report({ name: evil, config: { prompts: evil }, errors: [evil], notes: [evil], imageSteps: [{ step: 1, images }] }));
  assert.doesNotMatch(html, /<script/);
  assert.match(html, /<title>alignprop run &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&amp;&#39;<\/title>/);
  assert.match(html, /alt="&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&amp;&#39;"/);
  assert.equal(html.match(/&lt;script&gt;alert/g)!.length, 8, "title, h1, notes, errors, config row (twice: key fields and all fields), alt, caption");
});

test("the summary shows the state, first, last and best reward, duration and the key config", () => {
  const html = reportHtml(report());
  assert.match(html, /<span class="state DONE">DONE<\/span> at step 3\/3 — finished at step 3\/3/);
  assert.match(html, /<th>reward mean<\/th><td>0\.100 \(step 1\) → 0\.300 \(step 3\)<\/td>/);
  assert.match(html, /<th>best reward mean<\/th><td>0\.300 at step 3<\/td>/);
  assert.match(html, /<th>duration<\/th><td>2 min 5 s<\/td>/);
  assert.match(html, /<th>reward<\/th><td>—<\/td>.*<th>train_batch_size<\/th><td>2<\/td>.*<th>truncated_rand_backprop_minmax<\/th><td>\[0,50\]<\/td>/);
  assert.match(html, /<summary>All 5 config.json fields<\/summary>.*<th>hidden_field<\/th><td>true<\/td>/);
});

test("a run with no metrics or images still renders, saying so", () => {
  const html = reportHtml(report({ metrics: [], imageSteps: [], status: undefined }));
  assert.equal(html.match(/<text class="empty"[^>]*>no data</g)!.length, 2);
  assert.match(html, /<p>No images were logged\.<\/p>/);
  assert.match(html, /<p>No status was logged\.<\/p>/);
});

test("a run that ended DONE before its last step reads STOPPED; one that did every step reads DONE", () => {
  const stopped = reportHtml(report({ status: { state: "DONE", message: "stopped at step 2/3", step: 2, total: 3, backend: "cpu" } }));
  assert.match(stopped, /<span class="state DONE">STOPPED<\/span> at step 2\/3 — stopped at step 2\/3/);
  assert.match(reportHtml(report()), /<span class="state DONE">DONE<\/span> at step 3\/3/);
});

test("a reward or prompt source left empty shows the one the model folder gave the run, not a dash", () => {
  const html = reportHtml(report({ config: { model: "tiny-shapes", reward: "", prompts: "" } }));
  assert.match(html, /<th>reward<\/th><td>tiny-aesthetic \(default\)<\/td>/);
  assert.match(html, /<th>prompts<\/th><td>shapes \(default\)<\/td>/);
  const otherModel = reportHtml(report({ config: { model: "org/some-sd", reward: "", prompts: "my.txt" } }));
  assert.match(otherModel, /<th>reward<\/th><td>brightness \(default\)<\/td>/);
  assert.match(otherModel, /<th>prompts<\/th><td>my\.txt<\/td>/);
});

test("image steps are shown newest first", () => {
  const image = { prompt: "p", reward: 0.5, path: "x.png", width: 32, height: 32, src: PNG };
  const html = reportHtml(report({ imageSteps: [1, 2, 3].map((step) => ({ step, images: [image] })) }));
  assert.deepEqual([...html.matchAll(/data-step="(\d+)"/g)].map((m) => Number(m[1])), [3, 2, 1]);
});
