/**
 * Start-up is a state: a trainer whose model is still downloading (from a local fake Hub that holds the UNet weights
 * mid-file until the test releases them) is STARTING, reports progress, and answers every command without dying (the
 * contract bodies in test/helpers/contract.ts; test/engine-torch/loading.test.ts runs them on the PyTorch trainer).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Progress } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { disposePipeline, savePipeline } from "../../src/models/pipeline.js";
import { sigtermWhileLoadingStopsTheRun, stopWhileLoadingEndsTheRunBeforeStep1, whileLoadingPauseHoldsBeforeStep1 } from "../helpers/contract.js";
import { EventTap } from "../helpers/event-tap.js";
import { tempRuns } from "../helpers/runs.js";
import { startHubServer, type HubServer } from "../hub/hub-server.js";
import { filesOf } from "../hub/tiny-repo.js";
import { tinyPipeline } from "../pipeline/tiny.js";

const REPO = "tiny-org/tiny-sd";
const UNET = "unet/diffusion_pytorch_model.safetensors";
const runs = tempRuns();
const scratch = mkdtempSync(join(tmpdir(), "alignprop-loading-"));
let hub: HubServer;
let unetBytes = 0;

before(async () => {
  const dir = join(scratch, "pipeline");
  const pipeline = await tinyPipeline(3);
  await savePipeline(dir, pipeline);
  disposePipeline(pipeline);
  const files = await filesOf(dir);
  unetBytes = files[UNET]!.length;
  hub = await startHubServer(REPO, { main: files });
});
after(async () => {
  runs.cleanup();
  await hub.close();
  rmSync(scratch, { recursive: true, force: true });
});

let serial = 0;
/** A trainer downloading REPO into a fresh cache, with the UNet transfer stalled after its first kilobyte. */
async function stalledTrainer() {
  const release = hub.hold(UNET, 1024);
  const run = runs.prepare({ model: REPO, reward: "brightness", prompts: "shapes", sample_num_steps: "2", train_batch_size: "1", num_epochs: "3" });
  const trainer = await runs.spawn({ configPath: run.configPath, env: { HF_ENDPOINT: hub.url, HF_HOME: join(scratch, `home-${serial++}`), HF_HUB_OFFLINE: "" } });
  const tap = new EventTap(trainer.client);
  const stalled = await tap.until(
    (e) => e.payload.case === "progress" && e.payload.value.phase === "download" && e.payload.value.item === UNET && e.payload.value.done > 0,
    "download progress on the UNet weights",
  );
  return { trainer, tap, release, stalled: stalled.payload.value as Progress };
}

test("while the model downloads the trainer is STARTING with download progress; pause holds it before step 1 and checkpoint is refused", async () => {
  const start = await stalledTrainer();
  const { stalled, tap } = start;
  assert.equal(stalled.unit, "bytes");
  assert.ok(stalled.total >= unetBytes, `the total (${stalled.total}) counts every missing file, the UNet's ${unetBytes} bytes included`);
  assert.ok(stalled.done < stalled.total);
  assert.ok(stalled.itemsTotal >= 3 && stalled.itemsDone < stalled.itemsTotal, "files done and planned");

  await whileLoadingPauseHoldsBeforeStep1(start);
  const done = tap.events.filter((e) => e.payload.case === "progress" && e.payload.value.phase === "download").at(-1)!.payload.value as Progress;
  assert.equal(done.done, done.total, "the last download progress reports every byte");
  assert.equal(done.itemsDone, done.itemsTotal);
});

test("stop while the model downloads ends the run at once: exit 0, DONE, no step trained and no checkpoint", async () => {
  await stopWhileLoadingEndsTheRunBeforeStep1(await stalledTrainer());
});

test("SIGTERM while loading stops the run like the stop command", async () => {
  await sigtermWhileLoadingStopsTheRun(await stalledTrainer());
});
