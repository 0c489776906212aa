/**
 * `alignprop attach <control endpoint>`: watch and steer a running trainer. Shows the history so far (snapshot),
 * then live events; detaching (`d` in the dashboard, Ctrl-C with --ci) never stops the trainer.
 */
import { z } from "zod";
import { TrainerClient } from "../../bridge/client.js";
import { readKeyPair, readPublicKey } from "../../bridge/curve.js";
import { flag, parseCommand, UsageError } from "../args.js";
import { EXIT, type CliCommand } from "../command.js";
import { showRun } from "../front-end.js";

const Options = z.object({
  ci: flag(),
  observer: flag(),
  server_public: z.string().min(1, "needs the trainer's public key file").optional(),
  client_key: z.string().min(1, "needs the directory `alignprop keygen` wrote").optional(),
  help: flag(),
});

const USAGE = `alignprop attach <control endpoint> [--ci] [--observer] [--server-public <file> --client-key <dir>]

  <control endpoint>      what \`alignprop train --headless\` printed: ipc://<path> or tcp://<host>:<port>
  --ci                    JSON lines instead of the dashboard (automatic when stdout is not a terminal)
  --observer              read-only: watch without the right to pause, resume, checkpoint or stop
  --server-public <file>  the trainer's CURVE public key (its public.key) — for trainers started with --server-key
  --client-key <dir>      this client's key pair (\`alignprop keygen <dir>\`), allowed by the trainer`;

export const attach: CliCommand = {
  name: "attach",
  summary: "open the dashboard (or --ci stream) on a running trainer",
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommand(argv, { name: "attach", options: Options, booleans: ["ci", "observer"], usage: USAGE, positionals: { count: 1, what: "endpoint" } });
    if (!parsed) return EXIT.ok;
    const { options, positionals } = parsed;
    if (Boolean(options.server_public) !== Boolean(options.client_key)) {
      throw new UsageError("--server-public and --client-key go together (CURVE needs both)");
    }
    const curve =
      options.server_public && options.client_key
        ? { serverPublicKey: readPublicKey(options.server_public), keys: readKeyPair(options.client_key) }
        : undefined;
    const client = await TrainerClient.connect(positionals[0]!, {
      agent: "alignprop-attach/0.1.0",
      timeoutMs: 10_000,
      curve,
      observer: options.observer,
      reconnect: true,
    });
    let detached = false;
    process.on("SIGINT", () => {
      detached = true;
      void client.close();
    });
    const code = await showRun(client, options.observer ? "observe" : "attach", options.ci);
    return detached ? EXIT.ok : code;
  },
};
