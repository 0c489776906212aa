/** Issue 18's targets from one bench report: the ratios both sides have, null where a side lacks a figure. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { issueTargets, targetsText } from "../../src/bench/targets.js";

const tfjs = {
  conv_fwd: { ms: 4, min_ms: 4 },
  graph: { conv_fwd: { ms: 2, min_ms: 1 } },
  graph_frozen_weight: { conv_fwd: { ms: 1.6, min_ms: 1.6 } },
  unet_step: { ms: 300, min_ms: 250, traced_graphs: true, round_ms: [300, 320, 290] },
  unet_step_ops: { ms: 900 },
  unet_peak_rss_mb: 900,
  "unet-ops_peak_rss_mb": 1200,
};
const torch = { conv_fwd: { ms: 2, min_ms: 2 }, unet_step: { ms: 200, min_ms: 200, round_ms: [200, 160, 290] }, unet_peak_rss_mb: 500, torch: { version: "2.13.0+cpu", threads: 1 } };
const engines = { tfjs: { s_per_step: 0.4, traced_graphs: true }, torch: { s_per_step: 0.5 }, tfjs_over_torch: { s_per_step: 0.8 } };

test("the targets put each TF.js figure beside PyTorch's as the issue states them", () => {
  const t = issueTargets({ backend: "wasm-ort", tfjs, torch, engines }) as Record<string, Record<string, unknown>>;
  assert.deepEqual(t.peer, { version: "2.13.0+cpu", threads: 1 });
  assert.equal(t.unet_step!.time_ratio, 1.5);
  assert.equal(t.unet_step!.time_ratio_fastest_runs, 1.25);
  assert.deepEqual(t.unet_step!.time_ratio_per_round, [1.5, 2, 1]);
  assert.equal(t.unet_step!.tfjs_ops_time_ratio, 4.5);
  assert.equal(t.unet_step!.rss_ratio, 1.8);
  assert.equal(t.unet_step!.tfjs_ops_rss_ratio, 2.4);
  assert.deepEqual(t.kernel_gflops_share_of_torch!.conv_fwd, {
    one_kernel_session: { median: 0.5, fastest_runs: 0.5 },
    graph_weights_as_inputs: { median: 1, fastest_runs: 2 },
    graph_frozen_weight: { median: 1.25, fastest_runs: 1.25 },
  });
  assert.deepEqual(t.kernel_gflops_share_of_torch!.matmul, {}, "no figure on either side");
  assert.equal(t.alignprop_quickstart!.time_ratio, 0.8);
  const text = targetsText(t, { cpu: "Test CPU 9000", loadAverage: [1, 2, 3] });
  assert.match(text, /tiny-UNet step: 300 ms vs 200 ms = 1\.50× \(target ≤ 1\) +\(not met\)/);
  assert.match(text, /AlignProp quickstart step: 0\.400 s vs torch engine 0\.500 s = 0\.80× \(target ≤ 1\) +\(met\)/);
  assert.match(text, /\(1 thread\(s\)\), Test CPU 9000, load average 1 2 3/);
  assert.match(text, /fastest runs 1\.25×; rounds 1\.50 2\.00 1\.00×;/);
  assert.match(text, /conv_fwd: one kernel session 0\.50\/0\.50, graph weights as inputs 1\.00\/2\.00, graph frozen weight 1\.25\/1\.25/);
});

test("without PyTorch the targets hold nulls, not errors", () => {
  const t = issueTargets({ backend: "wasm-ort", tfjs, torch: { skipped: "--skip-torch" } }) as Record<string, Record<string, unknown>>;
  assert.equal(t.unet_step!.time_ratio, null);
  assert.equal(t.alignprop_quickstart!.time_ratio, null);
  assert.equal(t.unet_step!.time_ratio_per_round, null);
  const text = targetsText(t, { cpu: "x", loadAverage: [0, 0, 0] });
  assert.match(text, /= n\/a×/);
  assert.doesNotMatch(text, /rounds/);
});
