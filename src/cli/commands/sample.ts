/**
 * `alignprop sample --model <dir|repo> --prompt "…" --out x.png`: renders one image with the pipeline (optionally
 * with a LoRA file merged into its UNet), DDIM with classifier-free guidance, as diffusers'
 * StableDiffusionPipeline does; `--num-images n` (diffusers' `num_images_per_prompt`) renders n in one batch. `--latents` takes x_T and the DDIM noise from a file and `--out *.safetensors`
 * writes the float image, so the same draw can be rendered by diffusers and compared (python/tests/).
 */
import { stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";

import { BACKENDS } from "../../config/index.js";
import { sample as render } from "../../diffusion/pipeline-sample.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { attachLoraWeights, readLoraWeights } from "../../io/lora-weights.js";
import { encodePng, floatsToImages } from "../../io/png.js";
import { truncationWarner } from "../../models/clip/truncation.js";
import { encodeSafetensors, readSafetensors } from "../../io/safetensors.js";
import type { LoraAdapters } from "../../models/lora.js";
import { disposePipeline, loadPipeline } from "../../models/pipeline.js";
import type { UNet2DConditionModel } from "../../models/unet/index.js";
import { initBackend } from "../../tf/backend.js";
import { modelSource } from "../../models/embedded.js";
import { flag, parseCommand, UsageError } from "../args.js";
import { EXIT, type CliCommand } from "../command.js";

const decimal = () => z.string().regex(/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, "must be a number").transform(Number);
const whole = () => z.string().regex(/^\d+$/, "must be a whole number").transform(Number);

const Options = z.object({
  model: z.string().min(1, "needs a pipeline folder or Hub repo id").default("tiny-shapes"),
  prompt: z.string(),
  negative_prompt: z.string().default(""),
  steps: whole().pipe(z.number().min(1)).default(50),
  guidance: decimal().pipe(z.number().min(0)).default(5),
  eta: decimal().pipe(z.number().min(0).max(1)).default(0),
  seed: whole().default(0),
  num_images: whole().pipe(z.number().min(1, "must be at least 1")).default(1),
  height: whole().pipe(z.number().min(1)).optional(),
  width: whole().pipe(z.number().min(1)).optional(),
  lora: z.string().min(1).optional(),
  lora_scale: decimal().optional(),
  latents: z.string().min(1).optional(),
  out: z.string().min(1, "needs the PNG (or .safetensors) file to write"),
  revision: z.string().min(1).optional(),
  variant: z.string().min(1).optional(),
  offline: flag(),
  backend: z.enum(BACKENDS).default("auto"),
  help: flag(),
});

const USAGE = `alignprop sample [--model <dir|org/name>] --prompt "…" --out x.png [options]

  --model <dir|org/name>   a diffusers pipeline folder, a Hub repo (downloaded into the cache), or tiny-shapes
                           (the embedded pipeline, the default)
  --prompt "…"             what to draw
  --negative-prompt "…"    what to steer away from (default "": plain classifier-free guidance)
  --steps <n>              DDIM steps (default 50)
  --guidance <w>           classifier-free guidance scale; ≤ 1 turns it off (default 5)
  --eta <η>                DDIM η in [0, 1]; 0 is deterministic given the seed (default 0)
  --seed <n>               seeds the initial latents and the DDIM noise (default 0)
  --num-images <n>         images of the prompt, rendered in one batch (diffusers' num_images_per_prompt; default
                           1): x.png becomes x-0.png … x-<n−1>.png, a .safetensors file holds all n; the first
                           is the one-image render of the same seed when eta is 0
  --height, --width <px>   image size, multiples of the VAE's downscale (default the UNet's sample_size × downscale)
  --lora <file>            a pytorch_lora_weights.safetensors to merge into the UNet
  --lora-scale <s>         the LoRA's strength (weight mixing; diffusers' cross_attention_kwargs={"scale": s}):
                           0 renders the base pipeline, 1 the trained one (default 1); needs --lora
  --latents <file>         a safetensors file with \`latents\` [1, C, h, w] (x_T, diffusers' latents=) and, for
                           eta > 0, \`variance_noise\` [steps, 1, C, h, w] (each DDIM step's z, diffusers'
                           DDIMScheduler.step variance_noise=), PyTorch layout; replaces the seed's draws
  --out <file>             where to write the image: PNG, or with .safetensors the float image
                           \`images\` [n, H, W, 3] in [0, 1] (diffusers' output_type="np")
  --revision <rev>         Hub branch, tag or commit (default main)
  --variant <name>         Hub / folder weights variant, e.g. fp16 (default the full-precision files)
  --offline                use the Hub cache only (also HF_HUB_OFFLINE=1); HF_TOKEN and HF_ENDPOINT are honoured
  --backend <name>         ${BACKENDS.join(" | ")} (default auto)`;

export const sample: CliCommand = {
  name: "sample",
  summary: "render an image from a pipeline (DDIM, classifier-free guidance, optional LoRA)",
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommand(argv, { name: "sample", options: Options, booleans: ["offline"], usage: USAGE, positionals: { count: 0, what: "argument" } });
    if (!parsed) return EXIT.ok;
    const { options } = parsed;
    if (options.latents && options.num_images > 1) {
      throw new UsageError(`--num-images=${options.num_images} with --latents: the file holds one image's x_T [1, C, h, w]`);
    }
    if (options.lora_scale !== undefined && !options.lora) {
      throw new UsageError(`--lora-scale=${options.lora_scale} needs --lora <file>: it scales that LoRA's update`);
    }
    const log = (line: string) => process.stderr.write(line + "\n");

    await checkOut(options.out);
    const { backend } = await initBackend(options.backend);
    const started = performance.now();
    const pipeline = await loadPipeline(modelSource(options.model), {
      revision: options.revision,
      variant: options.variant,
      offline: options.offline || undefined,
      log,
    });
    const checkLength = truncationWarner(pipeline.tokenizer, (message) => log(`warning: ${message}`));
    checkLength(options.prompt);
    checkLength(options.negative_prompt);
    const adapters = options.lora ? await mergeLora(pipeline.unet, options.lora, options.lora_scale ?? 1) : undefined;
    let given: GivenNoise | undefined;
    try {
      if (options.latents) given = await readGivenNoise(options.latents, options.steps, pipeline.unet.config.in_channels);
      const loaded = performance.now();
      const f = pipeline.vae.downscale;
      const { images, latents } = render(pipeline, {
        prompts: Array.from({ length: options.num_images }, () => options.prompt),
        negativePrompts: options.negative_prompt,
        steps: options.steps,
        guidanceScale: options.guidance,
        eta: options.eta,
        seed: options.seed,
        height: options.height ?? (given && given.latents.shape[1] * f), // latents [1, h, w, C]
        width: options.width ?? (given && given.latents.shape[2] * f),
        latents: given?.latents,
        varianceNoise: given?.varianceNoise,
      });
      const [n, height, width] = images.shape;
      const data = images.dataSync() as Float32Array;
      images.dispose();
      latents.dispose();
      const sampled = performance.now();
      const files = options.out.endsWith(".safetensors")
        ? [{ path: options.out, bytes: encodeSafetensors({ images: { shape: [n, height, width, 3], data } }) }]
        : floatsToImages(data, n, height, width).map((image, i) => ({ path: numbered(options.out, i, n), bytes: encodePng(image) }));
      for (const { path, bytes } of files) await writeFileAtomic(path, bytes);
      const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      const what = n > 1 ? `${n} images` : "";
      log(
        `wrote ${files.map((f) => f.path).join(", ")} (${[what, `${width}×${height}`, `${options.steps} steps`].filter(Boolean).join(", ")}) on ${backend}: ` +
          `load ${seconds(loaded - started)}, sample ${seconds(sampled - loaded)}`,
      );
    } finally {
      given?.latents.dispose();
      given?.varianceNoise?.forEach((z) => z.dispose());
      adapters?.dispose();
      disposePipeline(pipeline);
    }
    return EXIT.ok;
  },
};

