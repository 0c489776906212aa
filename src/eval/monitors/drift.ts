/**
 * `drift`: how far the fine-tuned model has moved from the base model, as the mean RMS pixel distance (in [0, 1]) of
 * each eval sample from the base model's sample for the same prompt and seed (the evaluation at step 0, before any
 * training). 0 at step 0 by definition; absent when the base samples are not known.
 */
import { imagePixels, mean, rmsDistance, type Monitor } from "./monitor.js";

export const driftMonitor: Monitor = {
  name: "drift",
  measure: (s) => {
    const base = s.base;
    if (!base || base.length !== s.pixels.length) return {};
    return { drift: mean(s.prompts.map((_, i) => rmsDistance(imagePixels(s, i), imagePixels(s, i, base)))) };
  },
};
