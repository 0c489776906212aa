/**
 * `alignprop push <run dir> --repo <namespace/name>`: publishes an AlignProp run's LoRA on the Hugging Face Hub
 * with a generated model card and sample images (see `io/hub-push.ts`).
 */
import { z } from "zod";

import { DEFAULT_PUSH_IMAGES, pushRun } from "../../io/hub-push.js";
import { flag, parseCommand } from "../args.js";
import { EXIT, type CliCommand } from "../command.js";

const Options = z.object({
  repo: z.string().min(1, "needs the Hub repo to push to, namespace/name"),
  private: flag(),
  token: z.string().min(1, "needs a token (or leave it out: HF_TOKEN or the `hf auth login` token file)").optional(),
  revision: z.string().min(1).default("main"),
  base_model: z.string().min(1).optional(),
  license: z.string().min(1).optional(),
  images: z.string().regex(/^\d+$/, "must be a whole number").transform(Number).default(DEFAULT_PUSH_IMAGES),
  help: flag(),
});

const USAGE = `alignprop push <run dir> --repo <namespace/name> [options]

  Uploads the run's pytorch_lora_weights.safetensors, a model card (README.md) and the latest sample images to a
  Hub model repo, creating the repo when it does not exist. The run must be an AlignProp run on a diffusers
  pipeline (train --model <dir|org/name>), which exports the LoRA file.
  <run dir>                the run directory, runs/<name>/
  --repo <namespace/name>  the Hub repo to push to
  --private                create the repo private (an existing repo keeps its visibility)
  --token <hf_…>           a Hub token with write access (default HF_TOKEN, else the token file "hf auth login" writes)
  --revision <branch>      the branch to commit to (default main)
  --base-model <org/name>  the base pipeline's Hub id for the card, when the run trained a local copy of it
  --license <id>           the card's license (default the base model's, when known: SD 1.x, SD 2.x)
  --images <n>             sample images to upload and show in the card (default ${DEFAULT_PUSH_IMAGES})
  HF_ENDPOINT is honoured (default https://huggingface.co).`;

export const push: CliCommand = {
  name: "push",
  summary: "publish a run's LoRA on the Hugging Face Hub with a model card and samples",
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommand(argv, { name: "push", options: Options, booleans: ["private"], usage: USAGE, positionals: { count: 1, what: "run directory" } });
    if (!parsed) return EXIT.ok;
    const { options, positionals } = parsed;
    const result = await pushRun(positionals[0]!, {
      repo: options.repo,
      token: options.token,
      private: options.private,
      revision: options.revision,
      baseModel: options.base_model,
      license: options.license,
      images: options.images,
      log: (line) => process.stderr.write(line + "\n"),
    });
    process.stdout.write(`${result.url}\n`);
    return EXIT.ok;
  },
};