/**
 * Attaches adapters shaped like the file's (rank, alpha, targets), loads it, and folds it, at `loraScale`, into the
 * UNet's weights (W + loraScale · BA: 0 leaves W exactly as it was).
 */
async function mergeLora(unet: UNet2DConditionModel, path: string, loraScale: number): Promise<LoraAdapters> {
  let weights: Awaited<ReturnType<typeof readLoraWeights>>;
  try {
    weights = await readLoraWeights(path);
  } catch (error) {
    throw new UsageError(`--lora=${JSON.stringify(path)}: not a LoRA weights file (pytorch_lora_weights.safetensors): ${(error as Error).message}`);
  }
  const adapters = attachLoraWeights(unet, weights, path);
  adapters.setLoraScale(loraScale);
  adapters.merge();
  return adapters;
}

/** x.png → x-<i>.png when n images are written to PNGs, else the path as given. */
function numbered(out: string, i: number, n: number): string {
  if (n === 1) return out;
  const dot = out.lastIndexOf(".");
  return dot > out.lastIndexOf("/") ? `${out.slice(0, dot)}-${i}${out.slice(dot)}` : `${out}-${i}`;
}

/** `--out` must name a file in an existing folder: checked before loading, so nothing is written on a mistake. */
async function checkOut(out: string): Promise<void> {
  const kind = await stat(out).then((s) => (s.isDirectory() ? "folder" : "file"), () => "none");
  if (kind === "folder") throw new UsageError(`--out=${JSON.stringify(out)} is a folder; give the file to write (.png, or .safetensors for the float image), e.g. ${join(out, "sample.png")}`);
  const parent = await stat(dirname(resolve(out))).then((s) => s.isDirectory(), () => false);
  if (!parent) throw new UsageError(`--out=${JSON.stringify(out)}: the folder ${dirname(resolve(out))} does not exist`);
}

