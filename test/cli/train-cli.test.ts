/** The `alignprop` CLI end to end: train headless to completion, bad input, --headless + attach, help. */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, test } from "node:test";
import { TrainerClient } from "../../src/bridge/client.js";
import { readKeyPair, readPublicKey } from "../../src/bridge/curve.js";
import { RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { alignprop } from "../helpers/cli.js";
import { EventTap } from "../helpers/event-tap.js";
import { freePortTriple } from "../helpers/ports.js";
import { tempRuns } from "../helpers/runs.js";
import { TINY_RUN_FLAGS } from "../helpers/tiny-model.js";

const runs = tempRuns();
after(() => runs.cleanup());
const small = [...TINY_RUN_FLAGS, "--runs_dir", runs.dir, "--save_freq", "1000"];

test("train with stdout not a terminal runs headless to DONE, one JSON object per line, exit 0", async () => {
  const r = await alignprop(["train", ...small, "--num_epochs", "12", "--run_name", "piped"]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  const events = String(r.stdout).trim().split("\n").map((l) => JSON.parse(l) as Record<string, { state?: string; step?: number }>);
  assert.equal(events.filter((e) => e.metrics).length, 12);
  assert.equal(events.at(-1)!.status!.state, "RUN_STATE_DONE");
  assert.match(String(r.stderr), /^done: /m);
});

test("invalid config exits 2, names every bad field, and creates no run directory", async () => {
  const before = readdirSync(runs.dir).length;
  const r = await alignprop(["train", ...small, "--num_epochs", "0", "--train_batch_sise", "4", "--sample_eta", "lots"]);
  assert.equal(r.exitCode, 2);
  const err = String(r.stderr);
  assert.match(err, /num_epochs/);
  assert.match(err, /train_batch_sise.*did you mean "train_batch_size"/);
  assert.match(err, /sample_eta/);
  assert.equal(readdirSync(runs.dir).length, before);
});

test("a non-loopback --bind is refused before anything starts", async () => {
  const r = await alignprop(["train", ...small, "--headless", "--bind", "tcp://0.0.0.0:5599"]);
  assert.equal(r.exitCode, 2);
  assert.match(String(r.stderr), /tcp:\/\/0\.0\.0\.0:5599.*not a loopback address/);
});

test("every usage mistake in train exits 2 with one message naming it, and creates no run directory", async () => {
  const named = runs.prepare({ run_name: "taken" });
  const before = readdirSync(runs.dir).length;
  const cases = [
    [["stray"], /train takes no positional arguments \(got "stray"\)/],
    [["--bind", "ipc:///tmp/x"], /--bind is only for --headless runs/],
    [["--allow", "k.pub"], /--allow and --allow-observer need --server-key/],
    [["--run_name", "taken"], /run_name: "taken": .* already exists; choose another run_name/],
    [["--resume", join(runs.dir, "nowhere")], /resume_from: ".*nowhere": no such directory/],
    [["--resume", named.runDir, "--config", named.configPath], /resume_from: .*drop --config/],
  ] as const;
  const results = await Promise.all(cases.map(([argv]) => alignprop(["train", ...small, ...argv])));
  results.forEach((r, i) => {
    const [argv, message] = cases[i]!;
    assert.equal(r.exitCode, 2, `${argv.join(" ")}: ${String(r.stderr)}`);
    assert.match(String(r.stderr), message);
    assert.equal(String(r.stderr).split(message).length, 2, "the message once");
  });
  assert.equal(readdirSync(runs.dir).length, before);
});

test("train --headless prints endpoints; attach --ci sees history and live events; detaching leaves training running", async () => {
  const trainer = alignprop(["train", ...small, "--num_epochs", "100000", "--headless", "--bind", "tcp://127.0.0.1:*"], {
    buffer: false,
  });
  const first = await new Promise<string>((resolve) => createInterface({ input: trainer.stdout! }).once("line", resolve));
  const endpoints = JSON.parse(first) as { control: string; events: string; run_dir: string };
  assert.match(endpoints.control, /^tcp:\/\/127\.0\.0\.1:\d+$/);

  const watcher = alignprop(["attach", endpoints.control, "--ci"], { buffer: false });
  const lines = createInterface({ input: watcher.stdout! });
  let metrics = 0;
  const seqs: number[] = [];
  await new Promise<void>((resolve) =>
    lines.on("line", (line) => {
      const e = JSON.parse(line) as { seq: number; metrics?: unknown };
      seqs.push(e.seq);
      if (e.metrics && ++metrics === 5) resolve();
    }),
  );
  assert.equal(seqs[0], 1, "attach starts from the snapshot history");
  watcher.kill("SIGINT");
  assert.equal((await watcher).exitCode, 0, "detaching is a clean exit");

  const client = await TrainerClient.connect(endpoints.control);
  const tap = new EventTap(client);
  const live = await tap.untilStep(metrics + 3);
  assert.ok(live, "the trainer kept training after the dashboard detached");
  const stopped = await client.stop();
  assert.equal(stopped.ok, true, stopped.message);
  await tap.untilState(RunState.DONE);
  assert.equal((await trainer).exitCode, 0);
});

test("alignprop --help lists the commands", async () => {
  // execa strips the final newline.
  const r = await alignprop(["--help"]);
  assert.equal(r.exitCode, 0);
  assert.equal(
    String(r.stdout),
    `alignprop — fine-tune text-to-image diffusion models with AlignProp (reward backpropagation)

usage: alignprop <command> [options]     (alignprop <command> --help for its options)

commands:
  train    fine-tune a pipeline against a reward (dashboard, --ci, or --headless)
  attach   open the dashboard (or --ci stream) on a running trainer
  ping     check that a trainer is up and answering (exit code; Docker healthcheck)
  sample   render an image from a pipeline (DDIM, classifier-free guidance, optional LoRA)
  push     publish a run's LoRA on the Hugging Face Hub with a model card and samples
  inspect  show a pipeline's components, parameter counts and state-dict keys
  report   write a run's report.html (reward and loss curves, images per step)
  keygen   create a CURVE key pair for remote trainers and clients
  bench    time conv/matmul kernels and a tiny-UNet training step per backend, against PyTorch (JSON)
  pretrain train the embedded tiny-shapes pipeline and its rewards from nothing`,
  );
  const unknown = await alignprop(["trian"]);
  assert.equal(unknown.exitCode, 2);
  assert.match(String(unknown.stderr), /unknown command "trian"/);
});

test("a CURVE trainer on 0.0.0.0 serves an allowed client, refuses an observer's commands, and keygen makes the keys", async () => {
  const keys = (name: string) => join(runs.dir, "keys", name);
  for (const name of ["server", "laptop", "viewer"]) assert.equal((await alignprop(["keygen", keys(name)])).exitCode, 0);
  const port = await freePortTriple();
  const trainer = alignprop(
    ["train", ...small, "--num_epochs", "100000", "--headless", "--bind", `tcp://0.0.0.0:${port}`,
     "--server-key", keys("server"), "--allow", keys("laptop"), "--allow-observer", keys("viewer")],
    { buffer: false },
  );
  const first = await new Promise<string>((resolve) => createInterface({ input: trainer.stdout! }).once("line", resolve));
  assert.equal(JSON.parse(first).control, `tcp://0.0.0.0:${port}`);
  const endpoint = `tcp://127.0.0.1:${port}`;
  const serverPublic = join(keys("server"), "public.key");

  const viewer = alignprop(["attach", endpoint, "--ci", "--observer", "--server-public", serverPublic, "--client-key", keys("viewer")], { buffer: false });
  await new Promise<void>((resolve) => createInterface({ input: viewer.stdout! }).on("line", (l) => JSON.parse(l).metrics && resolve()));
  viewer.kill("SIGINT");
  assert.equal((await viewer).exitCode, 0);

  const health = await alignprop(["ping", endpoint, "--observer", "--server-public", serverPublic, "--client-key", keys("viewer")]);
  assert.equal(health.exitCode, 0, String(health.stderr));
  assert.match(String(health.stdout), /^pong: run \S+, RUNNING, step \d+\/100000$/);
  const nobody = await alignprop(["ping", `tcp://127.0.0.1:${port}`, "--timeout", "1"]);
  assert.equal(nobody.exitCode, 1, "a client without keys gets no answer from a CURVE trainer");

  const stranger = await alignprop(["attach", endpoint, "--ci", "--server-public", serverPublic, "--client-key", keys("viewer")]);
  assert.equal(stranger.exitCode, 1, "an observer key cannot take control");
  assert.match(String(stranger.stderr), /allow-list/);

  const client = await TrainerClient.connect(endpoint, { curve: { serverPublicKey: readPublicKey(serverPublic), keys: readKeyPair(keys("laptop")) } });
  const tap = new EventTap(client);
  await tap.untilStep(2);
  const stopped = await client.stop();
  assert.equal(stopped.ok, true, stopped.message);
  await tap.untilState(RunState.DONE);
  assert.equal((await trainer).exitCode, 0);
});

test("train refuses a non-loopback bind without keys, and keys without an allow-list", async () => {
  const open = await alignprop(["train", ...small, "--headless", "--bind", "tcp://0.0.0.0:5599"]);
  assert.match(String(open.stderr), /needs CURVE authentication.*alignprop keygen/);
  const nobody = await alignprop(["train", ...small, "--headless", "--server-key", join(runs.dir, "keys", "server")]);
  assert.match(String(nobody.stderr), /--server-key needs --allow/);
});
