"""Reference ids for src/models/clip/tokenizer.ts: Hugging Face's slow CLIPTokenizer algorithm (the path it takes
without ftfy: BasicTokenizer(strip_accents=False, do_split_on_punc=False), CLIP's pre-tokenizer pattern, byte-level
BPE with "</w>") in plain Python, over a tiny BPE vocabulary this script trains on a small prompt corpus.

Python's `re` has no \\p{L}, so the pre-tokenizer is a hand-written scanner over unicodedata categories that follows
the pattern's alternatives in order:
    <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+

Writes test/fixtures/tokenizer/tiny/{vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json} (a
diffusers `tokenizer/` folder) and test/fixtures/tokenizer/expected.json. Run: /usr/bin/python3 scripts/reference/tokenizer.py
"""
import collections
import json
import os
import unicodedata

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "tokenizer")
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
MAX_LENGTH = 77
NUM_MERGES = 400
MERGES_LIMIT = 49152 - 256 - 2  # HF reads at most this many merges after the header line


def bytes_to_unicode():
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_ENCODER = bytes_to_unicode()


def is_cjk(cp):
    return any(lo <= cp <= hi for lo, hi in (
        (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
        (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))


def basic_clean(text):
    """BasicTokenizer.tokenize with strip_accents=False, do_split_on_punc=False, joined by single spaces."""
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or (ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")):
            continue
        if ch in " \t\n\r" or unicodedata.category(ch) == "Zs":
            out.append(" ")
        elif is_cjk(cp):
            out.append(" " + ch + " ")
        else:
            out.append(ch)
    words = unicodedata.normalize("NFC", "".join(out)).split()
    return " ".join(w.lower() for w in words)


def is_letter(ch):
    return unicodedata.category(ch).startswith("L")


def is_number(ch):
    return unicodedata.category(ch).startswith("N")


def pre_tokenize(text):
    tokens, i = [], 0
    while i < len(text):
        rest = text[i:]
        match = next((lit for lit in (BOS, EOS, "'s", "'t", "'re", "'ve", "'m", "'ll", "'d") if rest.startswith(lit)), None)
        if match is not None:
            end = i + len(match)
        elif is_letter(text[i]):
            end = i + 1
            while end < len(text) and is_letter(text[end]):
                end += 1
        elif is_number(text[i]):
            end = i + 1
        elif not text[i].isspace():
            end = i + 1
            while end < len(text) and not (text[end].isspace() or is_letter(text[end]) or is_number(text[end])):
                end += 1
        else:
            i += 1
            continue
        tokens.append(text[i:end])
        i = end
    return tokens


def byte_encode(token):
    return "".join(BYTE_ENCODER[b] for b in token.encode("utf-8"))


def bpe(token, ranks):
    if token in (BOS, EOS):
        return [token]
    word = list(token[:-1]) + [token[-1] + "</w>"]
    while len(word) > 1:
        pairs = [(word[k], word[k + 1]) for k in range(len(word) - 1)]
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break
        merged, k = [], 0
        while k < len(word):
            if k < len(word) - 1 and (word[k], word[k + 1]) == best:
                merged.append(word[k] + word[k + 1])
                k += 2
            else:
                merged.append(word[k])
                k += 1
        word = merged
    return word


def tokenize(text, ranks):
    return [piece for token in pre_tokenize(basic_clean(text)) for piece in bpe(byte_encode(token), ranks)]


def train_merges(corpus, count):
    """Plain BPE training: repeatedly merge the most frequent adjacent pair (ties: the smallest pair)."""
    words = collections.Counter(byte_encode(t) for line in corpus for t in pre_tokenize(basic_clean(line)))
    segmented = {w: list(w[:-1]) + [w[-1] + "</w>"] for w in words}
    merges = []
    for _ in range(count):
        pairs = collections.Counter()
        for w, symbols in segmented.items():
            for k in range(len(symbols) - 1):
                pairs[(symbols[k], symbols[k + 1])] += words[w]
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        ranks = {best: 0}
        segmented = {w: bpe_once(s, ranks) for w, s in segmented.items()}
    return merges


def bpe_once(word, ranks):
    merged, k = [], 0
    while k < len(word):
        if k < len(word) - 1 and (word[k], word[k + 1]) in ranks:
            merged.append(word[k] + word[k + 1])
            k += 2
        else:
            merged.append(word[k])
            k += 1
    return merged


CORPUS = [
    "a photo of a cat sitting on a table", "a painting of a dog in the style of van gogh",
    "an astronaut riding a horse on the moon", "a red sports car parked in the street at night",
    "portrait of an old man with a beard, oil painting, highly detailed", "a bowl of fruit on a wooden table",
    "the city skyline at sunset, digital art, trending on artstation", "a cute corgi wearing sunglasses",
    "a watercolor painting of mountains and a lake", "a cat and a dog playing in the garden",
    "photograph of a beautiful woman, 85mm, studio lighting", "a dragon flying over a castle, fantasy art",
    "it's a sunny day, don't forget the hat; we'll see", "they've been there, I'm here, you'd know, she's gone",
    "café crème brûlée à la française", "naïve résumé of the fiancée", "一只猫 坐在 桌子上", "猫と犬",
    "the quick brown fox jumps over the lazy dog", "a bird sitting on a branch in the forest",
    "a house by the river, photorealistic, 4k, 8k", "shapes: a blue circle and a red square on white",
    "a green triangle next to a yellow star", "an apple, a banana and an orange",
]

PROMPTS = [
    "a photo of a cat", "A PHOTO OF A CAT", "a photograph of an astronaut riding a horse",
    "portrait of a man, oil painting, highly detailed, trending on artstation",
    "", "   ", "\n\t ", "cat", "catcatcat", "the the the",
    "café crème brûlée", "cafe\u0301 (decomposed accent)", "naïve Zoë Ångström", "Straße STRASSE", "ΟΔΟΣ οδός", "İstanbul",
    "一只猫坐在桌子上", "猫と犬 ねこ いぬ", "고양이 한 마리", "東京タワー", "漢字かなカナ",
    "a cat 🐱 and a rocket 🚀", "👍🏽 thumbs up", "family 👩\u200d👩\u200d👧 emoji", "flag 🇯🇵 japan", "❤️ love",
    "hello, world!!! (yes) -- a/b; c:d", "what?! ... ok.", "\"quoted\" 'single' `back`", "#hashtag @user $5 100%",
    "1024 x 768, 3.14159, 2nd place, 1st", "x² + y² = z²", "Ⅻ o'clock", "٣ arabic three", "½ cup",
    "it's don't we'll I'm they've you'd she's", "IT'S DON'T", "rock'n'roll", "''s '''t", "the cat’s hat",
    "a   b\n\nc\t d", "  leading and trailing  ", "line\r\nbreak", "nbsp\u00a0space", "ideographic\u3000space",
    "zero\u200bwidth", "control\u0007bell\u0000null", "replacement\ufffdchar", "soft\u00adhyphen", "para\u2029graph",
    "a<|endoftext|>b", "wow!<|startoftext|>", "<|startoftext|> explicit", "q\u0307 combining",
    "under_score and-dash", "email@example.com http://x.y/z?a=1&b=2",
    " ".join(["a red cat"] * 30), "word " * 100,
    "a photo of a supercalifragilisticexpialidocious creature", "unseen words: zyxwvut qqq",
]


def main():
    os.makedirs(os.path.join(ROOT, "tiny"), exist_ok=True)
    merges = train_merges(CORPUS, NUM_MERGES)
    assert len(merges) <= MERGES_LIMIT
    ranks = {pair: rank for rank, pair in enumerate(merges)}
    symbols = list(BYTE_ENCODER.values())
    vocab = {}
    for token in symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + [BOS, EOS]:
        vocab.setdefault(token, len(vocab))
    tiny = os.path.join(ROOT, "tiny")
    with open(os.path.join(tiny, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(tiny, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    added = lambda content: {"__type": "AddedToken", "content": content, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False}
    with open(os.path.join(tiny, "tokenizer_config.json"), "w") as f:
        json.dump({"add_prefix_space": False, "bos_token": added(BOS), "do_lower_case": True, "eos_token": added(EOS),
                   "errors": "replace", "model_max_length": MAX_LENGTH, "pad_token": EOS,
                   "tokenizer_class": "CLIPTokenizer", "unk_token": added(EOS)}, f, indent=2)
    with open(os.path.join(tiny, "special_tokens_map.json"), "w") as f:
        json.dump({"bos_token": added(BOS), "eos_token": added(EOS), "pad_token": EOS, "unk_token": added(EOS)}, f, indent=2)

    cases = []
    for text in PROMPTS:
        tokens = tokenize(text, ranks)
        ids = [vocab.get(t, vocab[EOS]) for t in tokens][: MAX_LENGTH - 2]
        ids = [vocab[BOS]] + ids + [vocab[EOS]]
        mask = [1] * len(ids) + [0] * (MAX_LENGTH - len(ids))
        cases.append({"text": text, "tokens": tokens, "input_ids": ids + [vocab[EOS]] * (MAX_LENGTH - len(ids)), "attention_mask": mask})
    with open(os.path.join(ROOT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=0)
    print(f"{len(merges)} merges, {len(vocab)} tokens, {len(cases)} prompts")
    for case in cases[:4] + cases[16:18] + cases[21:23]:
        print(repr(case["text"]), case["tokens"][:12])


if __name__ == "__main__":
    main()
