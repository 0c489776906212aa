/**
 * The candidate closest to `word`, if it is close enough to be what the user meant: a few typos away, or
 * (with `allowContained`) a longer name containing it, as `batch_size` is contained in `train_batch_size`.
 */
export function closest(
  word: string,
  candidates: readonly string[],
  options: { maxDistance: number; allowContained: boolean },
): string | undefined {
  const wanted = word.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    const contained = options.allowContained && wanted.length >= 4 && candidate.includes(wanted);
    if (distance > options.maxDistance && !contained) continue;
    if (best === undefined || distance < best.distance) best = { candidate, distance };
  }
  return best?.candidate;
}

/** Levenshtein distance: insertions, deletions and substitutions each cost 1. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
