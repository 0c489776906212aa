import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { BYTE_ENCODER, MAX_MERGES, byteEncode, parseMerges } from "../../src/models/clip/tokenizer-bpe.js";
import { normalize, preTokenize } from "../../src/models/clip/tokenizer-text.js";
import { CLIPTokenizer, type CLIPTokenizerOptions } from "../../src/models/clip/tokenizer.js";

type Merge = [string, string];

/** CLIP's vocabulary layout in small: 256 byte symbols, the same with "</w>", one token per merge, then specials. */
function vocabFor(merges: readonly Merge[], extra: readonly string[] = ["<|startoftext|>", "<|endoftext|>"]): Record<string, number> {
  const vocab: Record<string, number> = {};
  for (const token of [...BYTE_ENCODER, ...BYTE_ENCODER.map((s) => s + "</w>"), ...merges.map(([a, b]) => a + b), ...extra]) {
    vocab[token] ??= Object.keys(vocab).length;
  }
  return vocab;
}

const tokenizer = (merges: Merge[], options?: CLIPTokenizerOptions) => new CLIPTokenizer(vocabFor(merges), merges, options);
const CAT: Merge[] = [["c", "a"], ["ca", "t</w>"]];

test("bytes map to 256 distinct printable characters, ASCII letters to themselves and the space to Ġ", () => {
  assert.equal(new Set(BYTE_ENCODER).size, 256);
  assert.equal(BYTE_ENCODER[0x61], "a");
  assert.equal(BYTE_ENCODER[0x20], "Ġ");
  assert.equal(byteEncode("é"), "Ã©");
});

test("the lowest-ranked pair merges first, so merge order decides the split", () => {
  assert.deepEqual(tokenizer([["a", "b"], ["b", "c</w>"]]).tokenize("abc"), ["ab", "c</w>"]);
  assert.deepEqual(tokenizer([["b", "c</w>"], ["a", "b"]]).tokenize("abc"), ["a", "bc</w>"]);
  assert.deepEqual(tokenizer([["a", "a"]]).tokenize("aaaa"), ["aa", "a", "a</w>"]);
  assert.deepEqual(tokenizer(CAT).tokenize("cat cats"), ["cat</w>", "ca", "t", "s</w>"]);
});

test("an ordinary prompt encodes to bos, one id per symbol, eos", () => {
  const t = tokenizer(CAT);
  const vocab = vocabFor(CAT);
  assert.deepEqual(t.encode("A  Cat!"), [t.bosTokenId, vocab["a</w>"], vocab["cat</w>"], vocab["!</w>"], t.eosTokenId]);
});

test("the text is normalized as transformers' CLIPTokenizer does: NFC, whitespace runs to a space, lower case per character", () => {
  assert.equal(normalize("  A\tPHOTO\n\nof\u00a0a  CAT  "), " a photo of a cat ");
  assert.equal(normalize("zero\u200bwidth\u0000nul\ufffd"), "zero\u200bwidth\u0000nul\ufffd", "control and format characters stay");
  assert.equal(normalize("cafe\u0301"), "caf\u00e9");
  assert.equal(normalize("一只猫ねこ"), "一只猫ねこ", "CJK is not spaced out");
  assert.equal(normalize("ΟΔΟΣ İ"), "οδοσ i\u0307", "Σ → σ even at a word's end");
});

test("the pre-tokenizer keeps contractions, single digits, letter runs and punctuation runs apart, then splits as GPT-2", () => {
  assert.deepEqual(preTokenize("it's 2024!!! don't"), ["it", "'s", "2", "0", "2", "4", "!!!", "don", "'t"]);
  assert.deepEqual(preTokenize("a<|endoftext|>b"), ["a", "<|", "endoftext", "|>", "b"]);
  assert.deepEqual(preTokenize("x² 🐱🚀"), ["x", "²", "🐱🚀"]);
});

test("special tokens written in the text become their ids, and unknown symbols the unk id", () => {
  const merges: Merge[] = [];
  const vocab = vocabFor(merges);
  delete vocab["z</w>"];
  const t = new CLIPTokenizer(vocab, merges);
  assert.deepEqual(t.encode("a<|endoftext|>z"), [t.bosTokenId, vocab["a</w>"], t.eosTokenId, t.unkTokenId, t.eosTokenId]);
  assert.equal(t.unkTokenId, t.eosTokenId);
});

