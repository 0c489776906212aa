/**
 * Tells a broken reward from a diverging run: a reward that gives a non-finite value for a finite image is at fault
 * itself (a division by zero, a log of 0), whatever the learning rate. The watched reward throws `RewardFault`
 * naming the reward, the image and its prompt; the trainer adds the step.
 */
import * as tf from "@tensorflow/tfjs";
import type { Reward } from "../rewards/reward.js";

export class RewardFault extends Error {}

export function watchReward(reward: Reward): Reward {
  return {
    info: reward.info,
    score: (images, prompts, metadata) => {
      const out = reward.score(images, prompts, metadata);
      const values = out.rewards.dataSync();
      const bad = values.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0 && tf.tidy(() => tf.all(tf.isFinite(images)).dataSync()[0]) === 1) {
        throw new RewardFault(
          `reward "${reward.info.name}" returned ${values[bad]} for image ${bad + 1} of ${values.length} (prompt ${JSON.stringify(prompts[bad])}), ` +
            "an image with finite pixels: the reward is at fault, not the training",
        );
      }
      return out;
    },
  };
}
