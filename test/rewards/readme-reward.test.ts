/** The README's own-reward example is a working reward module: it loads, passes the probe and scores a batch. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { PACKAGE_ROOT } from "../../src/models/embedded.js";
import { loadRewardModule } from "../../src/rewards/user-module.js";

// Inside the package (ignored .scratch/) so the example's `import "@tensorflow/tfjs"` resolves like a user's would.
mkdirSync(join(PACKAGE_ROOT, ".scratch"), { recursive: true });
const dir = mkdtempSync(join(PACKAGE_ROOT, ".scratch", "readme-reward-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function readmeExample(): string {
  const readme = readFileSync(join(PACKAGE_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Your own reward"));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(match, "the README's reward section has a ```js example");
  return match[1]!;
}

test("the README's reward example loads as a differentiable reward and scores images by their mean", async () => {
  const path = join(dir, "my-reward.mjs");
  writeFileSync(path, readmeExample());
  const reward = await loadRewardModule(path);
  assert.equal(reward.info.differentiable, true);
  assert.equal(reward.info.inputSize, 224);
  assert.deepEqual(reward.info.range, [0, 1]);
  const scores = tf.tidy(() => {
    const images = tf.stack([tf.fill([224, 224, 3], 0.25), tf.fill([224, 224, 3], 0.75)]) as tf.Tensor4D;
    return Array.from(reward.score(images, ["a", "b"], [{}, {}]).rewards.dataSync());
  });
  assert.deepEqual(scores.map((x) => Math.round(x * 1e6) / 1e6), [0.25, 0.75]);
});
