/**
 * Peak TF.js memory of the `aesthetic` reward's forward + backward (d Σ rewards / d images, as AlignProp takes it) on
 * CLIP ViT-L/14 sizes with random weights, for SD1.5-sized 512×512 images, two ways:
 *   - numBytes: the most `tf.memory().numBytes` after any kernel (tf.profile's peakBytes). TF.js adds a tensor's size
 *     for every Tensor object, so reshapes and the clones it keeps for the backward pass count again although they
 *     share one buffer: an over-count.
 *   - buffers: the most bytes in distinct data buffers after any kernel, what the backend really holds (counted by
 *     wrapping the engine's trackTensor/removeDataId, internals this measurement alone relies on).
 * Mode "plain" takes the gradient with tf.grad, as AlignProp does today; "checkpointed" runs the same computation
 * through src/tf/checkpoint.ts with one segment per ViT layer (preprocessing + embeddings first, the head as the
 * loss), which is what per-layer gradient checkpointing of the reward would hold.
 * Not a test (it needs minutes and gigabytes); run after `npx tsc -p .`:
 *
 *   node dist/test/clip-vision/measure-memory.js [backend=wasm-ort] [layers=1,2,3] [batches=1,2,4,8] [plain|checkpointed]
 *
 * Every ViT layer is the same, so the peak is affine in the layer count: measuring 1, 2 and 3 layers checks that and
 * extrapolates to 24; `layers=24` measures the full tower directly where memory allows (wasm's heap is 4 GB).
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, type BackendName } from "../../src/tf/backend.js";
import { checkpointedGrads, type Segment } from "../../src/tf/checkpoint.js";
import { l2Normalize } from "../../src/models/clip/clip-model.js";
import { clipPreprocess } from "../../src/models/clip/image-preprocess.js";
import { clipVisionConfigOf } from "../../src/models/clip/vision-config.js";
import { CLIPVisionModelWithProjection } from "../../src/models/clip/vision-model.js";
import type { BuildContext } from "../../src/models/nn/module.js";
import { AestheticHead, aestheticReward, LAION_HEAD_WIDTHS } from "../../src/rewards/aesthetic.js";
import { readJson } from "./fixtures.js";

const [backendArg = "wasm-ort", layersArg = "1,2,3", batchesArg = "1,2,4,8", mode = "plain"] = process.argv.slice(2);
const list = (s: string) => s.split(",").map(Number);
const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** Small random weights: the values do not change the memory, only keep the numbers finite. */
const ctx: BuildContext = { shapeOnly: false, init: (shape) => tf.randomNormal(shape, 0, 0.02) };

interface EngineInternals {
  state: { tensorInfo: WeakMap<object, { bytes: number }> };
  trackTensor(a: tf.Tensor, backend: unknown): void;
  removeDataId(dataId: object, backend: unknown): void;
}

/** Bytes in distinct data buffers, now and at most since `reset`. */
const buffers = (() => {
  const engine = tf.engine() as unknown as EngineInternals;
  const info = engine.state.tensorInfo;
  let now = 0;
  let peak = 0;
  const track = engine.trackTensor.bind(engine);
  const remove = engine.removeDataId.bind(engine);
  engine.trackTensor = (a, backend) => {
    const added = !info.has(a.dataId);
    track(a, backend);
    if (added) peak = Math.max(peak, (now += info.get(a.dataId)!.bytes));
  };
  engine.removeDataId = (dataId, backend) => {
    const bytes = info.get(dataId)?.bytes ?? 0;
    remove(dataId, backend);
    if (!info.has(dataId)) now -= bytes;
  };
  return { now: () => now, peak: () => peak, reset: () => (peak = now) };
})();

interface Measured {
  peak: number;
  bufferPeak: number;
  weights: number;
  seconds: number;
}

async function peakBytes(layers: number, batch: number): Promise<Measured> {
  const config = { ...clipVisionConfigOf(readJson("vit-l-14.config.json")), num_hidden_layers: layers };
  const vision = new CLIPVisionModelWithProjection(ctx, config);
  const head = new AestheticHead(ctx, LAION_HEAD_WIDTHS);
  const reward = aestheticReward(vision, head);
  const images = tf.randomUniform([batch, 512, 512, 3]) as tf.Tensor4D;
  const weights = tf.memory().numBytes - images.size * 4;
  const start = Date.now();
  buffers.reset();
  const profile = await tf.profile(() =>
    tf.tidy(() => {
      const grad =
        mode === "checkpointed"
          ? layerCheckpointedGrad(vision, head, images)
          : tf.grad((x: tf.Tensor) => tf.sum(reward.score(x as tf.Tensor4D, [], []).rewards))(images);
      grad.dataSync();
    }),
  );
  const seconds = (Date.now() - start) / 1000;
  const bufferPeak = buffers.peak();
  tf.dispose(images);
  vision.dispose();
  head.dispose();
  return { peak: profile.peakBytes, bufferPeak, weights, seconds };
}

/** d Σ aesthetic / d images with one checkpoint segment per ViT layer. */
function layerCheckpointedGrad(vision: CLIPVisionModelWithProjection, head: AestheticHead, images: tf.Tensor4D): tf.Tensor {
  const tower = vision.vision_model;
  const mask = tf.zeros([257, 257]) as tf.Tensor2D;
  const embed: Segment = (x) => tower.pre_layrnorm.forward(tower.embeddings.forward(clipPreprocess(x as tf.Tensor4D, { size: 224 })));
  const layers = tower.encoder.layers.map((layer): Segment => (h) => layer.forward(h as tf.Tensor3D, mask));
  const loss = (h: tf.Tensor) => {
    const cls = tf.reshape(tf.slice(h, [0, 0, 0], [h.shape[0]!, 1, 1024]), [h.shape[0]!, 1024]);
    const embeds = vision.visual_projection.forward(tower.post_layernorm.forward(cls)) as tf.Tensor2D;
    return tf.sum(head.forward(l2Normalize(embeds))) as tf.Scalar;
  };
  const { value, inputGrad } = checkpointedGrads([embed, ...layers], images, loss, []);
  value.dispose();
  return inputGrad;
}

const choice = await initBackend(backendArg as BackendName);
console.log(`backend ${choice.backend}; ViT-L/14 vision tower + LAION head, 512×512 images, d Σ rewards / d images (${mode})`);
for (const batch of list(batchesArg)) {
  const rows: Array<Measured & { layers: number }> = [];
  for (const layers of list(layersArg)) {
    try {
      const m = await peakBytes(layers, batch);
      rows.push({ layers, ...m });
      console.log(
        `batch ${batch}, ${layers} layers: numBytes peak ${MiB(m.peak)}, buffers peak ${MiB(m.bufferPeak)} ` +
          `(weights ${MiB(m.weights)}; above them ${MiB(m.peak - m.weights)} / ${MiB(m.bufferPeak - m.weights)}), ${m.seconds.toFixed(1)} s`,
      );
    } catch (error) {
      console.log(`batch ${batch}, ${layers} layers: failed (${(error as Error).message.split("\n")[0]})`);
    }
  }
  if (rows.length >= 2) {
    for (const key of ["peak", "bufferPeak", "weights"] as const) {
      const steps = rows.slice(1).map((r, i) => (r[key] - rows[i]![key]) / (r.layers - rows[i]!.layers));
      const last = rows[rows.length - 1]!;
      const full = last[key] + (24 - last.layers) * steps[steps.length - 1]!;
      console.log(`batch ${batch} ${key}: per layer ${steps.map(MiB).join(" / ")} → 24 layers ${MiB(full)}`);
    }
  }
}
