/**
 * DDPO's advantages: each reward standardised, over the epoch's batch or per prompt (TRL's PerPromptStatTracker,
 * trl/trainer/utils.py). Means and standard deviations are population ones (numpy's), computed in float64.
 */
import type { TensorMap } from "../io/safetensors.js";

/** Checkpoint keys of the per-prompt buffers: this prefix, then the prompt. */
export const STAT_TRACKER_PREFIX = "ddpo.stat_tracker.";

function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

/** TRL without stat tracking: (r − mean r) / (std r + 1e-8) over the whole batch. */
export function batchAdvantages(rewards: readonly number[]): number[] {
  const { mean, std } = meanStd(rewards);
  return rewards.map((r) => (r - mean) / (std + 1e-8));
}

/**
 * Remembers the last `bufferSize` rewards of every prompt (keyed by the prompt text; TRL keys by the text decoded
 * from the prompt's token ids, which is the same for prompts that fit the tokenizer). A prompt's advantages use its own buffer's mean and std
 * (+1e-6) once the buffer holds `minCount` rewards (this batch's included); before that, the whole batch's.
 */
export class PerPromptStatTracker {
  private readonly buffers = new Map<string, number[]>();

  constructor(
    readonly bufferSize: number,
    readonly minCount: number,
  ) {}

  /** Adds the batch's rewards to their prompts' buffers and returns each reward's advantage. */
  update(prompts: readonly string[], rewards: readonly number[]): number[] {
    if (prompts.length !== rewards.length) throw new Error(`${prompts.length} prompts but ${rewards.length} rewards`);
    const batch = meanStd(rewards);
    const advantages = new Array<number>(rewards.length);
    for (const prompt of new Set(prompts)) {
      const rows = prompts.flatMap((p, i) => (p === prompt ? [i] : []));
      const buffer = [...(this.buffers.get(prompt) ?? []), ...rows.map((i) => rewards[i]!)].slice(-this.bufferSize);
      this.buffers.set(prompt, buffer);
      const { mean, std } = buffer.length < this.minCount ? batch : meanStd(buffer);
      for (const i of rows) advantages[i] = (rewards[i]! - mean) / (std + 1e-6);
    }
    return advantages;
  }

  /** The buffers as checkpoint tensors, `ddpo.stat_tracker.<prompt>` → [n] (rewards are float32 values already). */
  state(): TensorMap {
    const out: TensorMap = {};
    for (const [prompt, buffer] of this.buffers) out[STAT_TRACKER_PREFIX + prompt] = { shape: [buffer.length], data: Float32Array.from(buffer) };
    return out;
  }

  /** Replaces the buffers with those `state` wrote; other keys are the caller's. */
  restore(tensors: TensorMap): void {
    this.buffers.clear();
    for (const [key, { shape, data }] of Object.entries(tensors)) {
      if (!key.startsWith(STAT_TRACKER_PREFIX)) continue;
      if (shape.length !== 1 || shape[0]! > this.bufferSize) {
        throw new Error(`checkpoint tensor "${key}" has shape [${shape}]: a reward buffer is [n] with n ≤ per_prompt_stat_tracking_buffer_size=${this.bufferSize}`);
      }
      this.buffers.set(key.slice(STAT_TRACKER_PREFIX.length), [...data]);
    }
  }
}
