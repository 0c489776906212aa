/**
 * `alignprop pretrain` end to end at a small scale: every stage runs, the progress goes to stderr, and what it writes
 * is a diffusers pipeline the loader reads, a transformers CLIP, and the aesthetic head — the files of models/tiny-shapes.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadClipModel } from "../../src/models/clip/clip-model.js";
import { disposePipeline, loadPipeline } from "../../src/models/pipeline.js";
import { loadAestheticHead } from "../../src/rewards/aesthetic.js";
import { alignprop } from "../helpers/cli.js";

const root = mkdtempSync(join(tmpdir(), "alignprop-pretrain-"));
after(() => rmSync(root, { recursive: true, force: true }));
const out = join(root, "tiny");

test("pretrain at scale 0.004 runs the four stages with progress and ETA, writes a loadable pipeline, CLIP and head", async () => {
  const r = await alignprop(["pretrain", "--out", out, "--scale", "0.004", "--eval-samples", "8", "--backend", "wasm-ort"]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  const stderr = String(r.stderr);
  for (const stage of ["clip", "aesthetic", "vae", "unet"]) assert.match(stderr, new RegExp(`\\[\\d/4\\] ${stage} +\\[#+\\] \\d+/\\d+ loss \\d.*left`));
  assert.match(stderr, /done in .*colour accuracy \d+(\.\d)?% over 8 samples/);
  const result = JSON.parse(String(r.stdout)) as {
    evaluation: { samples: number; accuracy: number };
    unetCurve: Array<{ step: number; accuracy: number }>;
    seconds: { total: number };
  };
  assert.equal(result.evaluation.samples, 8);
  assert.deepEqual(result.unetCurve.map((p) => p.step), [4, 8, 12], "colour accuracy at each quarter of the UNet's 16 steps");
  assert.ok(result.unetCurve.every((p) => p.accuracy >= 0 && p.accuracy <= 1));
  assert.match(stderr, /unet step 8: colour accuracy \d+(\.\d)?% \(8 samples\)/);
  assert.ok(result.seconds.total > 0);

  assert.deepEqual(readdirSync(out).sort(), ["README.md", "aesthetic", "clip", "model_index.json", "pretrain.json", "scheduler", "text_encoder", "tokenizer", "unet", "vae"]);
  const pipeline = await loadPipeline(out);
  assert.equal(pipeline.unet.config.sample_size, 8);
  assert.equal(pipeline.vae.downscale, 4);
  assert.ok(pipeline.vae.config.scaling_factor > 0 && pipeline.vae.config.scaling_factor !== 0.18215);
  assert.equal(pipeline.tokenizer.modelMaxLength, 16);
  const { model: clip, tokenizer } = await loadClipModel(join(out, "clip"));
  assert.equal(tokenizer.eosTokenId, pipeline.tokenizer.eosTokenId);
  // The pipeline's text encoder is the CLIP text tower.
  const [key] = clip.text_model.namedParameters("text_model").find(([k]) => k.endsWith("final_layer_norm.weight"))!;
  const fromClip = clip.text_model.namedParameters("text_model").find(([k]) => k === key)![1].tensor.dataSync();
  const fromPipeline = pipeline.textEncoder.namedParameters().find(([k]) => k === key)![1].tensor.dataSync();
  assert.deepEqual([...fromPipeline], [...fromClip]);
  const head = await loadAestheticHead(join(out, "aesthetic", "head.safetensors"));
  assert.equal(head.widths[0], clip.config.projection_dim);
  const record = JSON.parse(readFileSync(join(out, "pretrain.json"), "utf8")) as { recipe: { steps: Record<string, number> } };
  assert.deepEqual(record.recipe.steps, { clip: 5, aesthetic: 2, vae: 10, unet: 16 });
  assert.match(readFileSync(join(out, "README.md"), "utf8"), /library_name: diffusers[\s\S]*Colour following/);
  disposePipeline(pipeline);
  clip.dispose();
  head.dispose();
});

test("pretrain will not overwrite a folder without --force, and names bad flags with their values", async () => {
  assert.ok(existsSync(out), "the previous test wrote it");
  const again = await alignprop(["pretrain", "--out", out, "--scale", "0.004"]);
  assert.equal(again.exitCode, 1);
  assert.match(String(again.stderr), /out=.*tiny already exists: pass --force to replace it/);
  assert.ok(existsSync(join(out, "model_index.json")), "the folder is untouched");
  const bad = await alignprop(["pretrain", "--out", join(root, "x"), "--scale", "-1"]);
  assert.equal(bad.exitCode, 2);
  assert.match(String(bad.stderr), /--scale="-1"/);
  assert.ok(!existsSync(join(root, "x")));
});
