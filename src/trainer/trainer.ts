/**
 * The run loop of the trainer process: gets the run ready (STARTING, loading with progress events), runs the job
 * step by step, publishes status, metrics, images and checkpoint events, writes the run directory, and obeys commands —
 * while loading (stop ends the run before step 1, pause holds it before step 1, a checkpoint is refused) and at step
 * boundaries (pause waits without using CPU; stop finishes the current step, saves a checkpoint and ends DONE).
 */
import { create } from "@bufbuild/protobuf";
import * as tf from "@tensorflow/tfjs";
import {
  CheckpointSavedSchema,
  ErrorSchema,
  ImageBatchSchema,
  LogLevel,
  LogSchema,
  MetricsSchema,
  RunState,
  StatusSchema,
  type Event,
} from "../gen/alignprop/v1/alignprop_pb.js";
import type { RunCommand, RunCommandOutcome } from "../bridge/server.js";
import type { RunConfig } from "../config/index.js";
import type { TensorBoardRunLog } from "../io/tensorboard/run-log.js";
import { saveCheckpoint, type RunDir } from "../run/index.js";
import type { Evaluator } from "../eval/evaluator.js";
import type { ImageHook } from "./image-hook.js";
import { imageMessages } from "./image-messages.js";
import type { StepImages, StepResult, TrainingJob } from "../algorithms/job.js";
import { ProgressThrottle, type ProgressListener } from "./progress.js";
import { RewardFault } from "./reward-watch.js";
import { RunEvaluation } from "./run-evaluation.js";
import { RunStateMachine, Signal, stateName } from "./run-state.js";

/** Where events go: the bridge's server in the trainer process. */
export interface EventSink {
  publish(payload: Event["payload"]): Event;
  readonly lastSeq: number;
}

/** What loading produces: the job and what goes with it. */
export interface LoadedJob {
  job: TrainingJob;
  /** The compute backend in use and why it was chosen. */
  backend: string;
  /** What is being trained, for the first status (the job's name by default). */
  description?: string;
  /** Writes the shareable weights (e.g. diffusers' LoRA file) into the run directory after each checkpoint. */
  exportWeights?: (runDir: string) => Promise<string>;
  /** Called with every logged image batch (`image_hook`). */
  imageHook?: ImageHook;
  /** The evaluation pass and how often it runs (`eval_freq`), when the run evaluates. */
  evaluation?: { evaluator: Evaluator; freq: number };
  /** Writes the LoRA weights to a path: the best checkpoint's (`best_metric`). */
  saveLora?: (path: string) => Promise<void>;
}

export interface TrainerOptions {
  config: RunConfig;
  runDir: RunDir;
  /** `log_with: "tensorboard"`: every event also goes to TensorBoard's event files. */
  tensorboard?: TensorBoardRunLog;
  runId: string;
  /**
   * Gets the run ready (backend, model download and weights, reward, the checkpoint to resume) while the run is
   * STARTING; `progress` and `warn` become events (`warn` also later, while training).
   */
  load(hooks: { progress: ProgressListener; warn: (message: string) => void }): Promise<LoadedJob>;
  /** Set when continuing from a checkpoint: the step it holds. */
  resumedAtStep?: number;
  /** Config fields this engine cannot honour, one sentence each: published as warnings when the run starts. */
  warnings?: readonly string[];
}

/** A failure the run can explain in one sentence (not a bug): reported without a stack trace. */
export class TrainingError extends Error {}

export class Trainer {
  private readonly machine = new RunStateMachine();
  private readonly wake = new Signal();
  private sink: EventSink | undefined;
  private loaded: LoadedJob | undefined;
  private evaluation: RunEvaluation | undefined;
  private step = 0;
  private pauseRequested = false;
  private resumeRequested = false;
  private stopRequested = false;
  private checkpointRequested = false;
  private lastSavedStep = -1;
  readonly totalSteps: number;

  constructor(private readonly o: TrainerOptions) {
    // As in TRL's AlignProp: one optimizer step (over train_gradient_accumulation_steps micro-batches) per epoch.
    this.totalSteps = o.config.num_epochs;
    this.step = o.resumedAtStep ?? 0;
    this.lastSavedStep = o.resumedAtStep ?? -1;
  }

