/**
 * CLIP's text encoder reads at most `model_max_length` tokens, so a longer prompt is cut (as diffusers and
 * transformers cut it). Cutting silently surprises: the first long prompt gets one warning naming the limit.
 */
import type { CLIPTokenizer } from "./tokenizer.js";

/** A checker to call with every prompt; it calls `warn` once, for the first prompt that will be cut. */
export function truncationWarner(tokenizer: CLIPTokenizer, warn: (message: string) => void): (prompt: string) => void {
  let warned = false;
  const room = tokenizer.modelMaxLength - 2;
  return (prompt) => {
    if (warned) return;
    const tokens = tokenizer.tokenize(prompt).length;
    if (tokens <= room) return;
    warned = true;
    const start = prompt.length > 40 ? `${prompt.slice(0, 40)}…` : prompt;
    warn(
      `prompt "${start}" has ${tokens} tokens but the text encoder reads ${room} (model_max_length=${tokenizer.modelMaxLength} with ` +
        `the start and end tokens): the rest is cut, as in diffusers; later long prompts are cut without another warning`,
    );
  };
}
