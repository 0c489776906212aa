/**
 * AlignProp against the aesthetic reward on a tiny random SD + tiny random CLIP: the LoRA gradient through chain,
 * VAE decode, CLIP preprocessing, vision tower and head equals a finite difference, and `alignprop train --reward
 * aesthetic:…` runs end to end in the trainer process.
 */
import assert from "node:assert/strict";
import { mkdtemp, mkdir, readFile, rm, writeFile, copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { encodeSafetensors } from "../../src/io/safetensors.js";
import { chainGradients, type Chain } from "../../src/diffusion/differentiable-sampler.js";
import { decodeLatents } from "../../src/diffusion/pipeline-sample.js";
import { validateClipVisionConfig } from "../../src/models/clip/vision-config.js";
import { CLIPVisionModelWithProjection, loadClipVisionStateDict } from "../../src/models/clip/vision-model.js";
import { disposePipeline, savePipeline } from "../../src/models/pipeline.js";
import { SHAPE_ONLY } from "../../src/models/nn/module.js";
import { aestheticReward, loadAestheticHead } from "../../src/rewards/aesthetic.js";
import { disposeComponents, tinyComponents } from "../alignprop/tiny-pipeline.js";
import { alignprop } from "../helpers/cli.js";
import { tinyPipeline } from "../pipeline/tiny.js";
import { fixturePath, readTensors, TINY_VISION } from "./fixtures.js";

let root: string;
before(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "alignprop-aesthetic-"));
});
after(() => rm(root, { recursive: true, force: true }));

test("the LoRA gradient of −aesthetic through a 2-step chain equals a finite-difference estimate (relative error ≤ 1e-2)", async (t) => {
  const c = tinyComponents(4);
  let seed = 400;
  for (const v of c.lora.trainableVariables()) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, "float32", seed++))));
  const vision = new CLIPVisionModelWithProjection(SHAPE_ONLY, validateClipVisionConfig(TINY_VISION));
  loadClipVisionStateDict(vision, await readTensors("vision.safetensors"));
  const head = await loadAestheticHead(fixturePath("aesthetic.safetensors"));
  const reward = aestheticReward(vision, head);
  c.scheduler.setTimesteps(2);
  const { ids, shape } = c.tokenizer.batch(["", "a red circle"]);
  const chain: Chain = {
    unet: c.unet,
    scheduler: c.scheduler,
    context: tf.tidy(() => c.textEncoder.forward(tf.tensor2d(ids, shape, "int32")).lastHiddenState),
    guidanceScale: 5,
    eta: 1,
    noise: [0, 1].map((i) => tf.randomNormal([1, 8, 8, 4], 0, 1, "float32", 40 + i) as tf.Tensor4D),
  };
  const xT = tf.randomNormal([1, 8, 8, 4], 0, 1, "float32", 45) as tf.Tensor4D;
  const loss = (x0: tf.Tensor4D) => tf.tidy(() => tf.neg(tf.mean(reward.score(decodeLatents(c.vae, x0), ["a red circle"], [{}]).rewards)) as tf.Scalar);
  const vars = c.lora.trainableVariables();
  const { grads, value } = chainGradients(chain, [true, true], xT, loss, vars, false);
  const norms = grads.map((g) => tf.tidy(() => tf.norm(g).dataSync()[0]!));
  const i = norms.indexOf(Math.max(...norms));
  const v = tf.randomNormal(vars[i]!.shape, 0, 1, "float32", 9);
  const analytic = tf.tidy(() => tf.sum(tf.mul(grads[i]!, v)).dataSync()[0]!);
  const original = vars[i]!.clone();
  const lossAt = (eps: number) => {
    tf.tidy(() => vars[i]!.assign(tf.add(original, tf.mul(v, eps))));
    return tf.tidy(() => chainGradients(chain, [false, false], xT, loss, vars, false).value.dataSync()[0]!);
  };
  const eps = 1e-2;
  const numeric = (lossAt(eps) - lossAt(-eps)) / (2 * eps);
  vars[i]!.assign(original);
  const rel = Math.abs(numeric - analytic) / Math.abs(analytic);
  t.diagnostic(`${c.lora.namedParameters()[i]![0]}: analytic ${analytic.toExponential(4)}, numeric ${numeric.toExponential(4)}, relative error ${rel.toExponential(2)}`);
  assert.ok(Math.abs(analytic) > 1e-6, `the reward's gradient reaches the LoRA parameters (${analytic})`);
  assert.ok(rel <= 1e-2, `relative error ${rel}`);
  tf.dispose([...grads, value, v, original, xT, chain.context, ...chain.noise]);
  disposeComponents(c);
  vision.dispose();
  head.dispose();
});

test("alignprop train --reward aesthetic:head=…,clip=<folder> trains a tiny SD pipeline in the trainer process", async () => {
  const model = join(root, "tiny-sd");
  const pipeline = await tinyPipeline(5);
  await savePipeline(model, pipeline);
  disposePipeline(pipeline);
  const clip = join(root, "tiny-clip");
  await mkdir(clip);
  const config = { architectures: ["CLIPVisionModelWithProjection"], model_type: "clip_vision_model", ...TINY_VISION };
  await writeFile(join(clip, "config.json"), JSON.stringify(config));
  await writeFile(join(clip, "model.safetensors"), encodeSafetensors(await readTensors("vision.safetensors")));
  await copyFile(fixturePath("aesthetic.safetensors"), join(root, "head.safetensors"));
  const spec = `aesthetic:head=${join(root, "head.safetensors")},clip=${clip}`;
  const run = await alignprop(["train", "--ci", "--runs_dir", join(root, "runs"), "--run_name", "aesthetic", "--model", model, "--reward", spec,
    "--prompts", "shapes", "--sample_num_steps", "2", "--train_batch_size", "1", "--num_epochs", "2", "--seed", "4"]);
  assert.equal(run.exitCode, 0, String(run.stderr));
  type Line = { metrics?: { rewardMean: number }; status?: { message?: string } };
  const events = (await readFile(join(root, "runs", "aesthetic", "events.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Line);
  assert.match(events.find((e) => e.status?.message?.includes("reward"))!.status!.message!, /reward aesthetic:head=/);
  const rewards = events.flatMap((e) => (e.metrics ? [e.metrics.rewardMean] : []));
  assert.equal(rewards.length, 2);
  for (const r of rewards) assert.ok(Number.isFinite(r), `reward ${r}`);
});
