/**
 * The TF.js engine's side of the cross-engine first-step check (python/tests/test_torch_parity.py): reads one
 * micro-batch's draws as JSON on stdin — prompts, x_T and the chain's noise in torch's [B, C, h, w] layout — runs the
 * guided DDIM chain, decodes, scores and prints `{"rewards": [...], "loss": -mean(rewards)}`. With the LoRA adapters
 * at their init (B = 0) that is AlignProp's first-step loss, whatever the adapters' A and the kept steps.
 *
 * Given `lora` (a pytorch_lora_weights.safetensors), `keep` and `kl_coeff`, the chain runs the adapted UNet with the
 * KL term on the kept steps and prints `loss` = −mean(rewards) + kl_coeff · kl and `kl` too: AlignProp's loss for
 * those weights.
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { chainGradients, type Chain } from "../../src/diffusion/differentiable-sampler.js";
import { attachLoraWeights, readLoraWeights } from "../../src/io/lora-weights.js";
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
  lora?: string;
  keep?: boolean[];
  kl_coeff?: number;
}

await tf.setBackend("cpu");
const d = JSON.parse(readFileSync(0, "utf8")) as Draws;
const pipeline = await loadPipeline(d.model);
const reward = await resolveReward(d.reward);
const adapters = d.lora ? attachLoraWeights(pipeline.unet, await readLoraWeights(d.lora), d.lora) : undefined;
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
  if (adapters && d.kl_coeff) chain.kl = { adapters, coeff: d.kl_coeff };
  let rewards: number[] = [];
  const lossOf = (x0: tf.Tensor4D) => {
    const scored = scoreImages(reward, decodeLatents(pipeline.vae, x0), d.prompts, d.prompts.map(() => ({}))).rewards;
    rewards = Array.from(scored.dataSync());
    return tf.neg(tf.mean(scored)) as tf.Scalar;
  };
  const keep = d.keep ?? Array<boolean>(d.steps).fill(false);
  const { value, kl } = chainGradients(chain, keep, nhwc(d.x_t), lossOf, adapters?.trainableVariables() ?? [], false);
  return { rewards, loss: value.dataSync()[0]!, ...(kl ? { kl: kl.dataSync()[0]! } : {}) };
});
adapters?.dispose();
disposePipeline(pipeline);
console.log(JSON.stringify(result));
