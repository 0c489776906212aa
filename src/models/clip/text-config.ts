/**
 * The `CLIPTextModel` config: transformers' `CLIPTextConfig` keys (text_encoder/config.json), defaults equal to
 * transformers' constructor defaults, one validation function.
 */

/** transformers' ACT2FN names this model implements: `quick_gelu` = x·σ(1.702x) (OpenAI CLIP), `gelu` = exact erf GELU. */
export type ClipHiddenAct = "quick_gelu" | "gelu";
const HIDDEN_ACTS: readonly ClipHiddenAct[] = ["quick_gelu", "gelu"];

export interface ClipTextConfig {
  readonly vocab_size: number;
  readonly hidden_size: number;
  readonly intermediate_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  /** Longest token sequence (77 for SD); `forward` accepts any length up to it. */
  readonly max_position_embeddings: number;
  readonly hidden_act: ClipHiddenAct;
  readonly layer_norm_eps: number;
  /**
   * Picks the pooled position. 2 (the value in OpenAI-converted configs such as SD1.5's, wrong before transformers
   * PR #24773) means "argmax of the ids", where CLIP's eot (49407, the largest id) sits; any other value means "first
   * position holding eos_token_id". transformers keeps the same rule.
   */
  readonly eos_token_id: number;
}

/** transformers' `CLIPTextConfig.__init__` defaults (SD1.5's published config is in test/fixtures/vae-clip/). */
export const DEFAULT_CLIP_TEXT_CONFIG: ClipTextConfig = Object.freeze({
  vocab_size: 49408,
  hidden_size: 512,
  intermediate_size: 2048,
  num_hidden_layers: 12,
  num_attention_heads: 8,
  max_position_embeddings: 77,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
  eos_token_id: 49407,
});

const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const show = (v: unknown) => JSON.stringify(v);

/**
 * A parsed config.json (or a partial one) → a frozen, checked `ClipTextConfig`. Missing keys take transformers'
 * defaults; keys this model does not read (`architectures`, `bos_token_id`, `projection_dim`, `dropout`, …) are
 * ignored. Throws one error listing every wrong field with its value.
 */
export function validateClipTextConfig(raw: Record<string, unknown>): ClipTextConfig {
  const c = { ...DEFAULT_CLIP_TEXT_CONFIG, ...raw } as Record<keyof ClipTextConfig, unknown>;
  const issues: string[] = [];
  const sizes = ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "max_position_embeddings"] as const;
  for (const key of sizes) {
    if (!isPositiveInt(c[key])) issues.push(`${key}=${show(c[key])} must be a positive integer`);
  }
  if (isPositiveInt(c.hidden_size) && isPositiveInt(c.num_attention_heads) && c.hidden_size % c.num_attention_heads !== 0) {
    issues.push(`hidden_size=${c.hidden_size} must be divisible by num_attention_heads=${c.num_attention_heads}`);
  }
  if (!HIDDEN_ACTS.includes(c.hidden_act as ClipHiddenAct)) {
    issues.push(`hidden_act=${show(c.hidden_act)} is not supported; use one of ${HIDDEN_ACTS.map(show).join(", ")}`);
  }
  if (typeof c.layer_norm_eps !== "number" || !(c.layer_norm_eps > 0) || !Number.isFinite(c.layer_norm_eps)) {
    issues.push(`layer_norm_eps=${show(c.layer_norm_eps)} must be a positive finite number`);
  }
  if (!Number.isInteger(c.eos_token_id) || (c.eos_token_id as number) < 0) {
    issues.push(`eos_token_id=${show(c.eos_token_id)} must be a non-negative integer`);
  }
  if (issues.length) throw new Error(`invalid CLIPTextModel config:\n  ${issues.join("\n  ")}`);
  const keys = Object.keys(DEFAULT_CLIP_TEXT_CONFIG) as Array<keyof ClipTextConfig>;
  return Object.freeze(Object.fromEntries(keys.map((k) => [k, c[k]]))) as unknown as ClipTextConfig;
}
