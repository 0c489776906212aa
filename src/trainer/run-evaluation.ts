/**
 * The evaluation inside a run: after step 0 (the base model), every `eval_freq` steps and after the last step, one
 * pass of the eval set (src/eval/), its samples saved under images/eval/step-<N>/ and published with the monitors'
 * values as an `eval` event; with `best_metric`, a new best writes best/pytorch_lora_weights.safetensors and
 * best/best.json and is announced as a checkpoint with reason "best". A resumed run reads back the base samples
 * (for drift) and the best so far.
 */
import { create } from "@bufbuild/protobuf";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { CheckpointSavedSchema, EvalResultSchema, ImageBatchSchema, type Event } from "../gen/alignprop/v1/alignprop_pb.js";
import type { RunConfig } from "../config/index.js";
import { BestTracker, type BestEval } from "../eval/best.js";
import type { Evaluator } from "../eval/evaluator.js";
import { isMonitorValue } from "../eval/monitor-names.js";
import { writeFileAtomic } from "../io/atomic.js";
import { readJsonObject } from "../io/json-file.js";
import { readEvalImages, runFiles, type RunDir } from "../run/index.js";
import { imageMessages } from "./image-messages.js";

export interface RunEvaluationOptions {
  evaluator: Evaluator;
  freq: number;
  totalSteps: number;
  config: Pick<RunConfig, "best_metric" | "best_min_fidelity">;
  runDir: RunDir;
  /** Writes the current LoRA weights to a path (diffusers' file). */
  saveLora: (path: string) => Promise<void>;
  publish: (payload: Event["payload"]) => void;
}

export class RunEvaluation {
  private constructor(
    private readonly o: RunEvaluationOptions,
    private readonly best: BestTracker | undefined,
  ) {}

  /** `resumed`: the run continues from a checkpoint, so the base samples and the best so far are on disk. */
  static async open(o: RunEvaluationOptions, resumed: boolean): Promise<RunEvaluation> {
    const metric = o.config.best_metric;
    let best: BestTracker | undefined;
    if (metric && isMonitorValue(metric)) {
      const previous = resumed ? await readBest(runFiles(o.runDir.path).best) : undefined;
      best = new BestTracker({ metric, minFidelity: o.config.best_min_fidelity ?? null }, previous?.metric === metric ? previous : undefined);
    }
    if (resumed) {
      const base = await readEvalImages(o.runDir.path, 0);
      if (base) o.evaluator.useBase(base);
    }
    return new RunEvaluation(o, best);
  }

  /** Whether the evaluation runs after `step` steps. */
  due(step: number): boolean {
    return step % this.o.freq === 0 || step === this.o.totalSteps;
  }

  async run(step: number): Promise<void> {
    const outcome = this.o.evaluator.evaluate(step);
    const promptMetadata = outcome.samples.map((s) => ({ ...s.metadata }));
    const seeds = outcome.samples.map((s) => s.seed);
    const batch = { images: outcome.images, prompts: outcome.samples.map((s) => s.prompt), promptMetadata, rewards: outcome.rewards };
    const saved = await this.o.runDir.saveEvalImages(step, batch, seeds);
    const images = imageMessages(saved, batch);
    this.o.publish({
      case: "eval",
      value: create(EvalResultSchema, { step, monitors: outcome.monitors, images: create(ImageBatchSchema, { step, images }), seeds }),
    });
    if (this.best?.consider(step, outcome.monitors)) await this.saveBest(this.best.best!);
  }

  private async saveBest(best: BestEval): Promise<void> {
    const files = runFiles(this.o.runDir.path);
    // The weights first: best.json never names weights that are not there yet.
    await this.o.saveLora(files.bestLoraWeights);
    await writeFileAtomic(files.best, JSON.stringify(best, null, 2) + "\n");
    this.o.publish({
      case: "checkpoint",
      value: create(CheckpointSavedSchema, { step: best.step, epoch: Math.max(0, best.step - 1), path: dirname(files.bestLoraWeights), reason: "best" }),
    });
  }
}

/** The best so far of the run being resumed; undefined when it kept none yet. */
async function readBest(path: string): Promise<BestEval | undefined> {
  if (!existsSync(path)) return undefined;
  return (await readJsonObject(path)) as unknown as BestEval;
}
