import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { captionWords } from "../../src/data/shapes-world.js";
import { CLIPTokenizer } from "../../src/models/clip/tokenizer.js";
import { clipTokenizerFiles, trainBpe } from "../../src/models/clip/tokenizer-train.js";

test("every word the tokenizer was learned over is one token; other text still tokenizes byte by byte", async () => {
  const dir = mkdtempSync(join(tmpdir(), "alignprop-bpe-"));
  try {
    for (const [name, text] of Object.entries(clipTokenizerFiles(captionWords(), 16))) writeFileSync(join(dir, name), text);
    const tokenizer = await CLIPTokenizer.fromFiles(dir);
    assert.equal(tokenizer.modelMaxLength, 16);
    for (const word of captionWords()) {
      const { ids, attentionMask } = tokenizer.batch([word]);
      assert.equal(attentionMask.reduce((a, b) => a + b, 0), 3, `${word}: bos, one token, eos`);
      assert.equal(ids[0], tokenizer.bosTokenId);
      assert.equal(ids[2], tokenizer.eosTokenId);
    }
    const { attentionMask } = tokenizer.batch(["zebra"]);
    assert.equal(attentionMask.reduce((a, b) => a + b, 0), 2 + 5, "an unknown word splits into its 5 letters");
    const long = tokenizer.batch(["a large red circle at the top left on a blue background"]);
    assert.equal(long.attentionMask.reduce((a, b) => a + b, 0), 14);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the vocabulary is CLIP's: 512 byte symbols, one token per merge, then the two special tokens; learning repeats", () => {
  const a = trainBpe(["red", "green", "reed"]);
  assert.deepEqual(a, trainBpe(["red", "green", "reed"]));
  const size = Object.keys(a.vocab).length;
  assert.equal(size, 512 + a.merges.length + 2);
  assert.equal(a.vocab["<|endoftext|>"], size - 1);
  assert.equal(a.vocab["<|startoftext|>"], size - 2);
  for (const w of ["red</w>", "green</w>", "reed</w>"]) assert.ok(w in a.vocab, w);
});
