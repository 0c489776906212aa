/** Hub downloads against a local server: file choice, token, revision, cache reuse, offline mode, resuming, errors. */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { resolveSource } from "../../src/io/hub.js";
import { stateDict } from "../../src/models/nn/state-dict.js";
import { disposePipeline, loadPipeline, savePipeline } from "../../src/models/pipeline.js";
import { tinyPipeline } from "../pipeline/tiny.js";
import { startHubServer, type HubServer, type RepoContents } from "./hub-server.js";

const REPO = "alignprop-test/tiny-sd";
const TOKEN = "hf_localtesttoken";
const UNET = "unet/diffusion_pytorch_model.safetensors";
/** What a pipeline download must fetch, and nothing else. */
const NEEDED = [
  "model_index.json",
  "scheduler/scheduler_config.json",
  "text_encoder/config.json",
  "text_encoder/model.safetensors",
  "tokenizer/merges.txt",
  "tokenizer/special_tokens_map.json",
  "tokenizer/tokenizer_config.json",
  "tokenizer/vocab.json",
  "unet/config.json",
  UNET,
  "vae/config.json",
  "vae/diffusion_pytorch_model.safetensors",
];

let root: string;
let contents: RepoContents;
/** conv_in.weight of the v1 pipeline's UNet, to tell revisions apart. */
let v1ConvIn: Float32Array;

/** Every file of a saved pipeline folder. */
async function filesOf(dir: string): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out[relative(dir, join(entry.parentPath, entry.name))] = new Uint8Array(await readFile(join(entry.parentPath, entry.name)));
  }
  return out;
}

before(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "alignprop-hub-"));
  const revisions: Record<string, Record<string, Uint8Array>> = {};
  for (const [revision, seed] of [["main", 1], ["v1", 2]] as const) {
    const pipeline = await tinyPipeline(seed);
    if (revision === "v1") v1ConvIn = stateDict(pipeline.unet)["conv_in.weight"]!.data;
    await savePipeline(join(root, "repo", revision), pipeline);
    disposePipeline(pipeline);
    revisions[revision] = await filesOf(join(root, "repo", revision));
  }
  // Files a real SD repo has that a pipeline download must skip (and an fp16 variant it takes only when asked).
  const text = (s: string) => new TextEncoder().encode(s);
  for (const files of Object.values(revisions)) {
    Object.assign(files, {
      "README.md": text("# tiny\n"),
      "unet/diffusion_pytorch_model.bin": text("pickle"),
      "unet/diffusion_pytorch_model.fp16.safetensors": files[UNET]!,
      "safety_checker/config.json": text("{}"),
      "safety_checker/model.safetensors": text("not needed"),
      "tokenizer/tokenizer.json": text("{}"),
    });
  }
  contents = revisions;
});
after(() => rm(root, { recursive: true, force: true }));

let serial = 0;
/** A fresh server and cache folder. */
async function setup(token?: string): Promise<{ server: HubServer; cacheDir: string }> {
  return { server: await startHubServer(REPO, contents, token), cacheDir: join(root, `cache-${serial++}`) };
}

const resolvedPaths = (server: HubServer, revision: string) => {
  const prefix = `/${REPO}/resolve/${revision}/`;
  return [...new Set(server.requests.filter((r) => r.url.startsWith(prefix)).map((r) => r.url.slice(prefix.length)))].sort();
};

