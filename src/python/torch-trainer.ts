/**
 * The torch engine's trainer process (`engine: "torch"`): `python -m alignprop_torch.trainer` with the project's
 * Python (ALIGNPROP_PYTHON overrides it), `python/` importable, started through spawnTrainer's `command` seam with
 * the same arguments as the TF.js trainer.
 */
import { delimiter } from "node:path";
import type { SpawnOptions } from "../bridge/spawn.js";
import { PYTHON_DIR, projectPython } from "./env.js";

export const TORCH_TRAINER_MODULE = "alignprop_torch.trainer";

export function torchTrainer(env: NodeJS.ProcessEnv = process.env): Required<Pick<SpawnOptions, "command" | "env">> {
  return pythonModule(TORCH_TRAINER_MODULE, env);
}

/** `python -m <module>` with the project's Python and `python/` importable (the env holds PYTHONPATH alone). */
export function pythonModule(module: string, env: NodeJS.ProcessEnv = process.env): Required<Pick<SpawnOptions, "command" | "env">> {
  const pythonPath = [PYTHON_DIR, env.PYTHONPATH].filter(Boolean).join(delimiter);
  return { command: [projectPython(), "-m", module], env: { PYTHONPATH: pythonPath } };
}
