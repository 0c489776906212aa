/**
 * Progress of `alignprop pretrain`: a bar for the running stage and the time left for the whole recipe. The time
 * left for later stages is their step counts × a per-step cost relative to the running stage (measured on 2 cores),
 * rescaled by how fast the running stage actually goes on this machine.
 */
import { formatDuration } from "../util/format-duration.js";
import type { StageProgress } from "./optimise.js";
import { STAGE_NAMES, type StageName } from "./tiny-shapes.js";

/** Seconds a step of each stage took on the 2-core reference machine (the ratios are what matter). */
const REFERENCE_SECONDS: Record<StageName, number> = { clip: 0.17, aesthetic: 0.005, vae: 0.56, unet: 0.6 };

export class PretrainProgress {
  private stageStarted = performance.now();
  private current: StageName | undefined;

  constructor(private readonly steps: Record<StageName, number>) {}

  /** Seconds left for the whole recipe after `p` (evaluation and saving not counted). */
  update(p: StageProgress): { stageSecondsPerStep: number; secondsLeft: number } {
    const stage = p.stage as StageName;
    if (stage !== this.current) {
      this.current = stage;
      this.stageStarted = performance.now() - 1; // the first step's time is already spent; keep the rate finite
    }
    const perStep = (performance.now() - this.stageStarted) / 1000 / p.step;
    const speed = perStep / REFERENCE_SECONDS[stage];
    const later = STAGE_NAMES.slice(STAGE_NAMES.indexOf(stage) + 1);
    const secondsLeft = (p.steps - p.step) * perStep + later.reduce((sum, n) => sum + this.steps[n] * REFERENCE_SECONDS[n] * speed, 0);
    return { stageSecondsPerStep: perStep, secondsLeft };
  }

  /** "unet [#####-----] 1200/2400 loss 0.0812 · 0.55 s/step · 21m40s left" (the dashboard's duration format) */
  line(p: StageProgress, width = 24): string {
    const { stageSecondsPerStep, secondsLeft } = this.update(p);
    const filled = Math.round((width * p.step) / p.steps);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const index = STAGE_NAMES.indexOf(p.stage as StageName) + 1;
    return `[${index}/${STAGE_NAMES.length}] ${p.stage.padEnd(9)} [${bar}] ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} · ${stageSecondsPerStep.toFixed(2)} s/step · ${formatDuration(secondsLeft)} left`;
  }
}
