/**
 * The text side of Hugging Face's CLIPTokenizer: cleaning as it does without ftfy (its BasicTokenizer with
 * strip_accents=False, do_split_on_punc=False), then CLIP's pre-tokenizer pattern. Unicode categories come from the
 * JS engine's tables, so characters assigned after Python's unicodedata version may be classed differently.
 */

/** Characters BasicTokenizer drops: control, format, surrogate, private-use and unassigned (category C*). */
const OTHER = /^\p{C}$/u;
/** BasicTokenizer's whitespace: space, tab, newline, carriage return, or category Zs. */
const WHITESPACE = /^[ \t\n\r\p{Zs}]$/u;

/** CJK Unified Ideographs blocks (not kana or hangul), which BasicTokenizer spaces out one character at a time. */
const CJK_RANGES: readonly (readonly [number, number])[] = [
  [0x4e00, 0x9fff],
  [0x3400, 0x4dbf],
  [0x20000, 0x2a6df],
  [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f],
  [0x2b820, 0x2ceaf],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];

const isCjk = (cp: number) => CJK_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi);

/**
 * BasicTokenizer.tokenize joined by single spaces: drop NUL, U+FFFD and category-C characters (tab, newline and CR
 * excepted), turn whitespace into spaces, put spaces around CJK ideographs, NFC-normalise, split on whitespace and
 * lower-case each word.
 */
export function cleanText(text: string): string {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (WHITESPACE.test(ch)) out += " ";
    else if (cp === 0 || cp === 0xfffd || OTHER.test(ch)) continue;
    else out += isCjk(cp) ? ` ${ch} ` : ch;
  }
  const words = out.normalize("NFC").trim().split(/\s+/u).filter((word) => word.length > 0);
  return words.map((word) => word.toLowerCase()).join(" ");
}

/** CLIP's pre-tokenizer: special tokens, contractions, letter runs, single digits, runs of anything else. */
const CLIP_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;

/** Splits cleaned text into the words BPE works on (spaces are separators, never part of a word). */
export function preTokenize(cleaned: string): string[] {
  return cleaned.match(CLIP_PATTERN) ?? [];
}
