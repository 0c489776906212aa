/**
 * CLIPImageProcessor's steps as differentiable TF.js ops: resize so the shortest edge is `size` (the long edge
 * becomes ⌊size · long / short⌋), crop the centre `size` × `size` (offsets rounded down), then (x − mean) / std per
 * channel. Images are [B, H, W, 3] in [0, 1].
 *
 * Resampling is PIL's antialiased filter (what CLIPImageProcessor calls through PIL, and what
 * torch.nn.functional.interpolate(antialias=True) reproduces): each output pixel is a normalised, filter-weighted sum
 * of the input pixels under a kernel widened by the downscale factor, bicubic with a = −0.5 or triangular for
 * bilinear. As the weights depend only on the sizes, resize-and-crop is two fixed matrices, R_h [size, H] and
 * R_w [size, W], applied by matMul: out = R_h · image · R_wᵀ, so gradients reach every input pixel exactly.
 *
 * Difference from CLIPImageProcessor: it converts float images to 8-bit before PIL resizes them, which quantises and
 * clips bicubic overshoot (up to 0.04 on random-noise images, far less on smooth ones); here values stay float, equal
 * to PIL's resize of float ('F') images to ~1e-7.
 */
import * as tf from "@tensorflow/tfjs";

/** OpenAI CLIP's normalisation (CLIPImageProcessor's image_mean / image_std), RGB. */
export const CLIP_IMAGE_MEAN: readonly number[] = Object.freeze([0.48145466, 0.4578275, 0.40821073]);
export const CLIP_IMAGE_STD: readonly number[] = Object.freeze([0.26862954, 0.26130258, 0.27577711]);

/** bicubic: CLIPImageProcessor's (PIL BICUBIC); bilinear: torchvision's Resize default, which TRL's scorer uses. */
export type ClipResample = "bicubic" | "bilinear";
export const CLIP_RESAMPLES: readonly ClipResample[] = ["bicubic", "bilinear"];

export interface ClipPreprocessOptions {
  /** Shortest-edge target and crop side: the vision config's image_size (224 for ViT-L/14). */
  size: number;
  /** Default "bicubic". */
  resample?: ClipResample;
  /** Default CLIP_IMAGE_MEAN / CLIP_IMAGE_STD. */
  mean?: readonly number[];
  std?: readonly number[];
}

/** PIL's filters: support radius and kernel. Bicubic is Keys' cubic with a = −0.5 (PIL's and torch's antialiased one). */
const FILTERS: Readonly<Record<ClipResample, { support: number; kernel: (x: number) => number }>> = {
  bilinear: { support: 1, kernel: (x) => Math.max(0, 1 - Math.abs(x)) },
  bicubic: {
    support: 2,
    kernel: (t) => {
      const a = -0.5;
      const x = Math.abs(t);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
};

/**
 * PIL's antialiased resampling weights from `inSize` to `outSize` pixels along one axis: [outSize, inSize] row-major,
 * each row summing to 1. Pixel centres sit at i + 0.5; the kernel is stretched by max(inSize / outSize, 1).
 */
export function resizeWeights(inSize: number, outSize: number, resample: ClipResample): Float64Array {
  const { support, kernel } = FILTERS[resample];
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1);
  const out = new Float64Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const first = Math.max(Math.trunc(centre - support * stretch + 0.5), 0);
    const end = Math.min(Math.trunc(centre + support * stretch + 0.5), inSize);
    let total = 0;
    for (let x = first; x < end; x++) {
      out[i * inSize + x] = kernel((x - centre + 0.5) / stretch);
      total += out[i * inSize + x]!;
    }
    if (total !== 0) for (let x = first; x < end; x++) out[i * inSize + x]! /= total;
  }
  return out;
}

/** The image's size after the shortest-edge resize: [height, width]. */
export function shortestEdgeSize(height: number, width: number, size: number): [number, number] {
  return height <= width ? [size, Math.floor((size * width) / height)] : [Math.floor((size * height) / width), size];
}

/** Resize `inSize` → `scaled` then keep the centre `size`: the kept rows of the resize matrix, [size, inSize]. */
function axisMatrix(inSize: number, scaled: number, size: number, resample: ClipResample): Float32Array {
  const offset = Math.floor((scaled - size) / 2);
  return Float32Array.from(resizeWeights(inSize, scaled, resample).subarray(offset * inSize, (offset + size) * inSize));
}

/** images [B, H, W, 3] in [0, 1] → CLIP pixel values [B, size, size, 3]; differentiable with respect to `images`. */
export function clipPreprocess(images: tf.Tensor4D, options: ClipPreprocessOptions): tf.Tensor4D {
  const { size, resample = "bicubic", mean = CLIP_IMAGE_MEAN, std = CLIP_IMAGE_STD } = options;
  const [b, h, w, c] = images.shape;
  if (images.rank !== 4 || c !== mean.length || c !== std.length) {
    throw new Error(`CLIP preprocessing: images must be [B, H, W, ${mean.length}], got [${images.shape}]`);
  }
  if (!Number.isInteger(size) || size <= 0) throw new Error(`CLIP preprocessing: size=${size} must be a positive integer`);
  if (!CLIP_RESAMPLES.includes(resample)) {
    throw new Error(`CLIP preprocessing: resample=${JSON.stringify(resample)} must be one of ${CLIP_RESAMPLES.join(", ")}`);
  }
  const [sh, sw] = shortestEdgeSize(h, w, size);
  return tf.tidy(() => {
    let x: tf.Tensor = images;
    if (h !== size || sh !== size) {
      const rows = tf.tensor2d(axisMatrix(h, sh, size, resample), [size, h]); // [S, H]
      const byColumn = tf.reshape(tf.transpose(x, [0, 2, 3, 1]), [b * w * c, h]); // [B·W·C, H]
      x = tf.transpose(tf.reshape(tf.matMul(byColumn, rows, false, true), [b, w, c, size]), [0, 3, 1, 2]); // [B, S, W, C]
    }
    if (w !== size || sw !== size) {
      const cols = tf.tensor2d(axisMatrix(w, sw, size, resample), [size, w]); // [S, W]
      const byRow = tf.reshape(tf.transpose(x, [0, 1, 3, 2]), [b * size * c, w]); // [B·S·C, W]
      x = tf.transpose(tf.reshape(tf.matMul(byRow, cols, false, true), [b, size, c, size]), [0, 1, 3, 2]); // [B, S, S, C]
    }
    return tf.div(tf.sub(x, tf.tensor1d([...mean])), tf.tensor1d([...std])) as tf.Tensor4D;
  });
}
