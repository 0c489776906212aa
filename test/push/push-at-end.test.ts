/**
 * `push_to_hub` + `hub_model_id`: a training run that ends well, on either engine, pushes the LoRA, model card and samples as
 * `alignprop push` does (against the local Hub write server); a push that fails leaves the finished run a success,
 * with everything in its folder and the command to retry.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { TORCH_TEST_ENV } from "../bridge-python/python-engine.js";
import { alignprop } from "../helpers/cli.js";
import { startHubWriteServer, type HubWriteServer } from "./hub-write-server.js";

const TOKEN = "hf_pushatendtoken";
const REPO = "alignprop-user/pushed-at-end";
const dir = mkdtempSync(join(tmpdir(), "alignprop-push-end-"));
const servers: HubWriteServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

const fast = ["--model", "tiny-shapes", "--sample_num_steps", "2", "--num_epochs", "2", "--train_batch_size", "1", "--log_image_freq", "1", "--save_freq", "1000"];

async function trainAndPush(runName: string, serverToken: string, engine: string[] = []) {
  const server = await startHubWriteServer(serverToken);
  servers.push(server);
  const runsDir = join(dir, "runs");
  const r = await alignprop(["train", "--ci", "--runs_dir", runsDir, "--run_name", runName, ...fast, ...engine, "--push_to_hub", "true", "--hub_model_id", REPO], {
    env: { ...TORCH_TEST_ENV, HF_TOKEN: TOKEN, HF_ENDPOINT: server.url },
  });
  return { r, server, runDir: join(runsDir, runName) };
}

for (const engine of ["tfjs", "torch"]) {
  test(`${engine} engine: a run with push_to_hub pushes its LoRA, model card and images to hub_model_id when it ends`, async () => {
    const { r, server, runDir } = await trainAndPush(`pushed-${engine}`, TOKEN, ["--engine", engine, "--eval_freq", "0"]);
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(server.commits.length, 1);
    const files = [...server.commits[0]!.files.keys()];
    assert.ok(files.includes("pytorch_lora_weights.safetensors") && files.includes("README.md"), files.join(", "));
    assert.ok(files.some((f) => f.startsWith("images/step-2/")), files.join(", "));
    assert.match(String(r.stderr), new RegExp(`push: pushed to .*${REPO}`));
    assert.ok(readdirSync(runDir).includes("pytorch_lora_weights.safetensors"));
  });
}

test("a failed push leaves the finished run a success and says how to retry", async () => {
  const { r, server, runDir } = await trainAndPush("refused", "hf_someoneelsestoken");
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.equal(server.commits.length, 0);
  const err = String(r.stderr);
  assert.match(err, new RegExp(`the run finished, but the push to ${REPO} failed`));
  assert.ok(err.includes(`retry with: alignprop push ${runDir} --repo ${REPO}`), err);
  assert.ok(readdirSync(join(runDir, "checkpoints")).length > 0, "the run keeps its checkpoint");
});
