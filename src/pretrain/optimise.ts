/**
 * One pretraining stage's optimisation loop: AdamW (PyTorch's, as the trainers use) on the given variables, the
 * learning rate warmed up linearly then cosine-decayed to a tenth, the global gradient norm clipped to 1. Each step
 * runs in one tf.tidy: `prepare` makes the step's inputs without gradient, `loss` is differentiated.
 */
import * as tf from "@tensorflow/tfjs";
import { AdamW } from "../algorithms/adamw.js";

export interface StageProgress {
  stage: string;
  step: number;
  steps: number;
  loss: number;
}

export interface Stage<I> {
  name: string;
  steps: number;
  learningRate: number;
  warmup: number;
  params: tf.Variable[];
  /** The step's inputs (no gradient flows into them). */
  prepare: (step: number) => I;
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
export function runStage<I>(stage: Stage<I>, onStep: (p: StageProgress) => void = () => {}): number[] {
  const options = { learningRate: stage.learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4 };
  const optimizer = new AdamW(stage.params, options);
  const wasTrainable = stage.params.map((p) => p.trainable);
  for (const p of stage.params) p.trainable = true; // tf.variableGrads skips non-trainable variables
  const losses: number[] = [];
  try {
    for (let step = 0; step < stage.steps; step++) {
      options.learningRate = learningRateAt(step, stage.steps, stage.learningRate, stage.warmup);
      const loss = tf.tidy(() => {
        const inputs = stage.prepare(step);
        const { value, grads } = tf.variableGrads(() => stage.loss(inputs), stage.params);
        const list = stage.params.map((p) => grads[p.name]!);
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
    stage.params.forEach((p, i) => (p.trainable = wasTrainable[i]!));
  }
  return losses;
}

/** Every parameter variable of a module tree (built with values). */
export function variablesOf(module: { namedParameters(): Array<[string, { tensor: tf.Variable }]> }): tf.Variable[] {
  return module.namedParameters().map(([, p]) => p.tensor);
}
