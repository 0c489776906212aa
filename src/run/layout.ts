/**
 * Every name in a run directory (`runs/<name>/`), written once; see README.md beside this file for the format.
 * Paths are relative to the run directory unless a function takes `runDir`.
 */
import { join } from "node:path";

/** The validated run config (RunConfig, snake_case TRL names), pretty-printed JSON. */
export const CONFIG_FILE = "config.json";
/** Every event but image pixels, one camelCase proto-JSON `Event` per line. */
export const EVENTS_FILE = "events.jsonl";
export const IMAGES_DIR = "images";
/** Beside each step's PNGs: `[{file, prompt, prompt_metadata, reward}]`. */
export const CAPTIONS_FILE = "captions.json";
export const CHECKPOINTS_DIR = "checkpoints";
/** Inside a checkpoint directory: LoRA weights, optimizer slots (safetensors, PyTorch layout). */
export const CHECKPOINT_TENSORS_FILE = "model.safetensors";
/** Inside a checkpoint directory: `CheckpointState` as JSON. */
export const CHECKPOINT_STATE_FILE = "state.json";
/** diffusers' LoRA file (`pipe.load_lora_weights(run_dir)` finds it by this name). */
export const LORA_WEIGHTS_FILE = "pytorch_lora_weights.safetensors";
export const REPORT_FILE = "report.html";
/** The best checkpoint by `best_metric`: its LoRA file (LORA_WEIGHTS_FILE) and BEST_FILE. */
export const BEST_DIR = "best";
/** Inside BEST_DIR: `{step, metric, value, monitors}` of the evaluation that chose it. */
export const BEST_FILE = "best.json";
/** The trainer process's stderr, line by line, as the CLI received it. */
export const TRAINER_LOG_FILE = "trainer.log";
/** With CURVE: the public key of the CLI that started the run, which the trainer allows as a controller. */
export const SUPERVISOR_KEY_FILE = "supervisor.public.key";

/** `checkpoint_<step>`: the only names `listCheckpoints` counts. */
export const CHECKPOINT_NAME = /^checkpoint_(\d+)$/;

/** `images/step-<N>` */
export const stepImagesDir = (step: number): string => join(IMAGES_DIR, `step-${step}`);
/** `images/eval/step-<N>`: the eval samples after N steps (N = 0: the base model). */
export const evalImagesDir = (step: number): string => join(IMAGES_DIR, "eval", `step-${step}`);
/** `checkpoints/checkpoint_<N>` */
export const checkpointDir = (step: number): string => join(CHECKPOINTS_DIR, `checkpoint_${step}`);

/** The absolute paths of one run directory's files. */
export function runFiles(runDir: string) {
  return {
    config: join(runDir, CONFIG_FILE),
    events: join(runDir, EVENTS_FILE),
    checkpoints: join(runDir, CHECKPOINTS_DIR),
    loraWeights: join(runDir, LORA_WEIGHTS_FILE),
    best: join(runDir, BEST_DIR, BEST_FILE),
    bestLoraWeights: join(runDir, BEST_DIR, LORA_WEIGHTS_FILE),
    report: join(runDir, REPORT_FILE),
    trainerLog: join(runDir, TRAINER_LOG_FILE),
    supervisorKey: join(runDir, SUPERVISOR_KEY_FILE),
  };
}
