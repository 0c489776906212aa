/**
 * `alignprop train` on a machine other than machine 0 of a multi-machine torch job (`machine_rank` > 0). That
 * machine holds none of the job's wire or run directory: rank 0, on machine 0, serves the wire and writes the run.
 * This starts accelerate's launcher for this machine's ranks on the run machine 0 created (the same path on every
 * machine: shared storage), passes their stderr through, and exits with the launcher's code.
 */
import { execa } from "execa";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { privateIpcEndpoints } from "../../bridge/endpoints.js";
import { ConfigError, type RunConfig } from "../../config/index.js";
import { torchTrainer } from "../../python/torch-trainer.js";
import { resolveResume, runFiles } from "../../run/index.js";

export async function trainOnAnotherMachine(config: RunConfig): Promise<number> {
  const { runDir, checkpoint } = config.resume_from
    ? resolveResume(config.resume_from)
    : { runDir: join(config.runs_dir, config.run_name), checkpoint: undefined };
  if (!config.resume_from && !config.run_name) {
    throw new ConfigError([{ field: "run_name", message: `"" with machine_rank=${config.machine_rank}: name the run machine 0 trains` }]);
  }
  const configPath = runFiles(runDir).config;
  if (!existsSync(configPath)) {
    throw new ConfigError([{ field: "run_name", message: `"${config.run_name}": ${configPath} does not exist; start machine 0 first, with the runs_dir on storage every machine shares` }]);
  }
  // The trainer takes endpoints whatever its rank; no rank here is rank 0, so none is bound.
  const endpoints = await privateIpcEndpoints();
  const { command, env } = torchTrainer(config);
  const [program, ...leading] = command;
  const args = ["--config", configPath, "--control", endpoints.control, "--events", endpoints.events, "--observe", endpoints.observe];
  if (checkpoint) args.push("--resume", checkpoint);
  process.stderr.write(`machine ${config.machine_rank} of ${config.num_machines}: ranks of run ${runDir}, joining ${config.main_process_ip}\n`);
  const launcher = execa(program, [...leading, ...args], { reject: false, stdin: "ignore", stdout: "inherit", stderr: "inherit", env, cleanup: true });
  const result = await launcher;
  return result.exitCode ?? 1;
}
