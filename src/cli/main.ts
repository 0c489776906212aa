#!/usr/bin/env node
/**
 * The `alignprop` command line: a static list of commands, each parsing its own flags. A command's module is loaded
 * only when it runs (or for the list of summaries): `alignprop sample` does not wait for the dashboard's, the bench's
 * and the Hub's imports (`alignprop sample --help` took 1.3 s with every command loaded, 0.5 s with its own).
 */
import { InputError } from "../util/input-error.js";
import { EXIT, type CliCommand } from "./command.js";

const COMMANDS: readonly [string, () => Promise<CliCommand>][] = [
  ["train", () => import("./commands/train.js").then((m) => m.train)],
  ["attach", () => import("./commands/attach.js").then((m) => m.attach)],
  ["ping", () => import("./commands/ping.js").then((m) => m.ping)],
  ["sample", () => import("./commands/sample.js").then((m) => m.sample)],
  ["push", () => import("./commands/push.js").then((m) => m.push)],
  ["inspect", () => import("./commands/inspect.js").then((m) => m.inspect)],
  ["report", () => import("./commands/report.js").then((m) => m.report)],
  ["keygen", () => import("./commands/keygen.js").then((m) => m.keygen)],
  ["bench", () => import("./commands/bench.js").then((m) => m.bench)],
  ["pretrain", () => import("./commands/pretrain.js").then((m) => m.pretrain)],
];

async function help(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map(([, load]) => load()));
  return `alignprop — fine-tune text-to-image diffusion models with AlignProp (reward backpropagation)

usage: alignprop <command> [options]     (alignprop <command> --help for its options)

commands:
${commands.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`).join("\n")}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write((await help()) + "\n");
    return name ? EXIT.ok : EXIT.usage;
  }
  const load = COMMANDS.find(([n]) => n === name)?.[1];
  if (!load) {
    process.stderr.write(`alignprop: unknown command "${name}"\n\n${await help()}\n`);
    return EXIT.usage;
  }
  try {
    return await (await load()).run(rest);
  } catch (err) {
    const usage = err instanceof InputError;
    process.stderr.write(`alignprop ${name}: ${usage ? "invalid input:\n" : ""}${(err as Error).message}\n`);
    return usage ? EXIT.usage : EXIT.failed;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
