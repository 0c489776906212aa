/** The bench's parts (the bench itself is too slow for the suite): timing rule, kernel timings, ratios. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { timeRatios } from "../../src/cli/commands/bench.js";
import { initBackend } from "../../src/tf/backend.js";
import { benchKernels } from "../../src/tf/bench/kernels.js";
import { convFlops } from "../../src/tf/bench/shapes.js";
import { time } from "../../src/tf/bench/timing.js";

test("a fast piece of work is warmed up then timed `repeats` times; a slow one is timed once", () => {
  let calls = 0;
  const fast = time(() => void calls++, 3);
  assert.equal(fast.runs, 3);
  assert.ok(fast.min_ms <= fast.ms);
  assert.equal(calls, 4);
  const slow = time(() => void calls++, 3, -1);
  assert.equal(slow.runs, 1);
  assert.equal(slow.min_ms, slow.ms);
  assert.equal(calls, 5);
});

test("conv FLOPs count output positions × filter taps × 2, strides and padding included", () => {
  assert.equal(convFlops({ x: [4, 32, 32, 64], filter: [3, 3, 64, 64], stride: 1, pad: 1 }), 2 * 4 * 1024 * 64 * 9 * 64);
  assert.equal(convFlops({ x: [1, 9, 9, 1], filter: [3, 3, 1, 1], stride: 2, pad: 0 }), 2 * 16 * 9);
});

test("the kernel bench times every kernel on wasm-ort, as one-kernel sessions and as traced graphs", async () => {
  await initBackend("wasm-ort", {});
  const { graph, graph_frozen_weight: frozen, ...sessions } = benchKernels({ x: [1, 8, 8, 4], filter: [3, 3, 4, 4], stride: 1, pad: 1 }, { m: 16, k: 16, n: 16 }, 2);
  const forms = { sessions, graph, frozen };
  assert.deepEqual(Object.keys(frozen ?? {}), ["conv_fwd", "conv_bwd_input", "matmul"]);
  for (const [form, set] of Object.entries(forms)) {
    if (form !== "frozen") assert.deepEqual(Object.keys(set ?? {}), ["conv_fwd", "conv_bwd_input", "conv_bwd_filter", "matmul"]);
    for (const [name, t] of Object.entries(set ?? {})) {
      assert.ok(t.ms > 0 && t.min_ms > 0 && t.min_ms <= t.ms && Number.isFinite(t.gflops) && t.gflops > 0, `${form} ${name}: ${JSON.stringify(t)}`);
    }
  }
});

test("ratios are TF.js time over PyTorch time, for the measures both sides have, traced-graph forms nested", () => {
  const ratios = timeRatios(
    { conv_fwd: { ms: 10 }, unet_step: { ms: 300 }, unet_step_ops: { ms: 900 }, graph: { conv_fwd: { ms: 5 } } },
    { conv_fwd: { ms: 20 }, matmul: { ms: 1 }, unet_step: { ms: 600 } },
  );
  assert.deepEqual(ratios, { conv_fwd: 0.5, unet_step: 0.5, unet_step_ops: 1.5, graph: { conv_fwd: 0.25 } });
});
