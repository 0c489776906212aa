/**
 * `aesthetic` and `clip-score` loaded by name from a folder and from a local fake Hub (tiny random checkpoints written
 * here): only the needed files, token, revision, offline cache, clear errors; values and gradients end to end.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { encodeSafetensors, type TensorMap } from "../../src/io/safetensors.js";
import { loadClipModel } from "../../src/models/clip/clip-model.js";
import { clipPreprocess } from "../../src/models/clip/image-preprocess.js";
import { aestheticFromSpec } from "../../src/rewards/aesthetic.js";
import { clipScoreFromSpec } from "../../src/rewards/clip-score.js";
import { resolveReward } from "../../src/rewards/registry.js";
import { scoreImages } from "../../src/rewards/reward.js";
import { startHubServer, type HubServer, type RepoContents } from "../hub/hub-server.js";
import { fixturePath, maxAbsDiff, readTensors, tensorOf, TINY_TEXT, TINY_VISION } from "./fixtures.js";

const REPO = "alignprop-test/tiny-clip";
const TOKEN = "hf_cliptesttoken";
const HEAD = "aesthetic-head.safetensors";
const TOKENIZER_DIR = fileURLToPath(new URL("../../../test/fixtures/tokenizer/tiny/", import.meta.url));
const PROMPTS = ["a red circle", "a blue square"];

let root: string;
let folder: string;
let contents: RepoContents;
let io: TensorMap;

/** A transformers CLIPModel checkpoint: the fixture weights plus the int64 position_ids buffers real files carry. */
function modelFile(weights: TensorMap): Uint8Array {
  const positions = (n: number) => ({ shape: [1, n], data: Int32Array.from({ length: n }, (_, i) => i), dtype: "I64" as const });
  return encodeSafetensors(weights, {}, {
    "vision_model.embeddings.position_ids": positions((TINY_VISION.image_size / TINY_VISION.patch_size) ** 2 + 1),
    "text_model.embeddings.position_ids": positions(77),
  });
}

before(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "alignprop-clip-"));
  io = await readTensors("aesthetic-io.safetensors");
  const weights = await readTensors("clip.safetensors");
  const text = (s: string) => new TextEncoder().encode(s);
  const config = { architectures: ["CLIPModel"], model_type: "clip", projection_dim: 16, text_config: TINY_TEXT, vision_config: TINY_VISION };
  const files: Record<string, Uint8Array> = {
    "config.json": text(JSON.stringify(config)),
    "model.safetensors": modelFile(weights),
    [HEAD]: new Uint8Array(await readFile(fixturePath("aesthetic.safetensors"))),
    "pytorch_model.bin": text("pickle: never fetched"),
    "README.md": text("# tiny clip\n"),
  };
  for (const name of await readdir(TOKENIZER_DIR)) files[name] = new Uint8Array(await readFile(join(TOKENIZER_DIR, name)));
  const projection = weights["visual_projection.weight"]!;
  const flipped = { ...weights, "visual_projection.weight": { shape: projection.shape, data: projection.data.map((v) => -v) } };
  contents = {
    main: files,
    v1: { ...files, "model.safetensors": modelFile(flipped) },
    "bin-only": { "config.json": files["config.json"]!, "pytorch_model.bin": files["pytorch_model.bin"]! },
  };
  folder = join(root, "folder");
  await mkdir(folder);
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(folder, name), bytes);
});
after(() => rm(root, { recursive: true, force: true }));

let serial = 0;
async function setup(token?: string): Promise<{ server: HubServer; cacheDir: string }> {
  return { server: await startHubServer(REPO, contents, token), cacheDir: join(root, `cache-${serial++}`) };
}
/** The repo paths fetched from `revision`'s commit. */
const resolvedPaths = (server: HubServer, revision: string) => {
  const prefix = `/${REPO}/resolve/${server.commits[revision]}/`;
  return [...new Set(server.requests.filter((r) => r.url.startsWith(prefix)).map((r) => r.url.slice(prefix.length)))].sort();
};
const images = () => tensorOf(io, "images", "nchw") as tf.Tensor4D;
const rewardsOf = (reward: Awaited<ReturnType<typeof resolveReward>>) =>
  tf.tidy(() => scoreImages(reward, images(), PROMPTS, [{}, {}]).rewards.arraySync());

