/**
 * `pytorch_lora_weights.safetensors`, the file diffusers' `pipeline.load_lora_weights` reads.
 *
 * Written in diffusers' style (what TRL saved): `unet.<module path>.lora.down.weight` [r, in] (A) and
 * `unet.<module path>.lora.up.weight` [out, r] (B), F32, header `__metadata__` = {"format": "pt",
 * "lora_adapter_metadata": "{\"unet.r\": r, \"unet.lora_alpha\": r, \"unet.target_modules\": [...]}"}.
 * Optionally PEFT style (`...lora_A.weight` / `...lora_B.weight`). Read: either style, with or without the `unet.`
 * and `base_model.model.` prefixes; alpha from the metadata, else the rank (diffusers' default).
 *
 * alpha/r is folded into the written up (B) weights and the metadata declares lora_alpha = r, so the file's scale
 * is 1: diffusers before 0.34 ignores `lora_adapter_metadata` and loads every file at alpha = r, and a file whose
 * scale is 1 loads at the trained strength in every version (files from peft that declare alpha ≠ r are read at
 * their declared scale).
 */
import { attachLora, type LoraAdapters } from "../models/lora.js";
import type { Module } from "../models/nn/module.js";
import { fromTorch, toTorch } from "../models/nn/state-dict.js";
import { writeFileAtomic } from "./atomic.js";
import { decodeSafetensors, encodeSafetensors, readSafetensors, type Decoded, type NamedArray, type TensorMap } from "./safetensors.js";

/** The `__metadata__` key diffusers keeps the adapter config under. */
export const LORA_METADATA_KEY = "lora_adapter_metadata";

export type LoraKeyStyle = "diffusers" | "peft";

const SUFFIX: Record<LoraKeyStyle, { down: string; up: string }> = {
  diffusers: { down: "lora.down.weight", up: "lora.up.weight" },
  peft: { down: "lora_A.weight", up: "lora_B.weight" },
};
const PREFIXES = ["unet.", "base_model.model."];
/** Other pipeline components a LoRA file may also adapt: their keys are not the UNet's. */
const OTHER_COMPONENTS = ["text_encoder.", "text_encoder_2.", "vae.", "transformer."];

/** Adapter weights in PyTorch layout, by the adapted module's path inside the UNet. */
export interface LoraWeights {
  rank: number;
  alpha: number;
  targetModules: string[];
  layers: Map<string, { down: NamedArray; up: NamedArray }>;
}

/** The file's tensor names and PyTorch shapes for these adapters (no values needed: works shape-only). */
export function loraFileEntries(adapters: LoraAdapters, style: LoraKeyStyle = "diffusers"): Array<[string, number[]]> {
  return [...adapters.layers].flatMap(([path, layer]): Array<[string, number[]]> => [
    [`unet.${path}.${SUFFIX[style].down}`, [...layer.lora.down.weight.torchShape]],
    [`unet.${path}.${SUFFIX[style].up}`, [...layer.lora.up.weight.torchShape]],
  ]);
}

/** The adapters' current values. */
export function loraWeightsOf(adapters: LoraAdapters): LoraWeights {
  const layers = new Map(
    [...adapters.layers].map(([path, layer]) => {
      const read = (p: typeof layer.lora.down.weight): NamedArray => ({ shape: [...p.torchShape], data: toTorch(p) });
      return [path, { down: read(layer.lora.down.weight), up: read(layer.lora.up.weight) }] as const;
    }),
  );
  const { rank, alpha, targetModules } = adapters.config;
  return { rank, alpha, targetModules: [...targetModules], layers };
}

/** The file's bytes, with alpha/r folded into the up weights (B' = (alpha/r)·B, declared lora_alpha = r). */
export function encodeLoraWeights(weights: LoraWeights, style: LoraKeyStyle = "diffusers"): Uint8Array {
  const scale = weights.alpha / weights.rank;
  const tensors: TensorMap = {};
  for (const [path, { down, up }] of weights.layers) {
    tensors[`unet.${path}.${SUFFIX[style].down}`] = down;
    tensors[`unet.${path}.${SUFFIX[style].up}`] = scale === 1 ? up : { shape: up.shape, data: up.data.map((v) => v * scale) };
  }
  const adapter = { "unet.r": weights.rank, "unet.lora_alpha": weights.rank, "unet.target_modules": weights.targetModules };
  return encodeSafetensors(tensors, { format: "pt", [LORA_METADATA_KEY]: JSON.stringify(adapter) });
}

