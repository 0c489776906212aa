/**
 * The model card (`README.md`) pushed with an AlignProp LoRA: YAML front matter the Hub reads (base model, tags,
 * library, license, a widget gallery of the sample images), then what the adapter is, the reward, the training
 * settings, how the reward moved, sample images, how to load it in diffusers, and the paper's citation.
 *
 * A pure function of what the run directory holds, so every byte of the card is testable. Text from the run
 * (prompts, the reward spec, paths) is escaped for where it lands: YAML double-quoted scalars, Markdown text and
 * table cells, Python string literals inside code fences.
 */
import type { RunConfig } from "../config/index.js";

export interface CardImage {
  /** Path inside the Hub repo (and the run directory), e.g. `images/step-40/0.png`. */
  path: string;
  prompt: string;
  reward: number;
  step: number;
}

export interface RewardPoint {
  step: number;
  rewardMean: number;
}

export interface RewardSummary {
  /** How many steps logged a reward. */
  steps: number;
  first: RewardPoint;
  last: RewardPoint;
  best: RewardPoint;
  /** What "best" means for the run's loss: the highest mean, or the one closest to `reward_target`. */
  bestMeans: string;
}

/** The adapter as its file describes it. */
export interface CardLora {
  rank: number;
  alpha: number;
  targetModules: readonly string[];
  layers: number;
  parameters: number;
}

export interface ModelCardInput {
  /** The Hub repo the card is pushed to, `namespace/name`. */
  repo: string;
  /** The base pipeline's Hub id; undefined when it was trained from a local folder not known to be on the Hub. */
  baseModel: string | undefined;
  /** Hub license identifier, when known. */
  license: string | undefined;
  config: RunConfig;
  /** What the reward computes (the built-in's description), when known. */
  rewardDescription: string | undefined;
  lora: CardLora;
  rewards: RewardSummary | undefined;
  images: readonly CardImage[];
}

export const CARD_TAGS = ["alignprop", "lora", "diffusers", "text-to-image"] as const;

/**
 * The oldest diffusers that loads the LoRA file at its trained strength: checked with 0.25.1 (peft 0.7.1), 0.30.3
 * (peft 0.12.0) and 0.42.1 (peft 0.21.2); 0.25 is where `load_lora_weights` went through peft. The file's alpha/r
 * is folded into its up weights (src/io/lora-weights.ts), so versions before 0.34, which ignore
 * `lora_adapter_metadata`, load it right too.
 */
export const MIN_DIFFUSERS_VERSION = "0.25";
/** What `pipe.load_lora_weights` needs installed besides torch. */
export const LOAD_LORA_PACKAGES = ["diffusers", "transformers", "peft"] as const;

const PAPER = "https://arxiv.org/abs/2310.03739";
const BIBTEX = `@misc{prabhudesai2023aligning,
  title={Aligning Text-to-Image Diffusion Models with Reward Backpropagation},
  author={Mihir Prabhudesai and Anirudh Goyal and Deepak Pathak and Katerina Fragkiadaki},
  year={2023},
  eprint={2310.03739},
  archivePrefix={arXiv},
  primaryClass={cs.CV}
}`;
/** Images per row of the sample grid. */
const GRID_COLUMNS = 4;

/** First, last and best reward mean over the logged steps (in step order); undefined when none was logged. */
export function summarizeRewards(points: readonly RewardPoint[], config: Pick<RunConfig, "loss" | "reward_target">): RewardSummary | undefined {
  if (!points.length) return undefined;
  const sorted = [...points].sort((a, b) => a.step - b.step);
  const target = config.loss === "target" ? config.reward_target : undefined;
  // The loss is what training pushes down: for the target loss that is the distance to the target, else -reward.
  const badness = (p: RewardPoint) => (target === undefined ? -p.rewardMean : Math.abs(p.rewardMean - target));
  const best = sorted.reduce((b, p) => (badness(p) < badness(b) ? p : b));
  return {
    steps: sorted.length,
    first: sorted[0]!,
    last: sorted[sorted.length - 1]!,
    best,
    bestMeans: target === undefined ? "highest" : `closest to reward_target=${target}`,
  };
}

export function buildModelCard(card: ModelCardInput): string {
  return [frontMatter(card), body(card)].join("\n");
}

function frontMatter(card: ModelCardInput): string {
  const lines = ["---"];
  if (card.baseModel) lines.push(`base_model: ${yamlString(card.baseModel)}`);
  lines.push("library_name: diffusers");
  if (card.license) lines.push(`license: ${yamlString(card.license)}`);
  lines.push("tags:", ...CARD_TAGS.map((t) => `- ${t}`));
  if (card.images.length) {
    lines.push("widget:");
    for (const image of card.images) lines.push(`- text: ${yamlString(image.prompt)}`, "  output:", `    url: ${yamlString(image.path)}`);
  }
  lines.push("---");
  return lines.join("\n") + "\n";
}

