/** The monitors on known inputs: rendered scenes, identical and different images, a base that did not move. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { COLOUR_NAMES, SHAPES } from "../../src/data/shape-prompts.js";
import { classifyShape, renderScene, scene, WORLD_SIZE, type Scene } from "../../src/data/shapes-world.js";
import { parseShapePrompt } from "../../src/data/shape-prompts.js";
import { diversityMonitor } from "../../src/eval/monitors/diversity.js";
import { driftMonitor } from "../../src/eval/monitors/drift.js";
import type { EvalSamples } from "../../src/eval/monitors/monitor.js";
import { rewardMonitor } from "../../src/eval/monitors/reward.js";
import { shapeFidelityMonitor } from "../../src/eval/monitors/shape-fidelity.js";
import { Rng } from "../../src/util/rng.js";

/** A large centred scene of `colour` and `shape` on a gray background. */
function centred(colour: Scene["colour"], shape: Scene["shape"]): Scene {
  return { colour, shape, size: "large", position: "centre", background: "gray", cx: 16, cy: 16, radius: 10 };
}

/** The samples of the given prompts drawn as `images`, each rendered at WORLD_SIZE. */
function samples(prompts: string[], images: Float32Array[], base?: Float32Array[]): EvalSamples {
  const join = (list: Float32Array[]) => {
    const out = new Float32Array(list.length * list[0]!.length);
    list.forEach((image, i) => out.set(image, i * image.length));
    return out;
  };
  return {
    prompts,
    metadata: prompts.map(parseShapePrompt),
    pixels: join(images),
    height: WORLD_SIZE,
    width: WORLD_SIZE,
    rewards: prompts.map((_, i) => i / 10),
    base: base ? join(base) : undefined,
  };
}

test("the shape classifier names the shape of every large centred rendered scene, and of 97% of random ones", () => {
  for (const shape of SHAPES) {
    for (const colour of COLOUR_NAMES) assert.equal(classifyShape(renderScene(centred(colour, shape)), WORLD_SIZE), shape, `${colour} ${shape}`);
  }
  const rng = new Rng(3);
  const scenes = Array.from({ length: 300 }, () => scene(rng));
  const right = scenes.filter((s) => classifyShape(renderScene(s), WORLD_SIZE) === s.shape).length;
  assert.ok(right / scenes.length >= 0.97, `${right}/${scenes.length}`);
  assert.equal(classifyShape(new Float32Array(WORLD_SIZE * WORLD_SIZE * 3).fill(0.5), WORLD_SIZE), undefined);
});

test("shape-fidelity is 1 for rendered scenes of their prompts and 0 when every prompt names another colour and shape", () => {
  const drawn = [centred("red", "circle"), centred("blue", "square"), centred("yellow", "triangle")];
  const images = drawn.map((s) => renderScene(s));
  assert.deepEqual(shapeFidelityMonitor.measure(samples(["a red circle", "a blue square", "a yellow triangle"], images)), {
    fidelity: 1,
    fidelity_colour: 1,
    fidelity_shape: 1,
  });
  assert.deepEqual(shapeFidelityMonitor.measure(samples(["a green square", "a white triangle", "a cyan circle"], images)), {
    fidelity: 0,
    fidelity_colour: 0,
    fidelity_shape: 0,
  });
  // A prompt naming no colour or shape is not judged.
  assert.deepEqual(shapeFidelityMonitor.measure(samples(["a cat"], [images[0]!])), {});
});

test("diversity is 0 for identical samples of a prompt and grows with their differences", () => {
  const red = renderScene(centred("red", "circle"));
  assert.deepEqual(diversityMonitor.measure(samples(["a red circle", "a red circle", "a red circle"], [red, red, red])), { diversity: 0 });
  const other = renderScene({ ...centred("red", "circle"), cx: 9, cy: 9, radius: 5 });
  const { diversity } = diversityMonitor.measure(samples(["a red circle", "a red circle"], [red, other]));
  assert.ok(diversity! > 0.1, String(diversity));
  // Samples of different prompts are never compared: one sample per prompt has nothing to compare.
  assert.deepEqual(diversityMonitor.measure(samples(["a red circle", "a blue circle"], [red, other])), {});
});

test("drift is 0 against an unchanged base, the RMS distance otherwise, and absent without a base", () => {
  const a = new Float32Array(12).fill(0.25);
  const b = new Float32Array(12).fill(0.75);
  const s = (images: Float32Array[], base?: Float32Array[]) => ({ ...samples(["p", "p"], images, base), height: 2, width: 2 });
  assert.deepEqual(driftMonitor.measure(s([a, b], [a, b])), { drift: 0 });
  assert.deepEqual(driftMonitor.measure(s([a, b], [b, b])), { drift: 0.25 });
  assert.deepEqual(driftMonitor.measure(s([a, b])), {});
});

test("reward is the mean training reward of the eval samples", () => {
  const image = new Float32Array(WORLD_SIZE * WORLD_SIZE * 3);
  assert.ok(Math.abs(rewardMonitor.measure(samples(["a", "b", "c"], [image, image, image])).reward! - 0.1) < 1e-12);
});
