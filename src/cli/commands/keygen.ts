/** `alignprop keygen <dir>`: a CURVE key pair for a trainer or a client (`public.key`, `secret.key` mode 0600). */
import { z } from "zod";
import { writeKeyPair } from "../../bridge/curve.js";
import { flag, parseCommand } from "../args.js";
import { EXIT, type CliCommand } from "../command.js";

const Options = z.object({ help: flag() });

const USAGE = `alignprop keygen <dir>

  Writes <dir>/public.key (share it: the trainer's goes to clients as --server-public, a client's goes into the
  trainer's --allow list) and <dir>/secret.key (mode 0600; never share it). Refuses to overwrite a secret key.`;

export const keygen: CliCommand = {
  name: "keygen",
  summary: "create a CURVE key pair for remote trainers and clients",
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommand(argv, { name: "keygen", options: Options, booleans: [], usage: USAGE, positionals: { count: 1, what: "directory" } });
    if (!parsed) return EXIT.ok;
    const { positionals } = parsed;
    const pair = writeKeyPair(positionals[0]!);
    process.stdout.write(`${pair.publicKey}\n`);
    process.stderr.write(`wrote ${pair.publicPath} and ${pair.secretPath} (mode 0600)\n`);
    return EXIT.ok;
  },
};