  get state(): RunState {
    return this.machine.state;
  }

  /** Loads, then runs to the end, publishing to `sink`; resolves with the process exit code. */
  async run(sink: EventSink): Promise<number> {
    this.sink = sink;
    const from = this.o.resumedAtStep === undefined ? "" : ` to resume from the checkpoint at step ${this.o.resumedAtStep}`;
    this.publish({ case: "status", value: this.status(`loading ${this.o.config.model}${from}`) });
    for (const message of this.o.warnings ?? []) this.warn(message);
    try {
      const loaded = await this.loadUnlessStopped();
      if (!loaded) {
        this.transition(RunState.STOPPING, "stop requested while loading");
        this.transition(RunState.DONE, `stopped before step ${this.step + 1}: nothing was trained`);
        return 0;
      }
      this.loaded = loaded;
      const resumed = this.o.resumedAtStep === undefined ? "" : ` (resumed from the checkpoint at step ${this.o.resumedAtStep})`;
      this.transition(RunState.RUNNING, `training ${loaded.description ?? loaded.job.name} on ${loaded.backend}${resumed}: ${this.totalSteps} steps`);
      await this.openEvaluation(loaded);
      while (this.step < this.totalSteps && !this.stopRequested) {
        await this.boundary();
        if (this.stopRequested) break;
        await this.trainOneStep();
        // Let queued commands and socket I/O run between steps.
        await new Promise((resolve) => setImmediate(resolve));
      }
      this.transition(RunState.STOPPING, this.stopRequested ? `stop requested at step ${this.step}` : "all steps done");
      if (this.lastSavedStep !== this.step) await this.checkpoint("final");
      this.transition(RunState.DONE, `${this.stopRequested ? "stopped" : "finished"} at step ${this.step}/${this.totalSteps}`);
      return 0;
    } catch (err) {
      // A loading failure or an expected one (divergence, a final save that failed) is its message; a bug its stack.
      const message = err instanceof TrainingError || this.loaded === undefined ? (err as Error).message : ((err as Error).stack ?? String(err));
      // stderr too (trainer.log): a failure at start-up can end the process before a client has attached.
      process.stderr.write(`run failed: ${message}\n`);
      this.publish({ case: "error", value: create(ErrorSchema, { message, source: "trainer" }) });
      if (this.machine.state !== RunState.FAILED) this.transition(RunState.FAILED, (err as Error).message);
      return 1;
    }
  }

  /** The loaded job, or undefined when a stop came first (the abandoned load ends with the process). */
  private async loadUnlessStopped(): Promise<LoadedJob | undefined> {
    if (this.stopRequested) return undefined;
    const progress = new ProgressThrottle((value) => this.publish({ case: "progress", value }));
    const load = this.o.load({ progress: progress.report, warn: (message) => this.warn(message) });
    let loading = true;
    const stopped = (async () => {
      while (loading && !this.stopRequested) await this.wake.wait();
      return undefined;
    })();
    try {
      await Promise.race([load, stopped]);
    } finally {
      loading = false;
      this.wake.notify(); // ends the stop watcher
    }
    if (!this.stopRequested) return load;
    load.catch(() => {});
    return undefined;
  }

