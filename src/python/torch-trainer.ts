/**
 * The torch engine's processes, `python -m <module>` with the project's Python (ALIGNPROP_PYTHON overrides it) and
 * `python/` importable: the trainer (`alignprop_torch.trainer`, started through spawnTrainer's `command` seam with
 * the same arguments as the TF.js trainer) and the bench's step runner (`alignprop_torch.run_steps`).
 */
import { delimiter } from "node:path";
import type { SpawnOptions } from "../bridge/spawn.js";
import { PYTHON_DIR, projectPython } from "./env.js";

export const TORCH_TRAINER_MODULE = "alignprop_torch.trainer";

/** `python -m <module>` with the project's Python and `python/` on PYTHONPATH (before the caller's). */
export function torchModule(module: string, env: NodeJS.ProcessEnv = process.env): Required<Pick<SpawnOptions, "command" | "env">> {
  const pythonPath = [PYTHON_DIR, env.PYTHONPATH].filter(Boolean).join(delimiter);
  return { command: [projectPython(), "-m", module], env: { PYTHONPATH: pythonPath } };
}

export function torchTrainer(env: NodeJS.ProcessEnv = process.env): Required<Pick<SpawnOptions, "command" | "env">> {
  return torchModule(TORCH_TRAINER_MODULE, env);
}
