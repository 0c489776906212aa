/**
 * The DDIM scheduler's config (diffusers' `scheduler_config.json` keys), its default (Stable Diffusion v1.5), its
 * validation, and the constants derived from it: β_t, ᾱ_t and the inference timesteps, all in float64.
 */

export const BETA_SCHEDULES = ["linear", "scaled_linear", "squaredcos_cap_v2"] as const;
export const PREDICTION_TYPES = ["epsilon", "v_prediction", "sample"] as const;
export const TIMESTEP_SPACINGS = ["leading", "trailing", "linspace"] as const;
export type BetaSchedule = (typeof BETA_SCHEDULES)[number];
export type PredictionType = (typeof PREDICTION_TYPES)[number];
export type TimestepSpacing = (typeof TIMESTEP_SPACINGS)[number];

export interface DDIMSchedulerConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  /** Clamp the predicted x₀ to ±clip_sample_range. */
  clip_sample: boolean;
  clip_sample_range: number;
  /** ᾱ for the step past t = 0: 1 when true, ᾱ_0 when false (Stable Diffusion). */
  set_alpha_to_one: boolean;
  /** Added to every "leading" timestep (SD: 1, so N=50 ends on t=1, not t=0). */
  steps_offset: number;
  prediction_type: PredictionType;
  /** Dynamic thresholding (Imagen) is unsuitable for latent diffusion and not implemented: only false. */
  thresholding: false;
  timestep_spacing: TimestepSpacing;
}

/** Stable Diffusion v1.5's scheduler (the DDIM config its pipelines use). */
export const DEFAULT_DDIM_CONFIG: Readonly<DDIMSchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  clip_sample: false,
  clip_sample_range: 1.0,
  set_alpha_to_one: false,
  steps_offset: 1,
  prediction_type: "epsilon",
  thresholding: false,
  timestep_spacing: "leading",
});

/**
 * Checks a config as read from a `scheduler_config.json` (or given in code). Missing keys take DEFAULT_DDIM_CONFIG's
 * value (older files lack `timestep_spacing`, `clip_sample_range`); keys this scheduler does not use
 * (`_class_name`, `skip_prk_steps`, `sample_max_value`, …) are ignored; every wrong field is named, with its value,
 * in one error.
 */
export function validateDDIMConfig(input: Readonly<Record<string, unknown>>): DDIMSchedulerConfig {
  const issues: string[] = [];
  const merged: Record<string, unknown> = { ...DEFAULT_DDIM_CONFIG };
  for (const key of Object.keys(DEFAULT_DDIM_CONFIG)) if (input[key] !== undefined) merged[key] = input[key];
  const c = merged as unknown as DDIMSchedulerConfig;
  const show = (v: unknown) => JSON.stringify(v) ?? String(v);
  const bad = (field: string, rule: string) => issues.push(`${field}=${show(merged[field])} ${rule}`);
  const isInt = (v: unknown, min: number) => typeof v === "number" && Number.isInteger(v) && v >= min;
  const inOpenUnit = (v: unknown) => typeof v === "number" && v > 0 && v < 1;
  const oneOf = (field: keyof DDIMSchedulerConfig, options: readonly string[]) => {
    if (!options.includes(merged[field] as string)) bad(field, `is not one of ${options.join(" | ")}`);
  };

  if (!isInt(c.num_train_timesteps, 2)) bad("num_train_timesteps", "must be an integer ≥ 2");
  if (!inOpenUnit(c.beta_start)) bad("beta_start", "must be a number in (0, 1)");
  if (!inOpenUnit(c.beta_end)) bad("beta_end", "must be a number in (0, 1)");
  if (inOpenUnit(c.beta_start) && inOpenUnit(c.beta_end) && c.beta_start > c.beta_end) {
    bad("beta_start", `must not exceed beta_end=${c.beta_end}`);
  }
  oneOf("beta_schedule", BETA_SCHEDULES);
  for (const field of ["clip_sample", "set_alpha_to_one"] as const) {
    if (typeof c[field] !== "boolean") bad(field, "must be true or false");
  }
  if (!(typeof c.clip_sample_range === "number" && c.clip_sample_range > 0)) bad("clip_sample_range", "must be a number > 0");
  if (!isInt(c.steps_offset, 0)) bad("steps_offset", "must be an integer ≥ 0");
  oneOf("prediction_type", PREDICTION_TYPES);
  oneOf("timestep_spacing", TIMESTEP_SPACINGS);
  if (c.thresholding !== false) bad("thresholding", "is not supported (dynamic thresholding is for pixel-space models); use false");
  if (input.trained_betas != null) issues.push("trained_betas is not supported; use null and a beta_schedule");
  if (input.rescale_betas_zero_snr === true) issues.push("rescale_betas_zero_snr=true is not supported; use false");

  if (issues.length > 0) throw new Error(`invalid DDIM scheduler config:\n  ${issues.join("\n  ")}`);
  return c;
}

