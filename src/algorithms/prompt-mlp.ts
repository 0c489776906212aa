/**
 * The stand-in training job until the diffusion stack lands: a prompt-conditioned MLP image generator trained the
 * AlignProp way, by backpropagating a differentiable reward through the generated images.
 *
 *   x = [onehot(colour), onehot(shape), z ~ N(0, I)]          // [B, 19]
 *   image = sigmoid(W2 · relu(W1 · x + b1) + b2)              // [B, S, S, 3]
 *   loss = −mean(reward(image, prompt))
 *
 * AdamW (decoupled weight decay), global-norm clipping to `maxGradNorm`, gradient accumulation over micro-batches.
 */
import * as tf from "@tensorflow/tfjs";
import { COLOUR_NAMES, SHAPES, drawPrompt, type ShapePrompt } from "../data/shape-prompts.js";
import { floatsToImages } from "../io/png.js";
import type { TensorMap } from "../io/safetensors.js";
import { colourMatchReward, targetImages } from "../rewards/colour-match.js";
import type { StepResult, TrainingJob } from "../trainer/job.js";
import { Rng } from "../util/rng.js";

export interface PromptMlpOptions {
  seed: number;
  batchSize: number;
  accumulationSteps: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  maxGradNorm: number;
  imageSize?: number;
  hidden?: number;
}

const NOISE_DIM = 8;
const COND_DIM = COLOUR_NAMES.length + SHAPES.length;

export class PromptMlpJob implements TrainingJob {
  readonly name = "prompt-mlp (stand-in image generator)";
  private readonly rng: Rng;
  private readonly size: number;
  private readonly params: Record<string, tf.Variable>;
  private readonly optimizer: tf.AdamOptimizer;

  constructor(private readonly opts: PromptMlpOptions) {
    this.rng = new Rng(opts.seed);
    this.size = opts.imageSize ?? 32;
    const hidden = opts.hidden ?? 128;
    const out = this.size * this.size * 3;
    const init = (shape: [number, number], seed: number, scale = 1) =>
      tf.tidy(() => tf.mul(tf.randomNormal(shape, 0, Math.sqrt(2 / shape[0]), "float32", seed), scale));
    const variable = (initial: tf.Tensor) => {
      const v = tf.variable(initial, true);
      initial.dispose();
      return v;
    };
    this.params = {
      "net.0.weight": variable(init([COND_DIM + NOISE_DIM, hidden], opts.seed * 2 + 1)),
      "net.0.bias": variable(tf.zeros([hidden])),
      "net.2.weight": variable(init([hidden, out], opts.seed * 2 + 2, 0.1)),
      "net.2.bias": variable(tf.zeros([out])),
    };
    this.optimizer = tf.train.adam(opts.learningRate, opts.beta1, opts.beta2, opts.epsilon);
  }

