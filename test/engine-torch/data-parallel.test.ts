/**
 * A data-parallel torch run (num_processes 2: two gloo ranks on the CPU under `accelerate launch`) through the real
 * CLI: rank 0 serves the wire and the run is steered like a one-process run — pause, checkpoint now, resume, stop,
 * resume from the run directory — with the job's metrics (both ranks' rewards) and checkpoints holding every rank's
 * generator; a rank killed with SIGKILL ends the job on every rank with an error naming it, the checkpoint intact.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, test } from "node:test";
import { execFileSync } from "node:child_process";
import { TrainerClient } from "../../src/bridge/client.js";
import { RunState, type Event } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { TORCH_TINY } from "../bridge-python/python-engine.js";
import { alignprop } from "../helpers/cli.js";
import { EventTap } from "../helpers/event-tap.js";
import { tempRuns } from "../helpers/runs.js";

const runs = tempRuns();
const started: ReturnType<typeof alignprop>[] = [];
after(() => {
  for (const cli of started) cli.kill("SIGKILL");
  runs.cleanup();
});

const RUN = join(runs.dir, "dp");
const TINY_FLAGS = Object.entries(TORCH_TINY).flatMap(([k, v]) => [`--${k}`, v]);

/** `alignprop train --headless ...`: its endpoints line, a connected client and a tap on its events. */
async function headless(args: string[]) {
  const cli = alignprop(["train", "--headless", ...args], { buffer: false });
  started.push(cli);
  const line = await new Promise<string>((resolve) => createInterface({ input: cli.stdout! }).once("line", resolve));
  const ready = JSON.parse(line) as { control: string; pid: number };
  const client = await TrainerClient.connect(ready.control);
  return { cli, ready, client, tap: new EventTap(client) };
}

const value = <C extends NonNullable<Event["payload"]["case"]>>(e: Event, c: C) =>
  (e.payload.case === c ? e.payload.value : assert.fail(`expected ${c}, got ${e.payload.case}`)) as Extract<Event["payload"], { case: C }>["value"];

const checkpointState = (step: number) =>
  JSON.parse(readFileSync(join(RUN, "checkpoints", `checkpoint_${step}`, "state.json"), "utf8")) as { step: number; rngState: { worldSize: number; rankGenerators: string[] } };

let stoppedAt = 0;

test("two ranks train, pause, checkpoint, resume and stop from the wire, with the job's metrics and every rank's RNG saved", async () => {
  const { cli, client, tap } = await headless([...TINY_FLAGS, "--runs_dir", runs.dir, "--run_name", "dp", "--num_processes", "2", "--num_epochs", "100000", "--save_freq", "1000", "--log_image_freq", "1"]);
  assert.equal(value(await tap.untilState(RunState.RUNNING), "status").worldSize, 2);
  const first = value(await tap.untilStep(1), "metrics");
  // Batch 1 on each rank: a spread of rewards means both ranks' samples were gathered.
  assert.ok(first.rewardStd > 0 && first.rewardMin < first.rewardMax, JSON.stringify(first));
  const images = value(await tap.until((e) => e.payload.case === "images", "images"), "images");
  assert.equal(images.images.length, 1, "images come from rank 0's batch");

  assert.equal((await client.pause()).ok, true);
  const pausedAt = value(await tap.untilState(RunState.PAUSED), "status").step;
  assert.equal((await client.checkpointNow()).ok, true);
  const saved = value(await tap.until((e) => e.payload.case === "checkpoint", "checkpoint"), "checkpoint");
  assert.equal(saved.step, pausedAt);
  const state = checkpointState(pausedAt);
  assert.equal(state.rngState.worldSize, 2);
  assert.equal(new Set(state.rngState.rankGenerators).size, 2, "each rank's own generator");

  assert.equal((await client.resume()).ok, true);
  await tap.untilStep(pausedAt + 1);
  assert.equal((await client.stop()).ok, true);
  stoppedAt = value(await tap.untilState(RunState.DONE), "status").step;
  assert.equal((await cli).exitCode, 0);
  assert.equal(checkpointState(stoppedAt).step, stoppedAt);
  await client.close();
});

test("resumed on two ranks it continues after the checkpoint; a rank killed ends the job with an error naming it", async () => {
  assert.ok(stoppedAt > 0, "needs the run of the test before");
  const { cli, ready, client, tap } = await headless(["--resume", RUN]);
  assert.equal(value(await tap.untilStep(stoppedAt + 1), "metrics").step, stoppedAt + 1);
  assert.ok(!tap.events.some((e) => e.payload.case === "log" && /reseeded/.test(e.payload.value.message)), "same world size: no reseed");

  // Rank 1 is rank 0's sibling under the launcher.
  const launcher = readFileSync(`/proc/${ready.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]!;
  const siblings = execFileSync("ps", ["-o", "pid=", "--ppid", launcher], { encoding: "utf8" }).split("\n").map((s) => s.trim()).filter(Boolean);
  const rank1 = Number(siblings.find((pid) => Number(pid) !== ready.pid));
  process.kill(rank1, "SIGKILL");

  const error = value(await tap.until((e) => e.payload.case === "error", "error"), "error");
  assert.match(error.message, /rank 1 ended/);
  await tap.untilState(RunState.FAILED);
  assert.notEqual((await cli).exitCode, 0);
  assert.throws(() => process.kill(ready.pid, 0), "rank 0 ended too");
  assert.equal(checkpointState(stoppedAt).step, stoppedAt, "the last checkpoint is intact");
  await client.close();
});

/** The parent of `pid` (the 4th field of /proc/<pid>/stat, after the command in parentheses). */
const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);

test("SIGTERM to the launcher the CLI spawned stops every rank at one step boundary with a save, DONE, resumable", async () => {
  const name = "dp-term";
  const { cli, ready, client, tap } = await headless([...TINY_FLAGS, "--runs_dir", runs.dir, "--run_name", name, "--num_processes", "2", "--num_epochs", "100000", "--save_freq", "1000"]);
  await tap.untilStep(1);
  const launcher = parentOf(ready.pid);
  assert.equal(parentOf(launcher), cli.pid, "the launcher is the CLI's child");
  process.kill(launcher, "SIGTERM");

  const done = value(await tap.untilState(RunState.DONE), "status").step;
  // The ranks exit 0; torch.distributed's elastic agent under accelerate then re-raises the signal it took: 128 + 15.
  assert.ok([0, 143].includes((await cli).exitCode!), `exit code ${(await cli).exitCode}`);
  assert.throws(() => process.kill(launcher, 0), "the launcher ended");
  const runDir = join(runs.dir, name);
  const log = readFileSync(join(runDir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { status?: { state: string; step: number } });
  assert.deepEqual(log.at(-1)!.status, { ...log.at(-1)!.status, state: "RUN_STATE_DONE", step: done });
  // The save gathers every rank's generator at the step it was taken: both ranks reached this boundary.
  const state = JSON.parse(readFileSync(join(runDir, "checkpoints", `checkpoint_${done}`, "state.json"), "utf8")) as { step: number; rngState: { worldSize: number; rankGenerators: string[] } };
  assert.equal(state.step, done);
  assert.equal(state.rngState.worldSize, 2);
  assert.equal(new Set(state.rngState.rankGenerators).size, 2);
  await client.close();

  const resumed = await headless(["--resume", runDir]);
  assert.equal(value(await resumed.tap.untilStep(done + 1), "metrics").step, done + 1);
  assert.equal((await resumed.client.stop()).ok, true);
  await resumed.tap.untilState(RunState.DONE);
  assert.equal((await resumed.cli).exitCode, 0);
  await resumed.client.close();
});
