/**
 * What a reward is: `(images [B, H, W, 3] in [0, 1], prompts, metadata) → {rewards [B], meta}` (TRL's signature),
 * with facts about it: the input size it scores at, its range, and whether gradients flow from its rewards back to
 * the images (AlignProp needs that; DDPO does not).
 */
import * as tf from "@tensorflow/tfjs";

export type PromptMetadata = Readonly<Record<string, unknown>>;

export interface RewardOutput {
  /** [B] */
  rewards: tf.Tensor1D;
  /** Anything the reward reports besides the values (TRL's `reward_metadata`). */
  meta: Record<string, unknown>;
}

export type RewardFn = (images: tf.Tensor4D, prompts: readonly string[], metadata: readonly PromptMetadata[]) => RewardOutput;

export interface RewardInfo {
  name: string;
  description: string;
  /** Images are resized (bilinear, differentiable) to inputSize × inputSize before scoring; null scores any size. */
  inputSize: number | null;
  /** The values a reward can take. */
  range: readonly [number, number];
  /** Rewards are TF.js functions of the images, so AlignProp can backpropagate through them. */
  differentiable: boolean;
}

export interface Reward {
  readonly info: RewardInfo;
  readonly score: RewardFn;
}

/**
 * Scores a batch: resizes to the reward's input size, runs it, and checks it gave one finite-shaped value per image.
 * Differentiable end to end when the reward is.
 */
export function scoreImages(reward: Reward, images: tf.Tensor4D, prompts: readonly string[], metadata: readonly PromptMetadata[]): RewardOutput {
  const b = images.shape[0];
  if (prompts.length !== b || metadata.length !== b) {
    throw new Error(`reward "${reward.info.name}": ${b} images but ${prompts.length} prompts and ${metadata.length} metadata entries`);
  }
  let meta: Record<string, unknown> = {};
  const rewards = tf.tidy(() => {
    const size = reward.info.inputSize;
    const input = size !== null && (images.shape[1] !== size || images.shape[2] !== size) ? tf.image.resizeBilinear(images, [size, size]) : images;
    const out = reward.score(input, prompts, metadata);
    meta = out.meta;
    return out.rewards;
  });
  if (rewards.rank !== 1 || rewards.shape[0] !== b) {
    const shape = rewards.shape;
    rewards.dispose();
    throw new Error(`reward "${reward.info.name}" returned shape [${shape}] for ${b} images; it must return [${b}]`);
  }
  return { rewards, meta };
}

/** AlignProp backpropagates the reward's gradient; a reward without one is pointed at DDPO. */
export function requireDifferentiable(reward: Reward): void {
  if (reward.info.differentiable) return;
  throw new Error(
    `reward "${reward.info.name}" is not differentiable, and AlignProp trains by backpropagating the reward's gradient ` +
      `through the sampler. Train with DDPO instead (--algorithm ddpo), which needs only reward values.`,
  );
}
