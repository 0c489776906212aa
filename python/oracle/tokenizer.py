"""Tokenizer fixture from transformers' CLIPTokenizer (the oracle): the BPE symbols, ids and attention mask it gives
for each prompt below, for the tiny fixture tokenizer (test/fixtures/tokenizer/tiny/, model_max_length 77) and for
models/tiny-shapes/tokenizer (model_max_length 16). test/tokenizer/tokenizer-reference.test.ts holds the TS tokenizer
to these; tests/test_tokenizer_fixture.py checks that the committed file is what transformers gives now.

Run from python/: python -m oracle.tokenizer   (writes test/fixtures/tokenizer/expected.json)
"""

import json

import transformers
from transformers import CLIPTokenizer

from .common import FIXTURES, REPO

FIXTURE = FIXTURES / "tokenizer" / "expected.json"
# The tiny vocabulary was trained by the retired hand-written reference and is kept as data.
TOKENIZERS = {
    "tiny": FIXTURES / "tokenizer" / "tiny",
    "tiny-shapes": REPO / "models" / "tiny-shapes" / "tokenizer",
}

_LONG = " ".join(["a red cat"] * 30)  # 90 words: past 77 tokens

PROMPTS = [
    "a photo of a cat",
    "A PHOTO OF A CAT",
    "a photograph of an astronaut riding a horse",
    "portrait of a man, oil painting, highly detailed, trending on artstation",
    "",
    "   ",
    "\n\t ",
    "cat",
    "catcatcat",
    "the the the",
    "caf\xe9 cr\xe8me br\xfbl\xe9e",
    "cafe\u0301 (decomposed accent)",
    "na\xefve Zo\xeb \xc5ngstr\xf6m",
    "Stra\xdfe STRASSE",
    "\u039f\u0394\u039f\u03a3 \u03bf\u03b4\u03cc\u03c2",
    "\u0130stanbul",
    "\u4e00\u53ea\u732b\u5750\u5728\u684c\u5b50\u4e0a",
    "\u732b\u3068\u72ac \u306d\u3053 \u3044\u306c",
    "\uace0\uc591\uc774 \ud55c \ub9c8\ub9ac",
    "\u6771\u4eac\u30bf\u30ef\u30fc",
    "\u6f22\u5b57\u304b\u306a\u30ab\u30ca",
    "a cat \U0001f431 and a rocket \U0001f680",
    "\U0001f44d\U0001f3fd thumbs up",
    "family \U0001f469\u200d\U0001f469\u200d\U0001f467 emoji",
    "flag \U0001f1ef\U0001f1f5 japan",
    "\u2764\ufe0f love",
    "hello, world!!! (yes) -- a/b; c:d",
    "what?! ... ok.",
    "\"quoted\" 'single' `back`",
    "#hashtag @user $5 100%",
    "1024 x 768, 3.14159, 2nd place, 1st",
    "x\xb2 + y\xb2 = z\xb2",
    "\u216b o'clock",
    "\u0663 arabic three",
    "\xbd cup",
    "it's don't we'll I'm they've you'd she's",
    "IT'S DON'T",
    "rock'n'roll",
    "''s '''t",
    "the cat\u2019s hat",
    "a   b\n\nc\t d",
    "  leading and trailing  ",
    "line\r\nbreak",
    "nbsp\xa0space",
    "ideographic\u3000space",
    "zero\u200bwidth",
    "control\x07bell\x00null",
    "replacement\ufffdchar",
    "soft\xadhyphen",
    "para\u2029graph",
    "a<|endoftext|>b",
    "wow!<|startoftext|>",
    "<|startoftext|> explicit",
    "q\u0307 combining",
    "under_score and-dash",
    "email@example.com http://x.y/z?a=1&b=2",
    "a photo of a supercalifragilisticexpialidocious creature",
    "unseen words: zyxwvut qqq",
    # truncation: past 77 tokens, exactly at the edge, and past 16 for tiny-shapes
    _LONG,
    " ".join(["word"] * 150),
    " ".join(["cat"] * 75),
    " ".join(["cat"] * 76),
    " ".join(["cat"] * 14),
    " ".join(["cat"] * 15),
    "a large red circle at the top left and a small blue square at the bottom right on a white background",
    "!" * 200,
    "9" * 100,
    "\U0001f431" * 40,
    # the tiny-shapes world
    "a red circle",
    "a small green triangle at the bottom",
    "a large orange square in the centre",
    "A Purple Circle On The Left",
    "a yellow triangle, large, top right",
    # case
    "MiXeD CaSe WoRdS",
    "\u0130 \u0131 I i",
    "\u212a kelvin \u00c5 angstrom \u2126 ohm",
    "\u1e9e capital sharp s",
    "\u01c5 titlecase digraph",
    "\u03a3\u03a3 \u03c3\u03c2 \u039f\u0394\u039f\u03a3.",
    # punctuation and symbols
    "...!!!???",
    "(parens) [brackets] {braces} <angles>",
    "C++ & C# | F# ~ ^ *",
    "\u201ccurly quotes\u201d \u2018single\u2019",
    "em\u2014dash en\u2013dash",
    "\u00a9 \u00ae \u2122 \u00a7 \u00b6",
    "\u20ac10 \u00a35 \u00a5100",
    "5'11\" tall",
    "don't won't can't shan't",
    "y'all 'tis 'twas",
    "THEY'RE WE'VE I'LL YOU'D",
    # special tokens written in the text
    "<|ENDOFTEXT|> upper",
    "<|STARTOFTEXT|> upper",
    "<|endoftext|><|endoftext|>",
    "<|startoftext|><|endoftext|>",
    "x<|endoftext|>y<|startoftext|>z",
    "< |endoftext| >",
    "<|endoftext",
    # whitespace
    "\u2003em\u2002en\u2009thin\u200ahair space",
    "\u0085next line",
    "\u000bvertical\u000cform feed",
    "\ufeffbyte order mark",
    "\u180emongolian vowel separator",
    "\u205fmedium math space",
    "\u1680ogham space",
    # unicode
    "\ufb01 ligature \ufb02",
    "\uff21\uff22\uff23 full width \uff11\uff12\uff13",
    "\U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522",
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35 thai",
    "\u0928\u092e\u0938\u094d\u0924\u0947 hindi",
    "\u05e9\u05dc\u05d5\u05dd hebrew",
    "\u0645\u0631\u062d\u0628\u0627 arabic",
    "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440",
    "\ud55c\uad6d\uc5b4 \u1100\u1161 jamo",
    "\ue000 private use",
    "\U000e0041 tag character",
    "\u0301 leading combining mark",
    "\u2460\u2461\u2462 circled",
    "\u2153 \u2154 fractions",
    # emoji
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\U0001f3f3\ufe0f\u200d\U0001f308 flag",
    "\U0001f44b\U0001f3ff\U0001f44b\U0001f3fb",
    "\U0001f1fa\U0001f1f8\U0001f1ec\U0001f1e7",
    "a\U0001f525b",
    "\u263a \u2764 \u2600",
    "1\ufe0f\u20e3 keycap",
]


def case(tokenizer: CLIPTokenizer, text: str) -> dict:
    encoded = tokenizer(text, padding="max_length", max_length=tokenizer.model_max_length, truncation=True)
    return {
        "text": text,
        "tokens": tokenizer.tokenize(text),
        "input_ids": encoded["input_ids"],
        "attention_mask": encoded["attention_mask"],
    }


def fixture() -> str:
    """The file's text: per tokenizer folder, one JSON object per prompt and line."""
    sections = []
    for name, folder in TOKENIZERS.items():
        tokenizer = CLIPTokenizer.from_pretrained(folder)
        lines = ",\n".join("  " + json.dumps(case(tokenizer, text), ensure_ascii=False) for text in PROMPTS)
        sections.append(f'"{name}": [\n{lines}\n]')
    header = json.dumps({"generator": "python/oracle/tokenizer.py", "transformers": transformers.__version__})
    return header[:-1] + ",\n" + ",\n".join(sections) + "\n}\n"


if __name__ == "__main__":
    FIXTURE.write_text(fixture(), encoding="utf-8")
    print(f"wrote {FIXTURE.relative_to(REPO)} ({len(PROMPTS)} prompts x {len(TOKENIZERS)} tokenizers)")