/** Writes the adapters to `path` atomically (temp file, fsync, rename). */
export async function saveLoraWeights(path: string, adapters: LoraAdapters, style: LoraKeyStyle = "diffusers"): Promise<void> {
  await writeFileAtomic(path, encodeLoraWeights(loraWeightsOf(adapters), style));
}

export async function readLoraWeights(path: string): Promise<LoraWeights> {
  return parseLoraWeights(await readSafetensors(path), path);
}

export function decodeLoraWeights(bytes: Uint8Array, source = "LoRA weights"): LoraWeights {
  return parseLoraWeights(decodeSafetensors(bytes, source), source);
}

/** Groups a decoded file's tensors by module path; names every key that is not a UNet LoRA weight. */
export function parseLoraWeights(file: Decoded, source: string): LoraWeights {
  const found = new Map<string, { down?: NamedArray; up?: NamedArray }>();
  const unknown: string[] = [...Object.keys(file.ints)];
  for (const [key, tensor] of Object.entries(file.tensors)) {
    const parsed = parseKey(key);
    if (!parsed) {
      unknown.push(key);
      continue;
    }
    const entry = found.get(parsed.path) ?? {};
    entry[parsed.which] = tensor;
    found.set(parsed.path, entry);
  }
  const problems: string[] = [];
  const listed = unknown.length > 8 ? `${unknown.slice(0, 8).join(", ")}, … (${unknown.length - 8} more)` : unknown.join(", ");
  if (unknown.length && found.size === 0) {
    problems.push(`none of its ${unknown.length} keys is a LoRA weight (e.g. ${unknown.slice(0, 3).join(", ")}); is it a model's weights file rather than a LoRA?`);
  } else if (unknown.length) problems.push(`unknown keys (${unknown.length}): ${listed}`);
  const incomplete = [...found].filter(([, e]) => !e.down || !e.up).map(([path, e]) => `${path} has no ${e.down ? "up (B)" : "down (A)"} weight`);
  problems.push(...incomplete);
  if (found.size === 0 && !unknown.length) problems.push("no LoRA weights");
  if (problems.length) throw new Error(`${source} is not a UNet LoRA file: ${problems.join("; ")}`);

  const layers = new Map([...found].map(([path, e]) => [path, { down: e.down!, up: e.up! }]));
  const ranks = new Set([...layers.values()].map((l) => l.down.shape[0]));
  const rank = [...ranks][0]!;
  for (const [path, { down, up }] of layers) {
    if (down.shape.length !== 2 || up.shape.length !== 2 || down.shape[0] !== rank || up.shape[1] !== rank) {
      throw new Error(`${source}: ${path} has down [${down.shape}] and up [${up.shape}]; every layer needs down [${rank}, in] and up [out, ${rank}]`);
    }
  }
  const meta = parseMetadata(file.metadata, source);
  if (meta.rank !== undefined && meta.rank !== rank) throw new Error(`${source}: metadata unet.r=${meta.rank} but the tensors have rank ${rank}`);
  return { rank, alpha: meta.alpha ?? rank, targetModules: meta.targetModules ?? targetsOf([...layers.keys()]), layers };
}

/**
 * Loads file weights into attached adapters. The file must hold exactly the adapters' layers, with their rank and
 * alpha: every missing, unexpected or mis-shaped key is named.
 */
