/**
 * `alignprop attach <control endpoint>`: watch and steer a running trainer. Shows the history so far (snapshot),
 * then live events; detaching (`d` in the dashboard, Ctrl-C with --ci) never stops the trainer.
 */
import { z } from "zod";
import { TrainerClient } from "../../bridge/client.js";
import { flag, parseArgv, takeOptions, UsageError } from "../args.js";
import { EXIT, type CliCommand } from "../command.js";
import { showRun } from "../front-end.js";

const Options = z.object({ ci: flag(), help: flag() });

const USAGE = `alignprop attach <control endpoint> [--ci]

  <control endpoint>  what \`alignprop train --headless\` printed: ipc://<path> or tcp://127.0.0.1:<port>
  --ci                JSON lines instead of the dashboard (automatic when stdout is not a terminal)`;

export const attach: CliCommand = {
  name: "attach",
  summary: "open the dashboard (or --ci stream) on a running trainer",
  usage: USAGE,
  async run(argv) {
    const { flags, positionals } = parseArgv(argv, new Set(["ci", "help"]));
    const { options, rest } = takeOptions(Options, flags);
    if (options.help) {
      process.stdout.write(USAGE + "\n");
      return EXIT.ok;
    }
    const unknown = Object.keys(rest);
    if (unknown.length) throw new UsageError(`unknown option --${unknown[0]} for attach\n\n${USAGE}`);
    if (positionals.length !== 1) throw new UsageError(`attach needs exactly one endpoint (got ${positionals.length})\n\n${USAGE}`);
    const client = await TrainerClient.connect(positionals[0]!, { agent: "alignprop-attach/0.1.0", timeoutMs: 10_000 });
    let detached = false;
    process.on("SIGINT", () => {
      detached = true;
      void client.close();
    });
    const code = await showRun(client, "attach", options.ci);
    return detached ? EXIT.ok : code;
  },
};
