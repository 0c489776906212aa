/**
 * Waiting without sleeping: yield to the event loop until a condition holds, and fail with a useful message after a
 * bounded number of turns.
 */
const MAX_TURNS = 5000;

export async function until(condition: () => boolean, what: () => string): Promise<void> {
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    if (condition()) return;
    await new Promise(setImmediate);
  }
  throw new Error(`gave up waiting: ${what()}`);
}

/** Waits until the last rendered frame contains `text`. */
export function untilFrame(lastFrame: () => string | undefined, text: string): Promise<void> {
  return until(
    () => (lastFrame() ?? "").includes(text),
    () => `frame to contain ${JSON.stringify(text)}; last frame:\n${lastFrame() ?? "(none)"}`,
  );
}
