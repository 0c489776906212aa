/** `alignprop pretrain`: trains the embedded default (models/tiny-shapes) from nothing, in TF.js. */
import { z } from "zod";
import { BACKENDS } from "../../config/index.js";
import { PretrainProgress } from "../../pretrain/progress.js";
import { formatDuration } from "../../util/format-duration.js";
import { pretrainTinyShapes, stageSteps, STAGE_NAMES } from "../../pretrain/tiny-shapes.js";
import { initBackend } from "../../tf/backend.js";
import { flag, parseCommand } from "../args.js";
import { EXIT, type CliCommand } from "../command.js";

const Options = z.object({
  help: flag(),
  out: z.string().min(1).default("models/tiny-shapes"),
  scale: z.coerce.number().positive().max(100).default(1),
  seed: z.coerce.number().int().nonnegative().default(0),
  eval_samples: z.coerce.number().int().positive().default(96),
  force: flag(),
  backend: z.enum(BACKENDS).default("auto"),
});

const USAGE = `alignprop pretrain [--out models/tiny-shapes] [--force] [--scale 1] [--seed 0] [--eval-samples 96] [--backend auto]

  Trains the embedded default pipeline from nothing on the synthetic shapes world, in four stages: a tiny CLIP
  (tokenizer learned over the world's words), the aesthetic head on its image embeddings, the VAE, then the UNet on
  the frozen CLIP text encoder. Then it samples "a <colour> <shape>" and reports how often a held-out pixel
  classifier sees the prompted colour. About 40 minutes on 2 CPU cores; a progress bar and the time left go to
  stderr (one line per 5% when stderr is not a terminal, so it can run in the background with its output in a file).

  --out <dir>          where to write (diffusers layout + clip/ + aesthetic/ + pretrain.json + README.md)
  --force              replace --out if it exists
  --scale <x>          multiply every stage's steps (0.01 for a quick check of the whole path)
  --seed <n>           seeds every stage
  --eval-samples <n>   samples for the colour evaluation
  --backend <name>     ${BACKENDS.join(" | ")}`;

export const pretrain: CliCommand = {
  name: "pretrain",
  summary: "train the embedded tiny-shapes pipeline and its rewards from nothing",
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommand(argv, { name: "pretrain", options: Options, booleans: ["force"], usage: USAGE, positionals: { count: 0, what: "" } });
    if (!parsed) return EXIT.ok;
    const o = parsed.options;
    const { backend } = await initBackend(o.backend);
    const steps = stageSteps(o.scale);
    const progress = new PretrainProgress(steps);
    const tty = Boolean(process.stderr.isTTY);
    const lastShown: Record<string, number> = {};
    process.stderr.write(`pretraining ${o.out} on ${backend}: ${STAGE_NAMES.map((n) => `${n} ${steps[n]} steps`).join(", ")}\n`);
    const result = await pretrainTinyShapes({
      out: o.out,
      scale: o.scale,
      seed: o.seed,
      force: o.force,
      evalSamples: o.eval_samples,
      log: (line) => process.stderr.write(`${tty ? "\r\x1b[K" : ""}${line}\n`),
      onStep: (p) => {
        const line = progress.line(p);
        if (tty) {
          process.stderr.write(`\r\x1b[K${line}`);
          return;
        }
        const twentieth = Math.floor((20 * p.step) / p.steps);
        if (p.step === p.steps || twentieth !== lastShown[p.stage]) {
          lastShown[p.stage] = twentieth;
          process.stderr.write(`${line}\n`);
        }
      },
    });
    const e = result.evaluation;
    process.stderr.write(
      `${tty ? "\r\x1b[K" : ""}done in ${formatDuration(result.seconds.total)}: colour accuracy ${(100 * e.accuracy).toFixed(1)}% over ${e.samples} samples; ` +
        `aesthetic head held-out correlation ${result.aestheticCorrelation.toFixed(3)}\n`,
    );
    process.stdout.write(`${JSON.stringify({ ...result, backend })}\n`);
    return EXIT.ok;
  },
};
