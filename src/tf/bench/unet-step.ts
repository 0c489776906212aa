/**
 * Times one training step of a UNet2DConditionModel (forward, MSE against a random target, gradients for every
 * parameter) on the current TF.js backend as pretraining's UNet stage runs it (src/pretrain/optimise.ts): on
 * wasm-ort the forward pass, the loss and the backward pass are one traced ONNX Runtime graph (`tracedGradients`),
 * every weight a graph input; with ALIGNPROP_ORT_GRAPHS=0, or on another backend, TF.js ops. Weights are random
 * (uniform, unit output variance), so activations are realistic; nothing is loaded.
 */
import * as tf from "@tensorflow/tfjs";
import { UNet2DConditionModel } from "../../models/unet/index.js";
import { instanceId, tracedGradients, tracedGraphsActive } from "../ort/traced-call.js";
import type { UNetShape } from "./shapes.js";
import { time, type Timing } from "./timing.js";

export interface UNetStepBench extends Timing {
  params: number;
  /** True when the step ran as traced ORT graphs, false when as TF.js ops. */
  traced_graphs: boolean;
}

const init = (shape: number[], role: string): tf.Tensor => {
  if (role !== "weight" && role !== "embedding") return tf.zeros(shape);
  const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1); // TF.js layout: [.., in, out] → fan-in is all but last
  const bound = Math.sqrt(3 / fanIn);
  return tf.randomUniform(shape, -bound, bound);
};

export function benchUNetStep(shape: UNetShape, repeats: number): UNetStepBench {
  const model = new UNet2DConditionModel({ shapeOnly: false, init }, shape.config); // makeParam disposes what init returns
  const params = model.namedParameters().map(([, p]) => p.tensor as tf.Variable);
  for (const p of params) p.trainable = true; // trainable weights are traced-graph inputs, as in pretraining
  const [batch] = shape.sample;
  const crossDim = shape.config.cross_attention_dim as number;
  const sample = tf.randomNormal(shape.sample) as tf.Tensor4D; // [B, H, W, C]
  const context = tf.randomNormal([batch, shape.tokens, crossDim]) as tf.Tensor3D; // [B, tokens, D]
  const target = tf.randomNormal(shape.sample); // [B, H, W, C]
  const key = `bench unet|${instanceId(model)}|t=${shape.timestep}`;
  const step = () => {
    const { value, grads } = tracedGradients(key, [sample, context, target], params, () =>
      tf.mean(tf.square(tf.sub(model.forward(sample, shape.timestep, context), target))) as tf.Scalar,
    );
    tf.dispose([value, ...grads]);
  };
  // The first step traces the graphs (or builds ORT sessions) and grows the wasm heap: always a warm-up unless a step
  // takes over 20 s.
  const timing = time(step, repeats, 20_000);
  const result = { ...timing, params: model.parameterCount(), traced_graphs: tracedGraphsActive() };
  tf.dispose([sample, context, target]);
  model.dispose();
  return result;
}
