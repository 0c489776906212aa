/**
 * Start-up is a state: a trainer whose model is still downloading (from a local fake Hub that holds the UNet weights
 * mid-file until the test releases them) is STARTING, reports progress, and answers every command without dying.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, test } from "node:test";
import { RunState, type Event, type Progress } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { disposePipeline, savePipeline } from "../../src/models/pipeline.js";
import { EventTap } from "../helpers/event-tap.js";
import { tempRuns } from "../helpers/runs.js";
import { startHubServer, type HubServer, type RepoContents } from "../hub/hub-server.js";
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
  const files: Record<string, Uint8Array> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files[relative(dir, join(entry.parentPath, entry.name))] = new Uint8Array(readFileSync(join(entry.parentPath, entry.name)));
  }
  unetBytes = files[UNET]!.length;
  hub = await startHubServer(REPO, { main: files } satisfies RepoContents);
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
  return { run, trainer, tap, release, stalled: (stalled.payload.value as Progress) };
}

const statesOf = (events: Event[]) => events.flatMap((e) => (e.payload.case === "status" ? [e.payload.value.state] : []));

test("while the model downloads the trainer is STARTING with download progress; pause holds it before step 1 and checkpoint is refused", async () => {
  const { run, trainer, tap, release, stalled } = await stalledTrainer();
  assert.equal(stalled.unit, "bytes");
  assert.ok(stalled.total >= unetBytes, `the total (${stalled.total}) counts every missing file, the UNet's ${unetBytes} bytes included`);
  assert.ok(stalled.done < stalled.total);
  assert.ok(stalled.itemsTotal >= 3 && stalled.itemsDone < stalled.itemsTotal, "files done and planned");
  assert.deepEqual(statesOf(tap.events), [RunState.STARTING]);

  const ping = await trainer.client.ping();
  assert.equal(ping.state, RunState.STARTING);
  const snapshot = await trainer.client.snapshot();
  assert.equal(snapshot.status?.state, RunState.STARTING);
  assert.ok(snapshot.events.some((e) => e.payload.case === "progress"), "a late client sees the progress so far");

  const checkpoint = await trainer.client.checkpointNow();
  assert.equal(checkpoint.ok, false);
  assert.match(checkpoint.message, /no checkpoint while loading: nothing has been trained yet/);
  const pause = await trainer.client.pause();
  assert.equal(pause.ok, true);
  assert.equal(pause.state, RunState.STARTING);
  assert.match(pause.message, /will pause before step 1/);
  assert.equal((await trainer.client.pause()).ok, true, "pause is idempotent while loading");

  release();
  const paused = await tap.untilState(RunState.PAUSED);
  assert.equal(paused.payload.case === "status" && paused.payload.value.step, 0, "paused before the first step");
  assert.deepEqual(tap.metricsSteps(), []);
  const done = tap.events.filter((e) => e.payload.case === "progress" && e.payload.value.phase === "download").at(-1)!.payload.value as Progress;
  assert.equal(done.done, done.total, "the last download progress reports every byte");
  assert.equal(done.itemsDone, done.itemsTotal);
  assert.ok(tap.events.some((e) => e.payload.case === "progress" && e.payload.value.phase === "load" && e.payload.value.itemsDone === 4), "loading progress up to the reward");
  assert.deepEqual(statesOf(tap.events), [RunState.STARTING, RunState.RUNNING, RunState.PAUSED]);

  await trainer.client.resume();
  await tap.untilStep(1);
  await trainer.client.stop();
  await tap.untilState(RunState.DONE);
  assert.equal((await trainer.exit).exitCode, 0);
  assert.ok(existsSync(join(run.runDir, "checkpoints")), "a run that trained saves its final checkpoint");
});

test("stop while the model downloads ends the run at once: exit 0, DONE, no step trained and no checkpoint", async () => {
  const { run, trainer, tap, release } = await stalledTrainer();
  const stop = await trainer.client.stop();
  assert.equal(stop.ok, true);
  assert.match(stop.message, /stopping while loading/);
  const done = await tap.untilState(RunState.DONE);
  assert.match(done.payload.case === "status" ? done.payload.value.message : "", /stopped before step 1: nothing was trained/);
  assert.equal((await trainer.exit).exitCode, 0, "the stalled download does not hold the process");
  release();
  assert.deepEqual(statesOf(tap.events), [RunState.STARTING, RunState.STOPPING, RunState.DONE]);
  assert.deepEqual(tap.metricsSteps(), []);
  assert.equal(existsSync(join(run.runDir, "checkpoints")), false);
  const logged = readFileSync(join(run.runDir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { status?: { state: string } });
  assert.equal(logged.at(-1)!.status!.state, "RUN_STATE_DONE", "the events log is complete");
});

test("SIGTERM while loading stops the run like the stop command", async () => {
  const { trainer, tap, release } = await stalledTrainer();
  trainer.process.kill("SIGTERM");
  await tap.untilState(RunState.DONE);
  assert.equal((await trainer.exit).exitCode, 0);
  release();
});
