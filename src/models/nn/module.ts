/**
 * The base of every model: a tree of modules whose property names ARE the diffusers / transformers state-dict keys
 * (`down_blocks.0.resnets.1.conv1.weight`), so loading a checkpoint and choosing LoRA targets are path lookups.
 *
 * A parameter records its PyTorch shape and how that layout maps to TF.js (Linear [out, in] → [in, out]; Conv
 * [out, in, kh, kw] → [kh, kw, in, out]). In shape-only mode no tensor is allocated, so the SD1.5 configs can be
 * built and counted in CI without 4 GB of memory.
 */
import * as tf from "@tensorflow/tfjs";

/** How a PyTorch tensor is laid out for TF.js. */
export type ParamLayout = "linear" | "conv" | "plain";

export class Param {
  /** Absent in shape-only mode. */
  value: tf.Variable | undefined;

  constructor(
    readonly torchShape: readonly number[],
    readonly layout: ParamLayout,
  ) {}

  get size(): number {
    return this.torchShape.reduce((a, b) => a * b, 1);
  }

  /** The shape TF.js holds. */
  get tfShape(): number[] {
    const s = this.torchShape;
    if (this.layout === "linear") return [s[1]!, s[0]!];
    if (this.layout === "conv") return [s[2]!, s[3]!, s[1]!, s[0]!];
    return [...s];
  }

  /** The tensor, or an error naming the parameter when the model was built shape-only or not loaded. */
  get tensor(): tf.Variable {
    if (!this.value) throw new Error("parameter has no value: the model was built shape-only");
    return this.value;
  }
}

/** What building a model needs to know. */
export interface BuildContext {
  /** Record shapes only: no tensors. */
  shapeOnly: boolean;
  /** Initial values (TF.js layout) for a parameter of this kind; zeros when absent. */
  init?: (tfShape: number[], role: ParamRole) => tf.Tensor;
}

/** What a parameter is for, so an initialiser can tell weights from biases and norm scales. */
export type ParamRole = "weight" | "bias" | "norm_weight" | "norm_bias" | "embedding";

export const SHAPE_ONLY: BuildContext = { shapeOnly: true };

export function makeParam(ctx: BuildContext, torchShape: number[], layout: ParamLayout, role: ParamRole): Param {
  const p = new Param(torchShape, layout);
  if (!ctx.shapeOnly) {
    const shape = p.tfShape;
    const initial =
      role === "norm_weight" ? tf.ones(shape) : ctx.init ? ctx.init(shape, role) : tf.zeros(shape);
    p.value = tf.variable(initial, false);
    initial.dispose();
  }
  return p;
}

/**
 * A node of the model tree. Children are found by walking the instance's own properties in declaration order:
 * a `Param`, a `Module`, or an array of modules (a PyTorch `ModuleList`, keyed by index).
 */
export abstract class Module {
  /** Every parameter with its full state-dict key, in declaration order. */
  namedParameters(prefix = ""): Array<[string, Param]> {
    const out: Array<[string, Param]> = [];
    for (const [name, value] of Object.entries(this)) {
      const key = prefix ? `${prefix}.${name}` : name;
      if (value instanceof Param) out.push([key, value]);
      else if (value instanceof Module) out.push(...value.namedParameters(key));
      else if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (item instanceof Module) out.push(...item.namedParameters(`${key}.${i}`));
        });
      }
    }
    return out;
  }

  /** Every submodule with its key (including this one as ""). */
  namedModules(prefix = ""): Array<[string, Module]> {
    const out: Array<[string, Module]> = [[prefix, this]];
    for (const [name, value] of Object.entries(this)) {
      const key = prefix ? `${prefix}.${name}` : name;
      if (value instanceof Module) out.push(...value.namedModules(key));
      else if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (item instanceof Module) out.push(...item.namedModules(`${key}.${i}`));
        });
      }
    }
    return out;
  }

  parameterCount(): number {
    return this.namedParameters().reduce((n, [, p]) => n + p.size, 0);
  }

  dispose(): void {
    for (const [, p] of this.namedParameters()) {
      p.value?.dispose();
      p.value = undefined;
    }
  }
}
