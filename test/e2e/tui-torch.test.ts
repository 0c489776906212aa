/**
 * End to end on the PyTorch engine: `alignprop train --engine torch` on tiny-shapes in a real terminal (tmux) — the
 * live dashboard shows steps, `p` pauses (and the pause holds), `c` saves a checkpoint at the paused step, `p` resumes,
 * `q` + `y` stops with a final checkpoint; `--resume` continues from it with each step once; the exported
 * pytorch_lora_weights.safetensors renders in `alignprop sample --lora` and loads in diffusers with its trained weights.
 */
import "../helpers/at-a-terminal.js";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, test } from "node:test";
import { execa } from "execa";
import { isPng } from "../../src/io/png.js";
import { PYTHON_DIR, projectPython } from "../../src/python/env.js";
import { listCheckpoints, readEventsLog, runFiles } from "../../src/run/index.js";
import { RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { alignprop } from "../helpers/cli.js";
import { tempRuns } from "../helpers/runs.js";
import { tmuxTerminal } from "../helpers/tmux-terminal.js";
import { TORCH_TEST_ENV, TORCH_TINY } from "../bridge-python/python-engine.js";

const runs = tempRuns();
const terminal = tmuxTerminal(runs.dir, "alignprop-e2e-torch");
const { session, tmux, screenShows } = terminal;
after(() => {
  terminal.close();
  runs.cleanup();
});

const RUN = "torch-tui";
const runDir = join(runs.dir, RUN);
const tinyFlags = Object.entries(TORCH_TINY).flatMap(([field, value]) => [`--${field}`, `'${value}'`]);
const env = Object.entries(TORCH_TEST_ENV).map(([name, value]) => `${name}=${value}`).join(" ");
const keys = (key: string) => tmux("send-keys", "-t", session, key);

test("train --engine torch at a terminal: steps, p holds, c checkpoints, p resumes, q + y saves; --resume continues; the LoRA loads in sample and diffusers", async () => {
  const flags = [...tinyFlags, "--num_epochs", "100000", "--save_freq", "100000", "--log_image_freq", "1", "--runs_dir", runs.dir, "--run_name", RUN];
  const cli = terminal.train(session, flags, env);
  await screenShows(/RUNNING\s+step [1-9]\d*\/100000/, 120_000);
  await screenShows(/images · step \d+/);
  keys("p");
  const paused = Number(/PAUSED\s+step (\d+)/.exec(await screenShows(/PAUSED\s+step \d+\/100000/))![1]);
  keys("c");
  await screenShows(new RegExp(`checkpoint saved at step ${paused}:`));
  keys("p");
  await screenShows(new RegExp(`resumed at step ${paused}`));
  await screenShows(new RegExp(`step ${paused + 1}`));
  keys("q");
  await screenShows(/Stop training\?/);
  keys("y");
  assert.equal(cli.exited(), "0");

  const log = await readEventsLog(runFiles(runDir).events);
  const states = log.events.flatMap((e) => (e.payload.case === "status" ? [[e.payload.value.state, e.payload.value.step]] : []));
  const pausedAt = states.findIndex(([state]) => state === RunState.PAUSED);
  assert.deepEqual(states[pausedAt], [RunState.PAUSED, paused]);
  assert.deepEqual(states[pausedAt + 1], [RunState.RUNNING, paused], "the pause held: it resumed at the step it paused at");
  const checkpoints = log.events.flatMap((e) => (e.payload.case === "checkpoint" ? [[e.payload.value.step, e.payload.value.reason]] : []));
  const stopped = states.at(-1)![1]!;
  assert.deepEqual(checkpoints, [[paused, "requested"], [stopped, "final"]]);
  assert.deepEqual(listCheckpoints(runDir).sort((a, b) => a - b), [paused, stopped]);
  const steps = log.events.flatMap((e) => (e.payload.case === "metrics" ? [e.payload.value.step] : []));
  assert.deepEqual(steps, Array.from({ length: stopped }, (_, i) => i + 1));

  const total = stopped + 2;
  const resumed = await alignprop(["train", "--ci", "--resume", runDir, "--num_epochs", String(total)], { env: TORCH_TEST_ENV });
  assert.equal(resumed.exitCode, 0, String(resumed.stderr));
  const after = await readEventsLog(runFiles(runDir).events);
  const all = after.events.flatMap((e) => (e.payload.case === "metrics" ? [e.payload.value.step] : []));
  assert.deepEqual(all, Array.from({ length: total }, (_, i) => i + 1), "each step once across the resume");

  const lora = runFiles(runDir).loraWeights;
  const out = join(runs.dir, "sample.png");
  const sampled = await alignprop(["sample", "--prompt", "a red circle", "--steps", "2", "--lora", lora, "--out", out]);
  assert.equal(sampled.exitCode, 0, String(sampled.stderr));
  assert.ok(existsSync(out) && isPng(readFileSync(out)));

  // diffusers' own loader (python/tests/alignprop_cli.py's tiny-shapes pipeline): the LoRA's up weights start at zero
  // (gaussian init), so a non-zero sum over them is the trained LoRA, loaded.
  const check = [
    "import sys",
    "from alignprop_cli import load_pipeline",
    "pipe = load_pipeline()",
    "pipe.load_lora_weights(sys.argv[1], weight_name=sys.argv[2])",
    "ups = [p for n, p in pipe.unet.named_parameters() if 'lora_B' in n]",
    "print(len(ups), float(sum(p.abs().sum() for p in ups)))",
  ].join("\n");
  const loaded = await execa(projectPython(), ["-c", check, runDir, basename(lora)], {
    env: { PYTHONPATH: join(PYTHON_DIR, "tests") },
    reject: false,
  });
  assert.equal(loaded.exitCode, 0, loaded.stderr);
  const [count, magnitude] = loaded.stdout.trim().split("\n").at(-1)!.split(" ").map(Number);
  assert.ok(count! > 0 && magnitude! > 0, `diffusers loaded ${count} LoRA up weights with |sum| ${magnitude}`);
});