/**
 * `--latents` file → x_T [1, h, w, C] and, when present, one z [1, h, w, C] per step (NHWC, as the TF.js models
 * take them). Every other key, a wrong rank or a count that does not match the steps is named.
 */
interface GivenNoise {
  latents: tf.Tensor4D;
  varianceNoise?: tf.Tensor4D[];
}

async function readGivenNoise(path: string, steps: number, channels: number): Promise<GivenNoise> {
  const { tensors, ints } = await readSafetensors(path);
  const unknown = [...Object.keys(tensors), ...Object.keys(ints)].filter((k) => k !== "latents" && k !== "variance_noise");
  if (unknown.length) throw new Error(`${path}: unknown tensors ${unknown.join(", ")}; --latents files hold latents and variance_noise`);
  const x = tensors.latents;
  if (!x) throw new Error(`${path} has no tensor "latents" [1, ${channels}, h, w]`);
  if (x.shape.length !== 4 || x.shape[0] !== 1 || x.shape[1] !== channels) {
    throw new Error(`${path}: latents has shape [${x.shape.join(", ")}]; one prompt with this UNet needs [1, ${channels}, h, w]`);
  }
  const z = tensors.variance_noise;
  if (z && (z.shape.length !== 5 || z.shape[0] !== steps || z.shape.slice(1).join() !== x.shape.join())) {
    const shape = (dims: number[]) => `[${dims.join(", ")}]`;
    throw new Error(`${path}: variance_noise has shape ${shape(z.shape)}; --steps ${steps} with latents ${shape(x.shape)} needs ${shape([steps, ...x.shape])}`);
  }
  return tf.tidy(() => {
    const nhwc = (t: tf.Tensor) => tf.transpose(t, [0, 2, 3, 1]) as tf.Tensor4D; // [B, C, h, w] → [B, h, w, C]
    const latents = nhwc(tf.tensor(x.data, x.shape));
    const varianceNoise = z && tf.unstack(tf.tensor(z.data, z.shape)).map(nhwc);
    return varianceNoise ? { latents, varianceNoise } : { latents };
  });
}
