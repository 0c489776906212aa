/**
 * CLIPTokenizer against transformers' CLIPTokenizer itself: the symbols, ids and masks python/oracle/tokenizer.py
 * recorded for 125 prompts (truncation, case, punctuation, whitespace, unicode, emoji, special tokens in the text) with
 * the tiny fixture tokenizer (model_max_length 77) and the tiny-shapes one (16).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { CLIPTokenizer } from "../../src/models/clip/tokenizer.js";

/** dist/test/tokenizer/ → the repository root */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const FOLDERS = { tiny: "test/fixtures/tokenizer/tiny", "tiny-shapes": "models/tiny-shapes/tokenizer" } as const;

interface Case {
  text: string;
  tokens: string[];
  input_ids: number[];
  attention_mask: number[];
}
const fixture = JSON.parse(readFileSync(ROOT + "test/fixtures/tokenizer/expected.json", "utf8")) as Record<keyof typeof FOLDERS, Case[]>;

for (const [name, folder] of Object.entries(FOLDERS) as Array<[keyof typeof FOLDERS, string]>) {
  const cases = fixture[name];

  test(`${name}: every prompt splits into the symbols transformers' CLIPTokenizer gives`, async () => {
    const tokenizer = await CLIPTokenizer.fromFiles(ROOT + folder);
    assert.ok(cases.length >= 100, `${cases.length} prompts`);
    for (const c of cases) assert.deepEqual(tokenizer.tokenize(c.text), c.tokens, JSON.stringify(c.text));
  });

  test(`${name}: a batch of every prompt gives transformers' ids and attention masks, truncated prompts included`, async () => {
    const tokenizer = await CLIPTokenizer.fromFiles(ROOT + folder);
    const length = tokenizer.modelMaxLength;
    const { ids, attentionMask, shape } = tokenizer.batch(cases.map((c) => c.text));
    assert.deepEqual(shape, [cases.length, length]);
    assert.ok(cases.filter((c) => c.tokens.length > length - 2).length >= 5, "several prompts are truncated");
    cases.forEach((c, b) => {
      assert.deepEqual([...ids.subarray(b * length, (b + 1) * length)], c.input_ids, JSON.stringify(c.text));
      assert.deepEqual([...attentionMask.subarray(b * length, (b + 1) * length)], c.attention_mask, JSON.stringify(c.text));
    });
  });
}
