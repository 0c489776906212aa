/**
 * Times one training step of a UNet2DConditionModel (forward, MSE against a random target, gradients for every
 * parameter) on the current TF.js backend. Weights are random (uniform, unit output variance), so activations are
 * realistic; nothing is loaded.
 */
import * as tf from "@tensorflow/tfjs";
import { UNet2DConditionModel } from "../../models/unet/index.js";
import type { UNetShape } from "./shapes.js";
import { time, type Timing } from "./timing.js";

export interface UNetStepBench extends Timing {
  params: number;
}

const init = (shape: number[], role: string): tf.Tensor => {
  if (role !== "weight" && role !== "embedding") return tf.zeros(shape);
  const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1); // TF.js layout: [.., in, out] → fan-in is all but last
  const bound = Math.sqrt(3 / fanIn);
  return tf.randomUniform(shape, -bound, bound);
};

export function benchUNetStep(shape: UNetShape, repeats: number): UNetStepBench {
  const model = new UNet2DConditionModel({ shapeOnly: false, init }, shape.config); // makeParam disposes what init returns
  const params = model.namedParameters().map(([, p]) => p.tensor);
  const [batch] = shape.sample;
  const crossDim = shape.config.cross_attention_dim as number;
  const sample = tf.randomNormal(shape.sample) as tf.Tensor4D; // [B, H, W, C]
  const context = tf.randomNormal([batch, shape.tokens, crossDim]) as tf.Tensor3D; // [B, tokens, D]
  const target = tf.randomNormal(shape.sample); // [B, H, W, C]
  const step = () => {
    const { value, grads } = tf.engine().gradients(
      () => tf.mean(tf.square(tf.sub(model.forward(sample, shape.timestep, context), target))) as tf.Scalar,
      params,
    );
    tf.dispose([value, ...grads]);
  };
  // The first step builds ORT sessions and grows the wasm heap: always a warm-up unless a step takes over 20 s.
  const timing = time(step, repeats, 20_000);
  const result = { ...timing, params: model.parameterCount() };
  tf.dispose([sample, context, target]);
  model.dispose();
  return result;
}
