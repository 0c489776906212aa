#!/usr/bin/env node
/**
 * The trainer process: `node main.js --config <run dir>/config.json --control <e> --events <e> --observe <e>`
 * (+ `--server-key <dir> --allow <path>…` for CURVE, `--warning <text>…` for config warnings to publish at start).
 * Binds the bridge, prints one ready line (JSON) on stdout, loads (STARTING: backend, model, reward, checkpoint),
 * trains, and exits 0 when the run is DONE, 1 when it FAILED. SIGINT/SIGTERM stop it like the `stop` command (while
 * loading: at once; while training: finish the step, save, exit 0); a second one exits at once.
 */
import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { readAllowList, readKeyPair } from "../bridge/curve.js";
import { TrainerServer } from "../bridge/server.js";
import type { ReadyLine } from "../bridge/spawn.js";
import { RunConfigSchema } from "../config/index.js";
import { TensorBoardRunLog } from "../io/tensorboard/run-log.js";
import { writeReport } from "../report/index.js";
import { initBackend } from "../tf/backend.js";
import { loadCheckpoint, RunDir } from "../run/index.js";
import { loadImageHook } from "./image-hook.js";
import { createJob } from "./jobs.js";
import { Trainer } from "./trainer.js";

const VERSION = "0.1.0";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      control: { type: "string" },
      events: { type: "string" },
      observe: { type: "string" },
      "server-key": { type: "string" },
      allow: { type: "string", multiple: true },
      "allow-observer": { type: "string", multiple: true },
      resume: { type: "string" },
      warning: { type: "string", multiple: true },
    },
  });
  if (!values.config || !values.control || !values.events || !values.observe) {
    throw new Error("usage: trainer --config <run dir>/config.json --control <endpoint> --events <endpoint> --observe <endpoint> [--server-key <dir> --allow <path>... --allow-observer <path>...] [--warning <text>...]");
  }
  const curve = values["server-key"]
    ? {
        keys: readKeyPair(values["server-key"]),
        policy: { controllers: readAllowList(values.allow ?? []), observers: readAllowList(values["allow-observer"] ?? []) },
      }
    : undefined;
  const configJson = readFileSync(values.config, "utf8");
  const config = RunConfigSchema.parse(JSON.parse(configJson));
  const resume = values.resume ? await loadCheckpoint(values.resume) : undefined;
  const runDir = new RunDir(dirname(values.config), resume?.state.seq);
  const runId = basename(runDir.path);

  // TRL's layout, <logdir>/<run>; a resumed run re-does the steps after its checkpoint, which supersede the old ones.
  const tensorboard =
    config.log_with === "tensorboard"
      ? TensorBoardRunLog.open(resolve(config.logdir), runId, config, resume === undefined ? undefined : resume.state.step + 1)
      : undefined;

  // The trainer exists before its job: commands that arrive while it loads are answered by it (STARTING).
  const trainer = new Trainer({
    config,
    runDir,
    runId,
    tensorboard,
    resumedAtStep: resume?.state.step,
    warnings: values.warning,
    load: async (hooks) => {
      const choice = await initBackend(config.backend);
      const imageHook = await loadImageHook(config.image_hook);
      const created = await createJob(config, hooks);
      if (resume) await created.job.restore({ tensors: resume.tensors, rngState: resume.state.rngState });
      const { job, description, exportWeights, saveLora, evaluation } = created;
      return { job, description, exportWeights, saveLora, evaluation, imageHook, backend: `${choice.backend} — ${choice.reason}` };
    },
  });
  const server = await TrainerServer.bind({
    control: values.control,
    events: values.events,
    observe: values.observe,
    curve,
    startSeq: resume?.state.seq,
    runId,
    configJson,
    agent: `alignprop-trainer/${VERSION}`,
    handle: (command) => trainer.handle(command),
  });

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130);
    process.stderr.write(`alignprop trainer: ${signal}: stopping after the current step (again to exit now)\n`);
    void trainer.handle("stop");
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const ready: ReadyLine = { alignprop: "ready", runId, runDir: runDir.path, ...server.endpoints, pid: process.pid };
  process.stdout.write(JSON.stringify(ready) + "\n");

  const code = await trainer.run(server);
  await server.close();
  runDir.close();
  tensorboard?.close();
  try {
    await writeReport(runDir.path);
  } catch (err) {
    process.stderr.write(`alignprop trainer: report.html not written: ${(err as Error).message}\n`);
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`alignprop trainer failed: ${err.message}\n`);
    process.exit(1);
  },
);
