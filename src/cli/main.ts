#!/usr/bin/env node
/** The `alignprop` command line: a static list of commands, each parsing its own flags. */
import { InputError } from "../util/input-error.js";
import { EXIT, type CliCommand } from "./command.js";
import { attach } from "./commands/attach.js";
import { bench } from "./commands/bench.js";
import { inspect } from "./commands/inspect.js";
import { keygen } from "./commands/keygen.js";
import { ping } from "./commands/ping.js";
import { pretrain } from "./commands/pretrain.js";
import { push } from "./commands/push.js";
import { report } from "./commands/report.js";
import { sample } from "./commands/sample.js";
import { train } from "./commands/train.js";

const COMMANDS: readonly CliCommand[] = [train, attach, ping, sample, push, inspect, report, keygen, bench, pretrain];

const HELP = `alignprop — fine-tune text-to-image diffusion models with AlignProp (reward backpropagation)

usage: alignprop <command> [options]     (alignprop <command> --help for its options)

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`).join("\n")}`;

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(HELP + "\n");
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`alignprop: unknown command "${name}"\n\n${HELP}\n`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const usage = err instanceof InputError;
    process.stderr.write(`alignprop ${name}: ${usage ? "invalid input:\n" : ""}${(err as Error).message}\n`);
    return usage ? EXIT.usage : EXIT.failed;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
