/**
 * `clip-fidelity`, for real models: `fidelity` is the mean CLIP score (cosine of CLIP's image and prompt embeddings,
 * the `clip-score` reward, openai/clip-vit-large-patch14 by default) of the eval samples.
 */
import { resolveReward } from "../../rewards/registry.js";
import { mean, scoreSamples, type Monitor } from "./monitor.js";

/** Images scored per CLIP forward pass. */
const CLIP_BATCH = 8;

export async function clipFidelityMonitor(): Promise<Monitor> {
  const clip = await resolveReward("clip-score");
  return {
    name: "clip-fidelity",
    measure: (s) => (s.prompts.length ? { fidelity: mean(scoreSamples(clip, s, CLIP_BATCH)) } : {}),
  };
}
