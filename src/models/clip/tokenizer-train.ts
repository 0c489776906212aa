/**
 * A CLIP tokenizer's files for a small closed vocabulary: byte-level BPE learned the usual way (merge the most
 * frequent adjacent pair, ties by the pair's text, until every word is one symbol), over CLIP's 512 base symbols (each
 * byte, and each byte ending a word), so any text still tokenizes and the words given become single tokens.
 * The files are what transformers' CLIPTokenizer reads: vocab.json, merges.txt, tokenizer_config.json,
 * special_tokens_map.json.
 */
import { BYTE_ENCODER, byteEncode, END_OF_WORD } from "./tokenizer-bpe.js";

const STARTOFTEXT = "<|startoftext|>";
const ENDOFTEXT = "<|endoftext|>";

export interface BpeVocabulary {
  vocab: Record<string, number>;
  merges: [string, string][];
}

export function trainBpe(words: readonly string[]): BpeVocabulary {
  const symbolsOf = (w: string) => {
    const chars = [...byteEncode(w.toLowerCase())];
    return [...chars.slice(0, -1), chars.at(-1)! + END_OF_WORD];
  };
  const seqs = [...new Set(words.filter(Boolean))].map(symbolsOf);
  const merges: [string, string][] = [];
  for (;;) {
    const counts = new Map<string, number>();
    for (const s of seqs) for (let i = 0; i + 1 < s.length; i++) counts.set(`${s[i]} ${s[i + 1]}`, (counts.get(`${s[i]} ${s[i + 1]}`) ?? 0) + 1);
    if (counts.size === 0) break;
    const [pair] = [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))[0]!;
    const [left, right] = pair.split(" ") as [string, string];
    merges.push([left, right]);
    for (const s of seqs) {
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === left && s[i + 1] === right) s.splice(i, 2, left + right);
      }
    }
  }
  const tokens = [...BYTE_ENCODER, ...BYTE_ENCODER.map((c) => c + END_OF_WORD), ...merges.map(([l, r]) => l + r), STARTOFTEXT, ENDOFTEXT];
  return { vocab: Object.fromEntries(tokens.map((t, i) => [t, i])), merges };
}

const special = (content: string) => ({ __type: "AddedToken", content, lstrip: false, normalized: true, rstrip: false, single_word: false });

/** The tokenizer folder's files (name → text) for `words`, with prompts cut to `modelMaxLength` tokens. */
export function clipTokenizerFiles(words: readonly string[], modelMaxLength: number): Record<string, string> {
  const { vocab, merges } = trainBpe(words);
  const specials = { bos_token: special(STARTOFTEXT), eos_token: special(ENDOFTEXT), pad_token: ENDOFTEXT, unk_token: special(ENDOFTEXT) };
  const config = {
    add_prefix_space: false,
    do_lower_case: true,
    errors: "replace",
    model_max_length: modelMaxLength,
    tokenizer_class: "CLIPTokenizer",
    ...specials,
  };
  return {
    "vocab.json": JSON.stringify(vocab),
    "merges.txt": ["#version: 0.2", ...merges.map(([l, r]) => `${l} ${r}`)].join("\n") + "\n",
    "tokenizer_config.json": JSON.stringify(config, null, 2) + "\n",
    "special_tokens_map.json": JSON.stringify(specials, null, 2) + "\n",
  };
}
