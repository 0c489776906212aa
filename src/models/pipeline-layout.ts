/**
 * The diffusers folder layout of a Stable Diffusion pipeline: `model_index.json` naming each component's class, one
 * folder per component with its config and weights. Shared by the loader (a local folder) and the Hub download
 * (which files of a repo to fetch), so both pick the same weights file.
 */

/** The components alignprop loads, with the classes model_index.json may name for them. */
export const PIPELINE_COMPONENTS = {
  unet: ["UNet2DConditionModel"],
  vae: ["AutoencoderKL"],
  text_encoder: ["CLIPTextModel"],
  tokenizer: ["CLIPTokenizer", "CLIPTokenizerFast"],
  // Any scheduler's config builds the DDIM scheduler, as diffusers' `DDIMScheduler.from_config` does (SD1.5 ships PNDM).
  scheduler: null,
} as const satisfies Record<string, readonly string[] | null>;
export type ComponentName = keyof typeof PIPELINE_COMPONENTS;
export const COMPONENT_NAMES = Object.keys(PIPELINE_COMPONENTS) as ComponentName[];

export const MODEL_INDEX = "model_index.json";
export const CONFIG_FILE = {
  unet: "config.json",
  vae: "config.json",
  text_encoder: "config.json",
  scheduler: "scheduler_config.json",
} as const satisfies Partial<Record<ComponentName, string>>;
/** Weights file stem per model component: diffusers models vs transformers models. */
export const WEIGHTS_STEM = { unet: "diffusion_pytorch_model", vae: "diffusion_pytorch_model", text_encoder: "model" } as const;
export type ModelComponent = keyof typeof WEIGHTS_STEM;
export const TOKENIZER_FILES = { required: ["vocab.json", "merges.txt"], optional: ["tokenizer_config.json", "special_tokens_map.json"] };

/** model_index.json as diffusers writes it: `{ component: [library, class] }` plus `_`-prefixed metadata. */
export type ModelIndex = Record<string, unknown>;

/** The class model_index.json names for `component`, checked against what alignprop can build. */
export function componentClass(index: ModelIndex, component: ComponentName, source: string): string {
  const entry = index[component];
  const cls = Array.isArray(entry) && entry.length === 2 ? entry[1] : undefined;
  if (typeof cls !== "string") {
    throw new Error(`${source}: "${component}"=${JSON.stringify(entry) ?? "missing"} must be [library, class] (a Stable Diffusion pipeline has ${COMPONENT_NAMES.join(", ")})`);
  }
  const accepted: readonly string[] | null = PIPELINE_COMPONENTS[component];
  if (accepted ? !accepted.includes(cls) : !cls.endsWith("Scheduler")) {
    throw new Error(`${source}: ${component} class "${cls}" is not supported; expected ${accepted ? accepted.join(" or ") : "a diffusers *Scheduler"}`);
  }
  return cls;
}

/** Checks every component of a parsed model_index.json; returns the classes. */
export function checkModelIndex(raw: unknown, source: string): Record<ComponentName, string> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${source} is not a JSON object`);
  return Object.fromEntries(COMPONENT_NAMES.map((c) => [c, componentClass(raw as ModelIndex, c, source)])) as Record<ComponentName, string>;
}

/**
 * The safetensors file of a model component among `names` (the files in its folder). A variant (e.g. "fp16") picks
 * `<stem>.<variant>.safetensors` when the component has it; otherwise `<stem>.safetensors`; failing that, the only
 * variant file there is (F16 is widened to F32 on load). PyTorch pickles (`.bin`) cannot be read.
 */
export function pickWeightsFile(component: ModelComponent, names: readonly string[], variant?: string): string {
  const stem = WEIGHTS_STEM[component];
  const plain = `${stem}.safetensors`;
  if (variant && names.includes(`${stem}.${variant}.safetensors`)) return `${stem}.${variant}.safetensors`;
  if (names.includes(plain)) return plain;
  const shown = names.length ? names.join(", ") : "nothing";
  const variants = names.filter((n) => n.startsWith(`${stem}.`) && n.endsWith(".safetensors")).sort();
  if (!variant && variants.length && !variants[0]!.includes("-of-")) return variants[0]!;
  if (names.some((n) => n.endsWith(".safetensors.index.json"))) {
    throw new Error(`${component}: sharded weights (${shown}) are not supported; save the component as one ${plain}`);
  }
  if (names.some((n) => n.endsWith(".bin"))) {
    throw new Error(`${component}: only PyTorch pickle weights (${shown}); alignprop reads safetensors — convert them to ${plain}`);
  }
  const wanted = variant ? `${stem}.${variant}.safetensors or ${plain}` : plain;
  throw new Error(`${component}: no weights file ${wanted} (found ${shown})`);
}

/**
 * The repo paths a pipeline needs, given every path in the repo and its model_index.json: the index, each model's
 * config and chosen weights, the tokenizer's files, the scheduler's config. Nothing else (no safety checker, no
 * `.bin`, no other variants). Throws naming every required file the repo lacks.
 */
export function pipelineFiles(paths: readonly string[], index: unknown, variant?: string): string[] {
  checkModelIndex(index, MODEL_INDEX);
  const present = new Set(paths);
  const inFolder = (folder: string) => paths.filter((p) => p.startsWith(`${folder}/`) && !p.slice(folder.length + 1).includes("/")).map((p) => p.slice(folder.length + 1));
  const needed = [MODEL_INDEX];
  for (const component of Object.keys(WEIGHTS_STEM) as ModelComponent[]) {
    needed.push(`${component}/${CONFIG_FILE[component]}`, `${component}/${pickWeightsFile(component, inFolder(component), variant)}`);
  }
  needed.push(...TOKENIZER_FILES.required.map((f) => `tokenizer/${f}`));
  needed.push(...TOKENIZER_FILES.optional.map((f) => `tokenizer/${f}`).filter((p) => present.has(p)));
  needed.push(`scheduler/${CONFIG_FILE.scheduler}`);
  const missing = needed.filter((p) => !present.has(p));
  if (missing.length) throw new Error(`the pipeline lacks ${missing.join(", ")}`);
  return needed;
}
