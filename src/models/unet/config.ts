/**
 * The `UNet2DConditionModel` config: diffusers' `config.json` keys, diffusers' defaults in `DEFAULT_UNET_CONFIG`, and
 * `validateUNetConfig`, which reads a parsed `config.json` and names every field it cannot build.
 *
 * Keys this model does not use are tolerated (`_class_name`, `_diffusers_version`, `upcast_attention` — our
 * attention is float32 throughout —, options of block types we do not build, …). Keys that switch on something this
 * model does not implement (class embeddings, `dual_cross_attention`, `only_cross_attention`, …) must keep their
 * neutral value; anything else is an error naming the key and the value.
 */

export const DOWN_BLOCK_TYPES = ["CrossAttnDownBlock2D", "DownBlock2D"] as const;
export type DownBlockType = (typeof DOWN_BLOCK_TYPES)[number];
export const UP_BLOCK_TYPES = ["CrossAttnUpBlock2D", "UpBlock2D"] as const;
export type UpBlockType = (typeof UP_BLOCK_TYPES)[number];

/** A value given once for every block, or once per down block (in down-block order). */
export type PerBlock<T> = T | readonly T[];

export interface UNet2DConditionConfig {
  /** Latent height and width the model was trained at (informational). */
  readonly sample_size: number | readonly [number, number] | null;
  readonly in_channels: number;
  readonly out_channels: number;
  /** Map the input from [0, 1] to [−1, 1] first. */
  readonly center_input_sample: boolean;
  readonly flip_sin_to_cos: boolean;
  /** `downscale_freq_shift` of the sinusoidal timestep embedding. */
  readonly freq_shift: number;
  readonly down_block_types: readonly DownBlockType[];
  readonly up_block_types: readonly UpBlockType[];
  readonly block_out_channels: readonly number[];
  readonly layers_per_block: PerBlock<number>;
  readonly downsample_padding: number;
  readonly mid_block_scale_factor: number;
  /** `silu` and `swish` are the same function. */
  readonly act_fn: "silu" | "swish";
  readonly norm_num_groups: number;
  readonly norm_eps: number;
  readonly cross_attention_dim: PerBlock<number>;
  readonly transformer_layers_per_block: PerBlock<number>;
  /** The number of attention HEADS (a name diffusers keeps for compatibility); head size = channels / heads. */
  readonly attention_head_dim: PerBlock<number>;
  readonly use_linear_projection: boolean;
  /** Width of the time embedding; null means 4 × block_out_channels[0]. */
  readonly time_embedding_dim: number | null;
  readonly conv_in_kernel: number;
  readonly conv_out_kernel: number;
}

/** diffusers' `UNet2DConditionModel.__init__` defaults. */
export const DEFAULT_UNET_CONFIG: UNet2DConditionConfig = deepFreeze({
  sample_size: null,
  in_channels: 4,
  out_channels: 4,
  center_input_sample: false,
  flip_sin_to_cos: true,
  freq_shift: 0,
  down_block_types: ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
  block_out_channels: [320, 640, 1280, 1280],
  layers_per_block: 2,
  downsample_padding: 1,
  mid_block_scale_factor: 1,
  act_fn: "silu",
  norm_num_groups: 32,
  norm_eps: 1e-5,
  cross_attention_dim: 1280,
  transformer_layers_per_block: 1,
  attention_head_dim: 8,
  use_linear_projection: false,
  time_embedding_dim: null,
  conv_in_kernel: 3,
  conv_out_kernel: 3,
});

/** Keys that enable parts of diffusers' UNet this model does not build, with the only values accepted. */
const NEUTRAL_ONLY: ReadonlyArray<readonly [key: string, accepts: (v: unknown) => boolean, expected: string]> = [
  ["mid_block_type", (v) => v === "UNetMidBlock2DCrossAttn", '"UNetMidBlock2DCrossAttn"'],
  ["only_cross_attention", (v) => v === false || (Array.isArray(v) && v.every((x) => x === false)), "false"],
  ["dual_cross_attention", (v) => v === false, "false"],
  ["num_attention_heads", (v) => v === null, "null (diffusers reads heads from attention_head_dim)"],
  ["dropout", (v) => v === 0, "0"],
  ["resnet_time_scale_shift", (v) => v === "default", '"default"'],
  ["time_embedding_type", (v) => v === "positional", '"positional"'],
  ["time_embedding_act_fn", (v) => v === null, "null"],
  ["timestep_post_act", (v) => v === null, "null"],
  ["time_cond_proj_dim", (v) => v === null, "null"],
  ["class_embed_type", (v) => v === null, "null"],
  ["num_class_embeds", (v) => v === null, "null"],
  ["class_embeddings_concat", (v) => v === false, "false"],
  ["addition_embed_type", (v) => v === null, "null"],
  ["encoder_hid_dim", (v) => v === null, "null"],
  ["encoder_hid_dim_type", (v) => v === null, "null"],
  ["attention_type", (v) => v === "default", '"default"'],
  ["reverse_transformer_layers_per_block", (v) => v === null, "null"],
];

/** `value` as one entry per block. */
export function perBlock<T>(value: PerBlock<T>, blocks: number): T[] {
  return Array.isArray(value) ? [...(value as readonly T[])] : Array.from({ length: blocks }, () => value as T);
}

/**
 * Merges `raw` (a parsed diffusers `config.json`, or a partial config) over `DEFAULT_UNET_CONFIG`, checks every
 * field, and returns the frozen config; throws one error listing every problem as `key=value: what is wrong`.
 */