  /** Called by the bridge for pause, resume, stop and checkpoint_now; all idempotent. */
  async handle(command: RunCommand): Promise<RunCommandOutcome> {
    const state = this.machine.state;
    const done = state === RunState.DONE || state === RunState.FAILED || state === RunState.STOPPING;
    if (done) return { ok: command === "stop", message: `run is already ${stateName(state)}`, state };
    const loading = state === RunState.STARTING;
    switch (command) {
      case "pause":
        if (state === RunState.PAUSED) return { ok: true, message: "already paused", state };
        this.pauseRequested = true;
        return { ok: true, message: loading ? `loading; will pause before step ${this.step + 1}` : `pausing after step ${this.step + 1}`, state };
      case "resume":
        this.pauseRequested = false;
        if (state !== RunState.PAUSED) return { ok: true, message: loading ? "loading; will run when ready" : "already running", state };
        this.resumeRequested = true;
        this.wake.notify();
        return { ok: true, message: `resuming at step ${this.step + 1}`, state: RunState.RUNNING };
      case "stop":
        this.stopRequested = true;
        this.wake.notify();
        if (loading) return { ok: true, message: "stopping while loading: the run ends before its first step", state };
        return { ok: true, message: `stopping after step ${this.step}${state === RunState.PAUSED ? "" : " + the step in progress"}`, state };
      case "checkpointNow":
        if (loading) return { ok: false, message: "no checkpoint while loading: nothing has been trained yet", state };
        this.checkpointRequested = true;
        this.wake.notify();
        return { ok: true, message: `checkpoint at the next step boundary (step ${this.step})`, state };
    }
  }

  /** Step boundary: take a requested checkpoint, and stay here (no CPU) while paused. */
  private async boundary(): Promise<void> {
    if (this.checkpointRequested) await this.checkpoint("requested");
    if (!this.pauseRequested || this.stopRequested) return;
    this.pauseRequested = false;
    this.resumeRequested = false;
    this.transition(RunState.PAUSED, `paused after step ${this.step}`);
    for (;;) {
      if (this.checkpointRequested) await this.checkpoint("requested");
      if (this.stopRequested || this.resumeRequested) break;
      await this.wake.wait();
    }
    if (!this.stopRequested) this.transition(RunState.RUNNING, `resumed at step ${this.step}`);
  }

  private async trainOneStep(): Promise<void> {
    const { config } = this.o;
    const { job } = this.loaded!;
    const next = this.step + 1;
    const keepImages = next % config.log_image_freq === 0;
    const t0 = performance.now();
    let result: StepResult;
    try {
      result = job.step({ keepImages });
    } catch (err) {
      if (err instanceof RewardFault) throw new TrainingError(`step ${next}: ${err.message}; ${this.kept()}`);
      throw err;
    }
    const seconds = (performance.now() - t0) / 1000;
    this.step = next;
    this.publishMetrics(result, seconds);
    if (result.images) await this.publishImages(result.images);
    if (this.evaluation?.due(this.step)) await this.evaluation.run(this.step);
    if (this.step % config.save_freq === 0 && this.step < this.totalSteps) await this.checkpoint("save_freq");
  }

  /** Sets up the evaluation (eval_freq) and, on a fresh run, evaluates the base model (step 0). */
  private async openEvaluation(loaded: LoadedJob): Promise<void> {
    if (!loaded.evaluation) return;
    const { evaluator, freq } = loaded.evaluation;
    const saveLora = loaded.saveLora ?? (() => Promise.reject(new Error("this job cannot export its LoRA weights")));
    const publish = (payload: Event["payload"]) => this.publish(payload);
    const options = { evaluator, freq, totalSteps: this.totalSteps, config: this.o.config, runDir: this.o.runDir, saveLora, publish };
    this.evaluation = await RunEvaluation.open(options, this.o.resumedAtStep !== undefined);
    if (this.o.resumedAtStep === undefined) await this.evaluation.run(0);
  }

