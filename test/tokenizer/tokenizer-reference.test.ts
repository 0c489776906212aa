/**
 * CLIPTokenizer against ids from a plain-Python transcription of Hugging Face's CLIPTokenizer
 * (scripts/reference/tokenizer.py), over a tiny vocabulary that script trained (test/fixtures/tokenizer/tiny/).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { CLIPTokenizer } from "../../src/models/clip/tokenizer.js";

/** dist/test/tokenizer/ → test/fixtures/tokenizer/ */
const DIR = fileURLToPath(new URL("../../../test/fixtures/tokenizer/", import.meta.url));

interface Case {
  text: string;
  tokens: string[];
  input_ids: number[];
  attention_mask: number[];
}
const cases = JSON.parse(readFileSync(DIR + "expected.json", "utf8")) as Case[];

test("every reference prompt splits into the same BPE symbols", async () => {
  const tokenizer = await CLIPTokenizer.fromFiles(DIR + "tiny");
  assert.equal(cases.length, 60);
  for (const c of cases) assert.deepEqual(tokenizer.tokenize(c.text), c.tokens, JSON.stringify(c.text));
});

test("a batch of every reference prompt gives the reference ids and attention mask", async () => {
  const tokenizer = await CLIPTokenizer.fromFiles(DIR + "tiny");
  const { ids, attentionMask, shape } = tokenizer.batch(cases.map((c) => c.text));
  assert.deepEqual(shape, [cases.length, 77]);
  cases.forEach((c, b) => {
    assert.deepEqual([...ids.subarray(b * 77, (b + 1) * 77)], c.input_ids, JSON.stringify(c.text));
    assert.deepEqual([...attentionMask.subarray(b * 77, (b + 1) * 77)], c.attention_mask, JSON.stringify(c.text));
  });
});