export function validateUNetConfig(raw: unknown): UNet2DConditionConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`UNet config must be an object, got ${show(raw)}`);
  }
  const given = raw as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...DEFAULT_UNET_CONFIG };
  for (const key of Object.keys(DEFAULT_UNET_CONFIG)) if (key in given) merged[key] = given[key];
  const c = merged as unknown as UNet2DConditionConfig;

  const problems: string[] = [];
  const bad = (key: string, value: unknown, why: string) => problems.push(`${key}=${show(value)}: ${why}`);
  for (const [key, accepts, expected] of NEUTRAL_ONLY) {
    if (key in given && !accepts(given[key])) bad(key, given[key], `only ${expected} is supported`);
  }

  const positiveInt = (key: keyof UNet2DConditionConfig) => {
    if (!isPositiveInt(c[key])) bad(key, c[key], "must be a positive integer");
  };
  const bool = (key: keyof UNet2DConditionConfig) => {
    if (typeof c[key] !== "boolean") bad(key, c[key], "must be true or false");
  };
  positiveInt("in_channels");
  positiveInt("out_channels");
  positiveInt("norm_num_groups");
  bool("center_input_sample");
  bool("flip_sin_to_cos");
  bool("use_linear_projection");
  if (!Number.isFinite(c.freq_shift)) bad("freq_shift", c.freq_shift, "must be a finite number");
  if (!(typeof c.norm_eps === "number" && c.norm_eps > 0)) bad("norm_eps", c.norm_eps, "must be a positive number");
  if (!(typeof c.mid_block_scale_factor === "number" && c.mid_block_scale_factor > 0)) {
    bad("mid_block_scale_factor", c.mid_block_scale_factor, "must be a positive number");
  }
  if (!(Number.isInteger(c.downsample_padding) && c.downsample_padding >= 0)) {
    bad("downsample_padding", c.downsample_padding, "must be a non-negative integer");
  }
  if (c.act_fn !== "silu" && c.act_fn !== "swish") bad("act_fn", c.act_fn, 'only "silu" (or "swish") is supported');
  for (const key of ["conv_in_kernel", "conv_out_kernel"] as const) {
    if (!(isPositiveInt(c[key]) && c[key] % 2 === 1)) bad(key, c[key], "must be a positive odd integer");
  }
  if (c.time_embedding_dim !== null && !isPositiveInt(c.time_embedding_dim)) {
    bad("time_embedding_dim", c.time_embedding_dim, "must be null or a positive integer");
  }
  const size = c.sample_size;
  if (!(size === null || isPositiveInt(size) || (Array.isArray(size) && size.length === 2 && size.every(isPositiveInt)))) {
    bad("sample_size", size, "must be null, a positive integer or [height, width]");
  }

  const n = Array.isArray(c.down_block_types) ? c.down_block_types.length : 0;
  if (n === 0 || !c.down_block_types.every((t) => (DOWN_BLOCK_TYPES as readonly string[]).includes(t))) {
    bad("down_block_types", c.down_block_types, `must be a non-empty list of ${DOWN_BLOCK_TYPES.join(" | ")}`);
  }
  if (!Array.isArray(c.up_block_types) || !c.up_block_types.every((t) => (UP_BLOCK_TYPES as readonly string[]).includes(t))) {
    bad("up_block_types", c.up_block_types, `must be a list of ${UP_BLOCK_TYPES.join(" | ")}`);
  } else if (c.up_block_types.length !== n) {
    bad("up_block_types", c.up_block_types, `must have one entry per down block (${n})`);
  }
  const channelsOk = Array.isArray(c.block_out_channels) && c.block_out_channels.every(isPositiveInt);
  if (!channelsOk || c.block_out_channels.length !== n) {
    bad("block_out_channels", c.block_out_channels, `must be ${n} positive integers, one per down block`);
  } else if (isPositiveInt(c.norm_num_groups)) {
    const off = c.block_out_channels.filter((ch) => ch % c.norm_num_groups !== 0);
    if (off.length) {
      bad("block_out_channels", c.block_out_channels, `${off.join(", ")} not divisible by norm_num_groups=${c.norm_num_groups}`);
    }
  }
  for (const key of ["layers_per_block", "transformer_layers_per_block", "cross_attention_dim", "attention_head_dim"] as const) {
    const v = c[key];
    const ok = Array.isArray(v) ? v.length === n && v.every(isPositiveInt) : isPositiveInt(v);
    if (!ok) bad(key, v, `must be a positive integer or a list of ${n}, one per down block`);
  }

  if (problems.length === 0) {
    // Heads split the channels of every level that has attention: CrossAttn down/up blocks and the mid block.
    const heads = perBlock(c.attention_head_dim, n);
    c.block_out_channels.forEach((ch, i) => {
      const used =
        c.down_block_types[i] === "CrossAttnDownBlock2D" || c.up_block_types[n - 1 - i] === "CrossAttnUpBlock2D" || i === n - 1;
      if (used && ch % heads[i]! !== 0) {
        bad("attention_head_dim", c.attention_head_dim, `${heads[i]} heads do not divide block_out_channels[${i}]=${ch}`);
      }
    });
  }
  if (problems.length) throw new Error(`UNet config is not supported:\n  ${problems.join("\n  ")}`);
  return deepFreeze(structuredClone(merged)) as unknown as UNet2DConditionConfig;
}

function isPositiveInt(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) > 0;
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
