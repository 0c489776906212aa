/**
 * `alignprop train`: validate the config, create the run directory, start the trainer process and show it
 * (dashboard on a terminal, JSON lines with `--ci` or when stdout is not a terminal), or with `--headless` start it
 * with no front end, print its endpoints for `alignprop attach`, and wait for it.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { assertSafeBind, companionEventsEndpoint } from "../../bridge/endpoints.js";
import { spawnTrainer } from "../../bridge/spawn.js";
import { formatRunConfigHelp } from "../../config/index.js";
import { flag, parseArgv, takeOptions } from "../args.js";
import { EXIT, type CliCommand } from "../command.js";
import { showRun, wantsDashboard } from "../front-end.js";
import { prepareRun } from "../run-setup.js";

const Options = z.object({
  config: z.string().min(1, "needs the path of a JSON config file").optional(),
  ci: flag(),
  headless: flag(),
  bind: z.string().min(1).optional(),
  help: flag(),
});

const USAGE = `alignprop train [--config <file.json>] [--<config field> <value> ...] [--ci | --headless [--bind <endpoint>]]

  --config <file>     run config (JSON object of the fields below); flags override it
  --ci                no dashboard: one JSON object per event on stdout, summary on stderr
                      (automatic when stdout is not a terminal)
  --headless          start the trainer with no front end, print its endpoints, wait for it;
                      watch and control it with \`alignprop attach <control endpoint>\`
  --bind <endpoint>   with --headless: control endpoint, ipc://<path> or tcp://127.0.0.1:<port>
                      (default: ipc sockets in a private temp dir)

Config fields (TRL AlignPropConfig names; also accepted kebab-case, e.g. --num-epochs 10):
${formatRunConfigHelp()}`;

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
    if (positionals.length) throw new Error(`train takes no positional arguments (got "${positionals.join(" ")}")`);
    if (options.bind && !options.headless) throw new Error("--bind is only for --headless runs");
    if (options.bind) assertSafeBind(options.bind);
    const run = prepareRun(options.config, rest);
    for (const w of run.warnings) process.stderr.write(`warning: ${w}\n`);
    const trainerLog = join(run.runDir, "trainer.log");
    const echo = options.headless || !wantsDashboard(options.ci);
    const trainer = await spawnTrainer({
      configPath: run.configPath,
      endpoints: options.bind ? { control: options.bind, events: companionEventsEndpoint(options.bind) } : undefined,
      onStderr: (line) => {
        appendFileSync(trainerLog, line + "\n");
        if (echo) process.stderr.write(`[trainer] ${line}\n`);
      },
    });
    if (options.headless) return headless(trainer);
    // The trainer gets the terminal's SIGINT itself and stops cleanly; the CLI waits for it.
    process.on("SIGINT", () => void trainer.client.stop());
    process.on("SIGTERM", () => void trainer.client.stop());
    const code = await showRun(trainer.client, "train", options.ci);
    const exit = await trainer.exit;
    return code !== 0 ? code : (exit.exitCode ?? EXIT.failed);
  },
};

async function headless(trainer: Awaited<ReturnType<typeof spawnTrainer>>): Promise<number> {
  await trainer.client.close();
  const { ready } = trainer;
  process.stdout.write(JSON.stringify({ control: ready.control, events: ready.events, run_dir: ready.runDir, pid: ready.pid }) + "\n");
  process.stderr.write(`trainer ${ready.runId} running (pid ${ready.pid}); attach with:\n  alignprop attach ${ready.control}\n`);
  const forward = (signal: NodeJS.Signals) => trainer.process.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const exit = await trainer.exit;
  process.stderr.write(`trainer exited ${exit.signal ? `by ${exit.signal}` : `with code ${exit.exitCode}`}\n`);
  return exit.exitCode ?? EXIT.failed;
}
