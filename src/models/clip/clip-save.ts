/**
 * Writes a `CLIPModel` in transformers' layout — config.json (a CLIPConfig with text_config and vision_config),
 * model.safetensors, and the tokenizer's files — so `loadClipModel` (and transformers' `CLIPModel.from_pretrained`)
 * read it back.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeSafetensors } from "../../io/safetensors.js";
import { stateDict } from "../nn/state-dict.js";
import type { CLIPModel } from "./clip-model.js";
import { CONFIG_FILE, WEIGHTS_FILE } from "./clip-files.js";

export function clipConfigJson(clip: CLIPModel): Record<string, unknown> {
  const { text_config, vision_config, projection_dim } = clip.config;
  return {
    architectures: ["CLIPModel"],
    model_type: "clip",
    projection_dim,
    logit_scale_init_value: 2.6592,
    torch_dtype: "float32",
    text_config: { ...text_config, model_type: "clip_text_model" },
    vision_config: { ...vision_config, model_type: "clip_vision_model" },
  };
}

export async function saveClipModel(dir: string, clip: CLIPModel, tokenizerFiles: Readonly<Record<string, string>>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, CONFIG_FILE), JSON.stringify(clipConfigJson(clip), null, 2) + "\n");
  await writeFile(join(dir, WEIGHTS_FILE), encodeSafetensors(stateDict(clip), { format: "pt" }));
  for (const [name, text] of Object.entries(tokenizerFiles)) await writeFile(join(dir, name), text);
}
