import { z } from "zod";

import { BACKEND_NAMES } from "../tf/backend-names.js";
import { checkRunConfig } from "./checks.js";

export const LOG_WITH = ["", "tensorboard", "wandb"] as const;
export const MIXED_PRECISION = ["no", "fp16", "bf16"] as const;
export const BACKENDS = ["auto", ...BACKEND_NAMES] as const;
export const LOSSES = ["negative_reward", "trl", "target"] as const;
export const ALGORITHMS = ["alignprop", "ddpo"] as const;
export const ENGINES = ["tfjs", "torch"] as const;

/**
 * Not z.int(): its failure on a fraction aborts the parse before the cross-field checks, so a config with
 * `train_batch_size: 1.5` would hide its other problems. multipleOf(1) reports and carries on.
 */
const int = () => z.number().multipleOf(1);
const positiveInt = () => int().min(1);
const nonNegativeInt = () => int().min(0);
const unitInterval = () => z.number().min(0).lt(1);
/**
 * TRL's `Optional` fields, and ours without a default: `null` (Python's None; `--field null` on the command line) is
 * the field unset, so a flag can clear what a config file set.
 */
const orNull = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === null ? undefined : value), schema);
/** TRL's `Dict[str, Any]` fields: any JSON object, handed as keyword arguments to accelerate by the torch engine. */
const jsonObject = () => z.record(z.string(), z.json()).default({});

/**
 * One training run. Field names and defaults follow TRL's `AlignPropConfig`, so a TRL user's values carry over;
 * alignprop's own fields come after `push_to_hub`, then the fields of TRL's `DDPOConfig` that only DDPO reads.
 * Every field has a default: `{}` is a complete run.
 */
