/**
 * One optional hook that a profiler (src/bench/profile.ts) installs for the length of a call. The code it observes
 * reads `current` and pays one null check when none is installed. Installs do not nest.
 */
export class HookSlot<H> {
  private hook: H | undefined;

  /** `owner` and `what` name the slot in the error a nested install gets ("withPhaseHook", "a phase hook"). */
  constructor(
    private readonly owner: string,
    private readonly what: string,
  ) {}

  get current(): H | undefined {
    return this.hook;
  }

  /** Runs `fn` with `hook` installed; it is removed when `fn` returns or throws. */
  with<T>(hook: H, fn: () => T): T {
    if (this.hook) throw new Error(`${this.owner}: ${this.what} is already installed (profiles cannot nest)`);
    this.hook = hook;
    try {
      return fn();
    } finally {
      this.hook = undefined;
    }
  }
}