test("--reward aesthetic:head=…,clip=<folder> loads the checkpoint's vision half and gives the oracle's rewards", async (t) => {
  const reward = await resolveReward(`aesthetic:head=${join(folder, HEAD)},clip=${folder}`);
  const err = tf.tidy(() => maxAbsDiff(scoreImages(reward, images(), PROMPTS, [{}, {}]).rewards, tensorOf(io, "rewards")));
  t.diagnostic(`max abs error ${err.toExponential(2)}`);
  assert.ok(err <= 1e-5, `max abs error ${err}`);
  assert.equal(reward.info.name, "aesthetic");
});

test("aesthetic from the Hub fetches only config.json, model.safetensors and the head, with the token; offline reuses the cache", async () => {
  const { server, cacheDir } = await setup(TOKEN);
  const spec = `head=${REPO}/${HEAD},clip=${REPO}`;
  const online = await aestheticFromSpec(spec, { endpoint: server.url, cacheDir, token: TOKEN });
  assert.deepEqual(resolvedPaths(server, "main"), [HEAD, "config.json", "model.safetensors"]);
  assert.ok(server.requests.every((r) => r.authorization === `Bearer ${TOKEN}`));
  await server.close();
  const lines: string[] = [];
  const offline = await aestheticFromSpec(spec, { cacheDir, offline: true, log: (l) => lines.push(l) });
  assert.deepEqual(rewardsOf(offline), rewardsOf(online));
  assert.match(lines.join("\n"), /offline mode: using the cached alignprop-test\/tiny-clip@main/);
  const cached = join(cacheDir, "models--alignprop-test--tiny-clip", "snapshots", server.commits.main!);
  assert.deepEqual((await readdir(cached)).sort(), [HEAD, "config.json", "model.safetensors"]);
});

test("revision=v1 loads that revision's weights from its own snapshot, fetching only what main's blobs lack", async () => {
  const { server, cacheDir } = await setup();
  try {
    const main = rewardsOf(await aestheticFromSpec(`head=${REPO}/${HEAD},clip=${REPO}`, { endpoint: server.url, cacheDir }));
    const v1 = rewardsOf(await aestheticFromSpec(`head=${REPO}/${HEAD},clip=${REPO},revision=v1`, { endpoint: server.url, cacheDir }));
    assert.deepEqual(resolvedPaths(server, "v1"), ["model.safetensors"], "config.json is the same blob as main's");
    assert.ok(Math.abs(v1[0]! - main[0]!) > 1e-3, `v1 ${v1} vs main ${main}: the flipped projection must change the score`);
  } finally {
    await server.close();
  }
});

test("clip-score from the Hub fetches the tokenizer too and equals CLIPModel's cosine for each image and its prompt", async () => {
  const { server, cacheDir } = await setup();
  try {
    const opts = { endpoint: server.url, cacheDir };
    const reward = await clipScoreFromSpec(`clip=${REPO}`, opts);
    assert.deepEqual(resolvedPaths(server, "main"), ["config.json", "merges.txt", "model.safetensors", "special_tokens_map.json", "tokenizer_config.json", "vocab.json"]);
    assert.deepEqual({ name: reward.info.name, inputSize: reward.info.inputSize, range: reward.info.range, differentiable: reward.info.differentiable }, { name: "clip-score", inputSize: null, range: [-1, 1], differentiable: true });
    const { model, tokenizer } = await loadClipModel(REPO, opts);
    const expected = tf.tidy(() => {
      const { ids, shape } = tokenizer.batch(PROMPTS);
      const { logitsPerImage } = model.forward(clipPreprocess(images(), { size: 32 }), tf.tensor2d(ids, shape, "int32"));
      return tf.div(tf.stack([logitsPerImage.bufferSync().get(0, 0), logitsPerImage.bufferSync().get(1, 1)]), tf.exp(model.logit_scale.tensor)).arraySync() as number[];
    });
    const got = rewardsOf(reward);
    got.forEach((r, i) => assert.ok(Math.abs(r - expected[i]!) < 1e-5, `${got} vs ${expected}`));
    model.dispose();
  } finally {
    await server.close();
  }
});

