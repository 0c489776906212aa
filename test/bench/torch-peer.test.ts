/** The bench's PyTorch peer is the project's Python environment: torch 2.13 and diffusers' own UNet2DConditionModel. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runTorch } from "../../src/cli/commands/bench.js";

test("the PyTorch peer times diffusers' UNet2DConditionModel step on the bench shapes with torch 2.13", async () => {
  const r = (await runTorch("unet", { repeats: 1, threads: 1, timeout: 600 })) as {
    unet_step?: { ms: number; params: number };
    torch?: { version: string; diffusers: string; threads: number };
  };
  assert.ok(r.unet_step, JSON.stringify(r));
  assert.ok(r.unet_step.ms > 0);
  // diffusers' tiny test UNet: the same parameter count the TF.js model reports for this config.
  assert.equal(r.unet_step.params, 1_427_012);
  assert.match(r.torch!.version, /^2\.13\.0/);
  assert.equal(r.torch!.diffusers, "0.42.1");
  assert.equal(r.torch!.threads, 1);
});
