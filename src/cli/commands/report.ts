/** `alignprop report <run dir>`: (re)writes the run's self-contained `report.html` and prints its path. */
import { z } from "zod";
import { writeReport } from "../../report/index.js";
import { flag, parseCommand } from "../args.js";
import { EXIT, type CliCommand } from "../command.js";

const Options = z.object({ help: flag() });

const USAGE = `alignprop report <run dir>

  Writes <run dir>/report.html from the run's config.json, events.jsonl and logged images: reward mean ± std and
  loss over steps, and the images of each logged step captioned "prompt | reward". One file, nothing fetched: open
  it anywhere. Runs write it themselves when they end; this regenerates it (e.g. while a run is still going).`;

export const report: CliCommand = {
  name: "report",
  summary: "write a run's report.html (reward and loss curves, images per step)",
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommand(argv, { name: "report", options: Options, booleans: [], usage: USAGE, positionals: { count: 1, what: "run directory" } });
    if (!parsed) return EXIT.ok;
    process.stdout.write(`${await writeReport(parsed.positionals[0]!)}\n`);
    return EXIT.ok;
  },
};
