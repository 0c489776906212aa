/**
 * CLIP's BPE tokenizer, giving the ids transformers' CLIPTokenizer gives (transformers 5, backed by the tokenizers
 * library; what diffusers pipelines load): special tokens written in the text are cut out first (on the raw text, or
 * on the normalized text for tokens marked normalized), the rest is normalized and split (tokenizer-text.ts), then
 * byte-level BPE, then [bos, …, eos] truncated to model_max_length and padded with the pad token.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { BytePairEncoder, byteEncode, parseMerges } from "./tokenizer-bpe.js";
import { normalize, preTokenize } from "./tokenizer-text.js";

const STARTOFTEXT = "<|startoftext|>";
const ENDOFTEXT = "<|endoftext|>";
const DEFAULT_MAX_LENGTH = 77;
/** The special-token settings a CLIP tokenizer folder has, in the order transformers registers them. */
const SPECIAL_TOKEN_KEYS = ["bos_token", "eos_token", "unk_token", "pad_token"] as const;

export interface CLIPTokenizerOptions {
  bosToken?: string;
  eosToken?: string;
  /** SD1.x pads with eos; SD2.x with "!". */
  padToken?: string;
  unkToken?: string;
  modelMaxLength?: number;
  /**
   * Special tokens found in the normalized text rather than the raw text (transformers' `AddedToken(normalized=True)`;
   * e.g. SD's `<|startoftext|>`, so `<|STARTOFTEXT|>` is one too). Default none, as for special tokens given as strings.
   */
  normalizedSpecialTokens?: readonly string[];
}

export interface TokenizedBatch {
  /** [B, model_max_length] ids: bos, tokens, eos, then pad. */
  ids: Int32Array;
  /** [B, model_max_length]: 1 over bos … eos, 0 over padding. */
  attentionMask: Int32Array;
  shape: [number, number];
}

export class CLIPTokenizer {
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  readonly unkTokenId: number;
  readonly modelMaxLength: number;
  private readonly encoder: Map<string, number>;
  private readonly bpe: BytePairEncoder;
  /** Special tokens cut out of the raw text, and those cut out of the normalized text. */
  private readonly rawSpecials: readonly string[];
  private readonly normalizedSpecials: readonly string[];

  constructor(
    vocab: Readonly<Record<string, number>>,
    merges: readonly (readonly [string, string])[],
    options: CLIPTokenizerOptions = {},
  ) {
    this.encoder = new Map(Object.entries(vocab));
    this.bpe = new BytePairEncoder(merges);
    const id = (field: string, token: string) => {
      const found = this.encoder.get(token);
      if (found === undefined) throw new Error(`${field}=${JSON.stringify(token)} is not in the vocabulary`);
      return found;
    };
    this.bosTokenId = id("bos_token", options.bosToken ?? STARTOFTEXT);
    this.eosTokenId = id("eos_token", options.eosToken ?? ENDOFTEXT);
    this.padTokenId = id("pad_token", options.padToken ?? ENDOFTEXT);
    this.unkTokenId = id("unk_token", options.unkToken ?? ENDOFTEXT);
    const specials = [...new Set([options.bosToken ?? STARTOFTEXT, options.eosToken ?? ENDOFTEXT, options.unkToken ?? ENDOFTEXT, options.padToken ?? ENDOFTEXT])];
    const normalized = new Set(options.normalizedSpecialTokens ?? []);
    this.rawSpecials = specials.filter((t) => !normalized.has(t));
    this.normalizedSpecials = specials.filter((t) => normalized.has(t));
    this.modelMaxLength = options.modelMaxLength ?? DEFAULT_MAX_LENGTH;
    if (!Number.isInteger(this.modelMaxLength) || this.modelMaxLength < 2) {
      throw new Error(`model_max_length=${this.modelMaxLength} must be an integer ≥ 2 (room for bos and eos)`);
    }
  }

