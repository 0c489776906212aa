/**
 * The TF.js engine's side of the cross-engine first-step check (python/tests/test_torch_parity.py): reads one
 * micro-batch's draws as JSON on stdin — prompts, x_T and the chain's noise in torch's [B, C, h, w] layout — runs the
 * guided DDIM chain, decodes, scores and prints `{"rewards": [...], "loss": -mean(rewards)}`. With the LoRA adapters
 * at their init (B = 0) that is AlignProp's first-step loss, whatever the adapters' A and the kept steps.
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { denoiseStep, type Chain } from "../../src/diffusion/differentiable-sampler.js";
import { decodeLatents, encodePrompts } from "../../src/diffusion/pipeline-sample.js";
import { disposePipeline, loadPipeline } from "../../src/models/pipeline.js";
import { resolveReward } from "../../src/rewards/registry.js";
import { scoreImages } from "../../src/rewards/reward.js";

interface Draws {
  model: string;
  reward: string;
  guidance: number;
  eta: number;
  negative_prompt: string;
  steps: number;
  prompts: string[];
  /** [B, C, h, w] of x_T and of each noise tensor (one per step; none when eta = 0). */
  shape: [number, number, number, number];
  x_t: number[];
  noise: number[][];
}

await tf.setBackend("cpu");
const d = JSON.parse(readFileSync(0, "utf8")) as Draws;
const pipeline = await loadPipeline(d.model);
const reward = await resolveReward(d.reward);
pipeline.scheduler.setTimesteps(d.steps);
const result = tf.tidy(() => {
  const nhwc = (values: number[]) => tf.transpose(tf.tensor4d(values, d.shape), [0, 2, 3, 1]) as tf.Tensor4D;
  const negatives = encodePrompts(pipeline, d.prompts.map(() => d.negative_prompt));
  const chain: Chain = {
    unet: pipeline.unet,
    scheduler: pipeline.scheduler,
    context: d.guidance > 1 ? tf.concat([negatives, encodePrompts(pipeline, d.prompts)]) : encodePrompts(pipeline, d.prompts),
    guidanceScale: d.guidance,
    eta: d.eta,
    noise: d.noise.map(nhwc),
  };
  let x = nhwc(d.x_t);
  for (let i = 0; i < d.steps; i++) x = denoiseStep(chain, i, x, false);
  const { rewards } = scoreImages(reward, decodeLatents(pipeline.vae, x), d.prompts, d.prompts.map(() => ({})));
  return { rewards: Array.from(rewards.dataSync()), loss: -tf.mean(rewards).dataSync()[0]! };
});
disposePipeline(pipeline);
console.log(JSON.stringify(result));
