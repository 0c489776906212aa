/**
 * The `AutoencoderKL` config: diffusers' `vae/config.json` keys, defaults equal to diffusers' constructor defaults
 * (what a key missing from a config.json means), one validation function.
 */

export type DownEncoderBlockType = "DownEncoderBlock2D";
export type UpDecoderBlockType = "UpDecoderBlock2D";

export interface VaeConfig {
  readonly in_channels: number;
  readonly out_channels: number;
  readonly down_block_types: readonly DownEncoderBlockType[];
  readonly up_block_types: readonly UpDecoderBlockType[];
  readonly block_out_channels: readonly number[];
  /** Resnets per encoder block; decoder blocks have one more. */
  readonly layers_per_block: number;
  readonly act_fn: "silu";
  readonly latent_channels: number;
  readonly norm_num_groups: number;
  readonly sample_size: number;
  /** Latents the UNet sees are `mean · scaling_factor`; `decode` wants them divided back by it. */
  readonly scaling_factor: number;
  readonly use_quant_conv: boolean;
  readonly use_post_quant_conv: boolean;
  readonly mid_block_add_attention: boolean;
}

/** diffusers' `AutoencoderKL.__init__` defaults (SD1.5's published config is in test/fixtures/vae-clip/). */
export const DEFAULT_VAE_CONFIG: VaeConfig = Object.freeze({
  in_channels: 3,
  out_channels: 3,
  down_block_types: Object.freeze(["DownEncoderBlock2D"] as const),
  up_block_types: Object.freeze(["UpDecoderBlock2D"] as const),
  block_out_channels: Object.freeze([64]),
  layers_per_block: 1,
  act_fn: "silu",
  latent_channels: 4,
  norm_num_groups: 32,
  sample_size: 32,
  scaling_factor: 0.18215,
  use_quant_conv: true,
  use_post_quant_conv: true,
  mid_block_add_attention: true,
});

const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const show = (v: unknown) => JSON.stringify(v);

/**
 * A parsed config.json (or a partial one) → a frozen, checked `VaeConfig`. Missing keys take diffusers' defaults;
 * keys this model does not read (`_class_name`, `force_upcast`, `latents_mean`, …) are ignored. Throws one error
 * listing every wrong field with its value.
 */
export function validateVaeConfig(raw: Record<string, unknown>): VaeConfig {
  const c = { ...DEFAULT_VAE_CONFIG, ...raw } as Record<keyof VaeConfig, unknown>;
  const issues: string[] = [];
  for (const key of ["in_channels", "out_channels", "layers_per_block", "latent_channels", "norm_num_groups", "sample_size"] as const) {
    if (!isPositiveInt(c[key])) issues.push(`${key}=${show(c[key])} must be a positive integer`);
  }
  const channels = c.block_out_channels;
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every(isPositiveInt)) {
    issues.push(`block_out_channels=${show(channels)} must be a non-empty list of positive integers`);
  } else if (isPositiveInt(c.norm_num_groups)) {
    const groups = c.norm_num_groups;
    const bad = channels.filter((ch) => ch % groups !== 0);
    if (bad.length) issues.push(`block_out_channels=${show(channels)} has ${show(bad)} not divisible by norm_num_groups=${groups}`);
  }
  const nBlocks = Array.isArray(channels) ? channels.length : 0;
  const blockTypes = (key: "down_block_types" | "up_block_types", type: string) => {
    const types = c[key];
    if (!Array.isArray(types) || types.length !== nBlocks || !types.every((t) => t === type)) {
      issues.push(`${key}=${show(types)} must be ${nBlocks} × "${type}" (one per block_out_channels entry)`);
    }
  };
  blockTypes("down_block_types", "DownEncoderBlock2D");
  blockTypes("up_block_types", "UpDecoderBlock2D");
  if (c.act_fn !== "silu") issues.push(`act_fn=${show(c.act_fn)} is not supported; the VAE supports "silu"`);
  if (typeof c.scaling_factor !== "number" || !(c.scaling_factor > 0) || !Number.isFinite(c.scaling_factor)) {
    issues.push(`scaling_factor=${show(c.scaling_factor)} must be a positive finite number`);
  }
  for (const key of ["use_quant_conv", "use_post_quant_conv", "mid_block_add_attention"] as const) {
    if (typeof c[key] !== "boolean") issues.push(`${key}=${show(c[key])} must be true or false`);
  }
  if (issues.length) throw new Error(`invalid AutoencoderKL config:\n  ${issues.join("\n  ")}`);
  const pick = Object.fromEntries(Object.keys(DEFAULT_VAE_CONFIG).map((k) => [k, c[k as keyof VaeConfig]]));
  return Object.freeze({
    ...pick,
    down_block_types: Object.freeze([...(c.down_block_types as DownEncoderBlockType[])]),
    up_block_types: Object.freeze([...(c.up_block_types as UpDecoderBlockType[])]),
    block_out_channels: Object.freeze([...(c.block_out_channels as number[])]),
  }) as VaeConfig;
}
