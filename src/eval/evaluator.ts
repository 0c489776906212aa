/**
 * One evaluation pass (README.md, "Evaluation"): sample the fixed eval set through the current weights without gradient,
 * score each sample with the run's training reward, and let every monitor measure the samples. The first pass at
 * step 0 is the base model's, kept as the reference `drift` measures from (a resumed run reads it back from
 * images/eval/step-0).
 */
import type { SamplingComponents } from "../diffusion/pipeline-sample.js";
import { imagesToFloats, type RgbImage } from "../io/png.js";
import type { Reward } from "../rewards/reward.js";
import { evalSamples, sampleEvalSet, type EvalSample, type EvalSampling, type EvalSet } from "./eval-set.js";
import { isMonitorName } from "./monitor-names.js";
import { scoreSamples, type EvalSamples, type Monitor } from "./monitors/monitor.js";
import { loadMonitors } from "./monitors/registry.js";

export interface EvalOutcome {
  step: number;
  /** Every monitor's values by name. */
  monitors: Record<string, number>;
  samples: readonly EvalSample[];
  images: RgbImage[];
  rewards: number[];
}

export interface EvaluatorOptions extends EvalSampling {
  set: EvalSet;
  monitors: readonly string[];
}

export class Evaluator {
  private base: Float32Array | undefined;
  private readonly samples: EvalSample[];

  private constructor(
    private readonly c: SamplingComponents,
    private readonly reward: Reward,
    private readonly sampling: EvalSampling,
    set: EvalSet,
    private readonly monitors: Monitor[],
  ) {
    this.samples = evalSamples(set);
  }

  static async create(c: SamplingComponents, reward: Reward, o: EvaluatorOptions): Promise<Evaluator> {
    if (o.set.prompts.length === 0) throw new Error("eval_prompts is empty and the model names none: give eval_prompts, or set eval_freq to 0");
    if (o.set.seeds.length === 0) throw new Error("eval_seeds is empty: give at least one noise seed");
    const unknown = o.monitors.find((m) => !isMonitorName(m));
    if (unknown !== undefined) throw new Error(`eval_monitors: ${JSON.stringify(unknown)} is not a monitor`);
    return new Evaluator(c, reward, o, o.set, await loadMonitors(o.monitors.filter(isMonitorName)));
  }

  /** The base model's samples (the evaluation at step 0), for `drift`; a resumed run hands them back. */
  useBase(images: readonly RgbImage[]): void {
    if (images.length === this.samples.length) this.base = imagesToFloats(images);
  }

  evaluate(step: number): EvalOutcome {
    const images = sampleEvalSet(this.c, this.samples, this.sampling);
    const pixels = imagesToFloats(images);
    const { height, width } = images[0]!;
    if (step === 0 && this.base === undefined) this.base = pixels;
    const prompts = this.samples.map((s) => s.prompt);
    const metadata = this.samples.map((s) => s.metadata);
    const rewards = scoreSamples(this.reward, { prompts, metadata, pixels, height, width }, this.sampling.batchSize);
    const samples: EvalSamples = { prompts, metadata, pixels, height, width, rewards, base: this.base };
    const monitors: Record<string, number> = Object.assign({}, ...this.monitors.map((m) => m.measure(samples)));
    return { step, monitors, samples: this.samples, images, rewards };
  }
}