export const RunConfigSchema = z
  .strictObject({
    exp_name: z.string().default("alignprop").describe("Name of this experiment."),
    run_name: orNull(z.string().default("")).describe('Name of this run; "" (or null) lets the CLI name it.'),
    seed: nonNegativeInt().default(0).describe("Seed for prompts, noise and truncation draws."),
    /** TRL's None (null) is "": events.jsonl and report.html only. "wandb" needs the torch engine (a config check). */
    log_with: orNull(z.enum(LOG_WITH).default(""))
      .describe('Experiment tracker (TRL): "tensorboard" writes event files under logdir/<run name>; "wandb" (--engine torch) logs to the project tracker_project_name, offline with WANDB_MODE=offline.'),
    log_image_freq: positiveInt().default(1).describe("Log sample images every this many steps."),
    tracker_kwargs: jsonObject().describe("Keyword arguments for the tracker (TRL), e.g. {\"wandb\": {\"entity\": \"me\"}}."),
    accelerator_kwargs: jsonObject().describe("Keyword arguments for accelerate's Accelerator (TRL)."),
    project_kwargs: jsonObject().describe("Keyword arguments for accelerate's ProjectConfiguration (TRL)."),
    tracker_project_name: z.string().default("trl").describe("Project name for the tracker."),
    logdir: z.string().default("logs").describe('Tracker directory (TRL): log_with "tensorboard" writes logdir/<run name>/events.out.tfevents.*; checkpoints go to runs_dir/<run name>/checkpoints.'),
    num_epochs: positiveInt().default(100).describe("Number of epochs to train."),
    save_freq: positiveInt().default(1).describe("Epochs between checkpoints."),
    num_checkpoint_limit: positiveInt().default(5).describe("Checkpoints kept; older ones are deleted."),
    /** accelerate's spelling; TRL's "none" is read as "no". TF.js trains in fp32 whatever this says (warnings.ts). */
    mixed_precision: z
      .preprocess((value) => (value === "none" ? "no" : value), z.enum(MIXED_PRECISION).default("fp16"))
      .describe('Mixed precision: frozen weights in fp16/bf16, LoRA in fp32 (TRL\'s "none" means "no").'),
    allow_tf32: z.boolean().default(true).describe("Allow TF32 matmuls on Ampere and newer GPUs."),
    resume_from: z.string().default("").describe('Checkpoint directory to resume from; "" starts fresh.'),
    sample_num_steps: positiveInt().default(50).describe("DDIM sampler steps per image."),
    /** Above 1 the DDIM noise term outgrows `1 - alpha_prev` and the update takes the square root of a negative. */
    sample_eta: z
      .number()
      .min(0)
      .max(1)
      .default(1.0)
      .describe("DDIM eta: 0 is deterministic, 1 is DDPM-like noise."),
    sample_guidance_scale: z.number().min(0).default(5.0).describe("Classifier-free guidance weight."),
    /** AlignProp: images per micro-batch. DDPO: samples per PPO minibatch (divides sample_batch_size). */
    train_batch_size: positiveInt().default(1).describe("Images per training step."),
    train_use_8bit_adam: z.boolean().default(false).describe("8-bit Adam from bitsandbytes (TRL)."),
    /** AlignPropConfig's default. DDPOConfig's is 3e-4: pass `--train_learning_rate 3e-4` for TRL's DDPO default. */
    train_learning_rate: z.number().positive().default(1e-3).describe("AdamW learning rate (TRL DDPO's default: 3e-4)."),
    train_adam_beta1: unitInterval().default(0.9).describe("AdamW beta1."),
    train_adam_beta2: unitInterval().default(0.999).describe("AdamW beta2."),
    train_adam_weight_decay: z.number().min(0).default(1e-4).describe("AdamW weight decay."),
    train_adam_epsilon: z.number().positive().default(1e-8).describe("AdamW epsilon."),
    train_gradient_accumulation_steps: positiveInt()
      .default(1)
      .describe("Steps whose gradients are summed before each optimizer step."),
    train_max_grad_norm: z.number().positive().default(1.0).describe("Clip the gradient's global norm to this."),
    /** TRL's AlignPropConfig default is None, which TRL's trainer encodes as the empty prompt, like DDPOConfig's "". */
    negative_prompts: orNull(z.string().default(""))
      .describe('Negative prompt for classifier-free guidance; "" (or null) is the empty prompt.'),
    truncated_backprop_rand: z
      .boolean()
      .default(true)
      .describe("Draw the backprop cut at random from truncated_rand_backprop_minmax."),
    /** TRL's 49 is `sample_num_steps - 1`; loadRunConfig keeps it so when only sample_num_steps is set. */
    truncated_backprop_timestep: nonNegativeInt()
      .default(49)
      .describe("Fixed cut: backprop through steps ≥ this; follows sample_num_steps - 1 unless set."),
    /** TRL's [0, 50] is `[0, sample_num_steps]`; loadRunConfig keeps it so when only sample_num_steps is set. */
    truncated_rand_backprop_minmax: z
      .tuple([int(), int()])
      .default([0, 50])
      .describe("Range of the random cut; follows [0, sample_num_steps] unless set."),
    push_to_hub: z.boolean().default(false).describe("Push the LoRA, model card and samples to hub_model_id when the run ends (HF_TOKEN or the `hf auth login` token)."),
    hub_model_id: z.string().default("").describe('The Hub repo push_to_hub pushes to, "namespace/name" (TRL\'s name).'),

    /** "tiny-shapes" (the embedded `models/tiny-shapes`), a pipeline directory in diffusers layout, or a Hub id. */
    model: z
      .string()
      .min(1)
      .default("tiny-shapes")
      .describe('Pipeline to fine-tune: "tiny-shapes" (embedded), a directory, or a Hub id.'),
    /**
     * A registered reward name or the user's module (JavaScript on tfjs, `file.py[:function]` on torch: see
     * ./module-spec.ts); "" takes the reward the model ships with.
     */
    reward: z
      .string()
      .default("")
      .describe('Reward name or module: .js on tfjs, file.py[:function] on torch; "" uses the model\'s default reward.'),
    /** A prompt-source name or file; "" takes the prompt source the model ships with. */
    prompts: z.string().default("").describe('Prompt source name or file; "" uses the model\'s prompt source.'),
    /**
     * TRL's `image_samples_hook`, called every `log_image_freq` steps; "" for none. A failing hook is logged, not
     * fatal. On tfjs a JavaScript module whose default export gets `{ step, images, prompts, prompt_metadata, rewards,
     * run_dir }`; on torch `file.py[:function]` (default `image_samples_hook`) called as TRL's
     * `(prompt_image_data, global_step, tracker)` (python/alignprop_torch/user_modules.py).
     */
    image_hook: z
      .string()
      .default("")
      .describe('Called with each logged image batch (TRL\'s image_samples_hook): .js on tfjs, file.py[:function] on torch; "" for none.'),
    /** "auto" tries tfjs-node-gpu, tfjs-node, wasm with ONNX Runtime kernels, plain wasm, then cpu, in that order. */
    backend: z.enum(BACKENDS).default("auto").describe("TF.js backend; auto picks the fastest one that loads."),
    /**
     * Which trainer runs behind the wire: "tfjs" (this Node process's TF.js, `backend` picks its kernels) or "torch"
     * (`python -m alignprop_torch.trainer` in the project's Python environment, or ALIGNPROP_PYTHON: diffusers, peft
     * and PyTorch on CUDA when present, else the CPU). Both write the same run directory; a checkpoint resumes only
     * in the engine that wrote it. torch today trains AlignProp and DDPO; src/config/engine.ts refuses the rest, and
     * each engine's reward and image_hook modules are in its own language.
     */
    engine: z.enum(ENGINES).default("tfjs").describe("Trainer engine: tfjs (TF.js in Node) or torch (PyTorch + diffusers in Python)."),
    /**
     * Data parallelism (engine torch): above 1 the CLI starts the trainer under `accelerate launch` with this many
     * processes in all (one per GPU; gloo ranks on a CPU). Each rank samples its own train_batch_size, so a step
     * trains on num_processes × train_batch_size × train_gradient_accumulation_steps images. accelerate's names.
     */
    num_processes: positiveInt().default(1).describe("Trainer processes in all, one per GPU (engine torch; accelerate launch)."),
    num_machines: positiveInt().default(1).describe("Machines the processes are spread over (accelerate launch)."),
    machine_rank: nonNegativeInt().default(0).describe("This machine's rank among num_machines; 0 serves the wire."),
    main_process_ip: z.string().default("").describe('Address of machine 0, which the others join; "" on one machine.'),
    /** 0: accelerate's own default port (29500). */
    main_process_port: int().min(0).max(65535).default(0).describe("Port on machine 0 the ranks meet at; 0 for accelerate's default."),
    /** Each run writes `runs_dir/<run_name>/` (config, events, images, checkpoints, report). */
    runs_dir: z.string().min(1).default("runs").describe("Directory that holds one folder per run."),
    /**
     * TRL (and the authors' first main.py) redraw the random cut at every sampler step; the authors' later
     * TRL-based pipeline draws it once per chain, which is our default. `true` restores TRL's behaviour.
     */
    truncated_backprop_per_step: z
      .boolean()
      .default(false)
      .describe("Redraw the random cut at every step (TRL) instead of once per chain (paper)."),
    /** Recomputes the kept steps segment by segment in backward, trading compute for activation memory. */
    gradient_checkpointing: z.boolean().default(true).describe("Recompute activations in backward to save memory."),
    /**
     * "negative_reward": -mean(reward); "trl": mean(10 - reward), TRL's form;
     * "target": mean(|reward - reward_target|), the paper's.
     */
    loss: z
      .enum(LOSSES)
      .default("negative_reward")
      .describe("Loss from the reward: negative_reward, trl (10 - reward) or target (|reward - reward_target|)."),
    /** The reward value the "target" loss pulls towards; required by, and only read for, that loss. */
    reward_target: orNull(z.number().optional()).describe('Reward the "target" loss aims for; unset (or null) for none.'),
    /** LoRA rank r of the adapters added to the UNet's attention projections (TRL: 4). */
    lora_rank: positiveInt().default(4).describe("LoRA rank."),
    /** LoRA scaling numerator: the adapter output is multiplied by lora_alpha / lora_rank (TRL: 4). */
    lora_alpha: z.number().positive().default(4).describe("LoRA alpha; the update is scaled by alpha / rank."),
    /** Module names inside the UNet that get adapters, matched as diffusers state-dict key segments. */
    lora_target_modules: z
      .array(z.string().min(1))
      .min(1)
      .default(["to_q", "to_k", "to_v", "to_out.0"])
      .describe("UNet modules that get LoRA adapters."),
    /**
     * AlignProp's KL-style regulariser against reward over-optimisation (DPOK; DDPO with KL): the loss adds
     * kl_coeff · kl, kl = the mean over the kept steps of the squared distance between the adapted UNet's guided
     * noise prediction and the base UNet's (LoRA off) at the same latents; reported as the `kl` metric. 0 is off.
     */
    kl_coeff: z.number().min(0).default(0).describe("AlignProp: weight of the KL term (adapted vs base UNet noise prediction on the kept steps); 0 is off."),
    /**
     * Weight mixing at sampling time (the AlignProp paper's answer to over-optimisation, DRaFT's LoRA scaling):
     * images for evaluation and the model card's snippet use the adapters scaled by this; 0 is the base model, 1 the
     * trained one. Training itself always uses the adapters at 1.
     */
    lora_scale: z.number().default(1).describe("LoRA strength when sampling for evaluation and in the model card (0: base model, 1: as trained)."),
    /** "ddpo" trains the same LoRA adapters with DDPO (Black et al. 2023) on the same sampler, for comparison. */
    algorithm: z.enum(ALGORITHMS).default("alignprop").describe("Training algorithm: alignprop or ddpo."),

    // Evaluation during training (src/eval/): the fixed eval set sampled without gradient, scored by the monitors.
    /** Unset takes the model's (models/tiny-shapes: 40); a model without one never evaluates (0). */
    eval_freq: orNull(nonNegativeInt().optional())
      .describe("Evaluate on the fixed eval set every this many steps (and at step 0 and the last); 0 never; unset: the model's default."),
    eval_prompts: z.array(z.string().min(1)).default([]).describe("Eval prompts; [] uses the model's (tiny-shapes: every colour × shape)."),
    eval_seeds: z.array(nonNegativeInt()).default([]).describe("Noise seeds, each sampled for every eval prompt; [] uses the model's ([0, 1])."),
    /** Hugging Face TrainingArguments' name (TRL configs inherit it): eval samples per sampling batch. */
    per_device_eval_batch_size: positiveInt().default(16).describe("Eval samples per sampling batch."),
    /** Registered names (src/eval/monitors/registry.ts); [] takes the model's. */
    eval_monitors: z
      .array(z.string().min(1))
      .default([])
      .describe("Monitors scored on the eval samples (reward, shape-fidelity, clip-fidelity, diversity, drift); [] uses the model's."),
    /** A monitor value name; "" keeps no best checkpoint. "drift" is lower-is-better, every other higher-is-better. */
    best_metric: z
      .string()
      .default("")
      .describe('Keep the eval step best by this monitor value (e.g. "reward") as best/pytorch_lora_weights.safetensors; "" for none.'),
    best_min_fidelity: orNull(z.number().optional()).describe(
      "Only eval steps with fidelity ≥ this may become the best checkpoint; unset (or null) for no floor.",
    ),

    // DDPO (TRL's DDPOConfig names and defaults); read only when algorithm is "ddpo".
    sample_batch_size: positiveInt().default(1).describe("DDPO: images per sampling batch."),
    sample_num_batches_per_epoch: positiveInt().default(2).describe("DDPO: sampling batches per epoch."),
    train_num_inner_epochs: positiveInt()
      .default(1)
      .describe("DDPO: passes of PPO updates over each epoch's samples."),
    /** TRL recomputes the log-probs with guidance when set; off, with the text-conditioned UNet alone. */
    train_cfg: z.boolean().default(true).describe("DDPO: use classifier-free guidance when recomputing log-probs."),
    train_adv_clip_max: z.number().positive().default(5.0).describe("DDPO: clip advantages to ±this."),
    train_clip_range: z.number().positive().default(1e-4).describe("DDPO: PPO clip range for the probability ratio."),
    /** Each sample trains on ⌊sample_num_steps · fraction⌋ of its steps, drawn afresh every inner epoch. */
    train_timestep_fraction: z
      .number()
      .gt(0)
      .max(1)
      .default(1.0)
      .describe("DDPO: fraction of each trajectory's timesteps to train on."),
    per_prompt_stat_tracking: z
      .boolean()
      .default(false)
      .describe("DDPO: normalise advantages per prompt (else over the epoch's batch)."),
    per_prompt_stat_tracking_buffer_size: positiveInt()
      .default(16)
      .describe("DDPO: rewards remembered per prompt."),
    /** Until a prompt has this many rewards remembered, its advantages use the whole batch's mean and std (TRL). */
    per_prompt_stat_tracking_min_count: positiveInt()
      .default(16)
      .describe("DDPO: rewards a prompt needs before its own mean and std are used."),
    /** TRL computes DDPO's rewards in a thread pool of max_workers while sampling goes on; off, in line. */
    async_reward_computation: z.boolean().default(false).describe("DDPO: compute rewards asynchronously (TRL)."),
    max_workers: positiveInt().default(2).describe("DDPO: workers for async_reward_computation (TRL)."),
  })
  // `when`: run even after single fields failed (the checks guard their own inputs), so all problems show at once.
  .superRefine(checkRunConfig, { when: (payload) => typeof payload.value === "object" && payload.value !== null });

export type RunConfig = z.infer<typeof RunConfigSchema>;

export const DEFAULT_RUN_CONFIG: Readonly<RunConfig> = Object.freeze(RunConfigSchema.parse({}));
