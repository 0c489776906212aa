/**
 * `alignprop push` end to end against a local Hub (hub-write-server.ts): a real run directory made by `alignprop
 * train` on a tiny pipeline is pushed, and the test asserts exactly what arrived — the repo creation and its
 * visibility, every request's Authorization, the commit message, each file's bytes and how it travelled.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { parse as parseYaml } from "yaml";

import { pushRun } from "../../src/io/hub-push.js";
import { disposePipeline, savePipeline } from "../../src/models/pipeline.js";
import { alignprop } from "../helpers/cli.js";
import { tinyPipeline } from "../pipeline/tiny.js";
import { startHubWriteServer, type HubWriteServer } from "./hub-write-server.js";

const TOKEN = "hf_pushtesttoken";
const REPO = "alignprop-user/tiny-shapes-lora";
const LORA = "pytorch_lora_weights.safetensors";

const dir = mkdtempSync(join(tmpdir(), "alignprop-push-"));
const runDir = join(dir, "runs", "bright");
after(() => rmSync(dir, { recursive: true, force: true }));

before(async () => {
  await tf.setBackend("cpu");
  const model = join(dir, "tiny-sd");
  const pipeline = await tinyPipeline(3);
  await savePipeline(model, pipeline);
  disposePipeline(pipeline);
  const run = await alignprop(["train", "--ci", "--runs_dir", join(dir, "runs"), "--run_name", "bright", "--model", model,
    "--reward", "brightness", "--prompts", "shapes", "--sample_num_steps", "2", "--train_batch_size", "1", "--num_epochs", "3",
    "--save_freq", "1", "--log_image_freq", "1", "--train_learning_rate", "0.05"]);
  assert.equal(run.exitCode, 0, String(run.stderr));
});

const servers: HubWriteServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));
async function hub(token = TOKEN, existing: string[] = []): Promise<HubWriteServer> {
  const server = await startHubWriteServer(token, existing);
  servers.push(server);
  return server;
}

const read = (path: string) => new Uint8Array(readFileSync(path));
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
/** The reward means events.jsonl logged, by step. */
const loggedRewards = () =>
  readFileSync(join(runDir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { metrics?: { step: number; rewardMean: number } })
    .flatMap((e) => (e.metrics ? [e.metrics] : []));

test("push creates the repo private and commits the LoRA, a model card and the latest sample images in one commit", async () => {
  const server = await hub();
  const result = await pushRun(runDir, { repo: REPO, token: TOKEN, private: true, endpoint: server.url, images: 2, baseModel: "stable-diffusion-v1-5/stable-diffusion-v1-5" }, {});

  const lora = read(join(runDir, LORA));
  const images = ["images/step-3/0.png", "images/step-2/0.png"];
  const lfsPuts = [lora, ...images.map((p) => read(join(runDir, p)))].map((b) => `PUT /lfs-storage/${sha256(b)}`).sort();
  const calls = server.requests.map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(calls.slice(0, 3), ["POST /api/repos/create", `POST /api/models/${REPO}/preupload/main`, `POST /${REPO}.git/info/lfs/objects/batch`]);
  assert.deepEqual(calls.slice(3, -1).sort(), lfsPuts, "each LFS file is PUT once, to the URL the batch answer gave");
  assert.equal(calls.at(-1), `POST /api/models/${REPO}/commit/main`);

  assert.deepEqual(JSON.parse(server.requests[0]!.body.toString()), { name: "tiny-shapes-lora", organization: "alignprop-user", visibility: "private", type: "model" });
  for (const r of server.requests) {
    assert.equal(r.authorization, r.method === "PUT" ? undefined : `Bearer ${TOKEN}`, `${r.method} ${r.url}: the token goes to the Hub API only, not to LFS storage`);
  }
  assert.equal(server.requests.at(-1)!.contentType, "application/x-ndjson");

  assert.equal(server.commits.length, 1);
  const commit = server.commits[0]!;
  assert.equal(commit.summary, "Upload AlignProp LoRA from run bright (step 3)");
  assert.equal(commit.description, "Reward brightness; LoRA r=4, alpha=4; pushed with alignprop.");
  assert.deepEqual([...commit.files.keys()], [LORA, "README.md", ...images]);
  assert.deepEqual(commit.files.get(LORA), { bytes: lora, via: "lfs" });
  for (const path of images) assert.deepEqual(commit.files.get(path), { bytes: read(join(runDir, path)), via: "lfs" });
  assert.equal(commit.files.get("README.md")!.via, "regular");

  const card = text(commit.files.get("README.md")!.bytes);
  const meta = parseYaml(card.split("---\n")[1]!) as Record<string, unknown>;
  assert.equal(meta.base_model, "stable-diffusion-v1-5/stable-diffusion-v1-5");
  assert.equal(meta.license, "creativeml-openrail-m", "the base model's license is carried over");
  assert.deepEqual(meta.tags, ["alignprop", "lora", "diffusers", "text-to-image"]);
  assert.deepEqual((meta.widget as Array<{ output: { url: string } }>).map((w) => w.output.url), images);
  const rewards = loggedRewards();
  const best = rewards.reduce((b, r) => (r.rewardMean > b.rewardMean ? r : b));
  assert.ok(card.includes(`| first | 1 | ${Number(rewards[0]!.rewardMean.toPrecision(4))} |`), card);
  assert.ok(card.includes(`| last | 3 | ${Number(rewards[2]!.rewardMean.toPrecision(4))} |`), card);
  assert.ok(card.includes(`| best (highest) | ${best.step} | ${Number(best.rewardMean.toPrecision(4))} |`), card);
  assert.ok(card.includes(`](images/step-3/0.png)`) && card.includes(`](images/step-2/0.png)`));
  assert.ok(card.includes(`pipe.load_lora_weights("${REPO}")`));
  assert.ok(card.includes("eprint={2310.03739}"));

  assert.deepEqual(result, {
    url: `${server.url}/${REPO}`,
    created: true,
    commitOid: result.commitOid,
    commitUrl: `${server.url}/${REPO}/commit/${result.commitOid}`,
    files: [LORA, "README.md", ...images],
  });
  assert.match(result.commitOid, /^[0-9a-f]{40}$/);
  assert.deepEqual([...server.repos.get(REPO)!.branches.get("main")!.keys()], [LORA, "README.md", ...images]);
});

test("pushing to a repo that exists commits to it, and LFS objects the Hub already holds are not sent again", async () => {
  const server = await hub(TOKEN, [REPO]);
  const first = await pushRun(runDir, { repo: REPO, token: TOKEN, endpoint: server.url, images: 1 }, {});
  assert.equal(first.created, false, "409 from create means the repo is there");
  assert.equal(server.requests.filter((r) => r.method === "PUT").length, 2);

  const before = server.requests.length;
  const second = await pushRun(runDir, { repo: REPO, endpoint: server.url, images: 1 }, { HF_TOKEN: TOKEN });
  const calls = server.requests.slice(before).map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(calls, [
    "POST /api/repos/create",
    `POST /api/models/${REPO}/preupload/main`,
    `POST /${REPO}.git/info/lfs/objects/batch`,
    `POST /api/models/${REPO}/commit/main`,
  ]);
  assert.equal(server.requests[before]!.authorization, `Bearer ${TOKEN}`, "HF_TOKEN is used when no token is given");
  assert.equal(JSON.parse(server.requests[before]!.body.toString()).visibility, undefined, "without --private the account's default applies");
  assert.equal(server.commits.length, 2);
  assert.deepEqual(server.commits[1]!.files.get(LORA), { bytes: read(join(runDir, LORA)), via: "lfs" });
  assert.equal(second.created, false);
  const card = text(server.commits[1]!.files.get("README.md")!.bytes);
  assert.ok(!/^base_model:/m.test(card) && !/^license:/m.test(card), "a local base pipeline has no Hub id and no known license");
});

test("a missing or malformed token is refused before any request", async () => {
  const server = await hub();
  const push = (token: string | undefined, env: NodeJS.ProcessEnv = { HF_TOKEN_PATH: join(dir, "no-token-file") }) => pushRun(runDir, { repo: REPO, token, endpoint: server.url }, env);
  await assert.rejects(push(undefined), /no Hub token: pass --token hf_…, set HF_TOKEN or run `hf auth login`/);
  await assert.rejects(push(undefined, { HF_TOKEN: "", HF_HOME: join(dir, "no-hf-home") }), /no Hub token/);
  await assert.rejects(push("abc123"), /the Hub token from --token must start with "hf_" \(it starts with "abc"\)/);
  await assert.rejects(push(undefined, { HF_TOKEN: "hf_abc def" }), /the Hub token from HF_TOKEN holds whitespace at character 7/);
  await assert.rejects(push("hf_abc\n"), /holds whitespace at character 7/);
  await assert.rejects(push("hf_"), /is only "hf_"/);
  assert.equal(server.requests.length, 0);
});

test("a run directory without the LoRA file, or a bad repo id, is refused before any request", async () => {
  const server = await hub();
  const noLora = join(dir, "runs", "no-lora");
  cpSync(runDir, noLora, { recursive: true });
  rmSync(join(noLora, LORA));
  await assert.rejects(
    pushRun(noLora, { repo: REPO, token: TOKEN, endpoint: server.url }, {}),
    new RegExp(`^Error: ${join(noLora, LORA).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} does not exist: push uploads the LoRA that an AlignProp run on a diffusers pipeline exports`),
  );
  await assert.rejects(pushRun(join(dir, "nowhere"), { repo: REPO, token: TOKEN, endpoint: server.url }, {}), /nowhere does not exist \(expected a run directory, runs\/<name>\/\)/);
  await assert.rejects(pushRun(runDir, { repo: "just-a-name", token: TOKEN, endpoint: server.url }, {}), /repo="just-a-name" is not a Hub repo id/);
  await assert.rejects(pushRun(runDir, { repo: "a/b--c", token: TOKEN, endpoint: server.url }, {}), /repo="a\/b--c" is not a Hub repo id/);
  await assert.rejects(pushRun(runDir, { repo: REPO, token: TOKEN, endpoint: server.url, license: "MIT License" }, {}), /license="MIT License" is not a Hub license id/);
  assert.equal(server.requests.length, 0);
});

test("a failing Hub answer is reported with what was being done, the status and the Hub's message", async () => {
  const server = await hub();
  server.failNext("POST", /\/commit\/main$/, 500, "Internal Error - We're working hard to fix this as soon as possible!");
  await assert.rejects(
    pushRun(runDir, { repo: REPO, token: TOKEN, endpoint: server.url }, {}),
    (error: Error) => {
      assert.match(error.message, new RegExp(`^cannot upload to ${REPO}@main on ${server.url}: HTTP 500: Internal Error - We're working hard`));
      return true;
    },
  );
  assert.equal(server.commits.length, 0);

  const other = await hub("hf_someoneelse");
  await assert.rejects(
    pushRun(runDir, { repo: REPO, token: TOKEN, endpoint: other.url }, {}),
    /^Error: cannot create alignprop-user\/tiny-shapes-lora on .*: HTTP 401: Invalid username or password\..*; check that the token is valid and may write to alignprop-user$/,
  );
  await assert.rejects(
    pushRun(runDir, { repo: REPO, token: TOKEN, endpoint: server.url, revision: "dev" }, {}),
    /cannot upload to alignprop-user\/tiny-shapes-lora@dev on .*: HTTP 404: Invalid rev id: dev/,
  );
  const closed = await hub();
  await closed.close();
  await assert.rejects(pushRun(runDir, { repo: REPO, token: TOKEN, endpoint: closed.url }, {}), /cannot create .*: fetch failed \(.*ECONNREFUSED.*\)/);
});

test("alignprop push reads HF_TOKEN (else the login token file) and HF_ENDPOINT, prints the repo's URL, and without a token sends nothing", async () => {
  const server = await hub();
  const ok = await alignprop(["push", runDir, "--repo", REPO, "--private", "--images", "1"], { env: { HF_TOKEN: TOKEN, HF_ENDPOINT: server.url } });
  assert.equal(ok.exitCode, 0, String(ok.stderr));
  assert.equal(String(ok.stdout), `${server.url}/${REPO}`);
  assert.match(String(ok.stderr), new RegExp(`created private repo ${REPO} on ${server.url}\\npushed 3 files to ${server.url}/${REPO} \\(commit [0-9a-f]{40}\\)`));
  assert.equal(JSON.parse(server.requests[0]!.body.toString()).visibility, "private");

  const before = server.requests.length;
  const missing = await alignprop(["push", runDir, "--repo", REPO], { env: { HF_TOKEN: "", HF_TOKEN_PATH: join(dir, "no-token-file"), HF_ENDPOINT: server.url } });
  assert.equal(missing.exitCode, 1);
  assert.match(String(missing.stderr), /^alignprop push: no Hub token: pass --token hf_…, set HF_TOKEN or run `hf auth login`/);
  assert.equal(server.requests.length, before);

  const hfHome = join(dir, "hf-home");
  mkdirSync(hfHome, { recursive: true });
  writeFileSync(join(hfHome, "token"), `${TOKEN}\n`);
  const fromFile = await alignprop(["push", runDir, "--repo", REPO, "--images", "1"], { env: { HF_TOKEN: "", HF_HOME: hfHome, HF_ENDPOINT: server.url } });
  assert.equal(fromFile.exitCode, 0, String(fromFile.stderr));
  assert.equal(server.requests[before]!.authorization, `Bearer ${TOKEN}`, "the token file `hf auth login` writes is used when HF_TOKEN is unset");

  const usage = await alignprop(["push", "--repo", REPO]);
  assert.equal(usage.exitCode, 2);
  assert.match(String(usage.stderr), /push needs exactly one run directory \(got 0\)/);
  const help = await alignprop(["push", "--help"]);
  assert.equal(help.exitCode, 0);
  assert.match(String(help.stdout), /^alignprop push <run dir> --repo <namespace\/name> \[options\]/);
});