test("clip-score's gradient with respect to the images agrees with a finite difference", async () => {
  const reward = await resolveReward(`clip-score:clip=${folder},resample=bilinear`);
  assert.match(reward.info.description, /bilinear antialiased/);
  const [analytic, numeric] = tf.tidy(() => {
    const x = images();
    const direction = tf.randomNormal(x.shape, 0, 1, "float32", 9);
    const total = (y: tf.Tensor) => tf.sum(reward.score(y as tf.Tensor4D, PROMPTS, [{}, {}]).rewards);
    const grad = tf.grad(total)(x);
    const eps = 1e-2;
    const diff = tf.div(tf.sub(total(tf.add(x, tf.mul(direction, eps))), total(tf.sub(x, tf.mul(direction, eps)))), 2 * eps);
    return [tf.sum(tf.mul(grad, direction)).dataSync()[0]!, diff.dataSync()[0]!];
  });
  assert.ok(Math.abs(analytic) > 1e-3, `directional derivative ${analytic}`);
  assert.ok(Math.abs(analytic - numeric) <= 1e-2 * Math.abs(analytic), `analytic ${analytic} vs finite difference ${numeric}`);
});

test("errors name the problem: no head, unknown option, bad resample, no token, no safetensors weights, not in the offline cache", async () => {
  await assert.rejects(resolveReward("aesthetic"), /needs the head's weights as safetensors: convert .*aesthetic-model\.pth .*scripts\/convert-aesthetic-head\.py/);
  await assert.rejects(resolveReward("aesthetic:head=h.safetensors,size=3"), /reward aesthetic: unknown option "size"; aesthetic takes head=.*, clip=.*, revision=.*, resample=bicubic\|bilinear/);
  await assert.rejects(resolveReward(`clip-score:clip=${folder},resample=nearest`), /resample=nearest must be one of bicubic, bilinear/);
  await assert.rejects(resolveReward("clip-score:openai"), /reward clip-score: "openai" is not key=value/);
  await assert.rejects(resolveReward("clip-score:clip=a/b,clip=c/d"), /reward clip-score: clip is given twice/);
  await assert.rejects(resolveReward("aesthetic:head=./no/such/head.safetensors"), /"\.\/no\/such\/head\.safetensors" is neither a file nor a Hub file/);
  const { server, cacheDir } = await setup(TOKEN);
  try {
    await assert.rejects(clipScoreFromSpec(`clip=${REPO}`, { endpoint: server.url, cacheDir }), /cannot list alignprop-test\/tiny-clip@main .*(restricted|authenticated)/);
    await assert.rejects(clipScoreFromSpec(`clip=${REPO},revision=bin-only`, { endpoint: server.url, cacheDir, token: TOKEN }), /tiny-clip@bin-only: no model\.safetensors \(nor model\.safetensors\.index\.json\): only safetensors CLIP weights are read/);
    await assert.rejects(clipScoreFromSpec(`clip=${REPO}`, { cacheDir, offline: true }), /offline mode: alignprop-test\/tiny-clip@main is not in the cache .*download it once online/);
  } finally {
    await server.close();
  }
});

test("a folder's missing weights file is named", async () => {
  const empty = join(root, "config-only");
  await mkdir(empty, { recursive: true });
  await copyFile(join(folder, "config.json"), join(empty, "config.json"));
  await assert.rejects(resolveReward(`aesthetic:head=${join(folder, HEAD)},clip=${empty}`), /cannot read .*config-only\/model\.safetensors\.index\.json/);
});
