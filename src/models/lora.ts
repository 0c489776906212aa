/**
 * LoRA adapters (Hu et al. 2021, arXiv:2106.09685) on a model's Linear layers, as peft attaches them for TRL:
 *
 *   y = W x + b + (alpha / r) · B (A x)        A: [r, in] ~ N(0, 1/r²)  (peft's "gaussian" init)   B: [out, r] = 0
 *
 * so an adapted model equals its base until B moves. Each targeted Linear is replaced in its parent by a `LoraLinear`
 * that keeps the base's own `weight` / `bias` parameters (the model's state-dict keys do not change) and holds the
 * adapter out of the module walk (the model's `namedParameters()` stay the base checkpoint's). The adapter weights
 * are the only trainable variables; `LoraAdapters.namedParameters()` names them with diffusers' keys
 * (`<module path>.lora.down.weight` = A, `.lora.up.weight` = B).
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng.js";
import { Linear } from "./nn/layers.js";
import { Module, SHAPE_ONLY, type Param } from "./nn/module.js";

export interface LoraConfig {
  /** r: the adapter's inner width. */
  readonly rank: number;
  /** The update is scaled by alpha / rank. */
  readonly alpha: number;
  /** A module path gets an adapter when it equals an entry or ends with "." + entry (peft's rule). */
  readonly targetModules: readonly string[];
}

/** TRL's adapters for Stable Diffusion: r = 4, alpha = 4 on the attention projections. */
export const DEFAULT_LORA_CONFIG: LoraConfig = Object.freeze({
  rank: 4,
  alpha: 4,
  targetModules: Object.freeze(["to_q", "to_k", "to_v", "to_out.0"]),
});

export function validateLoraConfig(config: LoraConfig): LoraConfig {
  const issues: string[] = [];
  if (!Number.isInteger(config.rank) || config.rank < 1) issues.push(`rank=${config.rank} must be a positive integer`);
  if (!(config.alpha > 0) || !Number.isFinite(config.alpha)) issues.push(`alpha=${config.alpha} must be a positive number`);
  if (config.targetModules.length === 0) issues.push("targetModules is empty; name at least one module (e.g. to_q)");
  for (const t of config.targetModules) {
    if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(t)) issues.push(`targetModules entry ${JSON.stringify(t)} is not a module path`);
  }
  if (issues.length) throw new Error(`invalid LoRA config: ${issues.join("; ")}`);
  return Object.freeze({ ...config, targetModules: Object.freeze([...config.targetModules]) });
}

/** diffusers' `LoRALinearLayer`: `down` (A, in → r) then `up` (B, r → out), neither with a bias. */
export class LoRALinearLayer extends Module {
  readonly down: Linear;
  readonly up: Linear;

  constructor(inFeatures: number, outFeatures: number, rank: number) {
    super();
    // Built shape-only: the values are trainable variables made by `attachLora`, not the frozen kind makeParam makes.
    this.down = new Linear(SHAPE_ONLY, inFeatures, rank, false);
    this.up = new Linear(SHAPE_ONLY, rank, outFeatures, false);
  }

  /** x [..., in] → B(A x) [..., out] */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.up.forward(this.down.forward(x)));
  }
}

/**
 * A Linear with an adapter: W x + b + loraScale · scale · B(A x), or W' x + b once merged (W' = W + loraScale · scale
 * · BA). `loraScale` is peft's `scale_layer` factor (diffusers' `cross_attention_kwargs={"scale": …}`): 1 as trained,
 * 0 the base layer exactly (the adapter is skipped).
 */
export class LoraLinear extends Linear {
  readonly #lora: LoRALinearLayer;
  #loraScale = 1;
  /** The base weight as it was before `merge`, restored bit for bit by `unmerge`. */
  #unmergedWeight: tf.Tensor | undefined;

  constructor(
    base: Linear,
    lora: LoRALinearLayer,
    readonly scale: number,
  ) {
    super(SHAPE_ONLY, base.inFeatures, base.outFeatures, base.bias !== undefined);
    // The base's own parameters, so state-dict keys, loading and the Params others hold stay the same.
    Object.assign(this, { weight: base.weight, bias: base.bias });
    this.#lora = lora;
  }

  get lora(): LoRALinearLayer {
    return this.#lora;
  }

  get merged(): boolean {
    return this.#unmergedWeight !== undefined;
  }

  get loraScale(): number {
    return this.#loraScale;
  }

  set loraScale(value: number) {
    if (this.merged) throw new Error("the LoRA adapter is merged into its layer; unmerge it before changing lora_scale");
    this.#loraScale = value;
  }

