/**
 * Byte-level BPE as CLIP does it: a word's UTF-8 bytes become printable characters (GPT-2's bytes_to_unicode), its
 * last symbol carries the end-of-word suffix "</w>", then the lowest-ranked adjacent pair is merged until none of
 * the pairs is in merges.txt.
 */

export const END_OF_WORD = "</w>";
/** The most merges CLIPTokenizer reads: 49152 − 256 − 2 = 48,894 (SD's merges.txt holds exactly these). */
export const MAX_MERGES = 49152 - 256 - 2;

/** Byte → character: printable Latin-1 bytes map to themselves, the other 68 to U+0100 onwards, in byte order. */
export const BYTE_ENCODER: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : next++));
})();

const utf8 = new TextEncoder();

/** The word's UTF-8 bytes as BYTE_ENCODER characters. */
export function byteEncode(word: string): string {
  let out = "";
  for (const b of utf8.encode(word)) out += BYTE_ENCODER[b]!;
  return out;
}

/**
 * merges.txt → ordered pairs: the first line is dropped whatever it holds (Hugging Face does; real files start with
 * `#version: 0.2`), then at most MAX_MERGES lines, each "left right".
 */
export function parseMerges(text: string): [string, string][] {
  const lines = text.trim().split(/\r?\n/).slice(1, 1 + MAX_MERGES);
  return lines.map((line, i) => {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 2) throw new Error(`merges.txt line ${i + 2}: ${JSON.stringify(line)} is not two symbols`);
    return [parts[0]!, parts[1]!];
  });
}

export class BytePairEncoder {
  /** "left right" → rank (a repeated pair keeps its last rank, as a Python dict built from the list does). */
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, readonly string[]>();

  constructor(merges: readonly (readonly [string, string])[]) {
    merges.forEach(([left, right], rank) => this.ranks.set(`${left} ${right}`, rank));
  }

  /** A byte-encoded word → its BPE symbols, the last ending in "</w>". */
  encode(word: string): readonly string[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    let symbols = [...word.slice(0, -1), word.slice(-1) + END_OF_WORD];
    while (symbols.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (rank !== undefined && rank < bestRank) [best, bestRank] = [i, rank];
      }
      if (best < 0) break;
      const [left, right] = [symbols[best]!, symbols[best + 1]!];
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (symbols[i] === left && symbols[i + 1] === right) merged.push(left + symbols[++i]!);
        else merged.push(symbols[i]!);
      }
      symbols = merged;
    }
    this.cache.set(word, symbols);
    return symbols;
  }
}
