/**
 * `alignprop train`: validate the config, create the run directory, start the trainer process and show it
 * (dashboard on a terminal, JSON lines with `--ci` or when stdout is not a terminal), or with `--headless` start it
 * with no front end, print its endpoints for `alignprop attach`, and wait for it.
 */
import { appendFileSync, rmSync, writeFileSync } from "node:fs";
import { curveKeyPair } from "zeromq";
import { z } from "zod";
import { readKeyPair } from "../../bridge/curve.js";
import { assertSafeBind, companionEndpoints } from "../../bridge/endpoints.js";
import { spawnTrainer, type SpawnedTrainer } from "../../bridge/spawn.js";
import { formatRunConfigHelp, formatUnhonouredHelp, loadRunConfig } from "../../config/index.js";
import { flag, parseArgv, takeOptions, UsageError } from "../args.js";
import { EXIT, type CliCommand } from "../command.js";
import { showRun, wantsDashboard } from "../front-end.js";
import { pushRun } from "../../io/hub-push.js";
import { torchTrainer } from "../../python/torch-trainer.js";
import { prepareRun, readEventsLog, runFiles, type PreparedRun } from "../../run/index.js";
import { preflight } from "../preflight.js";
import { trainOnAnotherMachine } from "./train-machine.js";

const Options = z.object({
  config: z.string().min(1, "needs the path of a JSON config file").optional(),
  resume: z.string().min(1, "needs a run directory or a checkpoint directory").optional(),
  ci: flag(),
  headless: flag(),
  bind: z.string().min(1).optional(),
  server_key: z.string().min(1, "needs the directory `alignprop keygen` wrote").optional(),
  allow: z.string().min(1, "needs client public key files or directories, comma-separated").optional(),
  allow_observer: z.string().min(1, "needs observer public key files or directories, comma-separated").optional(),
  help: flag(),
});

const list = (v: string | undefined) => (v ? v.split(",").filter(Boolean) : []);

const USAGE = `alignprop train [--config <file.json>] [--<config field> <value> ...] [--ci | --headless [--bind <endpoint>]]

  --config <file>     run config (JSON object of the fields below); flags override it
  --resume <dir>      continue a run (its directory: newest checkpoint; or a checkpoint_<N> directory) with its
                      own config.json; flags given now override it (e.g. --num_epochs 200)
  --ci                no dashboard: one JSON object per event on stdout, summary on stderr
                      (automatic when stdout is not a terminal)
  --headless          start the trainer with no front end, print its endpoints, wait for it;
                      watch and control it with \`alignprop attach <control endpoint>\`
  --bind <endpoint>   with --headless: control endpoint, ipc://<path> or tcp://<host>:<port>; events and
                      observers use the next two ports (default: ipc sockets in a private temp dir)
  --server-key <dir>  with --headless: encrypt and authenticate with CURVE using the key pair in <dir>
                      (\`alignprop keygen <dir>\`); required to bind a non-loopback address
  --allow <paths>     client public keys that may control the run (files or directories, comma-separated)
  --allow-observer <paths>  client public keys that may only watch (attach --observer)

Engines (--engine): tfjs (default) trains in this Node process's TF.js (--backend picks its kernels); its reward
and image_hook modules are JavaScript (.js/.mjs/.cjs). torch runs \`python -m alignprop_torch.trainer\` in the
project's Python (ALIGNPROP_PYTHON overrides it): diffusers + peft + PyTorch, CUDA when present, else the CPU;
its reward and image_hook modules are Python: file.py (calling reward_function / image_samples_hook, TRL's
signatures) or file.py:function. A module in the other engine's language is refused naming the field, the value
and the engine that runs it. torch trains AlignProp and DDPO (--algorithm); --backend is refused naming the field.
Its log_with ("tensorboard" or "wandb") goes through accelerate's trackers, set up by tracker_kwargs,
accelerator_kwargs and project_kwargs as TRL did (wandb offline: WANDB_MODE=offline). Both write the same run
directory; a checkpoint resumes only in the engine that wrote it.

Config fields (TRL AlignPropConfig names; also accepted kebab-case, e.g. --num-epochs 10; null is TRL's None):
${formatRunConfigHelp()}

Fields an engine accepts but cannot honour (set explicitly, each gets one warning when the run starts):
${formatUnhonouredHelp()}`;

