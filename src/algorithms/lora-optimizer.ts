/**
 * The optimisation both algorithms share, as TRL runs it under accelerate: the LoRA weights' gradients summed over
 * the accumulated micro-batches (or PPO terms), the sum's global norm clipped to `train_max_grad_norm` (torch's
 * `clip_grad_norm_`: scaled by max/(norm + 1e-6) when above), one AdamW step; and the state a checkpoint holds.
 *
 * Checkpoint keys: the LoRA weights under their diffusers file keys (`unet.<module path>.lora.down.weight`, PyTorch
 * layout, so a checkpoint's LoRA tensors are the exported file's), AdamW's moments under
 * `optimizer.<same key>.exp_avg` / `.exp_avg_sq`, and its step count `optimizer.step`.
 */
import * as tf from "@tensorflow/tfjs";
import type { RunConfig } from "../config/index.js";
import type { TensorMap } from "../io/safetensors.js";
import type { LoraAdapters } from "../models/lora.js";
import { fromTorch } from "../models/nn/state-dict.js";
import { AdamW, type AdamWConfig } from "./adamw.js";

export type OptimizerConfig = AdamWConfig & Pick<RunConfig, "train_max_grad_norm">;

const STEP_KEY = "optimizer.step";

/** PyTorch layout of a TF.js-layout linear tensor: [in, out] → [out, in]. */
const torchData = (t: tf.Tensor) => tf.tidy(() => tf.transpose(t)).dataSync() as Float32Array;

export class LoraOptimizer {
  readonly params: tf.Variable[];
  private readonly adamw: AdamW;
  /** The gradients accumulated since the last step, one per parameter; undefined before the first. */
  private sum: tf.Tensor[] | undefined;

  constructor(
    private readonly lora: LoraAdapters,
    private readonly config: OptimizerConfig,
  ) {
    if (lora.layers.size === 0) throw new Error("the UNet has no LoRA adapters; attach them (attachLora) before training");
    this.params = lora.trainableVariables();
    this.adamw = AdamW.fromConfig(this.params, config);
  }

  /** Adds `grads[i] / dividedBy` for each parameter to the sum (accelerate divides each loss by the terms per step). */
  accumulate(grads: readonly tf.Tensor[], dividedBy = 1): void {
    const scaled = (g: tf.Tensor) => (dividedBy === 1 ? g : tf.div(g, dividedBy));
    const previous = this.sum;
    this.sum = tf.tidy(() => grads.map((g, i) => (previous ? tf.add(previous[i]!, scaled(g)) : tf.add(scaled(g), 0))));
    if (previous) tf.dispose(previous);
  }

  /** Clips the accumulated gradient, takes one AdamW step, and starts a new sum. Returns the norm before clipping. */
  step(): number {
    const grads = this.sum;
    if (!grads) throw new Error("LoraOptimizer.step: no gradients were accumulated");
    const norm = Math.sqrt(tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!));
    const clip = Math.min(1, this.config.train_max_grad_norm / (norm + 1e-6));
    tf.tidy(() => this.adamw.apply(clip < 1 ? grads.map((g) => tf.mul(g, clip)) : grads));
    this.discard();
    return norm;
  }

  /** Drops what was accumulated without stepping. */
  discard(): void {
    if (this.sum) tf.dispose(this.sum);
    this.sum = undefined;
  }

  /** The LoRA weights and AdamW's state, under the checkpoint keys above. */
  state(): TensorMap {
    return {
      ...this.named(this.params),
      ...this.named(this.adamw.expAvg, "optimizer.", ".exp_avg"),
      ...this.named(this.adamw.expAvgSq, "optimizer.", ".exp_avg_sq"),
      [STEP_KEY]: { shape: [1], data: Float32Array.of(this.adamw.stepCount) },
    };
  }

  /**
   * One tensor per LoRA parameter (weights, moments, gradients: the parameters' TF.js layout), in PyTorch layout
   * under `<prefix>unet.<diffusers key><suffix>`.
   */
  named(tensors: readonly tf.Tensor[], prefix = "", suffix = ""): TensorMap {
    const out: TensorMap = {};
    this.lora.namedParameters().forEach(([key, p], i) => {
      out[`${prefix}unet.${key}${suffix}`] = { shape: [...p.torchShape], data: torchData(tensors[i]!) };
    });
    return out;
  }

  /** Loads what `state` wrote; every missing, unexpected or mis-shaped key is named. */
  restore(tensors: TensorMap): void {
    const params = this.lora.namedParameters();
    const expected = new Map<string, readonly number[]>([[STEP_KEY, [1]]]);
    for (const [key, p] of params) {
      for (const k of [`unet.${key}`, `optimizer.unet.${key}.exp_avg`, `optimizer.unet.${key}.exp_avg_sq`]) expected.set(k, p.torchShape);
    }
    const missing = [...expected.keys()].filter((k) => !(k in tensors));
    const unexpected = Object.keys(tensors).filter((k) => !expected.has(k));
    const misshaped = [...expected].filter(([k, s]) => tensors[k] && tensors[k].shape.join(",") !== s.join(","));
    if (missing.length || unexpected.length || misshaped.length) {
      const list = (title: string, keys: string[]) => (keys.length ? `\n  ${title} (${keys.length}): ${keys.join(", ")}` : "");
      throw new Error(
        "checkpoint does not match this job's LoRA and optimizer:" +
          list("missing", missing) +
          list("unexpected", unexpected) +
          list("wrong shape", misshaped.map(([k, s]) => `${k}: checkpoint [${tensors[k]!.shape}] vs job [${s}]`)),
      );
    }
    params.forEach(([key, p], i) => {
      const assign = (target: tf.Variable, data: Float32Array) => {
        const value = fromTorch(p, data);
        target.assign(value);
        value.dispose();
      };
      assign(p.tensor, tensors[`unet.${key}`]!.data);
      assign(this.adamw.expAvg[i]!, tensors[`optimizer.unet.${key}.exp_avg`]!.data);
      assign(this.adamw.expAvgSq[i]!, tensors[`optimizer.unet.${key}.exp_avg_sq`]!.data);
    });
    this.adamw.stepCount = tensors[STEP_KEY]!.data[0]!;
  }

  dispose(): void {
    this.discard();
    this.adamw.dispose();
  }
}