test("a repo id downloads only the pipeline's files of the asked revision, sending the token on every request", async () => {
  const { server, cacheDir } = await setup(TOKEN);
  try {
    const pipeline = await loadPipeline(REPO, { endpoint: server.url, cacheDir, token: TOKEN, revision: "v1" });
    assert.deepEqual(stateDict(pipeline.unet)["conv_in.weight"]!.data, v1ConvIn, "the v1 weights, not main's");
    disposePipeline(pipeline);
    assert.ok(server.requests.length > 0);
    assert.ok(server.requests.every((r) => r.authorization === `Bearer ${TOKEN}`), "every request carries the token");
    assert.ok(server.requests.some((r) => r.url.startsWith(`/api/models/${REPO}/tree/v1?recursive=true`)));
    assert.deepEqual(resolvedPaths(server, "v1"), NEEDED);
    assert.deepEqual(resolvedPaths(server, "main"), []);
    const dir = join(cacheDir, "models--alignprop-test--tiny-sd", "v1");
    assert.deepEqual(await readFile(join(dir, UNET)), Buffer.from(contents.v1![UNET]!));
  } finally {
    await server.close();
  }
});

test("a second load downloads nothing; with the server gone, offline mode and a failed connection both use the cache", async () => {
  const { server, cacheDir } = await setup();
  const opts = { endpoint: server.url, cacheDir };
  const dir = await resolveSource(REPO, opts);
  const downloads = server.requests.length;
  assert.equal(await resolveSource(REPO, opts), dir);
  assert.deepEqual(server.requests.slice(downloads).map((r) => r.url), [`/api/models/${REPO}/tree/main?recursive=true&expand=false`]);
  await server.close();

  const lines: string[] = [];
  assert.equal(await resolveSource(REPO, { ...opts, offline: true, log: (l) => lines.push(l) }), dir);
  assert.equal(await resolveSource(REPO, { ...opts, log: (l) => lines.push(l) }), dir);
  assert.match(lines[0]!, /^offline mode: using the cached alignprop-test\/tiny-sd@main from /);
  assert.match(lines[1]!, /^cannot reach http:\/\/127\.0\.0\.1:\d+ \(.*\): using the cached alignprop-test\/tiny-sd@main/);
  const pipeline = await loadPipeline(REPO, { ...opts, offline: true });
  disposePipeline(pipeline);

  await assert.rejects(resolveSource(REPO, { ...opts, offline: true, revision: "v1" }), /offline mode: alignprop-test\/tiny-sd@v1 is not in the cache .*; download it once online/);
  await rm(join(dir, "vae/config.json"));
  await assert.rejects(resolveSource(REPO, { ...opts, offline: true }), /offline mode: the cached alignprop-test\/tiny-sd@main in .* lacks vae\/config\.json/);
});

test("a download cut mid-file is completed by a Range request for the rest", async () => {
  const { server, cacheDir } = await setup();
  try {
    server.dropOnce(UNET, 100_000);
    const lines: string[] = [];
    const dir = await resolveSource(REPO, { endpoint: server.url, cacheDir, log: (l) => lines.push(l) });
    assert.deepEqual(await readFile(join(dir, UNET)), Buffer.from(contents.main![UNET]!));
    const ranges = server.requests.filter((r) => r.url.endsWith(UNET) && r.range && r.range !== "bytes=0-0").map((r) => r.range);
    assert.equal(ranges.length, 1);
    const resumedAt = Number(/^bytes=(\d+)-/.exec(ranges[0]!)![1]);
    assert.ok(resumedAt > 0 && resumedAt <= 100_000, `resumed at byte ${resumedAt}`);
    assert.ok(lines.some((l) => l.startsWith(`download of ${UNET} interrupted`)));
    assert.ok(lines.some((l) => l === `resuming ${UNET} at byte ${resumedAt} of ${contents.main![UNET]!.length}`));
  } finally {
    await server.close();
  }
});