export const train: CliCommand = {
  name: "train",
  summary: "fine-tune a pipeline against a reward (dashboard, --ci, or --headless)",
  usage: USAGE,
  async run(argv) {
    const { flags, positionals } = parseArgv(argv, new Set(["ci", "headless", "help"]));
    const { options, rest } = takeOptions(Options, flags);
    if (options.help) {
      process.stdout.write(USAGE + "\n");
      return EXIT.ok;
    }
    if (positionals.length) throw new UsageError(`train takes no positional arguments (got "${positionals.join(" ")}")`);
    if (options.bind && !options.headless) throw new UsageError("--bind is only for --headless runs");
    if (options.server_key && !options.headless) throw new UsageError("--server-key is only for --headless runs");
    if ((options.allow || options.allow_observer) && !options.server_key) throw new UsageError("--allow and --allow-observer need --server-key");
    if (options.server_key && !options.allow) throw new UsageError("--server-key needs --allow <client public key file|dir>: nobody could control the run");
    const serverKeys = options.server_key ? readKeyPair(options.server_key) : undefined;
    if (options.bind) {
      try {
        assertSafeBind(options.bind, Boolean(serverKeys));
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    }
    // Machines other than machine 0 of a multi-machine job only add ranks to the run machine 0 serves.
    if ((rest.machine_rank ?? rest["machine-rank"] ?? "0") !== "0") {
      const { config } = loadRunConfig({ file: options.config, overrides: { ...rest, ...(options.resume ? { resume_from: options.resume } : {}) } });
      if (config.engine === "torch") return trainOnAnotherMachine(config);
    }
    const run = prepareRun(options.config, options.resume ? { ...rest, resume_from: options.resume } : rest, (config) => preflight(config));
    // The trainer publishes the warnings (dashboard log, --ci, events.jsonl); headless, nobody watches yet.
    if (options.headless) for (const w of run.warnings) process.stderr.write(`warning: ${w}
`);
    // Every run has its trainer.log, empty when the trainer wrote nothing to stderr.
    const { trainerLog, supervisorKey: ownKeyFile } = runFiles(run.runDir);
    appendFileSync(trainerLog, "");
    // The front ends show what the trainer reports as events; its raw stderr goes to the terminal only when headless.
    const echo = options.headless;
    // This process controls the trainer too: with CURVE it uses a one-run key pair the trainer is told to allow.
    const own = serverKeys ? curveKeyPair() : undefined;
    if (own) writeFileSync(ownKeyFile, own.publicKey + "\n", { mode: 0o600 });
    let trainer: SpawnedTrainer;
    try {
      trainer = await spawnTrainer({
        ...(run.config.engine === "torch" ? torchTrainer(run.config) : {}),
        configPath: run.configPath,
        resume: run.checkpoint,
        warnings: run.warnings,
        endpoints: options.bind ? { control: options.bind, ...companionEndpoints(options.bind) } : undefined,
        curve: options.server_key
          ? { serverKeyDir: options.server_key, allow: [...list(options.allow), ownKeyFile], allowObservers: list(options.allow_observer) }
          : undefined,
        clientCurve: serverKeys && own ? { serverPublicKey: serverKeys.publicKey, keys: own } : undefined,
        onStderr: (line) => {
          appendFileSync(trainerLog, line + "\n");
          if (echo) process.stderr.write(`[trainer] ${line}\n`);
        },
      });
    } catch (error) {
      await removeIfNeverTrained(run);
      throw error;
    }
    const code = options.headless ? await headless(trainer) : await front(trainer, options.ci);
    await removeIfNeverTrained(run);
    if (code === EXIT.ok && run.config.push_to_hub) await pushAtEnd(run.runDir, run.config.hub_model_id);
    return code;
  },
};

/**
 * SIGINT/SIGTERM: the first asks the trainer to stop (it finishes the step and saves), a second ends both at once.
 * A terminal's Ctrl+C reaches the trainer too (same process group); a signal sent to the CLI alone is passed on.
 */
function onSignals(trainer: SpawnedTrainer, first: (signal: NodeJS.Signals) => void, announce: boolean): void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    if (++count === 1) {
      // Headless runs show the trainer's own stderr, which says the same.
      if (announce) process.stderr.write(`alignprop train: ${signal}: stopping after the current step (again to exit now)\n`);
      return first(signal);
    }
    trainer.process.kill("SIGKILL");
    process.stderr.write(`alignprop train: ${signal} again: trainer ${trainer.ready.pid} killed; the run keeps its last checkpoint\n`);
    // Only as long as the kernel takes to reap it: no trainer outlives the CLI.
    void trainer.exit.finally(() => process.exit(130));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

async function front(trainer: SpawnedTrainer, ci: boolean): Promise<number> {
  onSignals(trainer, () => void trainer.client.stop(), true);
  const code = await showRun(trainer.client, "train", ci);
  const exit = await trainer.exit;
  return code !== 0 ? code : (exit.exitCode ?? EXIT.failed);
}

/**
 * A new run that ended before its first step (refused by the trainer while loading: a truncated weights file, a
 * reward that throws; or stopped while loading) leaves nothing behind: its folder held only the config and events.
 */
async function removeIfNeverTrained(run: PreparedRun): Promise<void> {
  if (run.checkpoint) return;
  const steps = await readEventsLog(runFiles(run.runDir).events).then((log) => log.events.filter((e) => e.payload.case === "metrics").length, () => 0);
  if (steps > 0) return;
  rmSync(run.runDir, { recursive: true, force: true });
  process.stderr.write(`no step was trained: removed ${run.runDir}\n`);
}

async function headless(trainer: SpawnedTrainer): Promise<number> {
  await trainer.client.close();
  const { ready } = trainer;
  process.stdout.write(
    JSON.stringify({ control: ready.control, events: ready.events, observe: ready.observe, run_dir: ready.runDir, pid: ready.pid }) + "\n",
  );
  process.stderr.write(`trainer ${ready.runId} running (pid ${ready.pid}); attach with:\n  alignprop attach ${ready.control}\n`);
  onSignals(trainer, (signal) => trainer.process.kill(signal), false);
  const exit = await trainer.exit;
  process.stderr.write(`trainer exited ${exit.signal ? `by ${exit.signal}` : `with code ${exit.exitCode}`}\n`);
  return exit.exitCode ?? EXIT.failed;
}

/**
 * `push_to_hub`: a run that ended well pushes exactly what `alignprop push` would. A failed push does not fail the
 * training: the run directory keeps everything, and the message says how to retry.
 */
async function pushAtEnd(runDir: string, repo: string): Promise<void> {
  const log = (line: string) => process.stderr.write(`push: ${line}\n`);
  try {
    const result = await pushRun(runDir, { repo, log });
    log(`pushed to ${result.url}`);
  } catch (error) {
    process.stderr.write(
      `alignprop train: the run finished, but the push to ${repo} failed: ${(error as Error).message}\n` +
        `  everything is in ${runDir}; retry with: alignprop push ${runDir} --repo ${repo}\n`,
    );
  }
}
