/**
 * Loading VAE weights. Older diffusers files name the mid-block attention `query/key/value/proj_attn`, and some
 * store those projections conv-shaped [C, C, 1, 1]; diffusers converts both on load, and so does this.
 */
import type { NamedArray, TensorMap } from "../../io/safetensors.js";
import { loadStateDict } from "../nn/state-dict.js";
import type { AutoencoderKL } from "./autoencoder-kl.js";

const OLD_ATTENTION_NAMES: Record<string, string> = {
  query: "to_q",
  key: "to_k",
  value: "to_v",
  proj_attn: "to_out.0",
};
const OLD_ATTENTION_KEY = /^(.*\.attentions\.\d+\.)(query|key|value|proj_attn)\.(weight|bias)$/;
const ATTENTION_WEIGHT = /\.attentions\.\d+\.(to_q|to_k|to_v|to_out\.0)\.weight$/;

/** `…attentions.0.query.weight` → `…attentions.0.to_q.weight`; other keys unchanged. */
export function renameVaeKey(key: string): string {
  const m = OLD_ATTENTION_KEY.exec(key);
  return m ? `${m[1]}${OLD_ATTENTION_NAMES[m[2]!]}.${m[3]}` : key;
}

/** A VAE state dict with old attention names renamed and conv-shaped [C, C, 1, 1] attention weights made [C, C]. */
export function convertVaeStateDict(tensors: TensorMap): TensorMap {
  const out: TensorMap = {};
  for (const [oldKey, t] of Object.entries(tensors)) {
    const key = renameVaeKey(oldKey);
    out[key] = ATTENTION_WEIGHT.test(key) && isPointwiseConv(t) ? { shape: t.shape.slice(0, 2), data: t.data } : t;
  }
  return out;
}

function isPointwiseConv(t: NamedArray): boolean {
  return t.shape.length === 4 && t.shape[2] === 1 && t.shape[3] === 1;
}

/** Loads diffusers VAE weights (current or old key names) into `vae`, naming every missing/unexpected/mis-shaped key. */
export function loadVaeStateDict(vae: AutoencoderKL, tensors: TensorMap, source = "VAE state dict"): void {
  loadStateDict(vae, convertVaeStateDict(tensors), { source });
}
