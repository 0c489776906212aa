/**
 * Command-line parsing for the `alignprop` commands: `--name value`, `--name=value`, bare `--flag` (true) and
 * positionals. Each command validates its own flags with a zod schema; a command may pass flags it does not know
 * on (train hands them to the run config, which names any unknown field).
 */
import { z } from "zod";
import { InputError } from "../util/input-error.js";

export interface ParsedArgs {
  flags: Record<string, string | true>;
  positionals: string[];
}

/** Flags that never take a value, so `--ci train.json` is not read as `--ci=train.json`. */
export function parseArgv(argv: readonly string[], booleans: ReadonlySet<string>): ParsedArgs {
  const flags: Record<string, string | true> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "--") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (eq > 0) flags[name] = arg.slice(eq + 1);
    else if (booleans.has(name) || i + 1 >= argv.length || argv[i + 1]!.startsWith("--")) flags[name] = true;
    else flags[name] = argv[++i]!;
  }
  return { flags, positionals };
}

/** A wrong flag or argument: the usage text says what is right. */
export class UsageError extends InputError {}

/** The names a zod object accepts, kebab-case as written on the command line. */
export const flagNames = (schema: z.ZodObject) => Object.keys(schema.shape).map((k) => k.replace(/_/g, "-"));

/** Validates the flags a command owns; returns them parsed plus the flags it does not own. */
export function takeOptions<S extends z.ZodObject>(
  schema: S,
  flags: Record<string, string | true>,
): { options: z.infer<S>; rest: Record<string, string | true> } {
  const own: Record<string, unknown> = {};
  const rest: Record<string, string | true> = {};
  const known = new Set(Object.keys(schema.shape));
  for (const [name, value] of Object.entries(flags)) {
    const key = name.replace(/-/g, "_");
    if (known.has(key)) own[key] = value;
    else rest[name] = value;
  }
  const result = schema.safeParse(own);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const flag = `--${String(i.path[0] ?? "").replace(/_/g, "-")}`;
      const value = own[String(i.path[0])];
      return value === undefined ? `${flag} is required${i.message === "Invalid input" || i.message.startsWith("Invalid input:") ? "" : `: it ${i.message}`}` : `${flag}=${JSON.stringify(value)}: ${i.message}`;
    });
    throw new UsageError(lines.join("\n"));
  }
  return { options: result.data, rest };
}

/** A boolean flag: present (true) or "true"/"false". */
export const flag = () =>
  z
    .union([z.literal(true), z.enum(["true", "false"])])
    .optional()
    .transform((v) => v === true || v === "true");

export interface CommandSpec<S extends z.ZodObject> {
  name: string;
  options: S;
  /** Flags that take no value (`help` is always one). */
  booleans: readonly string[];
  usage: string;
  /** Positional arguments: how many, and what one is (for the error), e.g. `{ count: 1, what: "endpoint" }`. */
  positionals: { count: number; what: string };
}

/**
 * The argv handling every command but `train` shares: `--help` prints the usage (→ undefined, exit 0); the command's
 * flags are validated; an unknown flag or a wrong number of positionals is a UsageError quoting the usage.
 */
export function parseCommand<S extends z.ZodObject>(
  argv: readonly string[],
  spec: CommandSpec<S>,
): { options: z.infer<S>; positionals: string[] } | undefined {
  const { flags, positionals } = parseArgv(argv, new Set([...spec.booleans, "help"]));
  if (flags.help === true) {
    process.stdout.write(spec.usage + "\n");
    return undefined;
  }
  const { options, rest } = takeOptions(spec.options, flags);
  const unknown = Object.keys(rest);
  if (unknown.length) throw new UsageError(`unknown option --${unknown[0]} for ${spec.name}\n\n${spec.usage}`);
  const { count, what } = spec.positionals;
  if (positionals.length !== count) {
    const wanted = count === 0 ? "takes no positional arguments" : `needs exactly ${count === 1 ? "one" : count} ${what}`;
    const got = positionals.length ? `${positionals.length}: ${positionals.join(" ")}` : "0";
    throw new UsageError(`${spec.name} ${wanted} (got ${got})\n\n${spec.usage}`);
  }
  return { options, positionals };
}
