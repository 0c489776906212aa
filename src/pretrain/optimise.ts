/**
 * One pretraining stage's optimisation loop: AdamW (PyTorch's, as the trainers use) on the given variables, the
 * learning rate warmed up linearly then cosine-decayed to a tenth, the global gradient norm clipped to 1. Each step
 * runs in one tf.tidy: `prepare` makes the step's inputs without gradient, `loss` is differentiated.
 */
import * as tf from "@tensorflow/tfjs";
import { AdamW } from "../algorithms/adamw.js";
import { instanceId, releaseTraced, tracedGradients } from "../tf/ort/traced-call.js";

export interface StageProgress {
  stage: string;
  step: number;
  steps: number;
  loss: number;
}

export interface Stage<I extends Record<string, tf.Tensor>> {
  name: string;
  steps: number;
  learningRate: number;
  warmup: number;
  params: tf.Variable[];
  /** The step's inputs (no gradient flows into them): every value `loss` reads that changes from step to step. */
  prepare: (step: number) => I;
  /** A pure function of the inputs and `params`: on wasm-ort a step is one traced graph (tracedGradients). */
  loss: (inputs: I) => tf.Scalar;
  /** After each update (e.g. clamping a parameter). */
  afterStep?: () => void;
}

const MAX_GRAD_NORM = 1;

export function learningRateAt(step: number, steps: number, peak: number, warmup: number): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = (step - warmup) / Math.max(1, steps - warmup);
  return peak * (0.1 + 0.45 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
}

/** Runs the stage; returns the loss of every step. */
export function runStage<I extends Record<string, tf.Tensor>>(stage: Stage<I>, onStep: (p: StageProgress) => void = () => {}): number[] {
  const options = { learningRate: stage.learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4 };
  const optimizer = new AdamW(stage.params, options);
  const wasTrainable = stage.params.map((p) => p.trainable);
  // Trainable for the step: checkpointed blocks differentiate their trainable weights (src/models/checkpointed.ts).
  for (const p of stage.params) p.trainable = true;
  const key = `pretrain ${stage.name}|${instanceId(stage)}`;
  const losses: number[] = [];
  try {
    for (let step = 0; step < stage.steps; step++) {
      options.learningRate = learningRateAt(step, stage.steps, stage.learningRate, stage.warmup);
      const loss = tf.tidy(() => {
        const inputs = stage.prepare(step);
        const { value, grads } = tracedGradients(key, Object.values(inputs), stage.params, () => stage.loss(inputs));
        const list = grads.map((g, i) => g ?? tf.zerosLike(stage.params[i]!));
        const norm = Math.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!);
        const scale = Math.min(1, MAX_GRAD_NORM / (norm + 1e-6));
        optimizer.apply(scale < 1 ? list.map((g) => tf.mul(g, scale)) : list);
        return value.dataSync()[0]!;
      });
      if (!Number.isFinite(loss)) throw new Error(`pretraining stage ${stage.name}: the loss is ${loss} at step ${step + 1}`);
      stage.afterStep?.();
      losses.push(loss);
      onStep({ stage: stage.name, step: step + 1, steps: stage.steps, loss });
    }
  } finally {
    optimizer.dispose();
    releaseTraced(key);
    stage.params.forEach((p, i) => (p.trainable = wasTrainable[i]!));
  }
  return losses;
}

/** Every parameter variable of a module tree (built with values). */
export function variablesOf(module: { namedParameters(): Array<[string, { tensor: tf.Variable }]> }): tf.Variable[] {
  return module.namedParameters().map(([, p]) => p.tensor);
}
