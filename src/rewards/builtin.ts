/**
 * Built-in rewards: image statistics written as TF.js ops, so each is differentiable and scores any image size.
 * Luma is Rec. 601's Y' = 0.299 R + 0.587 G + 0.114 B. Hue lives in the opponent-colour plane
 *   a = R − (G + B)/2,  b = (√3/2)(G − B)
 * where atan2(b, a) is the HSV hue at the primaries and secondaries and √(a² + b²) the chroma.
 */
import * as tf from "@tensorflow/tfjs";
import type { Reward } from "./reward.js";

const LUMA = [0.299, 0.587, 0.114] as const;

/** Y' per pixel: [B, H, W, 3] → [B, H, W] */
function luma(images: tf.Tensor4D): tf.Tensor3D {
  return tf.sum(tf.mul(images, tf.tensor1d([...LUMA])), -1);
}

/** Mean luma: 0 black, 1 white. */
export const brightness: Reward = {
  info: { name: "brightness", description: "mean luma (Rec. 601)", inputSize: null, range: [0, 1], differentiable: true },
  score: (images) => ({ rewards: tf.tidy(() => tf.mean(luma(images), [1, 2]) as tf.Tensor1D), meta: {} }),
};

/** Mean chroma, max(R, G, B) − min(R, G, B): 0 for greys, 1 for pure primaries and secondaries. */
export const saturation: Reward = {
  info: { name: "saturation", description: "mean chroma, max(R,G,B) − min(R,G,B)", inputSize: null, range: [0, 1], differentiable: true },
  score: (images) => ({ rewards: tf.tidy(() => tf.mean(tf.sub(tf.max(images, -1), tf.min(images, -1)), [1, 2]) as tf.Tensor1D), meta: {} }),
};

/** Guards the square root's gradient at a flat image. */
const CONTRAST_EPS = 1e-8;

/** RMS contrast: the standard deviation of luma over the image (0 flat, 0.5 half black, half white). */
export const contrast: Reward = {
  info: { name: "contrast", description: "standard deviation of luma (RMS contrast)", inputSize: null, range: [0, 0.5], differentiable: true },
  score: (images) => ({
    rewards: tf.tidy(() => {
      const { variance } = tf.moments(luma(images), [1, 2]); // [B]
      return tf.sqrt(tf.add(variance, CONTRAST_EPS)) as tf.Tensor1D;
    }),
    meta: {},
  }),
};

/** Named hues, in degrees. */
export const HUES: Readonly<Record<string, number>> = Object.freeze({
  red: 0,
  orange: 30,
  yellow: 60,
  green: 120,
  cyan: 180,
  blue: 240,
  magenta: 300,
});

/**
 * How strongly each pixel shows the target hue: its opponent-plane colour projected onto the hue's direction,
 * averaged. 1 for the pure target colour, 0 for greys and perpendicular hues, −1 for the pure opposite colour.
 * `target` is a hue name (red, orange, yellow, green, cyan, blue, magenta), degrees ("240"), or a colour "#rrggbb".
 */
export function hue(target = "red"): Reward {
  const degrees = hueDegrees(target);
  const [ca, cb] = [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180)];
  // a·cos h + b·sin h = R·ca + G·(−ca/2 + (√3/2) sb) + B·(−ca/2 − (√3/2) sb): one weighted channel sum.
  const weights = [ca, -ca / 2 + (Math.sqrt(3) / 2) * cb, -ca / 2 - (Math.sqrt(3) / 2) * cb];
  return {
    info: {
      name: `hue:${target}`,
      description: `chroma along hue ${degrees.toFixed(1)}° (${target})`,
      inputSize: null,
      range: [-1, 1],
      differentiable: true,
    },
    score: (images) => ({
      rewards: tf.tidy(() => tf.mean(tf.sum(tf.mul(images, tf.tensor1d(weights)), -1), [1, 2]) as tf.Tensor1D),
      meta: { target_hue_degrees: degrees },
    }),
  };
}

/** A hue name, degrees, or "#rrggbb" → degrees in [0, 360). */
export function hueDegrees(target: string): number {
  const named = HUES[target.toLowerCase()];
  if (named !== undefined) return named;
  if (/^-?\d+(\.\d+)?$/.test(target)) return ((Number(target) % 360) + 360) % 360;
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(target);
  if (hex) {
    const [r, g, b] = hex.slice(1).map((h) => parseInt(h, 16) / 255) as [number, number, number];
    const a = r - (g + b) / 2;
    const bb = (Math.sqrt(3) / 2) * (g - b);
    if (Math.hypot(a, bb) < 1e-3) throw new Error(`hue target ${target} is a grey: it has no hue; pick a coloured target`);
    return (((Math.atan2(bb, a) * 180) / Math.PI) % 360 + 360) % 360;
  }
  throw new Error(`hue target ${JSON.stringify(target)} is not a hue: use a name (${Object.keys(HUES).join(", ")}), degrees (e.g. 240), or #rrggbb`);
}
