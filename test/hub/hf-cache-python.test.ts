/**
 * The Hugging Face cache crosses engines: a cache that huggingface_hub's own download functions filled (from the
 * local fake Hub, no internet) is read by alignprop's resolver, and one that alignprop filled is read offline by
 * huggingface_hub and diffusers. Python is the project's (`projectPython()`), running test/hub/hf_cache.py.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { stateDict } from "../../src/models/nn/state-dict.js";
import { disposePipeline, loadPipeline, resolvePipeline } from "../../src/models/pipeline.js";
import { projectPython } from "../../src/python/env.js";
import { startHubServer, type HubServer } from "./hub-server.js";
import { NEEDED, REPO, tinyRepo, type TinyRepo } from "./tiny-repo.js";

/** dist/test/hub/ → test/hub/hf_cache.py */
const SCRIPT = fileURLToPath(new URL("../../../test/hub/hf_cache.py", import.meta.url));
const REVISIONS = ["main", "v1"];

let root: string;
let repo: TinyRepo;
let runs = 0;

before(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "alignprop-hf-cache-"));
  repo = await tinyRepo(root);
});
after(() => rm(root, { recursive: true, force: true }));

/**
 * Runs hf_cache.py `verb` with only the given Hub variables (HF_HOME in the test folder, no telemetry). Asynchronous,
 * so that the fake Hub in this process keeps answering.
 */
function python(verb: "fill" | "read", env: Record<string, string>): Promise<Record<string, unknown>> {
  const job = JSON.stringify({ repo: REPO, revisions: REVISIONS, files: NEEDED });
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(HF_|HUGGINGFACE_|TRANSFORMERS_)/.test(name)));
  const options = { env: { ...inherited, HF_HOME: join(root, "hf-home"), HF_HUB_DISABLE_TELEMETRY: "1", ...env }, maxBuffer: 1 << 24 };
  const out = join(root, `${verb}-${++runs}.json`);
  return new Promise((done, fail) => {
    execFile(projectPython(), [SCRIPT, verb, job, out], options, (error, _stdout, stderr) => {
      if (error) fail(new Error(`hf_cache.py ${verb} failed: ${error.message}\n${stderr}`));
      else readFile(out, "utf8").then((text) => done(JSON.parse(text) as Record<string, unknown>), fail);
    });
  });
}

const sum = (values: Float32Array) => values.reduce((a, b) => a + b, 0);
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
/** The repo paths fetched since request number `from`. */
const resolvedPaths = (server: HubServer, from: number) =>
  [...new Set(server.requests.slice(from).filter((r) => r.url.includes("/resolve/")).map((r) => r.url.split("/").slice(5).join("/")))].sort();

test("a cache filled by huggingface_hub's snapshot_download and hf_hub_download is read by alignprop, which downloads only what it lacks", async () => {
  const server = await startHubServer(REPO, repo.contents);
  const cacheDir = join(root, "filled-by-python");
  try {
    const filled = await python("fill", { HF_ENDPOINT: server.url, HF_HUB_CACHE: cacheDir });
    const pythonFetches = server.requests.filter((r) => r.method === "GET" && r.url.includes("/resolve/")).length;
    assert.equal(sha256(repo.contents.v1!["model_index.json"]!), sha256(repo.contents.main!["model_index.json"]!));
    assert.equal(pythonFetches, NEEDED.length, "huggingface_hub downloaded main's files (v1's model_index.json is the same blob)");

    assert.equal(await resolvePipeline(REPO, { cacheDir, offline: true }), filled.snapshot, "alignprop finds huggingface_hub's snapshot of main");
    const main = await loadPipeline(REPO, { cacheDir, offline: true });
    assert.deepEqual(stateDict(main.unet)["conv_in.weight"]!.data, repo.convIn.main);
    disposePipeline(main);
    await assert.rejects(resolvePipeline(REPO, { cacheDir, offline: true, revision: "v1" }), /offline mode: the cached alignprop-test\/tiny-sd@v1 in .* is incomplete \(unet: no weights file /);

    let before = server.requests.length;
    await resolvePipeline(REPO, { cacheDir, endpoint: server.url });
    assert.deepEqual(resolvedPaths(server, before), [], "online, alignprop downloads nothing of main");
    before = server.requests.length;
    await resolvePipeline(REPO, { cacheDir, endpoint: server.url, revision: "v1" });
    const changed = NEEDED.filter((f) => sha256(repo.contents.v1![f]!) !== sha256(repo.contents.main![f]!));
    assert.ok(changed.length > 0 && changed.length < NEEDED.length - 1);
    assert.deepEqual(resolvedPaths(server, before), changed.sort(), "of v1, only the files whose blobs huggingface_hub does not hold");
    const v1 = await loadPipeline(REPO, { cacheDir, offline: true, revision: "v1" });
    assert.deepEqual(stateDict(v1.unet)["conv_in.weight"]!.data, repo.convIn.v1);
    disposePipeline(v1);
  } finally {
    await server.close();
  }
});

test("a cache filled by alignprop is read with HF_HUB_OFFLINE=1 by huggingface_hub (snapshot_download, hf_hub_download, scan_cache_dir) and diffusers", async () => {
  const server = await startHubServer(REPO, repo.contents);
  const cacheDir = join(root, "filled-by-alignprop");
  const dirs: Record<string, string> = {};
  try {
    for (const revision of REVISIONS) dirs[revision] = await resolvePipeline(REPO, { cacheDir, endpoint: server.url, revision });
  } finally {
    await server.close();
  }

  const read = await python("read", { HF_HUB_OFFLINE: "1", HF_HUB_CACHE: cacheDir, HF_ENDPOINT: server.url });
  assert.deepEqual(read.snapshots, dirs, "snapshot_download returns alignprop's snapshot folders");
  const expected = Object.fromEntries(
    REVISIONS.map((rev) => [rev, Object.fromEntries(NEEDED.map((f) => [f, sha256(repo.contents[rev]![f]!)]))]),
  );
  assert.deepEqual(read.sha256, expected, "hf_hub_download returns every file with the Hub's bytes");
  assert.deepEqual(read.scan, {
    repos: [{ repo_id: REPO, nb_files: new Set(REVISIONS.flatMap((rev) => NEEDED.map((f) => expected[rev]![f]))).size, revisions: { [server.commits.main!]: ["main"], [server.commits.v1!]: ["v1"] } }],
    warnings: [],
  });
  const convIn = sum(repo.convIn.main!);
  assert.ok(Math.abs((read.conv_in_sum as number) - convIn) <= 1e-4 * Math.max(1, Math.abs(convIn)), `diffusers' conv_in sum ${read.conv_in_sum} vs ${convIn}`);
});
