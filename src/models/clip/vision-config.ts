/**
 * The CLIP vision tower's config: transformers' `CLIPVisionConfig` keys, defaults equal to its constructor's
 * (ViT-B/32 sizes), one validation function. In a full `CLIPConfig` this is the `vision_config` object, and the
 * top-level `projection_dim` sizes `visual_projection` (see `validateClipModelConfig` in clip-model.ts).
 */
import type { ClipHiddenAct } from "./text-config.js";

export interface ClipVisionConfig {
  readonly hidden_size: number;
  readonly intermediate_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  readonly num_channels: number;
  /** Side of the square input; (image_size / patch_size)² patches plus the class token make the sequence. */
  readonly image_size: number;
  readonly patch_size: number;
  readonly hidden_act: ClipHiddenAct;
  readonly layer_norm_eps: number;
  /** Width of `visual_projection`'s output, the image embedding. */
  readonly projection_dim: number;
}

/** transformers' `CLIPVisionConfig.__init__` defaults. */
export const DEFAULT_CLIP_VISION_CONFIG: ClipVisionConfig = Object.freeze({
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 224,
  patch_size: 32,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
  projection_dim: 512,
});

const HIDDEN_ACTS: readonly ClipHiddenAct[] = ["quick_gelu", "gelu"];
const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const show = (v: unknown) => JSON.stringify(v);

/**
 * A parsed vision config (or a partial one) → a frozen, checked `ClipVisionConfig`. Missing keys take transformers'
 * defaults; keys this model does not read (`dropout`, `initializer_range`, …) are ignored. Throws one error listing
 * every wrong field with its value.
 */
export function validateClipVisionConfig(raw: Record<string, unknown>): ClipVisionConfig {
  const c = { ...DEFAULT_CLIP_VISION_CONFIG, ...raw } as Record<keyof ClipVisionConfig, unknown>;
  const issues: string[] = [];
  const sizes = [
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_channels",
    "image_size",
    "patch_size",
    "projection_dim",
  ] as const;
  for (const key of sizes) {
    if (!isPositiveInt(c[key])) issues.push(`${key}=${show(c[key])} must be a positive integer`);
  }
  if (isPositiveInt(c.hidden_size) && isPositiveInt(c.num_attention_heads) && c.hidden_size % c.num_attention_heads !== 0) {
    issues.push(`hidden_size=${c.hidden_size} must be divisible by num_attention_heads=${c.num_attention_heads}`);
  }
  if (isPositiveInt(c.image_size) && isPositiveInt(c.patch_size) && c.image_size % c.patch_size !== 0) {
    issues.push(`image_size=${c.image_size} must be a multiple of patch_size=${c.patch_size}`);
  }
  if (!HIDDEN_ACTS.includes(c.hidden_act as ClipHiddenAct)) {
    issues.push(`hidden_act=${show(c.hidden_act)} is not supported; use one of ${HIDDEN_ACTS.map(show).join(", ")}`);
  }
  if (typeof c.layer_norm_eps !== "number" || !(c.layer_norm_eps > 0) || !Number.isFinite(c.layer_norm_eps)) {
    issues.push(`layer_norm_eps=${show(c.layer_norm_eps)} must be a positive finite number`);
  }
  if (issues.length) throw new Error(`invalid CLIPVisionModel config:\n  ${issues.join("\n  ")}`);
  const keys = Object.keys(DEFAULT_CLIP_VISION_CONFIG) as Array<keyof ClipVisionConfig>;
  return Object.freeze(Object.fromEntries(keys.map((k) => [k, c[k]]))) as unknown as ClipVisionConfig;
}

/**
 * The `text_config` / `vision_config` object of a transformers `CLIPConfig`, with the legacy `*_config_dict` values
 * on top (transformers lets those override, as in openai/clip-vit-large-patch14's config.json).
 */
export function nestedClipConfig(raw: Record<string, unknown>, tower: "text" | "vision"): Record<string, unknown> {
  const object = (v: unknown) => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  return { ...object(raw[`${tower}_config`]), ...object(raw[`${tower}_config_dict`]) };
}

/**
 * The vision config in a config.json: a `CLIPConfig` (its `vision_config`, with the top-level `projection_dim`, which
 * is what sizes `CLIPModel.visual_projection`) or a `CLIPVisionConfig` (CLIPVisionModelWithProjection checkpoints).
 */
export function clipVisionConfigOf(raw: Record<string, unknown>): ClipVisionConfig {
  if (!("vision_config" in raw) && !("vision_config_dict" in raw)) return validateClipVisionConfig(raw);
  const projection = raw.projection_dim ?? DEFAULT_CLIP_VISION_CONFIG.projection_dim;
  return validateClipVisionConfig({ ...nestedClipConfig(raw, "vision"), projection_dim: projection });
}
