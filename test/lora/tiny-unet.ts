/** A tiny randomly initialised UNet (the tiny SD1.5-layout config of test/fixtures/unet/) for LoRA and training tests. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import type { BuildContext } from "../../src/models/nn/module.js";
import { UNet2DConditionModel } from "../../src/models/unet/unet-2d-condition.js";

const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/unet/", import.meta.url));

export const readUNetConfig = (name: "tiny-unet-sd15/config.json" | "sd15-unet.config.json"): Record<string, unknown> =>
  JSON.parse(readFileSync(FIXTURES + name, "utf8")) as Record<string, unknown>;

/** Weights N(0, std²) from a seeded stream; norm scales stay 1. */
export function randomContext(seed: number, std = 0.2): BuildContext {
  let next = seed;
  return { shapeOnly: false, init: (shape) => tf.randomNormal(shape, 0, std, "float32", next++) };
}

/** latents 4 channels, cross_attention_dim 12, block_out_channels [8, 12]. */
export function tinyUNet(seed: number): UNet2DConditionModel {
  return new UNet2DConditionModel(randomContext(seed), readUNetConfig("tiny-unet-sd15/config.json"));
}
