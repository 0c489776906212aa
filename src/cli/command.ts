/** The shape every `alignprop` command has: a name, a one-line summary, usage text, and `run(argv) -> exit code`. */
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  run(argv: readonly string[]): Promise<number>;
}

/** Exit codes the CLI uses. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
