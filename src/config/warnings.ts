import type { RunConfig } from "./schema.js";

/** The engine a run trains on (schema.ts's `engine`). */
export type Engine = RunConfig["engine"];

/** TRL's kwargs dicts, which only accelerate (the torch engine) reads. */
const KWARGS_FIELDS = ["tracker_kwargs", "accelerator_kwargs", "project_kwargs"] as const;

/** A field, or fields read together, that an engine accepts (so TRL configs load) but cannot honour. */
interface Unhonoured {
  readonly fields: readonly (keyof RunConfig)[];
  /** For `--help`: which values are not honoured, and what happens instead. */
  readonly note: string;
  /**
   * The warning a run gets when the user set the field (`explicit`) to something the engine cannot do; undefined
   * otherwise, so defaults stay quiet. Absent where a config check refuses the value instead.
   */
  readonly warn?: (config: RunConfig, explicit: ReadonlySet<string>) => string | undefined;
}

const TORCH_HONOURS = "--engine torch honours it";

/** `train_use_8bit_adam`, for an engine whose AdamW keeps fp32 state (`why` says why). */
function fullPrecisionAdam(why: string): Unhonoured {
  return {
    fields: ["train_use_8bit_adam"],
    note: `true: ${why}; AdamW keeps fp32 state`,
    warn: (c, explicit) =>
      explicit.has("train_use_8bit_adam") && c.train_use_8bit_adam
        ? `train_use_8bit_adam=true is ignored: ${why}, so AdamW keeps fp32 state`
        : undefined,
  };
}

/** `async_reward_computation` (and `max_workers` with it), for an engine (`who`) that scores DDPO's images in line. */
function inlineRewards(who: string): Unhonoured {
  return {
    fields: ["async_reward_computation", "max_workers"],
    note: `async_reward_computation=true: ${who} computes DDPO's rewards in line, so max_workers is unused`,
    warn: (c, explicit) =>
      explicit.has("async_reward_computation") && c.async_reward_computation
        ? `async_reward_computation=true is ignored (and max_workers with it): ${who} computes DDPO's rewards in line`
        : undefined,
  };
}

/** Every such field per engine, listed by `alignprop train --help` and warned about once when a run starts. */
export const UNHONOURED: Readonly<Record<Engine, readonly Unhonoured[]>> = {
  tfjs: [
    {
      fields: ["mixed_precision"],
      note: '"fp16" or "bf16": TF.js trains in fp32',
      warn: (c, explicit) =>
        explicit.has("mixed_precision") && c.mixed_precision !== "no"
          ? `mixed_precision="${c.mixed_precision}" is ignored: TF.js trains in fp32; ${TORCH_HONOURS}`
          : undefined,
    },
    {
      fields: ["allow_tf32"],
      note: "either value: TF.js has no switch for TF32 matmuls",
      warn: (c, explicit) =>
        explicit.has("allow_tf32")
          ? `allow_tf32=${c.allow_tf32} is ignored: TF.js has no switch for TF32 matmuls; ${TORCH_HONOURS}`
          : undefined,
    },
    fullPrecisionAdam("TF.js has no 8-bit Adam"),
    {
      fields: ["log_with"],
      note: '"wandb" is refused (an error): TF.js has no wandb client; --engine torch logs to it ("tensorboard" is honoured)',
    },
    {
      fields: KWARGS_FIELDS,
      note: "non-empty: they are accelerate's arguments, and TF.js runs without accelerate; --engine torch passes them to it",
      warn: (c) => ignoredKwargs(c, "accelerate reads them, and TF.js runs without it; --engine torch passes them to it"),
    },
    inlineRewards("TF.js"),
  ],
  torch: [
    fullPrecisionAdam("the torch engine uses torch.optim.AdamW"),
    inlineRewards("the torch engine"),
  ],
};

/** One warning naming the non-empty kwargs dicts, or none. */
function ignoredKwargs(config: RunConfig, why: string): string | undefined {
  const set = KWARGS_FIELDS.filter((field) => Object.keys(config[field]).length > 0);
  return set.length === 0 ? undefined : `${set.join(", ")} ${set.length === 1 ? "is" : "are"} ignored: ${why}`;
}

/** One warning per unhonoured field the user set, for the engine the run trains on. */
export function unhonouredWarnings(config: RunConfig, explicit: ReadonlySet<string>, engine: Engine): string[] {
  return UNHONOURED[engine].flatMap((entry) => entry.warn?.(config, explicit) ?? []);
}

/** `--help`'s list: per engine, the fields it accepts but cannot honour. */
export function formatUnhonouredHelp(): string {
  return (Object.keys(UNHONOURED) as Engine[])
    .map((engine) => {
      const rows = UNHONOURED[engine].map((entry) => [entry.fields.join(", "), entry.note] as const);
      const width = Math.max(...rows.map(([fields]) => fields.length));
      return [`  ${engine}:`, ...rows.map(([fields, note]) => `    ${fields.padEnd(width)}  ${note}`)].join("\n");
    })
    .join("\n");
}
