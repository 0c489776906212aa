/** The model card as a pure function: every section exactly, and text from the run escaped for where it lands. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse as parseYaml } from "yaml";

import { RunConfigSchema } from "../../src/config/index.js";
import { buildModelCard, code, markdown, num, summarizeRewards, yamlString, type ModelCardInput } from "../../src/io/model-card.js";

const config = RunConfigSchema.parse({
  run_name: "bright",
  model: "stable-diffusion-v1-5/stable-diffusion-v1-5",
  reward: "brightness",
  prompts: "shapes",
  sample_num_steps: 20,
  sample_guidance_scale: 7.5,
  sample_eta: 1,
  truncated_backprop_rand: false,
  truncated_backprop_timestep: 18,
  truncated_rand_backprop_minmax: [0, 20],
  train_learning_rate: 3e-4,
  train_batch_size: 2,
  train_gradient_accumulation_steps: 4,
  num_epochs: 30,
  lora_rank: 4,
  lora_alpha: 4,
});

const input: ModelCardInput = {
  repo: "someone/bright-lora",
  baseModel: "stable-diffusion-v1-5/stable-diffusion-v1-5",
  license: "creativeml-openrail-m",
  config,
  rewardDescription: "mean luma (Rec. 601)",
  lora: { rank: 4, alpha: 4, targetModules: ["to_q", "to_k", "to_v", "to_out.0"], layers: 128, parameters: 797184 },
  rewards: summarizeRewards([{ step: 1, rewardMean: 0.41234 }, { step: 2, rewardMean: 0.6 }, { step: 3, rewardMean: 0.55 }], config),
  images: [
    { path: "images/step-3/0.png", prompt: "a red circle", reward: 0.5, step: 3 },
    { path: "images/step-3/1.png", prompt: "a blue square", reward: 0.6000001, step: 3 },
  ],
};

test("the card is front matter, then what it is, reward, training, reward curve, samples, diffusers usage and citation", () => {
  assert.equal(
    buildModelCard(input),
    `---
base_model: "stable-diffusion-v1-5/stable-diffusion-v1-5"
library_name: diffusers
license: "creativeml-openrail-m"
tags:
- alignprop
- lora
- diffusers
- text-to-image
widget:
- text: "a red circle"
  output:
    url: "images/step-3/0.png"
- text: "a blue square"
  output:
    url: "images/step-3/1.png"
---

# bright-lora

A LoRA adapter for the UNet of [stable-diffusion-v1-5/stable-diffusion-v1-5](https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5), fine-tuned with [AlignProp](https://arxiv.org/abs/2310.03739) (Prabhudesai et al., 2023): images sampled by the pipeline are scored by a differentiable reward, and the reward's gradient is backpropagated through the last steps of the sampling chain and the VAE decoder into the LoRA weights. Only the adapter is trained; the base pipeline is unchanged.

## Reward

\`brightness\`: mean luma (Rec. 601). Loss: −mean(reward).

## Training

| setting | value |
|---|---|
| sampler | DDIM, 20 steps, guidance scale 7.5, eta 1 |
| truncated backprop | fixed: gradient through the last 2 of 20 steps (truncated_backprop_timestep=18) |
| optimizer | AdamW, learning rate 0.0003, betas (0.9, 0.999), weight decay 0.0001, eps 1e-8, max grad norm 1 |
| batch | batch size 2, gradient accumulation 4 |
| epochs | 30 |
| LoRA | r=4, alpha=4, targets \`to_q\`, \`to_k\`, \`to_v\`, \`to_out.0\` (128 layers, 797,184 parameters) |
| prompts | \`shapes\` |
| seed | 0 |

## Reward during training

Mean reward per step over 3 logged steps:

|  | step | reward mean |
|---|---|---|
| first | 1 | 0.4123 |
| last | 3 | 0.55 |
| best (highest) | 2 | 0.6 |

## Samples

| | |
|---|---|
| ![a red circle](images/step-3/0.png) | ![a blue square](images/step-3/1.png) |
| a red circle — step 3, reward 0.5 | a blue square — step 3, reward 0.6 |

## Use with diffusers

Needs diffusers 0.25 or newer with peft (\`pip install diffusers transformers peft\`): \`load_lora_weights\` loads the adapter through peft. The file's alpha/r is folded into its up weights (it declares lora_alpha = r), so it loads at its trained strength in every such version, also those before 0.34 that ignore \`lora_adapter_metadata\`. \`cross_attention_kwargs={"scale": s}\` mixes the adapter in at strength s (weight mixing): 0 renders the base pipeline, 1 the adapter as trained, values between trade reward for staying close to the base model.

\`\`\`python
import torch
from diffusers import DiffusionPipeline, DDIMScheduler

pipe = DiffusionPipeline.from_pretrained("stable-diffusion-v1-5/stable-diffusion-v1-5", torch_dtype=torch.float16).to("cuda")
pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
pipe.load_lora_weights("someone/bright-lora")
image = pipe("a red circle", num_inference_steps=20, guidance_scale=7.5, eta=1, cross_attention_kwargs={"scale": 1}).images[0]
\`\`\`

## Citation

\`\`\`bibtex
@misc{prabhudesai2023aligning,
  title={Aligning Text-to-Image Diffusion Models with Reward Backpropagation},
  author={Mihir Prabhudesai and Anirudh Goyal and Deepak Pathak and Katerina Fragkiadaki},
  year={2023},
  eprint={2310.03739},
  archivePrefix={arXiv},
  primaryClass={cs.CV}
}
\`\`\`
`,
  );
});

test("a local base pipeline leaves base_model and license out, says so, and the usage points at the local copy", () => {
  const local = { ...input, baseModel: undefined, license: undefined, config: { ...config, model: "/data/my-sd" }, images: [], rewards: undefined };
  const card = buildModelCard(local);
  const meta = parseYaml(card.split("---\n")[1]!) as Record<string, unknown>;
  assert.deepEqual(meta, { library_name: "diffusers", tags: ["alignprop", "lora", "diffusers", "text-to-image"] });
  assert.ok(card.includes("A LoRA adapter for the UNet of a local pipeline (`/data/my-sd`, not a Hub repo, so `base_model` is not set)"));
  assert.ok(card.includes("Point `from_pretrained` at the pipeline the adapter was trained on.\n\n```python\n"));
  assert.ok(card.includes('DiffusionPipeline.from_pretrained("path/to/the/base/pipeline"'));
  assert.ok(card.includes("## Reward during training\n\nNo training step logged a reward.\n\n## Use with diffusers"), "no Samples section without images");
});

test("a LoRA trained with alpha ≠ r shows the trained alpha and says the file has alpha/r folded into its up weights", () => {
  const card = buildModelCard({ ...input, config: { ...config, lora_alpha: 8 } });
  assert.ok(card.includes("| LoRA | r=4, alpha=8 (alpha/r = 2 is folded into the file's up weights, which declare lora_alpha=4), targets"));
});

test("the snippet mixes the adapter in at the run's lora_scale, and a kl_coeff run says what its loss added", () => {
  const card = buildModelCard({ ...input, config: { ...config, lora_scale: 0.7, kl_coeff: 0.05 } });
  assert.ok(card.includes('eta=1, cross_attention_kwargs={"scale": 0.7}).images[0]'));
  assert.ok(card.includes("| KL regulariser | kl_coeff 0.05: the loss adds the kept steps' squared distance to the base UNet's noise prediction |"));
  assert.ok(!buildModelCard(input).includes("KL regulariser"), "no row when kl_coeff is 0");
});

test("the random cut and the other losses are described as configured", () => {
  const card = (over: Partial<typeof config>) => buildModelCard({ ...input, config: { ...config, ...over } });
  assert.ok(card({ truncated_backprop_rand: true, truncated_rand_backprop_minmax: [10, 20] }).includes(
    "| truncated backprop | random: gradient through the steps from a cut drawn uniformly in [10, 20], drawn once per chain (the paper's) |"));
  assert.ok(card({ truncated_backprop_rand: true, truncated_backprop_per_step: true }).includes("redrawn at every step (TRL's behaviour)"));
  assert.ok(card({ loss: "trl" }).includes("Loss: mean(10 − reward) (TRL's form)."));
  assert.ok(card({ loss: "target", reward_target: 0.75 }).includes("Loss: mean(|reward − 0.75|) (the paper's)."));
  assert.ok(card({ negative_prompts: "blurry | ugly" }).includes("eta 1, negative prompt `blurry \\| ugly` |"));
  assert.ok(card({ reward: "" }).includes("## Reward\n\nThe pipeline's default reward: mean luma"));
});

test("prompts are escaped for the YAML front matter, the Markdown grid and the Python snippet", () => {
  const evil = 'a "red" | *circle* [x](y) <script>alert(1)</script> & `tick` \\ back\nslash\u0085\u2028 ü';
  const card = buildModelCard({ ...input, images: [{ path: "images/step-3/0.png", prompt: evil, reward: 1, step: 3 }] });
  const meta = parseYaml(card.split("---\n")[1]!) as { widget: Array<{ text: string }> };
  assert.equal(meta.widget[0]!.text, evil, "the YAML scalar reads back as the prompt, byte for byte");
  const escaped = "a \"red\" \\| \\*circle\\* \\[x\\](y) &lt;script&gt;alert(1)&lt;/script&gt; &amp; \\`tick\\` \\\\ back slash\u0085  ü";
  assert.ok(card.includes(`| ![${escaped}](images/step-3/0.png) |\n| ${escaped} — step 3, reward 1 |`), card);
  const prose = card.slice(card.indexOf("\n---\n") + 5, card.indexOf("## Use with diffusers"));
  assert.ok(!prose.includes("<script>"), "no raw HTML outside the front matter and code blocks");
  const python = card.split("```python\n")[1]!.split("\n```")[0]!;
  assert.ok(python.includes(`pipe(${JSON.stringify(evil)}, num_inference_steps`), "the prompt is one Python string literal");
  assert.ok(!python.includes("\n\n", python.indexOf("pipe(")), "no raw newline breaks the call");
});

test("escaping helpers: Markdown text, code spans around backticks, YAML scalars, numbers", () => {
  assert.equal(markdown("1 < 2 & *b* | _c_ ~d~ \\"), "1 &lt; 2 &amp; \\*b\\* \\| \\_c\\_ \\~d\\~ \\\\");
  assert.equal(markdown("two\r\nlines\rhere"), "two lines here");
  assert.equal(code("plain"), "`plain`");
  assert.equal(code("a`b"), "``a`b``");
  assert.equal(code("``x"), "``` ``x ```");
  assert.equal(code("./my\nreward.js"), "`./my reward.js`");
  assert.equal(yamlString('say "hi"\n'), '"say \\"hi\\"\\n"');
  assert.equal(yamlString("\u007f\u2029\ufeff"), '"\\u007f\\u2029\\ufeff"');
  assert.equal(parseYaml(`x: ${yamlString("\u007f\u2029\ufeff: # not a comment")}`).x, "\u007f\u2029\ufeff: # not a comment");
  assert.deepEqual([num(0.41234), num(0.6000001), num(3e-4), num(1e-8), num(12345.6), num(0), num(-0.125)], ["0.4123", "0.6", "0.0003", "1e-8", "12350", "0", "-0.125"]);
});

test("reward summary: first and last by step, best is the highest mean, or the closest to the target for the target loss", () => {
  const points = [{ step: 3, rewardMean: 0.2 }, { step: 1, rewardMean: 0.5 }, { step: 2, rewardMean: 0.9 }];
  assert.deepEqual(summarizeRewards(points, { loss: "negative_reward", reward_target: undefined }), {
    steps: 3,
    first: { step: 1, rewardMean: 0.5 },
    last: { step: 3, rewardMean: 0.2 },
    best: { step: 2, rewardMean: 0.9 },
    bestMeans: "highest",
  });
  const target = summarizeRewards(points, { loss: "target", reward_target: 0.3 });
  assert.deepEqual([target?.best, target?.bestMeans], [{ step: 3, rewardMean: 0.2 }, "closest to reward_target=0.3"]);
  assert.equal(summarizeRewards(points, { loss: "trl", reward_target: 0.3 })?.best.step, 2, "the target is read only for the target loss");
  assert.equal(summarizeRewards([], { loss: "negative_reward", reward_target: undefined }), undefined);
});