function body(card: ModelCardInput): string {
  const { config } = card;
  const name = card.repo.slice(card.repo.indexOf("/") + 1);
  const base = card.baseModel
    ? `[${markdown(card.baseModel)}](https://huggingface.co/${card.baseModel})`
    : `a local pipeline (${code(config.model)}, not a Hub repo, so \`base_model\` is not set)`;
  const sections = [
    `# ${markdown(name)}\n\n` +
      `A LoRA adapter for the UNet of ${base}, fine-tuned with [AlignProp](${PAPER}) (Prabhudesai et al., 2023): ` +
      `images sampled by the pipeline are scored by a differentiable reward, and the reward's gradient is ` +
      `backpropagated through the last steps of the sampling chain and the VAE decoder into the LoRA weights. ` +
      `Only the adapter is trained; the base pipeline is unchanged.`,
    `## Reward\n\n${config.reward ? code(config.reward) : "The pipeline's default reward"}` +
      (card.rewardDescription ? `: ${markdown(card.rewardDescription)}` : "") +
      `. Loss: ${lossText(config)}.`,
    `## Training\n\n${table(["setting", "value"], trainingRows(card))}`,
    `## Reward during training\n\n${rewardText(card.rewards)}`,
  ];
  if (card.images.length) sections.push(`## Samples\n\n${grid(card.images)}`);
  sections.push(`## Use with diffusers\n\n${usage(card)}`, `## Citation\n\n${fence("bibtex", BIBTEX)}`);
  return sections.join("\n\n") + "\n";
}

function trainingRows(card: ModelCardInput): string[][] {
  const c = card.config;
  const { lora } = card;
  const negative = c.negative_prompts ? `, negative prompt ${cellCode(c.negative_prompts)}` : "";
  return [
    ["sampler", `DDIM, ${c.sample_num_steps} steps, guidance scale ${num(c.sample_guidance_scale)}, eta ${num(c.sample_eta)}${negative}`],
    ["truncated backprop", truncationText(c)],
    ["optimizer", `AdamW, learning rate ${num(c.train_learning_rate)}, betas (${num(c.train_adam_beta1)}, ${num(c.train_adam_beta2)}), weight decay ${num(c.train_adam_weight_decay)}, eps ${num(c.train_adam_epsilon)}, max grad norm ${num(c.train_max_grad_norm)}`],
    ["batch", `batch size ${c.train_batch_size}, gradient accumulation ${c.train_gradient_accumulation_steps}`],
    ["epochs", String(c.num_epochs)],
    ["LoRA", `r=${lora.rank}, alpha=${num(c.lora_alpha)}${foldedText(c, lora)}, targets ${lora.targetModules.map(cellCode).join(", ")} (${lora.layers} layers, ${lora.parameters.toLocaleString("en-US")} parameters)`],
    ...(c.kl_coeff > 0 ? [["KL regulariser", `kl_coeff ${num(c.kl_coeff)}: the loss adds the kept steps' squared distance to the base UNet's noise prediction`]] : []),
    ["prompts", c.prompts ? cellCode(c.prompts) : "the pipeline's default prompts"],
    ["seed", String(c.seed)],
  ];
}

/** Where training's alpha differs from the file's, the file has alpha/r folded into its up weights: say so. */
function foldedText(c: RunConfig, lora: CardLora): string {
  if (c.lora_alpha === lora.alpha) return "";
  return ` (alpha/r = ${num(c.lora_alpha / lora.rank)} is folded into the file's up weights, which declare lora_alpha=${num(lora.alpha)})`;
}

function truncationText(c: RunConfig): string {
  const n = c.sample_num_steps;
  if (!c.truncated_backprop_rand) {
    const k = n - c.truncated_backprop_timestep;
    return `fixed: gradient through the last ${k} of ${n} steps (truncated_backprop_timestep=${c.truncated_backprop_timestep})`;
  }
  const [min, max] = c.truncated_rand_backprop_minmax;
  const when = c.truncated_backprop_per_step ? "redrawn at every step (TRL's behaviour)" : "drawn once per chain (the paper's)";
  return `random: gradient through the steps from a cut drawn uniformly in [${min}, ${max}], ${when}`;
}

function lossText(c: RunConfig): string {
  switch (c.loss) {
    case "negative_reward":
      return "−mean(reward)";
    case "trl":
      return "mean(10 − reward) (TRL's form)";
    case "target":
      return `mean(|reward − ${num(c.reward_target ?? Number.NaN)}|) (the paper's)`;
  }
}