export function applyLoraWeights(adapters: LoraAdapters, weights: LoraWeights, source = "LoRA weights"): void {
  const { rank, alpha } = adapters.config;
  const problems: string[] = [];
  if (weights.rank !== rank || weights.alpha !== alpha) {
    problems.push(`file has rank=${weights.rank} alpha=${weights.alpha}, the adapters rank=${rank} alpha=${alpha}`);
  }
  const missing = [...adapters.layers.keys()].filter((p) => !weights.layers.has(p));
  const unexpected = [...weights.layers.keys()].filter((p) => !adapters.layers.has(p));
  if (missing.length) problems.push(`missing (${missing.length}): ${missing.map((p) => `unet.${p}.lora.{down,up}.weight`).join(", ")}`);
  if (unexpected.length) problems.push(`unexpected (${unexpected.length}): ${unexpected.map((p) => `unet.${p}.lora.{down,up}.weight`).join(", ")}`);
  for (const [path, layer] of adapters.layers) {
    const w = weights.layers.get(path);
    if (!w) continue;
    for (const [which, param] of [["down", layer.lora.down.weight], ["up", layer.lora.up.weight]] as const) {
      if (w[which].shape.join(",") !== param.torchShape.join(",")) {
        problems.push(`unet.${path}.lora.${which}.weight: file [${w[which].shape}] vs adapter [${param.torchShape}]`);
      }
    }
  }
  if (problems.length) throw new Error(`${source} does not match the LoRA adapters:\n  ${problems.join("\n  ")}`);
  for (const [path, layer] of adapters.layers) {
    const w = weights.layers.get(path)!;
    for (const [param, data] of [[layer.lora.down.weight, w.down.data], [layer.lora.up.weight, w.up.data]] as const) {
      const value = fromTorch(param, data);
      param.tensor.assign(value);
      value.dispose();
    }
  }
}

/** Attaches adapters shaped like the file's (rank, alpha, targets) to `unet` and loads the file's weights into them. */
export function attachLoraWeights(unet: Module, weights: LoraWeights, source = "LoRA weights"): LoraAdapters {
  const adapters = attachLora(unet, { rank: weights.rank, alpha: weights.alpha, targetModules: weights.targetModules }, { seed: 0 });
  applyLoraWeights(adapters, weights, source);
  return adapters;
}

/** `unet.<path>.lora.down.weight` and the like → the module path and which matrix; undefined for anything else. */
function parseKey(key: string): { path: string; which: "down" | "up" } | undefined {
  if (OTHER_COMPONENTS.some((c) => key.startsWith(c))) return undefined;
  let rest = key;
  for (let stripped = true; stripped; ) {
    const prefix = PREFIXES.find((p) => rest.startsWith(p));
    stripped = prefix !== undefined;
    if (prefix) rest = rest.slice(prefix.length);
  }
  for (const suffix of Object.values(SUFFIX)) {
    for (const which of ["down", "up"] as const) {
      const end = `.${suffix[which]}`;
      if (rest.endsWith(end) && rest.length > end.length) return { path: rest.slice(0, -end.length), which };
    }
  }
  return undefined;
}

function parseMetadata(metadata: Record<string, string>, source: string): { rank?: number; alpha?: number; targetModules?: string[] } {
  const raw = metadata[LORA_METADATA_KEY];
  if (raw === undefined) return {};
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(raw) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${source}: __metadata__.${LORA_METADATA_KEY} is not JSON: ${(error as Error).message}`);
  }
  const number = (key: string) => {
    const v = parsed[key];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !(v > 0)) throw new Error(`${source}: __metadata__ ${key}=${JSON.stringify(v)} must be a positive number`);
    return v;
  };
  const targets = parsed["unet.target_modules"];
  if (targets !== undefined && !(Array.isArray(targets) && targets.every((t) => typeof t === "string"))) {
    throw new Error(`${source}: __metadata__ unet.target_modules=${JSON.stringify(targets)} must be a list of module names`);
  }
  return { rank: number("unet.r"), alpha: number("unet.lora_alpha"), targetModules: targets as string[] | undefined };
}

/** Targets implied by the layer paths: the last name, with a trailing ModuleList index (`to_out.0`). */
function targetsOf(paths: string[]): string[] {
  return [...new Set(paths.map((p) => p.match(/[^.]+(\.\d+)?$/)![0]))];
}
