import assert from "node:assert/strict";
import { test } from "node:test";
import { convertVaeStateDict, renameVaeKey } from "../../src/models/vae/index.js";

const array = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

test("old mid-block attention names become diffusers' current ones", () => {
  assert.equal(renameVaeKey("encoder.mid_block.attentions.0.query.weight"), "encoder.mid_block.attentions.0.to_q.weight");
  assert.equal(renameVaeKey("decoder.mid_block.attentions.0.key.bias"), "decoder.mid_block.attentions.0.to_k.bias");
  assert.equal(renameVaeKey("decoder.mid_block.attentions.0.value.weight"), "decoder.mid_block.attentions.0.to_v.weight");
  assert.equal(renameVaeKey("encoder.mid_block.attentions.0.proj_attn.bias"), "encoder.mid_block.attentions.0.to_out.0.bias");
});

test("current keys and non-attention keys are left as they are", () => {
  for (const key of ["encoder.mid_block.attentions.0.to_q.weight", "encoder.mid_block.attentions.0.group_norm.weight", "decoder.conv_in.weight", "encoder.key.weight"]) {
    assert.equal(renameVaeKey(key), key);
  }
});

test("conv-shaped [C, C, 1, 1] attention weights become [C, C]; Linear-shaped ones and real 1×1 convs are kept", () => {
  const converted = convertVaeStateDict({
    "encoder.mid_block.attentions.0.query.weight": array([4, 4, 1, 1]),
    "encoder.mid_block.attentions.0.proj_attn.weight": array([4, 4]),
    "encoder.mid_block.attentions.0.query.bias": array([4]),
    "quant_conv.weight": array([8, 8, 1, 1]),
  });
  assert.deepEqual(
    Object.fromEntries(Object.entries(converted).map(([k, t]) => [k, t.shape])),
    {
      "encoder.mid_block.attentions.0.to_q.weight": [4, 4],
      "encoder.mid_block.attentions.0.to_out.0.weight": [4, 4],
      "encoder.mid_block.attentions.0.to_q.bias": [4],
      "quant_conv.weight": [8, 8, 1, 1],
    },
  );
});