test("an interrupted run leaves a partial file that the next run resumes; completed files are not fetched again", async () => {
  const { server, cacheDir } = await setup();
  try {
    server.dropOnce(UNET, 50_000);
    const opts = { endpoint: server.url, cacheDir, retries: 0 };
    await assert.rejects(resolveSource(REPO, opts), new RegExp(`cannot download ${UNET} from ${REPO}@main \\(http://127\\.0\\.0\\.1:\\d+\\)`));
    const dir = join(cacheDir, "models--alignprop-test--tiny-sd", "main");
    const partial = (await readdir(join(dir, "unet"))).find((n) => n.endsWith(".incomplete"))!;
    assert.ok(partial, "the partial file is kept");
    const have = (await stat(join(dir, "unet", partial))).size;
    assert.ok(have > 0);
    const before = server.requests.length;
    await resolveSource(REPO, opts);
    const second = server.requests.slice(before).filter((r) => r.url.includes("/resolve/"));
    const fetched = new Set(second.map((r) => r.url.split("/resolve/main/")[1]));
    assert.ok(!fetched.has("model_index.json") && !fetched.has("unet/config.json"), "files completed before the cut are kept");
    assert.ok(second.some((r) => r.url.endsWith(UNET) && r.range === `bytes=${have}-${contents.main![UNET]!.length - 1}`));
    assert.deepEqual(await readFile(join(dir, UNET)), Buffer.from(contents.main![UNET]!));
    assert.ok(!(await readdir(join(dir, "unet"))).some((n) => n.endsWith(".incomplete")));
  } finally {
    await server.close();
  }
});

test("HF_ENDPOINT, HF_TOKEN, HF_HOME and HF_HUB_OFFLINE are honoured", async () => {
  const { server } = await setup(TOKEN);
  const saved = { ...process.env };
  try {
    Object.assign(process.env, { HF_ENDPOINT: server.url, HF_TOKEN: TOKEN, HF_HOME: join(root, "hf-home") });
    const dir = await resolveSource(REPO);
    assert.equal(dir, join(root, "hf-home", "alignprop", "models--alignprop-test--tiny-sd", "main"));
    assert.ok(server.requests.every((r) => r.authorization === `Bearer ${TOKEN}`));
    process.env.HF_HUB_OFFLINE = "1";
    const count = server.requests.length;
    assert.equal(await resolveSource(REPO), dir);
    assert.equal(server.requests.length, count, "offline: no request at all");
  } finally {
    process.env = saved;
    await server.close();
  }
});

test("variant fp16 fetches the .fp16 weights where the repo has them", async () => {
  const { server, cacheDir } = await setup();
  try {
    await resolveSource(REPO, { endpoint: server.url, cacheDir, variant: "fp16" });
    const paths = resolvedPaths(server, "main");
    assert.ok(paths.includes("unet/diffusion_pytorch_model.fp16.safetensors") && !paths.includes(UNET));
    assert.ok(paths.includes("vae/diffusion_pytorch_model.safetensors"), "components without the variant keep their plain weights");
  } finally {
    await server.close();
  }
});

test("errors name the problem: no token for a gated repo, unknown revision, not a pipeline, a malformed token", async () => {
  const { server, cacheDir } = await setup(TOKEN);
  try {
    const opts = { endpoint: server.url, cacheDir };
    await assert.rejects(resolveSource(REPO, opts), new RegExp(`cannot list ${REPO}@main on http://127\\.0\\.0\\.1:\\d+: Access to model ${REPO} is restricted`));
    await assert.rejects(resolveSource(REPO, { ...opts, token: TOKEN, revision: "v9" }), /cannot list .*@v9 .*Invalid rev id: v9/);
    await assert.rejects(resolveSource("someone/else", { ...opts, token: TOKEN }), /cannot list someone\/else@main .*Repository not found/);
    await assert.rejects(resolveSource(REPO, { ...opts, token: "secret" }), /the Hub token \(token option\) must start with "hf_"/);
    await assert.rejects(resolveSource(REPO, { ...opts, revision: "../x" }), /revision="\.\.\/x" is not a branch, tag or commit name/);
  } finally {
    await server.close();
  }
  const bare = await startHubServer(REPO, { main: { "README.md": new TextEncoder().encode("no pipeline") } });
  try {
    await assert.rejects(resolveSource(REPO, { endpoint: bare.url, cacheDir }), /alignprop-test\/tiny-sd@main has no model_index\.json: it is not a diffusers pipeline/);
  } finally {
    await bare.close();
  }
});