test("a special token marked normalized is also found in text that lower-cases to it; the others only verbatim", () => {
  const t = new CLIPTokenizer(vocabFor([]), [], { normalizedSpecialTokens: ["<|startoftext|>"] });
  assert.deepEqual(t.tokenize("a<|STARTOFTEXT|>"), ["a</w>", "<|startoftext|>"]);
  assert.deepEqual(t.tokenize("<|ENDOFTEXT|>"), ["<", "|</w>", "e", "n", "d", "o", "f", "t", "e", "x", "t</w>", "|", "></w>"]);
  assert.deepEqual(t.tokenize("<|endoftext|><|endoftext|>"), ["<|endoftext|>", "<|endoftext|>"]);
});

test("the empty prompt is bos, eos, then padding with a zero mask", () => {
  const t = tokenizer(CAT);
  const { ids, attentionMask, shape } = t.batch(["", "   "]);
  assert.deepEqual(shape, [2, 77]);
  const row = [t.bosTokenId, ...new Array<number>(76).fill(t.eosTokenId)];
  assert.deepEqual([...ids], [...row, ...row]);
  const mask = [1, 1, ...new Array<number>(75).fill(0)];
  assert.deepEqual([...attentionMask], [...mask, ...mask]);
});

test("an over-long prompt keeps bos, its first 75 symbols and eos", () => {
  const t = tokenizer(CAT);
  const ids = t.encode(Array.from({ length: 100 }, (_, i) => (i < 75 ? "cat" : "a")).join(" "));
  assert.equal(ids.length, 77);
  assert.deepEqual(ids, [t.bosTokenId, ...new Array<number>(75).fill(vocabFor(CAT)["cat</w>"]!), t.eosTokenId]);
  assert.ok(t.batch(["cat ".repeat(200)]).attentionMask.every((m) => m === 1));
});

test("a pad token other than eos pads with its own id", () => {
  const t = tokenizer(CAT, { padToken: "!", modelMaxLength: 6 });
  const { ids } = t.batch(["cat"]);
  const pad = vocabFor(CAT)["!"]!;
  assert.deepEqual([...ids], [t.bosTokenId, vocabFor(CAT)["cat</w>"], t.eosTokenId, pad, pad, pad]);
});

test("a special token missing from the vocabulary is named", () => {
  assert.throws(() => new CLIPTokenizer(vocabFor([], []), []), /bos_token="<\|startoftext\|>" is not in the vocabulary/);
  assert.throws(() => tokenizer(CAT, { padToken: "<pad>" }), /pad_token="<pad>" is not in the vocabulary/);
  assert.throws(() => tokenizer(CAT, { modelMaxLength: 1 }), /model_max_length=1 must be an integer ≥ 2/);
});

test("merges.txt loses its header line and everything past 48,894 merges", () => {
  const lines = Array.from({ length: MAX_MERGES + 5 }, (_, i) => `m${i} x`);
  const merges = parseMerges(`#version: 0.2\n${lines.join("\n")}\n`);
  assert.equal(merges.length, 48894);
  assert.deepEqual(merges[0], ["m0", "x"]);
  assert.deepEqual(merges.at(-1), [`m${MAX_MERGES - 1}`, "x"]);
  assert.deepEqual(parseMerges("#version: 0.2\r\na b\r\n"), [["a", "b"]]);
  assert.throws(() => parseMerges("#version: 0.2\na b\nabc\n"), /merges.txt line 3: "abc" is not two symbols/);
});

test("fromFiles reads a tokenizer folder, special_tokens_map.json overriding tokenizer_config.json", async () => {
  const dir = await mkdtemp(join(tmpdir(), "clip-tokenizer-"));
  try {
    const added = (content: string) => ({ __type: "AddedToken", content, lstrip: false, normalized: true, rstrip: false, single_word: false });
    await writeFile(join(dir, "vocab.json"), JSON.stringify(vocabFor(CAT)));
    await writeFile(join(dir, "merges.txt"), `#version: 0.2\n${CAT.map((m) => m.join(" ")).join("\n")}\n`);
    await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify({ bos_token: added("<|startoftext|>"), pad_token: "<|endoftext|>", model_max_length: 8 }));
    await writeFile(join(dir, "special_tokens_map.json"), JSON.stringify({ pad_token: "!" }));
    const t = await CLIPTokenizer.fromFiles(dir);
    assert.equal(t.modelMaxLength, 8);
    assert.equal(t.padTokenId, vocabFor(CAT)["!"]);
    assert.deepEqual(t.tokenize("cat"), ["cat</w>"]);

    await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify({ model_max_length: 1e30 }));
    assert.equal((await CLIPTokenizer.fromFiles(dir)).modelMaxLength, 77);
    await assert.rejects(CLIPTokenizer.fromFiles(join(dir, "nope")), /cannot read tokenizer file .*nope.vocab\.json/);
  } finally {
    await rm(dir, { recursive: true });
  }
});