  /**
   * Reads a diffusers `tokenizer/` folder: vocab.json and merges.txt, plus tokenizer_config.json and
   * special_tokens_map.json when present (the map wins, as in transformers' from_pretrained).
   */
  static async fromFiles(dir: string): Promise<CLIPTokenizer> {
    const text = async (name: string, required: boolean): Promise<string | undefined> => {
      try {
        return await readFile(join(dir, name), "utf8");
      } catch (error) {
        if (!required && (error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw new Error(`cannot read tokenizer file ${join(dir, name)}: ${(error as Error).message}`);
      }
    };
    const json = async (name: string, required: boolean): Promise<Record<string, unknown> | undefined> => {
      const body = await text(name, required);
      if (body === undefined) return undefined;
      try {
        return JSON.parse(body) as Record<string, unknown>;
      } catch (error) {
        throw new Error(`tokenizer file ${join(dir, name)} is not valid JSON: ${(error as Error).message}`);
      }
    };
    const vocab = (await json("vocab.json", true)) as Record<string, number>;
    const merges = parseMerges((await text("merges.txt", true))!);
    const settings = { ...(await json("tokenizer_config.json", false)), ...(await json("special_tokens_map.json", false)) };
    const token = (key: string): string | undefined => {
      const value = settings[key];
      return typeof value === "object" && value !== null ? (value as { content?: string }).content : (value as string | undefined);
    };
    // transformers registers bos, eos, unk, pad in this order, the last one of a content deciding: a token given as a
    // string is matched on the raw text, one given as an AddedToken where its `normalized` says (default true).
    const normalizedFlags = new Map<string, boolean>();
    for (const key of SPECIAL_TOKEN_KEYS) {
      const value = settings[key];
      const content = token(key);
      if (content !== undefined) normalizedFlags.set(content, typeof value === "object" && value !== null && (value as { normalized?: boolean }).normalized !== false);
    }
    // transformers writes a huge number (1e30) when a tokenizer has no known limit; CLIP's text encoder takes 77.
    const maxLength = settings.model_max_length;
    const modelMaxLength = typeof maxLength === "number" && maxLength < 1e6 ? maxLength : DEFAULT_MAX_LENGTH;
    return new CLIPTokenizer(vocab, merges, {
      bosToken: token("bos_token"),
      eosToken: token("eos_token"),
      padToken: token("pad_token"),
      unkToken: token("unk_token"),
      modelMaxLength,
      normalizedSpecialTokens: [...normalizedFlags].filter(([, normalized]) => normalized).map(([content]) => content),
    });
  }

  /** The BPE symbols of a text (special tokens written in it as themselves), without the added bos/eos. */
  tokenize(text: string): string[] {
    return splitAround(text, this.rawSpecials).flatMap((raw, i) =>
      i % 2
        ? [raw]
        : splitAround(normalize(raw), this.normalizedSpecials).flatMap((part, j) =>
            j % 2 ? [part] : preTokenize(part).flatMap((word) => this.bpe.encode(byteEncode(word))),
          ),
    );
  }

  /** [bos, …ids, eos], at most model_max_length long (the text's tokens are cut, never bos or eos). */
  encode(text: string): number[] {
    const ids = this.tokenize(text).map((symbol) => this.encoder.get(symbol) ?? this.unkTokenId);
    return [this.bosTokenId, ...ids.slice(0, this.modelMaxLength - 2), this.eosTokenId];
  }

  /** What pipelines feed the text encoder: every text encoded, padded to model_max_length. */
  batch(texts: readonly string[]): TokenizedBatch {
    const length = this.modelMaxLength;
    const ids = new Int32Array(texts.length * length).fill(this.padTokenId);
    const attentionMask = new Int32Array(texts.length * length);
    texts.forEach((text, b) => {
      const encoded = this.encode(text);
      ids.set(encoded, b * length);
      attentionMask.fill(1, b * length, b * length + encoded.length);
    });
    return { ids, attentionMask, shape: [texts.length, length] };
  }
}

/**
 * `text` cut around each occurrence of `tokens` (the leftmost first, the longest where several start there, as the
 * tokenizers library's added-token matcher does): [text, token, text, …, text], tokens at the odd indices.
 */
function splitAround(text: string, tokens: readonly string[]): string[] {
  const parts: string[] = [];
  let rest = text;
  for (;;) {
    let at = -1;
    let found = "";
    for (const t of tokens) {
      const i = rest.indexOf(t);
      if (i >= 0 && (at < 0 || i < at || (i === at && t.length > found.length))) [at, found] = [i, t];
    }
    if (at < 0) return [...parts, rest];
    parts.push(rest.slice(0, at), found);
    rest = rest.slice(at + found.length);
  }
}
