/**
 * The names the evaluation speaks, without its code (so config checks and readers need no TF.js): the registered
 * monitors (src/eval/monitors/registry.ts) and the values they report in `EvalResult.monitors`.
 */

/** Monitors a run can list in `eval_monitors`. */
export const MONITOR_NAMES = ["reward", "shape-fidelity", "clip-fidelity", "diversity", "drift"] as const;
export type MonitorName = (typeof MONITOR_NAMES)[number];

/** Every value a monitor reports, and which way is better (for `best_metric`). */
export const MONITOR_VALUES = {
  /** Mean training reward of the eval samples. */
  reward: "higher",
  /** shape-fidelity: share of samples showing the prompted colour; clip-fidelity: mean CLIP score of image and prompt. */
  fidelity: "higher",
  /** shape-fidelity's parts: share showing the prompted colour; share showing the prompted shape. */
  fidelity_colour: "higher",
  fidelity_shape: "higher",
  /** Mean pairwise distance of the samples of one prompt (different seeds), averaged over prompts. */
  diversity: "higher",
  /** Mean distance of each sample from the base model's sample for the same prompt and seed. */
  drift: "lower",
} as const satisfies Record<string, "higher" | "lower">;
export type MonitorValue = keyof typeof MONITOR_VALUES;

export const isMonitorName = (name: string): name is MonitorName => (MONITOR_NAMES as readonly string[]).includes(name);
export const isMonitorValue = (name: string): name is MonitorValue => Object.hasOwn(MONITOR_VALUES, name);
