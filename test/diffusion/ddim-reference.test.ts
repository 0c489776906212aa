/**
 * DDIMScheduler against diffusers' own DDIMScheduler run in float64 (python/oracle/ddim.py → test/fixtures/ddim/),
 * with DDPO's log-prob as TRL's ddim_step_with_logprob defines it on diffusers' step mean and variance. Tolerance:
 * 5e-6 absolute, relative for values above 1 (x̂₀ reaches 8e4 where ᾱ_t ≈ 0); the largest error seen is 1.6e-6.
 * One exception: the log-prob at squaredcos_cap_v2's t = 999, where ᾱ_t ≈ 1e-8 makes x̂₀ ≈ 8e4, so float32 rounding
 * of μ_t (≈ 1e-7·|μ_t|) divided by σ_t reaches 4e-5; it gets 5e-5.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";

import * as tf from "@tensorflow/tfjs";

import { DDIMScheduler } from "../../src/diffusion/ddim.js";
import { timestepsFor, validateDDIMConfig } from "../../src/diffusion/schedule.js";
import { decodeSafetensors, type TensorMap } from "../../src/io/safetensors.js";

/** dist/test/diffusion/ → test/fixtures/ddim/ */
const DIR = fileURLToPath(new URL("../../../test/fixtures/ddim/", import.meta.url));
const TOLERANCE = 5e-6;
const ILL_CONDITIONED_LOG_PROB_TOLERANCE = 5e-5;

interface StepCase {
  key: string;
  config: Record<string, unknown>;
  num_inference_steps: number;
  timestep: number | number[];
  eta: number;
}
interface TimestepCase {
  timestep_spacing: string;
  steps_offset: number;
  num_inference_steps: number;
  timesteps: number[];
}

const readTensors = (name: string): TensorMap => decodeSafetensors(readFileSync(DIR + name), name).tensors;
const readJson = <T>(name: string): T => JSON.parse(readFileSync(DIR + name, "utf8")) as T;

/** Largest |actual − expected| / max(1, |expected|). */
function maxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  }
  return worst;
}

before(async () => {
  await tf.setBackend("cpu");
});

test("betas and alphas_cumprod of every beta_schedule match diffusers' (computed in float64) within 1e-7", () => {
  const tensors = readTensors("schedules.safetensors");
  const ranges = { scaled_linear: [0.00085, 0.012], linear: [0.0001, 0.02], squaredcos_cap_v2: [0.0001, 0.02] };
  for (const [schedule, [beta_start, beta_end]] of Object.entries(ranges)) {
    const scheduler = new DDIMScheduler({ beta_schedule: schedule, beta_start, beta_end });
    assert.ok(maxError(scheduler.betas, tensors[`${schedule}/betas`]!.data) < 1e-7, `${schedule} betas`);
    assert.ok(maxError(scheduler.alphasCumprod, tensors[`${schedule}/alphas_cumprod`]!.data) < 1e-7, `${schedule} ᾱ`);
  }
});

test("timesteps equal diffusers' set_timesteps for every spacing, step count and steps_offset", () => {
  const cases = readJson<TimestepCase[]>("timesteps.json");
  assert.equal(cases.length, 66);
  for (const c of cases) {
    const config = validateDDIMConfig({ timestep_spacing: c.timestep_spacing, steps_offset: c.steps_offset });
    assert.deepEqual(timestepsFor(config, c.num_inference_steps), c.timesteps, JSON.stringify({ ...c, timesteps: undefined }));
  }
});

test("step outputs and log-probs match diffusers for every case within 5e-6", () => {
  const tensors = readTensors("steps.safetensors");
  const input = (name: string) => tf.tensor(tensors[`inputs/${name}`]!.data, tensors[`inputs/${name}`]!.shape);
  const [sample, modelOutput, noise] = [input("sample"), input("model_output"), input("noise")];
  const cases = readJson<StepCase[]>("steps.json");
  const worst: Record<string, number> = {};
  let logProbCases = 0;
  for (const c of cases) {
    const scheduler = new DDIMScheduler(c.config);
    scheduler.setTimesteps(c.num_inference_steps);
    const expected = (name: string) => tensors[`${c.key}/${name}`]?.data;
    const illConditioned = [c.timestep].flat().some((t) => scheduler.alphasCumprod[t]! < 1e-6);
    const check = (name: string, actual: tf.Tensor) => {
      const error = maxError(actual.dataSync(), expected(name)!);
      const label = illConditioned && name.startsWith("log_prob") ? `${name} where ᾱ_t < 1e-6` : name;
      worst[label] = Math.max(worst[label] ?? 0, error);
      const tolerance = label === name ? TOLERANCE : ILL_CONDITIONED_LOG_PROB_TOLERANCE;
      assert.ok(error <= tolerance, `${c.key} ${name}: error ${error} for ${JSON.stringify(c)}`);
    };
    tf.tidy(() => {
      const withLogProb = expected("log_prob") !== undefined;
      const out = scheduler.step(modelOutput, c.timestep, sample, { eta: c.eta, varianceNoise: noise, logProb: withLogProb });
      check("prev_sample", out.prevSample);
      check("pred_original_sample", out.predOriginalSample);
      if (!withLogProb) return;
      logProbCases++;
      check("log_prob", out.logProb!);
      const given = tensors[`${c.key}/prev_sample_given`]!;
      const scored = scheduler.step(modelOutput, c.timestep, sample, { eta: c.eta, prevSample: tf.tensor(given.data, given.shape) });
      check("log_prob_given", scored.logProb!);
    });
  }
  assert.equal(cases.length, 140);
  assert.ok(logProbCases >= 60, `only ${logProbCases} cases with a log-prob`);
  console.log(`max relative-or-absolute error over ${cases.length} cases: ${JSON.stringify(worst)}`);
  tf.dispose([sample, modelOutput, noise]);
});

test("addNoise and getVelocity match diffusers' for shared and per-sample timesteps", () => {
  const tensors = readTensors("steps.safetensors");
  const input = (name: string) => tf.tensor(tensors[`inputs/${name}`]!.data, tensors[`inputs/${name}`]!.shape);
  tf.tidy(() => {
    const [sample, noise] = [input("sample"), input("noise")];
    const ranges = { scaled_linear: [0.00085, 0.012], linear: [0.0001, 0.02], squaredcos_cap_v2: [0.0001, 0.02] };
    for (const [schedule, [beta_start, beta_end]] of Object.entries(ranges)) {
      const scheduler = new DDIMScheduler({ beta_schedule: schedule, beta_start, beta_end });
      for (const [label, t] of [["t500", 500], ["t0_t999", [0, 999]]] as const) {
        const noisy = scheduler.addNoise(sample, noise, t).dataSync();
        assert.ok(maxError(noisy, tensors[`add_noise/${schedule}/${label}`]!.data) <= TOLERANCE, `add_noise ${schedule} ${label}`);
        const velocity = scheduler.getVelocity(sample, noise, t).dataSync();
        assert.ok(maxError(velocity, tensors[`velocity/${schedule}/${label}`]!.data) <= TOLERANCE, `velocity ${schedule} ${label}`);
      }
    }
  });
});
