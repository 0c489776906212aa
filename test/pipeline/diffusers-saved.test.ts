/**
 * A text encoder written by today's transformers loads in alignprop: transformers ≥ 5 saves a CLIPTextModel it built
 * without the `text_model.` key prefix published checkpoints carry (it loads both), and alignprop does too.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { encodePrompts } from "../../src/diffusion/pipeline-sample.js";
import { embeddedModel, TINY_SHAPES } from "../../src/models/embedded.js";
import { disposePipeline, loadPipeline } from "../../src/models/pipeline.js";
import { readSafetensors } from "../../src/io/safetensors.js";
import { projectPython } from "../../src/python/env.js";

const work = mkdtempSync(join(tmpdir(), "alignprop-diffusers-saved-"));
after(() => rmSync(work, { recursive: true, force: true }));

// A text encoder made and saved by transformers itself (seeded random weights, tiny-shapes' config) in a copy of the
// pipeline, with its last hidden states for PROMPTS.
const SAVE = `
import shutil, sys, torch
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
src, dst, prompts = sys.argv[1], sys.argv[2], sys.argv[3:]
shutil.copytree(src, dst)
shutil.rmtree(dst + "/text_encoder")
torch.manual_seed(0)
model = CLIPTextModel(CLIPTextConfig.from_pretrained(src + "/text_encoder")).eval()
model.save_pretrained(dst + "/text_encoder")
tok = CLIPTokenizer.from_pretrained(src + "/tokenizer")
ids = tok(prompts, padding="max_length", max_length=tok.model_max_length, truncation=True, return_tensors="pt").input_ids
with torch.no_grad():
    save_file({"hidden": model(ids).last_hidden_state.contiguous()}, dst + "/hidden.safetensors")
`;
const PROMPTS = ["a red circle", "a large blue triangle in the top left"];

test("a text encoder saved by transformers 5 (keys without text_model.) loads and encodes as transformers does", async () => {
  const saved = join(work, "resaved");
  const r = spawnSync(projectPython(), ["-c", SAVE, embeddedModel(TINY_SHAPES)!.dir, saved, ...PROMPTS], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const keys = Object.keys((await readSafetensors(join(saved, "text_encoder", "model.safetensors"))).tensors);
  assert.ok(keys.every((k) => !k.startsWith("text_model.")), "transformers wrote the unprefixed layout this test is about");

  const pipeline = await loadPipeline(saved);
  try {
    const expected = (await readSafetensors(join(saved, "hidden.safetensors"))).tensors.hidden!;
    const got = encodePrompts(pipeline, PROMPTS);
    assert.deepEqual(got.shape, expected.shape);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(got, tf.tensor(expected.data, expected.shape)))).dataSync()[0]!);
    got.dispose();
    assert.ok(diff < 1e-5, `max |TF.js − transformers| = ${diff}`);
  } finally {
    disposePipeline(pipeline);
  }
});