  step({ keepImages }: { keepImages: boolean }): StepResult {
    const { accumulationSteps, batchSize } = this.opts;
    const micro = Array.from({ length: accumulationSteps }, () =>
      Array.from({ length: batchSize }, () => drawPrompt(this.rng)),
    );
    // One explicit scope: every tensor the step makes is released when it ends (tf.tidy cannot return plain objects).
    tf.engine().startScope();
    try {
      const vars = Object.values(this.params);
      let grads: tf.Tensor[] = vars.map((v) => tf.zerosLike(v));
      let lossSum = 0;
      const rewards: number[] = [];
      let lastImages: Float32Array | undefined;
      for (const prompts of micro) {
        const x = this.inputs(prompts);
        const targets = targetImages(prompts, this.size);
        // Kept past variableGrads' inner tidy so the step can read them; released just below.
        let images: tf.Tensor4D | undefined;
        let batchRewards: tf.Tensor1D | undefined;
        const { value, grads: g } = tf.variableGrads(() => {
          images = tf.keep(this.generate(x));
          batchRewards = tf.keep(colourMatchReward(images, targets));
          // Mean over the accumulated micro-batches: each contributes 1/k of the step's loss.
          return tf.div(tf.neg(tf.mean(batchRewards)), accumulationSteps) as tf.Scalar;
        }, vars);
        grads = vars.map((v, i) => tf.add(grads[i]!, g[v.name]!));
        lossSum += value.dataSync()[0]!;
        rewards.push(...batchRewards!.dataSync());
        lastImages = images!.dataSync() as Float32Array;
        images!.dispose();
        batchRewards!.dispose();
      }
      const gradNorm = Math.sqrt(grads.reduce((s, g) => s + tf.sum(tf.square(g)).dataSync()[0]!, 0));
      const scale = Math.min(1, this.opts.maxGradNorm / (gradNorm + 1e-6));
      const lr = this.opts.learningRate;
      this.optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: tf.mul(grads[i]!, scale) })));
      // AdamW: decoupled weight decay, w ← w − lr·λ·w.
      for (const v of vars) v.assign(tf.sub(v, tf.mul(v, lr * this.opts.weightDecay)));
      const result: StepResult = { loss: lossSum, rewards, gradNorm, lr };
      if (keepImages && lastImages) {
        const prompts = micro[micro.length - 1]!;
        result.images = {
          images: floatsToImages(lastImages, batchSize, this.size, this.size),
          prompts: prompts.map((p) => p.prompt),
          promptMetadata: prompts.map((p) => ({ ...p.metadata })),
          rewards: rewards.slice(-batchSize),
        };
      }
      return result;
    } finally {
      tf.engine().endScope();
    }
  }

  async checkpointState(): Promise<{ tensors: TensorMap; rngState: number }> {
    const tensors: TensorMap = {};
    // Float32Array.from: Adam's `iter` counter is int32, and checkpoints hold F32 (exact for counts below 2^24).
    const read = async (name: string, t: tf.Tensor) => (tensors[name] = { shape: t.shape, data: Float32Array.from(await t.data()) });
    for (const [name, v] of Object.entries(this.params)) await read(name, v);
    // getWeights() returns the slot variables plus a fresh `iter` scalar, which is ours to release.
    // Slots are named "<variable name>/m" (TF.js's unique variable names); store them under the parameter's key.
    const keyOf = new Map(Object.entries(this.params).map(([key, v]) => [v.name, key]));
    for (const slot of await this.optimizer.getWeights()) {
      const [variable, moment] = slot.name.split("/");
      await read(`optimizer.${moment ? `${keyOf.get(variable!) ?? variable}/${moment}` : slot.name}`, slot.tensor);
      if (!(slot.tensor instanceof tf.Variable)) slot.tensor.dispose();
    }
    return { tensors, rngState: this.rng.state };
  }

  async restore(saved: { tensors: TensorMap; rngState: number }): Promise<void> {
    const need = (key: string) => {
      const t = saved.tensors[key];
      if (!t) throw new Error(`checkpoint has no tensor "${key}"`);
      return t;
    };
    for (const [key, v] of Object.entries(this.params)) {
      const t = need(key);
      if (t.shape.join(",") !== v.shape.join(",")) throw new Error(`checkpoint tensor "${key}" has shape [${t.shape}], the model [${v.shape}]`);
      tf.tidy(() => v.assign(tf.tensor(t.data, t.shape)));
    }
    // Adam's slots in its own order: the step counter, then every first moment, then every second moment.
    const entries = Object.entries(this.params);
    const slots = [
      { name: "iter", tensor: tf.scalar(need("optimizer.iter").data[0]!, "int32") },
      ...["m", "v"].flatMap((moment) =>
        entries.map(([key, v]) => ({ name: `${v.name}/${moment}`, tensor: tf.tensor(need(`optimizer.${key}/${moment}`).data, v.shape) })),
      ),
    ];
    await this.optimizer.setWeights(slots);
    for (const s of slots) s.tensor.dispose();
    this.rng.state = saved.rngState;
  }

  dispose(): void {
    for (const v of Object.values(this.params)) v.dispose();
    this.optimizer.dispose();
  }

  /** [B, COND_DIM + NOISE_DIM]: the prompt's one-hot condition and fresh noise. */
  private inputs(prompts: ShapePrompt[]): tf.Tensor2D {
    const x = new Float32Array(prompts.length * (COND_DIM + NOISE_DIM));
    prompts.forEach((p, b) => {
      const row = b * (COND_DIM + NOISE_DIM);
      x[row + COLOUR_NAMES.indexOf(p.metadata.colour)] = 1;
      x[row + COLOUR_NAMES.length + SHAPES.indexOf(p.metadata.shape)] = 1;
      x.set(this.rng.normal(NOISE_DIM), row + COND_DIM);
    });
    return tf.tensor2d(x, [prompts.length, COND_DIM + NOISE_DIM]);
  }

  private generate(x: tf.Tensor2D): tf.Tensor4D {
    const p = this.params;
    const h = tf.relu(tf.add(tf.matMul(x, p["net.0.weight"]!), p["net.0.bias"]!)); // [B, hidden]
    const out = tf.sigmoid(tf.add(tf.matMul(h, p["net.2.weight"]!), p["net.2.bias"]!)); // [B, S*S*3]
    return tf.reshape(out, [x.shape[0], this.size, this.size, 3]);
  }
}
