/**
 * The text side of transformers' CLIPTokenizer (transformers 5, backed by the tokenizers library; what diffusers
 * pipelines load): the normalizer NFC → runs of whitespace to one space → lower case, then the pre-tokenizer, CLIP's
 * pattern and inside each match GPT-2's (the ByteLevel pre-tokenizer's). Unicode categories come from the JS engine's
 * tables, so characters assigned after the tokenizers library's Unicode version may be classed differently.
 */

/** What the tokenizers library's regex (Oniguruma) counts as `\s`, as measured on transformers 5.25's normalizer. */
const WHITESPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const WHITESPACE_RUN = new RegExp(`[${WHITESPACE}]+`, "gu");

/**
 * CLIPTokenizer's normalizer: NFC, every whitespace run to one space, then each character lower-cased on its own
 * (as the tokenizers library's Lowercase does: Σ → σ even at the end of a word, where String.toLowerCase gives ς).
 * Control, format and private-use characters are kept: they reach BPE as their bytes.
 */
export function normalize(text: string): string {
  let out = "";
  for (const ch of text.normalize("NFC").replace(WHITESPACE_RUN, " ")) out += ch.toLowerCase();
  return out;
}

/** CLIP's pre-tokenizer pattern: special tokens, contractions, letter runs, single digits, runs of anything else. */
const CLIP_PATTERN = new RegExp(`<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^${WHITESPACE}\\p{L}\\p{N}]+`, "gu");
/** GPT-2's pattern, which the ByteLevel pre-tokenizer applies to each CLIP piece (it splits `<|endoftext|>` apart). */
const GPT2_PATTERN = new RegExp(`'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WHITESPACE}\\p{L}\\p{N}]+|[${WHITESPACE}]+`, "gu");

/** Splits normalized text into the words BPE works on (spaces are separators, never part of a word). */
export function preTokenize(normalized: string): string[] {
  return (normalized.match(CLIP_PATTERN) ?? []).flatMap((piece) => piece.match(GPT2_PATTERN) ?? []);
}
