/**
 * Start-up is a state on the PyTorch trainer too: a torch run whose model comes from a local fake Hub that holds the
 * UNet weights mid-file is STARTING, reports loading progress, and answers every command (the bodies
 * test/trainer/loading.test.ts runs on the TF.js trainer). The fake Hub serves the embedded tiny-shapes pipeline.
 */
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
/** A torch trainer loading REPO into a fresh cache, past the UNet's load report, its weights transfer stalled. */
async function stalledTrainer(): Promise<StalledStart> {
  const release = hub.hold(UNET, 1024);
  const env = { HF_ENDPOINT: hub.url, HF_HOME: join(scratch, `home-${serial++}`), HF_HUB_OFFLINE: "" };
  const trainer = await torchEngine(runs)({ model: REPO, reward: "brightness", prompts: "shapes", num_epochs: "3" }, { env });
  const tap = new EventTap(trainer.client);
  await tap.until((e) => e.payload.case === "progress" && e.payload.value.phase === "load" && e.payload.value.item === "unet", "the UNet's load report");
  return { trainer, tap, release };
}

test("torch engine: while the model loads the trainer is STARTING with progress; pause holds it before step 1 and checkpoint is refused", async () => {
  await whileLoadingPauseHoldsBeforeStep1(await stalledTrainer());
});

test("torch engine: stop while the model loads ends the run at once: exit 0, DONE, no step trained and no checkpoint", async () => {
  await stopWhileLoadingEndsTheRunBeforeStep1(await stalledTrainer());
});

test("torch engine: SIGTERM while loading stops the run like the stop command", async () => {
  await sigtermWhileLoadingStopsTheRun(await stalledTrainer());
});