  /** x [..., in] → [..., out] */
  override forward(x: tf.Tensor): tf.Tensor {
    if (this.merged || this.#loraScale === 0) return super.forward(x);
    return tf.tidy(() => tf.add(super.forward(x), tf.mul(this.#lora.forward(x), this.scale * this.#loraScale)));
  }

  /** Folds the update into the base weight (sampling then costs one matmul): W ← W + loraScale · scale · BA. */
  merge(): void {
    if (this.merged) return;
    const w = this.weight.tensor; // [in, out]
    this.#unmergedWeight = tf.clone(w);
    const factor = this.scale * this.#loraScale;
    tf.tidy(() => w.assign(tf.add(w, tf.mul(tf.matMul(this.#lora.down.weight.tensor, this.#lora.up.weight.tensor), factor))));
  }

  /** Restores the exact base weight saved by `merge`. */
  unmerge(): void {
    if (!this.#unmergedWeight) return;
    this.weight.tensor.assign(this.#unmergedWeight);
    this.#unmergedWeight.dispose();
    this.#unmergedWeight = undefined;
  }

  /** Releases the adapter's variables (and a merge's saved weight); the base parameters stay with the model. */
  disposeAdapter(): void {
    this.#unmergedWeight?.dispose();
    this.#unmergedWeight = undefined;
    this.#lora.dispose();
  }
}

/** The adapters `attachLora` put into a model. */
export class LoraAdapters {
  readonly scale: number;

  constructor(
    readonly config: LoraConfig,
    /** Module path → adapted layer, in the model's module order. */
    readonly layers: ReadonlyMap<string, LoraLinear>,
  ) {
    this.scale = config.alpha / config.rank;
  }

  /** `<module path>.lora.down.weight` [r, in] and `<module path>.lora.up.weight` [out, r], diffusers' keys. */
  namedParameters(): Array<[string, Param]> {
    return [...this.layers].flatMap(([path, layer]) => layer.lora.namedParameters(`${path}.lora`));
  }

  /** The variables training updates, in `namedParameters` order. */
  trainableVariables(): tf.Variable[] {
    return this.namedParameters().map(([, p]) => p.tensor);
  }

  parameterCount(): number {
    return this.namedParameters().reduce((n, [, p]) => n + p.size, 0);
  }

  get merged(): boolean {
    const first = this.layers.values().next().value;
    return first !== undefined && first.merged;
  }

  /**
   * Mixes the adapters in at `loraScale` (the AlignProp paper's weight mixing, DRaFT's LoRA scaling; diffusers'
   * `cross_attention_kwargs={"scale": loraScale}`): 1 is the trained model, 0 the base model exactly, values between
   * interpolate the update. Set it before `merge` to fold the mixed update into the weights.
   */
  setLoraScale(loraScale: number): void {
    if (!Number.isFinite(loraScale)) throw new Error(`lora_scale=${loraScale} must be a finite number`);
    for (const layer of this.layers.values()) layer.loraScale = loraScale;
  }

  /** Runs `f` with the adapters mixed in at `loraScale` (0: the base model), then restores the scale they had. */
  withLoraScale<T>(loraScale: number, f: () => T): T {
    const before = this.layers.values().next().value?.loraScale ?? 1;
    this.setLoraScale(loraScale);
    try {
      return f();
    } finally {
      this.setLoraScale(before);
    }
  }

  merge(): void {
    for (const layer of this.layers.values()) layer.merge();
  }

  unmerge(): void {
    for (const layer of this.layers.values()) layer.unmerge();
  }

  dispose(): void {
    for (const layer of this.layers.values()) layer.disposeAdapter();
  }
}

/** Does `path` name one of the targets? peft's rule: equal, or ending with "." + target. */
export function matchesTarget(path: string, targets: readonly string[]): boolean {
  return targets.some((t) => path === t || path.endsWith(`.${t}`));
}

export interface AttachLoraOptions {
  /** Seeds A's gaussian init, drawn layer by layer in module order (PyTorch layout, row-major). */
  seed: number;
}

/**
 * Replaces every Linear of `model` whose module path matches `config.targetModules` with a `LoraLinear`. A model
 * built shape-only gets shape-only adapters (for counting). Throws naming each target that matched no Linear, a
 * matched module that is not a Linear, or a layer that already has an adapter.
 */
export function attachLora(model: Module, config: LoraConfig, options: AttachLoraOptions): LoraAdapters {
  const c = validateLoraConfig(config);
  const matched = model.namedModules().filter(([path]) => path !== "" && matchesTarget(path, c.targetModules));
  const problems: string[] = [];
  for (const [path, module] of matched) {
    if (module instanceof LoraLinear) problems.push(`${path} already has a LoRA adapter`);
    else if (!(module instanceof Linear)) problems.push(`${path} is a ${module.constructor.name}, not a Linear`);
  }
  const unmatched = c.targetModules.filter((t) => !matched.some(([path]) => matchesTarget(path, [t])));
  if (unmatched.length) problems.push(`no module matches target ${unmatched.map((t) => JSON.stringify(t)).join(", ")}`);
  if (problems.length) throw new Error(`cannot attach LoRA to ${model.constructor.name}: ${problems.join("; ")}`);

  const rng = new Rng(options.seed);
  const layers = new Map<string, LoraLinear>();
  for (const [path, module] of matched) {
    const base = module as Linear;
    const lora = new LoRALinearLayer(base.inFeatures, base.outFeatures, c.rank);
    if (base.weight.value) initialise(lora, c.rank, rng);
    const adapted = new LoraLinear(base, lora, c.alpha / c.rank);
    replaceModule(model, path, adapted);
    layers.set(path, adapted);
  }
  return new LoraAdapters(c, layers);
}

/** A ~ N(0, 1/r²), B = 0, as trainable variables. */
function initialise(lora: LoRALinearLayer, rank: number, rng: Rng): void {
  const [a, b] = [lora.down.weight, lora.up.weight];
  const normal = rng.normal(a.size).map((x) => x / rank);
  a.value = tf.tidy(() => tf.variable(tf.transpose(tf.tensor2d(normal, [a.torchShape[0]!, a.torchShape[1]!])), true));
  b.value = tf.tidy(() => tf.variable(tf.zeros(b.tfShape), true));
}

/** Puts `replacement` where `path` (e.g. `down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0`) points. */
function replaceModule(root: Module, path: string, replacement: Module): void {
  const segments = path.split(".");
  const last = segments.pop()!;
  let parent: unknown = root;
  for (const s of segments) parent = (parent as Record<string, unknown>)[s];
  (parent as Record<string, unknown>)[last] = replacement;
}
