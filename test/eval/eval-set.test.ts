/** The eval set's samples: bit-identical for the same weights and seeds, different across seeds and after training. */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { evalSamples, sampleEvalSet, type EvalSampling } from "../../src/eval/eval-set.js";
import { disposeComponents, tinyComponents } from "../alignprop/tiny-pipeline.js";

const SAMPLING: EvalSampling = { steps: 2, guidanceScale: 3, eta: 1, negativePrompt: "", batchSize: 3 };

test("the eval set is every prompt with every seed, prompt-major, with the colour and shape each prompt names", () => {
  const samples = evalSamples({ prompts: ["a red circle", "a cat"], seeds: [4, 9] });
  assert.deepEqual(
    samples.map((s) => [s.prompt, s.seed, s.metadata]),
    [
      ["a red circle", 4, { colour: "red", shape: "circle" }],
      ["a red circle", 9, { colour: "red", shape: "circle" }],
      ["a cat", 4, {}],
      ["a cat", 9, {}],
    ],
  );
});

test("eval samples are bit-identical for the same weights and seeds, and differ across seeds and after the weights change", () => {
  const c = tinyComponents(2);
  try {
    const samples = evalSamples({ prompts: ["a red circle", "a blue square"], seeds: [0, 1] });
    const first = sampleEvalSet(c, samples, SAMPLING);
    const before = tf.memory().numTensors;
    const again = sampleEvalSet(c, samples, SAMPLING);
    assert.equal(tf.memory().numTensors, before, "sampling leaks no tensors");
    assert.equal(first.length, 4);
    assert.deepEqual(again.map((i) => [...i.rgb]), first.map((i) => [...i.rgb]));
    assert.notDeepEqual([...first[0]!.rgb], [...first[1]!.rgb], "seeds 0 and 1 of one prompt");
    // Another batch size samples the same seeds: the same noise, so (up to float rounding) the same images.
    const one = sampleEvalSet(c, samples, { ...SAMPLING, batchSize: 1 });
    one.forEach((image, i) => image.rgb.forEach((v, j) => assert.ok(Math.abs(v - first[i]!.rgb[j]!) <= 1, `sample ${i} byte ${j}`)));
    // A step of training: the LoRA up weights leave zero, and the samples move.
    for (const v of c.lora.trainableVariables()) v.assign(tf.tidy(() => tf.add(v, tf.mul(0.5, tf.randomNormal(v.shape, 0, 1, "float32", 1)))));
    const trained = sampleEvalSet(c, samples, SAMPLING);
    assert.notDeepEqual(trained.map((i) => [...i.rgb]), first.map((i) => [...i.rgb]));
  } finally {
    disposeComponents(c);
  }
});