/** β_t for t = 0 … T−1. */
export function betasFor(config: Readonly<DDIMSchedulerConfig>): Float64Array {
  const n = config.num_train_timesteps;
  const { beta_start: b0, beta_end: b1 } = config;
  const betas = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = i / (n - 1);
    switch (config.beta_schedule) {
      case "linear": // β_i = β_start + (β_end − β_start)·i/(T−1)
        betas[i] = b0 + (b1 - b0) * s;
        break;
      case "scaled_linear": // β_i = (√β_start + (√β_end − √β_start)·i/(T−1))²  (latent diffusion's schedule)
        betas[i] = (Math.sqrt(b0) + (Math.sqrt(b1) - Math.sqrt(b0)) * s) ** 2;
        break;
      case "squaredcos_cap_v2": // β_i = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), 0.999), ᾱ(s) = cos²((s + 0.008)/1.008 · π/2)
        betas[i] = Math.min(1 - cosineAlphaBar((i + 1) / n) / cosineAlphaBar(i / n), 0.999);
        break;
    }
  }
  return betas;
}

/** Nichol & Dhariwal (2021), eq. 17, with s = 0.008. */
function cosineAlphaBar(s: number): number {
  return Math.cos(((s + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
}

/** ᾱ_t = ∏_{s ≤ t} (1 − β_s). */
export function alphasCumprodFor(betas: Float64Array): Float64Array {
  const out = new Float64Array(betas.length);
  let product = 1;
  betas.forEach((beta, t) => {
    product *= 1 - beta;
    out[t] = product;
  });
  return out;
}

/**
 * The N inference timesteps, descending, exactly as diffusers' DDIMScheduler.set_timesteps computes them with numpy
 * (float64 arithmetic, round half to even):
 * - leading:  t_i = i·⌊T/N⌋ + steps_offset                      (SD1.5, N=50: 981, 961, …, 1)
 * - trailing: t_i = round(T − i·T/N) − 1, i over arange(T, 0, −T/N)  (ends at T−1)
 * - linspace: t_i = round(i·(T−1)/(N−1)), with t_{N−1} = T−1 exactly
 */
export function timestepsFor(config: Readonly<DDIMSchedulerConfig>, n: number): number[] {
  const total = config.num_train_timesteps;
  switch (config.timestep_spacing) {
    case "leading": {
      const ratio = Math.floor(total / n);
      return Array.from({ length: n }, (_, i) => (n - 1 - i) * ratio + config.steps_offset);
    }
    case "trailing": {
      const step = -total / n;
      const length = Math.ceil(-total / step);
      const delta = total + step - total; // numpy's arange fills start + i·(second − first)
      return Array.from({ length }, (_, i) => roundHalfEven(total + i * delta) - 1);
    }
    case "linspace": {
      const step = n > 1 ? (total - 1) / (n - 1) : 0;
      const points = Array.from({ length: n }, (_, i) => (i === n - 1 && n > 1 ? total - 1 : i * step));
      return points.map(roundHalfEven).reverse();
    }
  }
}

/** numpy's round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const frac = x - floor;
  if (frac !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}
