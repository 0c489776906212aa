/**
 * The model classes the project loads as config.json ↔ module: the three of a pipeline, and the CLIP models its
 * rewards read. Which class a config describes, building it (shape-only or allocated), loading a pipeline model's
 * state dict with that class's key conventions, and the config.json diffusers / transformers would write for it.
 */
import type { TensorMap } from "../io/safetensors.js";
import { CLIPModel, validateClipModelConfig } from "./clip/clip-model.js";
import { validateClipTextConfig } from "./clip/text-config.js";
import { CLIPTextModel, loadClipTextStateDict } from "./clip/text-model.js";
import { clipVisionConfigOf } from "./clip/vision-config.js";
import { CLIPVisionModelWithProjection } from "./clip/vision-model.js";
import type { BuildContext, Module } from "./nn/module.js";
import { loadStateDict } from "./nn/state-dict.js";
import { UNet2DConditionModel } from "./unet/index.js";
import { AutoencoderKL, loadVaeStateDict, validateVaeConfig } from "./vae/index.js";

/** The diffusers release whose file layout savePipeline follows (written as `_diffusers_version`). */
export const DIFFUSERS_VERSION = "0.30.0";

export const PIPELINE_MODEL_CLASSES = ["UNet2DConditionModel", "AutoencoderKL", "CLIPTextModel"] as const;
/** Every model class the project loads: a pipeline's, and the CLIP models of the clip-score and aesthetic rewards. */
export const MODEL_CLASSES = [...PIPELINE_MODEL_CLASSES, "CLIPVisionModelWithProjection", "CLIPModel"] as const;
export type PipelineModelClass = (typeof PIPELINE_MODEL_CLASSES)[number];
export type ModelClass = (typeof MODEL_CLASSES)[number];
export type PipelineModel = UNet2DConditionModel | AutoencoderKL | CLIPTextModel;

/** transformers' `model_type` of each transformers class, for configs without `architectures`. */
const MODEL_TYPES: Readonly<Record<string, ModelClass>> = {
  clip_text_model: "CLIPTextModel",
  clip_vision_model: "CLIPVisionModelWithProjection",
  clip: "CLIPModel",
};

/** The class a config.json describes: diffusers' `_class_name`, or transformers' `architectures` / `model_type`. */
export function modelClassOf(config: Record<string, unknown>, source: string): ModelClass {
  const named = config._class_name;
  const architectures: unknown[] = Array.isArray(config.architectures) ? config.architectures : [];
  const cls =
    typeof named === "string"
      ? named
      : (MODEL_CLASSES.find((c) => architectures.includes(c)) ?? (typeof config.model_type === "string" ? MODEL_TYPES[config.model_type] : undefined));
  if (cls === undefined) {
    const hints = MODEL_CLASSES.slice(2).map((c) => `"architectures": ["${c}"]`).join(", ");
    throw new Error(`${source}: cannot tell the model class (no "_class_name", none of ${hints}, no known "model_type")`);
  }
  if (!(MODEL_CLASSES as readonly string[]).includes(cls)) {
    throw new Error(`${source}: class "${cls}" is not supported; expected one of ${MODEL_CLASSES.join(", ")}`);
  }
  return cls as ModelClass;
}

/** Builds `cls` from a parsed config.json; config errors are prefixed with `source`. */
export function buildModel(cls: PipelineModelClass, config: Record<string, unknown>, ctx: BuildContext, source: string): PipelineModel;
export function buildModel(cls: ModelClass, config: Record<string, unknown>, ctx: BuildContext, source: string): Module;
export function buildModel(cls: ModelClass, config: Record<string, unknown>, ctx: BuildContext, source: string): Module {
  try {
    switch (cls) {
      case "UNet2DConditionModel":
        return new UNet2DConditionModel(ctx, config);
      case "AutoencoderKL":
        return new AutoencoderKL(ctx, validateVaeConfig(config));
      case "CLIPTextModel":
        return new CLIPTextModel(ctx, validateClipTextConfig(config));
      case "CLIPVisionModelWithProjection":
        return new CLIPVisionModelWithProjection(ctx, clipVisionConfigOf(config));
      case "CLIPModel":
        return new CLIPModel(ctx, validateClipModelConfig(config));
    }
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
}

/**
 * Loads a state dict the way diffusers / transformers do for the class: the VAE's old attention names renamed,
 * CLIP's `position_ids` buffer ignored. Every missing, unexpected or mis-shaped key is named with `source`.
 */
export function loadModelWeights(model: PipelineModel, tensors: TensorMap, source: string): void {
  if (model instanceof AutoencoderKL) loadVaeStateDict(model, tensors, source);
  else if (model instanceof CLIPTextModel) loadClipTextStateDict(model, tensors, source);
  else loadStateDict(model, tensors, { source });
}

/** The config.json diffusers (UNet, VAE) or transformers (CLIP) would write for `model`. */
export function modelConfigJson(model: PipelineModel): Record<string, unknown> {
  if (model instanceof CLIPTextModel) {
    return { architectures: ["CLIPTextModel"], model_type: "clip_text_model", torch_dtype: "float32", ...model.config };
  }
  const cls: PipelineModelClass = model instanceof AutoencoderKL ? "AutoencoderKL" : "UNet2DConditionModel";
  return { _class_name: cls, _diffusers_version: DIFFUSERS_VERSION, ...model.config };
}
