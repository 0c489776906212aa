/**
 * A run's events as TensorBoard sees them (`log_with: "tensorboard"`): under `<logdir>/<run name>/` (TRL's layout),
 * every Metrics event becomes scalars at its step, every logged image batch becomes images tagged TRL's way,
 * `<prompt, first 25 characters> | <reward, 2 decimals>`, and the run config is a text summary at step 0.
 */
import { join } from "node:path";
import type { Event, Metrics } from "../../gen/alignprop/v1/alignprop_pb.js";
import { formatFixed } from "../../util/format-fixed.js";
import { TensorBoardWriter } from "./writer.js";

/** TRL's image caption: f"{prompt:.25} | {reward:.2f}". */
export function imageTag(prompt: string, reward: number): string {
  return `${[...prompt].slice(0, 25).join("")} | ${formatFixed(reward, 2)}`;
}

/** The scalars of one Metrics event, named as TRL logged them, with the algorithm-specific Metrics.scalars. */
export function metricScalars(m: Metrics): Record<string, number> {
  return {
    loss: m.loss,
    reward_mean: m.rewardMean,
    reward_std: m.rewardStd,
    reward_min: m.rewardMin,
    reward_max: m.rewardMax,
    grad_norm: m.gradNorm,
    lr: m.lr,
    epoch: m.epoch,
    samples_per_second: m.samplesPerSecond,
    step_seconds: m.stepSeconds,
    // The algorithm's own values under their own names (DDPO: approx_kl, clip_fraction, as TRL logged them).
    ...m.scalars,
  };
}

/** The run config as a two-column markdown table. */
export function configMarkdown(config: Readonly<Record<string, unknown>>): string {
  const rows = Object.entries(config).map(([k, v]) => `| ${k} | ${JSON.stringify(v).replace(/\|/g, "\\|")} |`);
  return ["| field | value |", "|---|---|", ...rows].join("\n");
}

export class TensorBoardRunLog {
  private constructor(private readonly writer: TensorBoardWriter) {}

  get path(): string {
    return this.writer.path;
  }

  /** Opens `<logdir>/<runName>/`; a resumed run passes the step it continues from. */
  static open(logdir: string, runName: string, config: Readonly<Record<string, unknown>>, restartAtStep?: number): TensorBoardRunLog {
    const writer = TensorBoardWriter.open(join(logdir, runName), { restartAtStep });
    if (restartAtStep === undefined) writer.text(0, "config", configMarkdown(config));
    return new TensorBoardRunLog(writer);
  }

  write(event: Event): void {
    const p = event.payload;
    if (p.case === "metrics") {
      this.writer.scalars(p.value.step, metricScalars(p.value));
      this.writer.flush();
    } else if (p.case === "eval") {
      // The monitors under eval/, beside the training curves (eval/reward against reward_mean, eval/fidelity, …).
      this.writer.scalars(p.value.step, Object.fromEntries(Object.entries(p.value.monitors).map(([k, v]) => [`eval/${k}`, v])));
      this.writer.flush();
    } else if (p.case === "images" && !p.value.pixelsDropped) {
      this.writer.images(
        p.value.step,
        p.value.images.filter((im) => im.png.length > 0).map((im) => ({ tag: imageTag(im.prompt, im.reward), png: im.png, width: im.width, height: im.height })),
      );
    }
  }

  close(): void {
    this.writer.close();
  }
}
