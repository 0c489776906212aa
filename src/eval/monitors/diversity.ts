/**
 * `diversity`: how different the samples of one prompt (its seeds) are from each other — the mean pairwise distance
 * of their embeddings, averaged over the prompts with two or more samples. The embedding is the image itself (RMS
 * pixel distance, in [0, 1]), which needs no model and reads the same on every engine; identical images give 0. A
 * fine-tune that collapses every seed onto one picture (mode collapse, reward hacking) drives it down.
 */
import { imagePixels, mean, rmsDistance, type Monitor } from "./monitor.js";

export const diversityMonitor: Monitor = {
  name: "diversity",
  measure: (s) => {
    const byPrompt = new Map<string, number[]>();
    s.prompts.forEach((p, i) => byPrompt.set(p, [...(byPrompt.get(p) ?? []), i]));
    const perPrompt = [...byPrompt.values()]
      .filter((group) => group.length >= 2)
      .map((group) => mean(group.flatMap((a, j) => group.slice(j + 1).map((b) => rmsDistance(imagePixels(s, a), imagePixels(s, b))))));
    return perPrompt.length ? { diversity: mean(perPrompt) } : {};
  },
};