  private publishMetrics(r: StepResult, seconds: number): void {
    const bad = !Number.isFinite(r.loss) ? `loss is ${r.loss}` : r.rewards.some((x) => !Number.isFinite(x)) ? "a reward is not finite" : "";
    if (bad) {
      throw new TrainingError(
        `${bad} at step ${this.step}: training diverged (try a lower train_learning_rate or train_max_grad_norm); ${this.kept()}`,
      );
    }
    const n = r.rewards.length;
    const mean = r.rewards.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(r.rewards.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    const mem = tf.memory();
    this.publish({
      case: "metrics",
      value: create(MetricsSchema, {
        step: this.step,
        epoch: this.step - 1,
        loss: r.loss,
        rewardMean: mean,
        rewardStd: std,
        rewardMin: Math.min(...r.rewards),
        rewardMax: Math.max(...r.rewards),
        gradNorm: r.gradNorm,
        lr: r.lr,
        stepSeconds: seconds,
        samplesPerSecond: n / seconds,
        tfTensors: mem.numTensors,
        tfBytes: mem.numBytes,
        rssBytes: process.memoryUsage().rss,
        scalars: r.scalars ?? {},
      }),
    });
  }

  private async publishImages(batch: StepImages): Promise<void> {
    const saved = await this.o.runDir.saveImages(this.step, batch);
    const images = imageMessages(saved, batch);
    this.publish({ case: "images", value: create(ImageBatchSchema, { step: this.step, images }) });
    if (this.loaded!.imageHook) await this.callImageHook(this.loaded!.imageHook, batch, saved);
  }

  private async callImageHook(hook: ImageHook, batch: StepImages, saved: { png: Uint8Array; path: string }[]): Promise<void> {
    try {
      await hook({
        step: this.step,
        images: saved.map((s, i) => ({ png: s.png, path: s.path, width: batch.images[i]!.width, height: batch.images[i]!.height })),
        prompts: batch.prompts,
        prompt_metadata: batch.promptMetadata,
        rewards: batch.rewards,
        run_dir: this.o.runDir.path,
      });
    } catch (err) {
      this.warn(`image_hook failed at step ${this.step}: ${(err as Error).message}`);
    }
  }

  /**
   * Saves a checkpoint. A failed save (disk full, unwritable run dir) is reported and training goes on — the previous
   * checkpoint is untouched (saves are atomic) and the next save tries again — except the final save, whose failure
   * fails the run: its state would be lost.
   */
  private async checkpoint(reason: string): Promise<void> {
    this.checkpointRequested = false;
    const { tensors, rngState } = await this.loaded!.job.checkpointState();
    // A diverged step can leave finite losses but non-finite weights or optimizer moments: never save those.
    const broken = Object.entries(tensors).find(([, t]) => !t.data.every(Number.isFinite));
    if (broken) {
      throw new TrainingError(
        `"${broken[0]}" is not finite after step ${this.step}: training diverged (try a lower train_learning_rate or ` +
          `train_max_grad_norm); ${this.kept()}`,
      );
    }
    let path: string;
    try {
      path = await saveCheckpoint(
        this.o.runDir.path,
        // seq: the CheckpointSaved event published right after the save, so a resumed log keeps it.
        { step: this.step, epoch: Math.max(0, this.step - 1), rngState, runId: this.o.runId, seq: this.sink!.lastSeq + 1 },
        tensors,
        this.o.config.num_checkpoint_limit,
      );
      await this.loaded!.exportWeights?.(this.o.runDir.path);
    } catch (err) {
      const message = `checkpoint at step ${this.step} (${reason}) could not be saved: ${(err as Error).message}`;
      if (reason === "final") throw new TrainingError(message);
      this.publish({ case: "error", value: create(ErrorSchema, { message: `${message}; training continues, the previous checkpoint is intact`, source: "checkpoint" }) });
      return;
    }
    this.lastSavedStep = this.step;
    this.publish({ case: "checkpoint", value: create(CheckpointSavedSchema, { step: this.step, epoch: Math.max(0, this.step - 1), path, reason }) });
  }

  private kept(): string {
    return this.lastSavedStep > 0 ? `the last good checkpoint is kept (step ${this.lastSavedStep})` : "no checkpoint had been saved yet";
  }

  private transition(next: RunState, message: string): void {
    this.machine.to(next);
    this.publish({ case: "status", value: this.status(message) });
  }

  private status(message: string) {
    return create(StatusSchema, {
      state: this.machine.state,
      step: this.step,
      total: this.totalSteps,
      epoch: Math.max(0, this.step - 1),
      backend: this.loaded?.backend ?? "",
      message,
      runDir: this.o.runDir.path,
    });
  }

  private warn(message: string): void {
    this.publish({ case: "log", value: create(LogSchema, { level: LogLevel.WARN, message }) });
  }

  private publish(payload: Event["payload"]): void {
    const event = this.sink!.publish(payload);
    this.o.runDir.appendEvent(event);
    this.o.tensorboard?.write(event);
  }
}
