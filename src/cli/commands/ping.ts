/**
 * `alignprop ping <control endpoint>`: is a trainer there and answering? Exit 0 with its run and state, 1 otherwise.
 * Used as the Docker healthcheck (with an observer key, on the read-only endpoint).
 */
import { z } from "zod";
import { TrainerClient } from "../../bridge/client.js";
import { readKeyPair, readPublicKey } from "../../bridge/curve.js";
import { RunState } from "../../gen/alignprop/v1/alignprop_pb.js";
import { flag, parseCommand, UsageError } from "../args.js";
import { EXIT, type CliCommand } from "../command.js";

const Options = z.object({
  observer: flag(),
  server_public: z.string().min(1).optional(),
  client_key: z.string().min(1).optional(),
  timeout: z.coerce.number().positive("must be a positive number of seconds").default(5),
  help: flag(),
});

const USAGE = `alignprop ping <control endpoint> [--observer] [--server-public <file> --client-key <dir>] [--timeout 5]

  Exit 0 when the trainer answers within --timeout seconds (prints its run and state), 1 otherwise.`;

export const ping: CliCommand = {
  name: "ping",
  summary: "check that a trainer is up and answering (exit code; Docker healthcheck)",
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommand(argv, { name: "ping", options: Options, booleans: ["observer"], usage: USAGE, positionals: { count: 1, what: "endpoint" } });
    if (!parsed) return EXIT.ok;
    const { options, positionals } = parsed;
    if (Boolean(options.server_public) !== Boolean(options.client_key)) throw new UsageError("--server-public and --client-key go together");
    const curve =
      options.server_public && options.client_key
        ? { serverPublicKey: readPublicKey(options.server_public), keys: readKeyPair(options.client_key) }
        : undefined;
    const endpoint = positionals[0]!;
    if (!/^(ipc|tcp):\/\/./.test(endpoint)) throw new UsageError(`"${endpoint}" is not a control endpoint: expected ipc://<path> or tcp://<host>:<port> (train --headless prints it)`);
    const client = await TrainerClient.connect(endpoint, { agent: "alignprop-ping", timeoutMs: options.timeout * 1000, curve, observer: options.observer });
    try {
      const snapshot = await client.snapshot(Number.MAX_SAFE_INTEGER >>> 0);
      const state = snapshot.status ? RunState[snapshot.status.state] : "UNKNOWN";
      process.stdout.write(`pong: run ${snapshot.runId}, ${state}, step ${snapshot.status?.step ?? 0}/${snapshot.status?.total ?? 0}\n`);
      return EXIT.ok;
    } finally {
      await client.close();
    }
  },
};
