/**
 * The TF.js engine's side of the cross-engine first-step check (python/tests/test_torch_parity.py): reads as JSON on
 * stdin the run-config fields both engines share, the LoRA weights under the checkpoint's diffusers keys (PyTorch
 * layout) and one micro-batch's draws — prompts, metadata, kept steps, x_T and the chain's noise in torch's
 * [B, C, h, w] layout. Builds the job as the trainer does (`createJob`), loads those weights through the checkpoint
 * path (`restore`, AdamW's moments as before its first step), and prints the job's loss, rewards and LoRA gradient
 * for those draws: `{"loss", "rewards": [...], "grads": {key: [...]}}`, on the exact `cpu` backend unless the request
 * names another (`"backend": "wasm-ort"`: traced ONNX Runtime graphs). With `kl_coeff` > 0
 * in the config, the loss includes kl_coeff · kl over the kept steps and `kl` is printed too.
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { AlignPropJob } from "../../src/algorithms/alignprop.js";
import { loadRunConfig, type OverrideValue } from "../../src/config/index.js";
import { createJob } from "../../src/trainer/jobs.js";
import { initBackend, type BackendName } from "../../src/tf/backend.js";

interface Request {
  backend?: BackendName;
  config: Record<string, OverrideValue>;
  lora: Record<string, { shape: number[]; data: number[] }>;
  draws: {
    prompts: string[];
    metadata: Record<string, unknown>[];
    keep: boolean[];
    /** [B, C, h, w] of x_T and of each noise tensor (one per step; none when eta = 0). */
    shape: [number, number, number, number];
    x_t: number[];
    noise: number[][];
  };
}

const request = JSON.parse(readFileSync(0, "utf8")) as Request;
// "cpu" (exact) by default; "wasm-ort" runs the model calls as traced ONNX Runtime graphs, as training does.
await initBackend(request.backend ?? "cpu");
const created = await createJob(loadRunConfig({ overrides: request.config }).config);
const job = created.job;
if (!(job instanceof AlignPropJob)) throw new Error(`config.algorithm must be alignprop, got the ${job.name} job`);
const saved = await job.checkpointState();
for (const [key, t] of Object.entries(request.lora)) saved.tensors[key] = { shape: t.shape, data: Float32Array.from(t.data) };
await job.restore(saved);

const d = request.draws;
const nhwc = (values: number[]) => tf.tidy(() => tf.transpose(tf.tensor4d(values, d.shape), [0, 2, 3, 1]) as tf.Tensor4D);
const xT = nhwc(d.x_t);
const noise = d.noise.map(nhwc);
const { loss, rewards, grads, kl } = job.gradients({ prompts: d.prompts, metadata: d.metadata, keep: d.keep, xT, noise });
tf.dispose([xT, ...noise]);
created.dispose();
const plain = Object.fromEntries(Object.entries(grads).map(([key, t]) => [key, Array.from(t.data)]));
console.log(JSON.stringify({ loss, rewards, grads: plain, ...(kl === undefined ? {} : { kl }) }));
