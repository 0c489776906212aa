/** `alignprop inspect` on the SD1.5 configs and `alignprop sample` end to end on a tiny pipeline the project saved. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { PNG } from "pngjs";
import { sample } from "../../src/diffusion/pipeline-sample.js";
import { saveLoraWeights } from "../../src/io/lora-weights.js";
import { floatsToImages } from "../../src/io/png.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/io/safetensors.js";
import { attachLora, DEFAULT_LORA_CONFIG } from "../../src/models/lora.js";
import { disposePipeline, loadPipeline, savePipeline } from "../../src/models/pipeline.js";
import { alignprop } from "../helpers/cli.js";
import { FIXTURES, tinyPipeline } from "./tiny.js";

const SD15 = join(FIXTURES, "sd15");
let root: string;
let model: string;
let lora: string;
let halfLora: string;

before(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "alignprop-cli-"));
  model = join(root, "tiny");
  const pipeline = await tinyPipeline(5);
  await savePipeline(model, pipeline);
  const adapters = attachLora(pipeline.unet, DEFAULT_LORA_CONFIG, { seed: 1 });
  for (const [, layer] of adapters.layers) layer.lora.up.weight.tensor.assign(tf.randomNormal(layer.lora.up.weight.tfShape, 0, 0.5, "float32", 9));
  lora = join(root, "pytorch_lora_weights.safetensors");
  await saveLoraWeights(lora, adapters);
  // The same adapters at half strength: B halved.
  for (const [, layer] of adapters.layers) tf.tidy(() => layer.lora.up.weight.tensor.assign(tf.mul(layer.lora.up.weight.tensor, 0.5)));
  halfLora = join(root, "half", "pytorch_lora_weights.safetensors");
  await mkdir(join(root, "half"));
  await saveLoraWeights(halfLora, adapters);
  adapters.dispose();
  disposePipeline(pipeline);
});
after(() => rm(root, { recursive: true, force: true }));

/** `key → shape` of another area's `*.keys.txt` reference copy (dist/test/pipeline/ → test/fixtures/<area>/). */
function referenceKeys(path: string): string[] {
  const text = readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${path}`, import.meta.url)), "utf8");
  return text.split("\n").filter((l) => l && !l.startsWith("#")).sort();
}

test("inspect on the SD1.5 configs prints each component's class and the reference parameter counts", async () => {
  const r = await alignprop(["inspect", SD15]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  const out = String(r.stdout);
  assert.match(out, /^unet +UNet2DConditionModel +859,520,964 parameters  686 tensors$/m);
  assert.match(out, /^vae +AutoencoderKL +83,653,863 parameters  248 tensors$/m);
  assert.match(out, /^text_encoder +CLIPTextModel +123,060,480 parameters  196 tensors$/m);
  assert.match(out, /^tokenizer +CLIPTokenizer$/m);
  assert.match(out, /^scheduler +PNDMScheduler +\(sampled with DDIMScheduler built from this config\)$/m);
  assert.match(out, /^safety_checker +StableDiffusionSafetyChecker +\(not used by alignprop\)$/m);
  assert.match(out, /^total +1,066,235,307 parameters$/m);
});

test("inspect --keys lists exactly the SD1.5 keys with their PyTorch shapes, in the *.keys.txt format", async () => {
  const r = await alignprop(["inspect", SD15, "--keys"]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  const sections = String(r.stdout).split(/^# /m).slice(1);
  const keysOf = (name: string) => sections.find((s) => s.startsWith(`${name} `))!.split("\n").slice(1).filter(Boolean).sort();
  assert.deepEqual(keysOf("unet"), referenceKeys("unet/sd15-unet.keys.txt"));
  assert.deepEqual(keysOf("vae"), referenceKeys("vae-clip/sd15-vae.keys.txt"));
  assert.deepEqual(keysOf("text_encoder"), referenceKeys("vae-clip/sd15-text_encoder.keys.txt"));
});

test("inspect on one component's config.json prints that model; a foreign config is named", async () => {
  const [r, scheduler] = await Promise.all([
    alignprop(["inspect", join(SD15, "text_encoder/config.json")]),
    alignprop(["inspect", join(SD15, "scheduler/scheduler_config.json")]),
  ]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.equal(String(r.stdout), "CLIPTextModel  123,060,480 parameters  196 tensors");
  assert.equal(scheduler.exitCode, 1);
  assert.match(String(scheduler.stderr), /scheduler_config\.json: class "DDIMScheduler" is not supported; expected one of UNet2DConditionModel, AutoencoderKL, CLIPTextModel/);
});

test("inspect knows the rewards' CLIP classes: CLIPModel and CLIPVisionModelWithProjection configs answer with their counts", async () => {
  const clipConfig = join(FIXTURES, "..", "clip-vision", "vit-l-14.config.json");
  const clip = JSON.parse(readFileSync(clipConfig, "utf8")) as { projection_dim: number; vision_config: object };
  // As transformers saves CLIPVisionModelWithProjection: the vision config at the top, with model_type only.
  const visionConfig = join(root, "vision-config.json");
  await writeFile(visionConfig, JSON.stringify({ model_type: "clip_vision_model", ...clip.vision_config, projection_dim: clip.projection_dim }));
  const [full, vision] = await Promise.all([alignprop(["inspect", clipConfig]), alignprop(["inspect", visionConfig])]);
  assert.equal(full.exitCode, 0, String(full.stderr));
  assert.equal(String(full.stdout), "CLIPModel  427,616,513 parameters  590 tensors");
  assert.equal(vision.exitCode, 0, String(vision.stderr));
  assert.equal(String(vision.stdout), "CLIPVisionModelWithProjection  303,966,208 parameters  392 tensors");
  const missing = await alignprop(["inspect", join(root, "nope")]);
  assert.equal(missing.exitCode, 2, "a path that does not exist is a usage mistake");
  assert.match(String(missing.stderr), /nope does not exist; inspect takes a pipeline folder or a model's config\.json/);
});

const sampleArgs = (out: string, ...extra: string[]) =>
  ["sample", "--model", model, "--prompt", "a red circle", "--steps", "3", "--out", join(root, out), "--backend", "wasm", ...extra];

test("sample writes a 16×16 PNG; the same seed gives identical bytes, another seed other bytes", async () => {
  const [first, second, third] = await Promise.all([
    alignprop(sampleArgs("a.png", "--seed", "4")),
    alignprop(sampleArgs("b.png", "--seed", "4")),
    alignprop(sampleArgs("c.png", "--seed", "5", "--height", "8", "--width", "24")),
  ]);
  assert.equal(first.exitCode, 0, String(first.stderr));
  assert.match(String(first.stderr), /wrote .*a\.png \(16×16, 3 steps\) on wasm: load [\d.]+ s, sample [\d.]+ s/);
  const png = PNG.sync.read(Buffer.from(await readFile(join(root, "a.png"))));
  assert.deepEqual([png.width, png.height], [16, 16]);
  assert.equal(second.exitCode, 0, String(second.stderr));
  assert.deepEqual(await readFile(join(root, "b.png")), await readFile(join(root, "a.png")));
  assert.equal(third.exitCode, 0, String(third.stderr));
  const other = PNG.sync.read(Buffer.from(await readFile(join(root, "c.png"))));
  assert.deepEqual([other.width, other.height], [24, 8]);
});

test("sample --lora merges the adapters: the image is the one the adapted pipeline renders in process (to ±1 level)", async () => {
  const options = ["--negative-prompt", "blue", "--guidance", "3", "--eta", "0.5"];
  const [r, plain] = await Promise.all([alignprop(sampleArgs("lora.png", "--lora", lora, ...options)), alignprop(sampleArgs("plain.png", ...options))]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.equal(plain.exitCode, 0, String(plain.stderr));
  assert.notDeepEqual(await readFile(join(root, "lora.png")), await readFile(join(root, "plain.png")));

  const pipeline = await loadPipeline(model);
  const adapters = attachLora(pipeline.unet, DEFAULT_LORA_CONFIG, { seed: 1 });
  for (const [, layer] of adapters.layers) layer.lora.up.weight.tensor.assign(tf.randomNormal(layer.lora.up.weight.tfShape, 0, 0.5, "float32", 9));
  adapters.merge();
  const { images, latents } = sample(pipeline, { prompts: ["a red circle"], negativePrompts: "blue", steps: 3, guidanceScale: 3, eta: 0.5, seed: 0 });
  const [image] = floatsToImages(images.dataSync() as Float32Array, 1, 16, 16);
  tf.dispose([images, latents]);
  adapters.dispose();
  disposePipeline(pipeline);
  // The CLI ran on wasm, this process on cpu: float rounding may move a pixel by one level, never more.
  const written = PNG.sync.read(Buffer.from(await readFile(join(root, "lora.png"))));
  const rgb = Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => written.data[Math.floor(i / 3) * 4 + (i % 3)]!);
  assert.ok(rgb.every((v, i) => Math.abs(v - image!.rgb[i]!) <= 1));
});

test("sample --lora-scale 0 renders the base pipeline bit for bit and 0.5 the LoRA with half its update; without --lora it is refused", async () => {
  const runs: Record<string, string[]> = {
    plain: [],
    trained: ["--lora", lora],
    zero: ["--lora", lora, "--lora-scale", "0"],
    half: ["--lora", lora, "--lora-scale", "0.5"],
    halved: ["--lora", halfLora],
  };
  const results = await Promise.all(Object.entries(runs).map(([name, extra]) => alignprop(sampleArgs(`${name}.safetensors`, "--eta", "1", ...extra))));
  for (const r of results) assert.equal(r.exitCode, 0, String(r.stderr));
  const image = async (name: string) => decodeSafetensors(new Uint8Array(await readFile(join(root, `${name}.safetensors`)))).tensors.images!.data!;
  const names = ["plain", "trained", "zero", "half", "halved"] as const;
  const [plain, trained, zero, half, halved] = (await Promise.all(names.map(image))) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i]!)));
  assert.deepEqual(zero, plain);
  assert.ok(maxDiff(trained, plain) > 1e-2, "the LoRA changes the image");
  assert.ok(maxDiff(half, halved) <= 1e-5, `scale 0.5 vs B/2: ${maxDiff(half, halved)}`);
  assert.ok(maxDiff(half, plain) > 1e-2 && maxDiff(half, trained) > 1e-2, "half strength is neither end");
  const orphan = await alignprop(sampleArgs("x.png", "--lora-scale", "0.5"));
  assert.equal(orphan.exitCode, 2);
  assert.match(String(orphan.stderr), /--lora-scale=0\.5 needs --lora <file>/);
});

test("sample names a missing or wrong option and exits 2", async () => {
  const [noPrompt, badSteps, missing] = await Promise.all([
    alignprop(["sample", "--model", model, "--out", join(root, "x.png")]),
    alignprop(sampleArgs("x.png", "--steps", "many")),
    alignprop(["sample", "--model", join(root, "absent", "dir"), "--prompt", "x", "--out", join(root, "x.png"), "--backend", "wasm"]),
  ]);
  assert.equal(noPrompt.exitCode, 2);
  assert.match(String(noPrompt.stderr), /--prompt/);
  assert.equal(badSteps.exitCode, 2);
  assert.match(String(badSteps.stderr), /--steps="many": must be a whole number/);
  assert.equal(missing.exitCode, 1);
  assert.match(String(missing.stderr), /neither a folder nor a Hub repo id/);
});

/** A --latents file: x_T [1, 4, 8, 8] and, optionally, each step's z [steps, 1, 4, 8, 8] (PyTorch layout). */
async function noiseFile(name: string, tensors: Record<string, number[]>): Promise<string> {
  const entries = Object.entries(tensors).map(([key, shape]) => {
    const data = tf.tidy(() => tf.randomNormal(shape, 0, 1, "float32", shape.length).dataSync() as Float32Array);
    return [key, { shape, data }] as const;
  });
  const path = join(root, name);
  await writeFile(path, encodeSafetensors(Object.fromEntries(entries)));
  return path;
}

test("sample --latents takes x_T and the DDIM noise from the file instead of the seed; --out *.safetensors writes the float image", async () => {
  const given = await noiseFile("noise.safetensors", { latents: [1, 4, 8, 8], variance_noise: [3, 1, 4, 8, 8] });
  const args = (out: string, seed: string) => sampleArgs(out, "--latents", given, "--eta", "1", "--seed", seed);
  const [a, b, seeded] = await Promise.all([alignprop(args("a.safetensors", "1")), alignprop(args("b.safetensors", "2")), alignprop(sampleArgs("s.safetensors", "--eta", "1"))]);
  for (const r of [a, b, seeded]) assert.equal(r.exitCode, 0, String(r.stderr));
  const image = async (name: string) => decodeSafetensors(new Uint8Array(await readFile(join(root, name)))).tensors.images!;
  const [first, second, fromSeed] = await Promise.all([image("a.safetensors"), image("b.safetensors"), image("s.safetensors")]);
  assert.deepEqual(first.shape, [1, 16, 16, 3]);
  assert.ok(first.data.every((v) => v >= 0 && v <= 1));
  assert.deepEqual(second.data, first.data, "the seed no longer matters");
  assert.notDeepEqual(fromSeed.data, first.data);
});

test("sample --num-images renders n images in one batch: x-0.png … as PNGs, [n, H, W, 3] in a .safetensors; the first is the one-image render", async () => {
  const [pngs, one, batch, lone] = await Promise.all([
    alignprop(sampleArgs("n.png", "--num-images", "3", "--seed", "6")),
    alignprop(sampleArgs("n1.png", "--seed", "6")),
    alignprop(sampleArgs("n.safetensors", "--num-images", "3", "--seed", "6")),
    alignprop(sampleArgs("n1.safetensors", "--seed", "6")),
  ]);
  for (const r of [pngs, one, batch, lone]) assert.equal(r.exitCode, 0, String(r.stderr));
  assert.match(String(pngs.stderr), /wrote .*n-0\.png, .*n-1\.png, .*n-2\.png \(3 images, 16×16, 3 steps\)/);
  const images = await Promise.all([0, 1, 2].map(async (i) => PNG.sync.read(Buffer.from(await readFile(join(root, `n-${i}.png`))))));
  assert.ok(images.every((png) => png.width === 16 && png.height === 16));
  assert.notDeepEqual(images[1]!.data, images[0]!.data, "each image has latents of its own");
  const first = images[0]!.data;
  const single = PNG.sync.read(Buffer.from(await readFile(join(root, "n1.png")))).data;
  assert.ok(first.every((v, i) => Math.abs(v - single[i]!) <= 1), "image 0 is the one-image render of the seed (to ±1 level)");
  const floats = async (name: string) => decodeSafetensors(new Uint8Array(await readFile(join(root, name)))).tensors.images!;
  const [all, alone] = await Promise.all([floats("n.safetensors"), floats("n1.safetensors")]);
  assert.deepEqual(all.shape, [3, 16, 16, 3]);
  const worst = alone.data.reduce((m, v, i) => Math.max(m, Math.abs(v - all.data[i]!)), 0);
  assert.ok(worst <= 1e-5, `the batch's first image equals the lone one (max difference ${worst})`);
  const refused = await alignprop(sampleArgs("x.png", "--num-images", "2", "--latents", join(root, "noise.safetensors")));
  assert.equal(refused.exitCode, 2);
  assert.match(String(refused.stderr), /--num-images=2 with --latents: the file holds one image's x_T/);
  const zero = await alignprop(sampleArgs("x.png", "--num-images", "0"));
  assert.equal(zero.exitCode, 2);
  assert.match(String(zero.stderr), /--num-images="0": must be at least 1/);
});

test("sample --latents names a foreign tensor, a wrong shape and a noise count that does not match the steps", async () => {
  const [extra, wrongShape, wrongCount] = await Promise.all([
    noiseFile("extra.safetensors", { latents: [1, 4, 8, 8], noise: [1] }),
    noiseFile("shape.safetensors", { latents: [2, 4, 8, 8] }),
    noiseFile("count.safetensors", { latents: [1, 4, 8, 8], variance_noise: [5, 1, 4, 8, 8] }),
  ]);
  const results = await Promise.all([extra, wrongShape, wrongCount].map((f) => alignprop(sampleArgs("x.png", "--latents", f, "--eta", "1"))));
  results.forEach((r) => assert.equal(r.exitCode, 1));
  assert.match(String(results[0]!.stderr), /extra\.safetensors: unknown tensors noise; --latents files hold latents and variance_noise/);
  assert.match(String(results[1]!.stderr), /latents has shape \[2, 4, 8, 8\]; one prompt with this UNet needs \[1, 4, h, w\]/);
  assert.match(String(results[2]!.stderr), /variance_noise has shape \[5, 1, 4, 8, 8\]; --steps 3 with latents \[1, 4, 8, 8\] needs \[3, 1, 4, 8, 8\]/);
});
