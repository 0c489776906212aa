/**
 * Start-up is a state on the PyTorch trainer too: a torch run whose model comes from a local fake Hub that holds the
 * UNet weights mid-file is STARTING, reports loading progress, and answers every command (the bodies
 * test/trainer/loading.test.ts runs on the TF.js trainer). The fake Hub serves the embedded tiny-shapes pipeline.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { embeddedModel, TINY_SHAPES } from "../../src/models/embedded.js";
import { sigtermWhileLoadingStopsTheRun, stopWhileLoadingEndsTheRunBeforeStep1, whileLoadingPauseHoldsBeforeStep1, type StalledStart } from "../helpers/contract.js";
import { EventTap } from "../helpers/event-tap.js";
import { tempRuns } from "../helpers/runs.js";
import { startHubServer, type HubServer } from "../hub/hub-server.js";
import { filesOf } from "../hub/tiny-repo.js";
import { torchEngine } from "../bridge-python/python-engine.js";

const REPO = "tiny-org/tiny-shapes";
const UNET = "unet/diffusion_pytorch_model.safetensors";
const runs = tempRuns();
const scratch = mkdtempSync(join(tmpdir(), "alignprop-torch-loading-"));
let hub: HubServer;

before(async () => {
  hub = await startHubServer(REPO, { main: await filesOf(embeddedModel(TINY_SHAPES)!.dir) });
});
after(async () => {
  runs.cleanup();
  await hub.close();
  rmSync(scratch, { recursive: true, force: true });
});

let serial = 0;
/** A torch trainer downloading REPO into a fresh cache, bytes reported, its UNet weights' transfer stalled. */
async function stalledTrainer(): Promise<StalledStart> {
  const release = hub.hold(UNET, 1024);
  const env = { HF_ENDPOINT: hub.url, HF_HOME: join(scratch, `home-${serial++}`), HF_HUB_OFFLINE: "" };
  const trainer = await torchEngine(runs)({ model: REPO, reward: "brightness", prompts: "shapes", num_epochs: "3" }, { env });
  const tap = new EventTap(trainer.client);
  await tap.until(
    (e) => e.payload.case === "progress" && e.payload.value.phase === "download" && e.payload.value.done > 0,
    "download progress (bytes) from huggingface_hub",
  );
  return { trainer, tap, release };
}

test("torch engine: while the model downloads the trainer is STARTING with byte progress; pause holds it before step 1 and checkpoint is refused", async () => {
  const stalled = await stalledTrainer();
  await whileLoadingPauseHoldsBeforeStep1(stalled);
  const downloads = stalled.tap.events.flatMap((e) => (e.payload.case === "progress" && e.payload.value.phase === "download" ? [e.payload.value] : []));
  const last = downloads.at(-1)!;
  assert.equal(last.unit, "bytes");
  assert.ok(last.total >= 1024 && last.done === last.total, `the last download progress reports every byte (${last.done} of ${last.total})`);
  assert.ok(last.itemsTotal > 0 && last.itemsDone === last.itemsTotal, `every file (${last.itemsDone} of ${last.itemsTotal})`);
});

test("torch engine: stop while the model loads ends the run at once: exit 0, DONE, no step trained and no checkpoint", async () => {
  await stopWhileLoadingEndsTheRunBeforeStep1(await stalledTrainer());
});

test("torch engine: SIGTERM while loading stops the run like the stop command", async () => {
  await sigtermWhileLoadingStopsTheRun(await stalledTrainer());
});