function rewardText(summary: RewardSummary | undefined): string {
  if (!summary) return "No training step logged a reward.";
  const row = (label: string, p: RewardPoint) => [label, String(p.step), num(p.rewardMean)];
  const rows = [row("first", summary.first), row("last", summary.last), row(`best (${summary.bestMeans})`, summary.best)];
  return `Mean reward per step over ${summary.steps} logged steps:\n\n${table(["", "step", "reward mean"], rows)}`;
}

/** The images in rows of GRID_COLUMNS: a row of pictures, then a row of their prompts and rewards. */
function grid(images: readonly CardImage[]): string {
  const columns = Math.min(GRID_COLUMNS, images.length);
  const lines = [`|${" |".repeat(columns)}`, `|${"---|".repeat(columns)}`];
  for (let i = 0; i < images.length; i += columns) {
    const row = images.slice(i, i + columns);
    const pad = (cells: string[]) => [...cells, ...Array<string>(columns - cells.length).fill("")];
    lines.push(cells(pad(row.map((im) => `![${markdown(im.prompt)}](${im.path.split("/").map(encodeURIComponent).join("/")})`))));
    lines.push(cells(pad(row.map((im) => `${markdown(im.prompt)} — step ${im.step}, reward ${num(im.reward)}`))));
  }
  return lines.join("\n");
}

function usage(card: ModelCardInput): string {
  const c = card.config;
  const base = card.baseModel ?? "path/to/the/base/pipeline";
  const prompt = card.images[0]?.prompt ?? "a photo of a cat";
  const python = [
    "import torch",
    "from diffusers import DiffusionPipeline, DDIMScheduler",
    "",
    `pipe = DiffusionPipeline.from_pretrained(${pyString(base)}, torch_dtype=torch.float16).to("cuda")`,
    "pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)",
    `pipe.load_lora_weights(${pyString(card.repo)})`,
    `image = pipe(${pyString(prompt)}, num_inference_steps=${c.sample_num_steps}, guidance_scale=${num(c.sample_guidance_scale)}, eta=${num(c.sample_eta)}, cross_attention_kwargs={"scale": ${num(c.lora_scale)}}).images[0]`,
  ].join("\n");
  const needs =
    `Needs diffusers ${MIN_DIFFUSERS_VERSION} or newer with peft (\`pip install ${LOAD_LORA_PACKAGES.join(" ")}\`): ` +
    "`load_lora_weights` loads the adapter through peft. The file's alpha/r is folded into its up weights (it " +
    "declares lora_alpha = r), so it loads at its trained strength in every such version, also those before 0.34 " +
    "that ignore `lora_adapter_metadata`. `cross_attention_kwargs={\"scale\": s}` mixes the adapter in at strength s " +
    "(weight mixing): 0 renders the base pipeline, 1 the adapter as trained, values between trade reward for " +
    "staying close to the base model.\n\n";
  const note = card.baseModel ? "" : "Point `from_pretrained` at the pipeline the adapter was trained on.\n\n";
  return `${needs}${note}${fence("python", python)}`;
}

function table(header: string[], rows: string[][]): string {
  return [cells(header), `|${"---|".repeat(header.length)}`, ...rows.map(cells)].join("\n");
}

const cells = (values: readonly string[]) => `| ${values.join(" | ")} |`;

/** A code span inside a table cell: GFM splits cells at every unescaped `|`, even inside code spans. */
const cellCode = (text: string) => code(text).replace(/\|/g, "\\|");

/** Numbers as people write them: up to 4 significant digits, no trailing zeros, exponents only where needed. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  return String(Number(x.toPrecision(4)));
}

/**
 * Text safe inside Markdown prose and table cells: HTML-special characters as entities, Markdown punctuation that
 * could start emphasis, links, code or a table cell backslash-escaped, and line breaks as spaces.
 */
export function markdown(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/\r\n|[\r\n\u2028\u2029]/g, " ");
}

/** An inline code span holding `text` verbatim: the fence is longer than any backtick run inside (CommonMark). */
export function code(text: string): string {
  const flat = text.replace(/\r\n|[\r\n\u2028\u2029]/g, " ");
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = "`".repeat(longest + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${ticks}${pad}${flat}${pad}${ticks}`;
}

/** A fenced code block whose fence is longer than any backtick run in `body`. */
function fence(lang: string, body: string): string {
  const longest = Math.max(2, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${lang}\n${body}\n${ticks}`;
}

/**
 * A YAML double-quoted scalar. JSON's string syntax is YAML's double-quoted one, except that YAML also wants the
 * characters it does not print (DEL, C1 controls, the line and paragraph separators, BOM) escaped.
 */
export function yamlString(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u009f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A Python string literal: JSON's escapes are Python's. */
function pyString(text: string): string {
  return JSON.stringify(text);
}
