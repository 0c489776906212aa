/**
 * The torch engine's processes, `python -m <module>` with the project's Python (ALIGNPROP_PYTHON overrides it) and
 * `python/` importable: the trainer (`engine: "torch"`, `alignprop_torch.trainer`, started through spawnTrainer's
 * `command` seam with the same arguments as the TF.js trainer) and the bench's job runner (src/bench/run-torch-job.ts).
 * With `num_processes` above 1 the trainer runs under accelerate's launcher (torch.distributed's elastic agent
 * underneath), one rank per process: rank 0 binds the wire and prints the ready line, the others train beside it
 * (python/alignprop_torch/distributed.py).
 */
import { delimiter } from "node:path";
import type { SpawnOptions } from "../bridge/spawn.js";
import type { RunConfig } from "../config/index.js";
import { PYTHON_DIR, projectPython } from "./env.js";

export const TORCH_TRAINER_MODULE = "alignprop_torch.trainer";

export type ProcessLayout = Pick<RunConfig, "num_processes" | "num_machines" | "machine_rank" | "main_process_ip" | "main_process_port">;

/**
 * `accelerate launch` for a data-parallel job, up to its `-m <module>`. `--multi_gpu` is accelerate's multi-process
 * launcher (torchrun): on a host without GPUs its ranks use gloo on the CPU (accelerate 1.16's `--cpu` would start
 * one process, or mpirun). Precision is the run config's business (the trainer sets it), so accelerate's own is "no".
 */
export function accelerateLaunch(layout: ProcessLayout): string[] {
  const args = ["-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", String(layout.num_processes)];
  args.push("--num_machines", String(layout.num_machines), "--machine_rank", String(layout.machine_rank));
  if (layout.main_process_ip) args.push("--main_process_ip", layout.main_process_ip);
  if (layout.main_process_port) args.push("--main_process_port", String(layout.main_process_port));
  args.push("--mixed_precision", "no", "--dynamo_backend", "no");
  return args;
}

/** The trainer's command line: `python -m alignprop_torch.trainer`, under accelerate launch for several processes. */
export function torchTrainer(layout?: ProcessLayout, env: NodeJS.ProcessEnv = process.env): Required<Pick<SpawnOptions, "command" | "env">> {
  const { command, env: moduleEnv } = pythonModule(TORCH_TRAINER_MODULE, env);
  const [python, ...module] = command;
  const launcher = layout && layout.num_processes > 1 ? accelerateLaunch(layout) : [];
  return { command: [python, ...launcher, ...module], env: moduleEnv };
}

/** `python -m <module>` with the project's Python and `python/` importable (the env holds PYTHONPATH alone). */
export function pythonModule(module: string, env: NodeJS.ProcessEnv = process.env): Required<Pick<SpawnOptions, "command" | "env">> {
  const pythonPath = [PYTHON_DIR, env.PYTHONPATH].filter(Boolean).join(delimiter);
  return { command: [projectPython(), "-m", module], env: { PYTHONPATH: pythonPath } };
}
