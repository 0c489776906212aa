/**
 * CLIP's BPE tokenizer, giving the ids Hugging Face's CLIPTokenizer gives (the slow one diffusers pipelines load,
 * on its path without ftfy): clean and lower-case, split with CLIP's pattern, byte-level BPE, then
 * [bos, …, eos] truncated to model_max_length and padded with the pad token.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { BytePairEncoder, byteEncode, parseMerges } from "./tokenizer-bpe.js";
import { cleanText, preTokenize } from "./tokenizer-text.js";

/** The tokens CLIP's pattern and BPE cache treat as whole words. */
const STARTOFTEXT = "<|startoftext|>";
const ENDOFTEXT = "<|endoftext|>";
const DEFAULT_MAX_LENGTH = 77;

export interface CLIPTokenizerOptions {
  bosToken?: string;
  eosToken?: string;
  /** SD1.x pads with eos; SD2.x with "!". */
  padToken?: string;
  unkToken?: string;
  modelMaxLength?: number;
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

  constructor(
    vocab: Readonly<Record<string, number>>,
    merges: readonly (readonly [string, string])[],
    options: CLIPTokenizerOptions = {},
  ) {
    this.encoder = new Map(Object.entries(vocab));
    this.bpe = new BytePairEncoder(merges, [STARTOFTEXT, ENDOFTEXT]);
    const id = (field: string, token: string) => {
      const found = this.encoder.get(token);
      if (found === undefined) throw new Error(`${field}=${JSON.stringify(token)} is not in the vocabulary`);
      return found;
    };
    this.bosTokenId = id("bos_token", options.bosToken ?? STARTOFTEXT);
    this.eosTokenId = id("eos_token", options.eosToken ?? ENDOFTEXT);
    this.padTokenId = id("pad_token", options.padToken ?? ENDOFTEXT);
    this.unkTokenId = id("unk_token", options.unkToken ?? ENDOFTEXT);
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
    // transformers writes a huge number (1e30) when a tokenizer has no known limit; CLIP's text encoder takes 77.
    const maxLength = settings.model_max_length;
    const modelMaxLength = typeof maxLength === "number" && maxLength < 1e6 ? maxLength : DEFAULT_MAX_LENGTH;
    return new CLIPTokenizer(vocab, merges, {
      bosToken: token("bos_token"),
      eosToken: token("eos_token"),
      padToken: token("pad_token"),
      unkToken: token("unk_token"),
      modelMaxLength,
    });
  }

  /** The BPE symbols of a text, without bos/eos. */
  tokenize(text: string): string[] {
    return preTokenize(cleanText(text)).flatMap((word) => this.bpe.encode(byteEncode(word)));
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
