/**
 * `alignprop bench`: how fast this host trains, per TF.js backend and against PyTorch on the same work. Each task
 * runs in a process of its own (src/tf/bench/worker.ts; scripts/bench/torch_bench.py for PyTorch 2.13 and diffusers'
 * UNet2DConditionModel, in the project's Python environment) so each reports its own peak RSS. Prints one JSON object on stdout; a backend or
 * PyTorch that cannot run is reported as unavailable, never an error.
 */
import { execa } from "execa";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { stalledSubscriberRatio } from "../../bridge/stall-probe.js";
import { ortThreads } from "../../tf/ort/session-cache.js";
import { BENCH_SHAPES } from "../../tf/bench/shapes.js";
import { flag, parseCommand } from "../args.js";
import { EXIT, type CliCommand } from "../command.js";
import { ALIGNPROP_BENCH, alignpropBenchConfig, benchTorchQuickstartStep, QUICKSTART } from "../../bench/alignprop-step.js";
import { compareAlgorithms } from "../../bench/compare.js";
import { quickstartReport, quickstartText } from "../../bench/quickstart-report.js";
import { ranksThroughput } from "../../bench/ranks.js";
import { moreUNetRounds } from "../../bench/rounds.js";
import { loadAverage, machine } from "../../bench/host.js";
import { RISE_MIN_STEPS } from "../../bench/reward-rise.js";
import { runJob, type EvalRecord, type StepRecord } from "../../bench/run-job.js";
import { reportStepProfile } from "../../bench/profile-step.js";
import { issueTargets, targetsText } from "../../bench/targets.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { ENGINES, loadRunConfig, type Engine, type OverrideValue } from "../../config/index.js";
import { PACKAGE_ROOT } from "../../models/embedded.js";
import { projectPython, PythonEnvError } from "../../python/env.js";
import { compareHtml } from "../../report/compare-html.js";
import { initBackend } from "../../tf/backend.js";
import { BACKEND_NAMES } from "../../tf/backend-names.js";


const WORKER = fileURLToPath(new URL("../../tf/bench/worker.js", import.meta.url));
const TORCH_SCRIPT = fileURLToPath(new URL("../../../../scripts/bench/torch_bench.py", import.meta.url));

const Options = z.object({
  backends: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(",").filter(Boolean) : [...BACKEND_NAMES]))
    .pipe(z.array(z.enum(BACKEND_NAMES)).min(1, "needs at least one backend")),
  repeats: z.coerce.number().int().min(1).default(5),
  rounds: z.coerce.number().int().min(1).default(1),
  threads: z.coerce.number().int().min(1).optional(),
  timeout: z.coerce.number().positive().default(180),
  skip_unet: flag(),
  skip_torch: flag(),
  skip_bridge: flag(),
  skip_alignprop: flag(),
  compare: z.enum(["ddpo"]).optional(),
  ranks: z
    .string()
    .regex(/^[1-9]\d*(,[1-9]\d*)*$/, "a comma-separated list of process counts, e.g. 1,2")
    .transform((v) => v.split(",").map(Number))
    .optional(),
  quickstart: flag(),
  skip_eval: flag(),
  profile: flag(),
  seconds: z.coerce.number().positive().default(240),
  out: z.string().min(1).optional(),
  engine: z.enum(ENGINES).default("tfjs"),
  help: flag(),
});

const USAGE = `alignprop bench [--backends <list>] [--repeats <n>] [--rounds <n>] [--threads <n>] [--timeout <s>] [--skip-unet] [--skip-torch]
       alignprop bench --compare ddpo [--seconds 240] [--out compare-ddpo.html] [--engine tfjs|torch] [--skip-eval]
       alignprop bench --quickstart [--seconds 600] [--engine tfjs|torch] [--skip-eval]
       alignprop bench --ranks 1,2 [--repeats <n>] [--timeout <s>]
       alignprop bench --profile [--out alignprop-profile.json]

  --backends <list>  TF.js backends to time, comma-separated (default: ${BACKEND_NAMES.join(",")}; unavailable ones
                     are reported as such)
  --repeats <n>      timed runs per measurement after a warm-up; the median and the fastest are reported (default
                     5). A run slower than 1 s (20 s for the UNet step) is reported alone.
  --rounds <n>       time the tiny-UNet step in n rounds, each a TF.js process then a PyTorch one, so load that
                     changes during the bench moves both sides of a round alike; its figures are the median of the
                     rounds' medians, the fastest run and the largest peak RSS of all, and each round's ratio
                     (default 1)
  --threads <n>      ONNX Runtime and PyTorch threads (default: ALIGNPROP_ORT_THREADS or every core; on cores other
                     processes use, 1 measures more steadily)
  --timeout <s>      a task (one backend's kernels, or its UNet step) still running after this is stopped and
                     reported as timed out (default 180; the plain cpu backend needs minutes for the UNet step)
  --skip-unet        only the conv and matmul kernels
  --skip-torch       no PyTorch comparison
  --skip-bridge      no stalled-subscriber probe (the trainer's step time with a dashboard that stopped reading,
                     relative to none; runs the real trainer three times)
  --skip-alignprop   no full AlignProp step on the embedded tiny-shapes pipeline (TF.js K=1 and K=all on the best
                     backend; and "engines": the quickstart's settings, configs/quickstart.json, on the TF.js and the
                     torch engine side by side, s/step, samples/s, peak RSS and TF.js/torch ratios)

  --compare ddpo     instead of the above: train AlignProp, then DDPO, on tiny-shapes with the same reward
                     (tiny-aesthetic), prompts and seed for --seconds each; JSON of reward mean against samples and
                     seconds for both and the sample ratio to reach DDPO's final reward, and each one's prompt
                     fidelity on the fixed eval set (src/eval/) against samples; the plot goes to --out
  --quickstart       instead: train what \`npm start\` trains (configs/quickstart.json) for --seconds (at least
                     ${RISE_MIN_STEPS} steps however slow the machine) or its num_epochs, whichever ends first, and
                     report how far the reward mean rose towards the best sample seen (gapClosed), with the eval
                     set's prompt fidelity at the start and after the last step (finalFidelity), and both where the
                     run stood 1, 3 and 10 minutes after it started, start-up and eval passes included (marks;
                     --seconds 600 reaches every mark)
  --skip-eval        with --compare or --quickstart: no eval passes (no fidelity reported; eval time is never
                     counted in --seconds anyway)
  --ranks <list>     instead: samples/s of the whole job of a torch run on tiny-shapes for each number of
                     processes (num_processes; gloo ranks on a CPU, where they share the cores), the median of
                     --repeats steps after a warm-up step, each run within --timeout seconds
  --profile          instead: where one AlignProp step of the quickstart (configs/quickstart.json) spends its time
                     on the best TF.js backend: by model part, by kernel, and the kernels dispatched; tables on
                     stdout, the figures as JSON in --out (default alignprop-profile.json)
  --engine <e>       with --compare or --quickstart: train on tfjs (default; the best TF.js backend) or torch (the
                     project's Python, CUDA when present)

Times conv forward / input gradient / filter gradient (${BENCH_SHAPES.conv.x.join("×")} NHWC, ${BENCH_SHAPES.conv.filter.join("×")}),
a ${BENCH_SHAPES.matmul.m}×${BENCH_SHAPES.matmul.k}×${BENCH_SHAPES.matmul.n} matmul, and a training step (forward, MSE, every
parameter's gradient) of diffusers' tiny test UNet on ${BENCH_SHAPES.unet.sample.join("×")} latents. On wasm-ort the kernels
are timed as one-kernel ORT sessions and as traced ONNX graphs (weights as inputs, and baked in as frozen weights),
and the UNet step as the engine runs it (traced graphs) and as TF.js ops (ALIGNPROP_ORT_GRAPHS=0). JSON on stdout,
"targets" first (issue 18's figures side by side, also printed on stderr); ratios are TF.js time / PyTorch time
(below 1: TF.js is faster). Each task runs in a process of its own and its peak RSS is that process's whole life
(getrusage): for the traced UNet step that includes tracing, one run as TF.js ops whose wasm memory stays allocated.`;

type Json = Record<string, unknown>;

/** The last line of a task's stdout is its JSON; anything else it printed (TF.js banners) is ignored. */
function lastJsonLine(stdout: string, stderr: string, what: string): Json {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as Json;
  } catch {
    return { failed: `${what} printed no result: ${(stderr.trim().split("\n").at(-1) ?? "").slice(0, 500)}` };
  }
}

export interface TaskOptions {
  repeats: number;
  threads: number;
  timeout: number;
}

async function runWorker(task: string, backend: string, { repeats, threads, timeout }: TaskOptions): Promise<Json> {
  const env = { ...process.env, ALIGNPROP_ORT_THREADS: String(threads) };
  const args = [WORKER, task, backend, String(repeats)];
  const r = await execa(process.execPath, args, { reject: false, env, timeout: timeout * 1000 });
  if (r.timedOut) return { timed_out: `${task} on ${backend} still running after ${timeout} s (--timeout)` };
  return lastJsonLine(String(r.stdout), String(r.stderr), `${task} on ${backend}`);
}

export async function runTorch(task: string, { repeats, threads, timeout }: TaskOptions): Promise<Json> {
  const spec = JSON.stringify({ shapes: BENCH_SHAPES, threads, repeats });
  let python: string;
  try {
    python = projectPython();
  } catch (err) {
    return { unavailable: (err as Error).message };
  }
  const r = await execa(python, [TORCH_SCRIPT, task, spec], { reject: false, timeout: timeout * 1000 });
  if (r.timedOut) return { timed_out: `PyTorch ${task} still running after ${timeout} s (--timeout)` };
  if (r.failed && /No module named '(torch|diffusers)'|ENOENT/.test(`${r.stderr}${r.message}`)) {
    return { unavailable: `${python} lacks torch/diffusers: ${String(r.stderr).trim().split("\n").pop()} (npm test creates the project's environment)` };
  }
  return lastJsonLine(String(r.stdout), String(r.stderr), `PyTorch ${task}`);
}

/**
 * Runs `tasks` in order into one report: a backend that cannot start ends it ({ unavailable }); a task that fails or
 * times out is recorded as `<task>_error` and the next one still runs.
 */
async function collect(tasks: readonly string[], run: (task: string) => Promise<Json>): Promise<Json> {
  let report: Json = {};
  for (const task of tasks) {
    const { unavailable, peak_rss_mb, timed_out, failed, ...measures } = await run(task);
    if (unavailable) return { unavailable };
    const error = timed_out ?? failed;
    report = { ...report, ...measures, ...(error ? { [`${task}_error`]: error } : { [`${task}_peak_rss_mb`]: peak_rss_mb }) };
  }
  return report;
}

/** TF.js measures, each with the PyTorch measure of the same work (the UNet step as TF.js ops is still the UNet step). */
const MEASURES = {
  conv_fwd: "conv_fwd",
  conv_bwd_input: "conv_bwd_input",
  conv_bwd_filter: "conv_bwd_filter",
  matmul: "matmul",
  unet_step: "unet_step",
  unet_step_ops: "unet_step",
} as const;

/** The kernel bench's traced-graph forms (src/tf/bench/kernels.ts), ratioed like the top-level measures. */
const GRAPH_FORMS = ["graph", "graph_frozen_weight"] as const;

/** TF.js time / PyTorch time for every measure both sides have, the traced-graph kernel forms nested. */
export function timeRatios(tfjs: Json, torch: Json): Record<string, number | Record<string, number>> {
  const ratios: Record<string, number | Record<string, number>> = {};
  for (const [measure, peer] of Object.entries(MEASURES)) {
    const a = (tfjs[measure] as { ms?: number } | undefined)?.ms;
    const b = (torch[peer] as { ms?: number } | undefined)?.ms;
    if (a !== undefined && b !== undefined) ratios[measure] = a / b;
  }
  for (const form of GRAPH_FORMS) {
    if (tfjs[form]) ratios[form] = timeRatios(tfjs[form] as Json, torch) as Record<string, number>;
  }
  return ratios;
}

/** The bench tasks for one TF.js backend: the UNet step as TF.js ops too where model calls run as traced graphs. */
const backendTasks = (backend: string, skipUnet: boolean): string[] =>
  skipUnet ? ["kernels"] : ["kernels", "unet", ...(backend === "wasm-ort" ? ["unet-ops"] : [])];

export const bench: CliCommand = {
  name: "bench",
  summary: "time conv/matmul kernels and a tiny-UNet training step per backend, against PyTorch (JSON)",
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommand(argv, {
      name: "bench",
      options: Options,
      booleans: ["skip-unet", "skip-torch", "skip-bridge", "skip-alignprop", "quickstart", "skip-eval", "profile"],
      usage: USAGE,
      positionals: { count: 0, what: "argument" },
    });
    if (!parsed) return EXIT.ok;
    const { options } = parsed;
    const evaluate = !options.skip_eval;
    if (options.compare) return compareDdpo(options.seconds, options.out ?? "compare-ddpo.html", options.engine, evaluate);
    if (options.profile) return reportStepProfile(QUICKSTART, options.out ?? "alignprop-profile.json").then(() => EXIT.ok);
    if (options.quickstart) return quickstartRise(options.seconds, options.engine, evaluate);
    if (options.ranks) {
      const ranks = await ranksThroughput(options.ranks, options.repeats, Math.max(options.timeout, 300));
      process.stdout.write(JSON.stringify({ model: "tiny-shapes", engine: "torch", ranks }, null, 2) + "\n");
      return EXIT.ok;
    }
    const threads = options.threads ?? ortThreads();
    const taskOptions = { repeats: options.repeats, threads, timeout: options.timeout };
    const loadBefore = loadAverage();

    const tfjs: Record<string, Json> = {};
    for (const backend of options.backends) {
      tfjs[backend] = await collect(backendTasks(backend, options.skip_unet), (task) => runWorker(task, backend, taskOptions));
    }
    const torch: Json = options.skip_torch
      ? { skipped: "--skip-torch" }
      : await collect(options.skip_unet ? ["kernels"] : ["kernels", "unet"], (task) => runTorch(task, taskOptions));
    if (!options.skip_unet) {
      // Every TF.js backend whose first round ran, then PyTorch: the same order as the first round.
      const sides = [
        ...Object.entries(tfjs).map(([backend, report]) => ({ report, run: () => runWorker("unet", backend, taskOptions) })),
        { report: torch, run: () => runTorch("unet", taskOptions) },
      ];
      await moreUNetRounds(options.rounds - 1, sides);
    }
    const ratios = Object.fromEntries(
      Object.entries(tfjs)
        .filter(([, r]) => !r.unavailable && !torch.unavailable && !torch.skipped)
        .map(([backend, r]) => [backend, timeRatios(r, torch)]),
    );
    const bridge = options.skip_bridge ? { skipped: "--skip-bridge" } : { stalled_subscriber: await stalledSubscriberRatio() };
    // The whole AlignProp step on the backend a run would pick ("auto"), one process per truncation for its own RSS.
    const alignprop = options.skip_alignprop
      ? { skipped: "--skip-alignprop" }
      : await collect(["alignprop-k1", "alignprop-kall"], (task) => runWorker(task, "auto", { ...taskOptions, repeats: Math.min(options.repeats, 3), timeout: Math.max(options.timeout, 600) }));
    const engines = options.skip_alignprop ? { skipped: "--skip-alignprop" } : await compareEngines({ ...taskOptions, skipTorch: options.skip_torch });
    // The engine is the first backend that ran in "auto"'s order (fastest first).
    const engineBackend = BACKEND_NAMES.find((b) => tfjs[b] && !tfjs[b].unavailable);
    const targets = engineBackend ? issueTargets({ backend: engineBackend, tfjs: tfjs[engineBackend]!, torch, engines }) : { unavailable: "no TF.js backend ran" };
    const host = { ...machine(), threads, rounds: options.rounds, load_average: { start: loadBefore, end: loadAverage() } };
    const report = { host, shapes: BENCH_SHAPES, targets, tfjs, torch, ratios, bridge, alignprop, engines };
    process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    if (engineBackend) process.stderr.write(targetsText(targets, { cpu: host.cpu, loadAverage: host.load_average.end }) + "\n");
    return EXIT.ok;
  },
};

/**
 * The AlignProp step with the quickstart's settings on both engines: the TF.js job on the backend a run would pick,
 * the torch engine's job in the project's Python, each in its own process with `threads` threads; TF.js / torch.
 */
async function compareEngines(o: TaskOptions & { skipTorch: boolean }): Promise<Json> {
  const timing = { ...o, repeats: Math.min(o.repeats, 3), timeout: Math.max(o.timeout, 600) };
  const tfjsRun = await runWorker("alignprop-quickstart", "auto", timing);
  const tfjs = (tfjsRun.alignprop_quickstart as Json | undefined) ?? tfjsRun;
  if (tfjsRun.peak_rss_mb !== undefined) tfjs.peak_rss_mb = tfjsRun.peak_rss_mb;
  let torch: Json;
  if (o.skipTorch) torch = { skipped: "--skip-torch" };
  else {
    try {
      torch = await benchTorchQuickstartStep(timing.repeats, o.threads, timing.timeout);
    } catch (err) {
      torch = { [err instanceof PythonEnvError ? "unavailable" : "failed"]: (err as Error).message };
    }
  }
  const ratio = (key: string) => (typeof tfjs[key] === "number" && typeof torch[key] === "number" ? (tfjs[key] as number) / (torch[key] as number) : null);
  return {
    config: QUICKSTART,
    tfjs,
    torch,
    tfjs_over_torch: { s_per_step: ratio("s_per_step"), samples_per_second: ratio("samples_per_second"), peak_rss_mb: ratio("peak_rss_mb") },
  };
}

/** What trains: "torch", or the TF.js backend `auto` picks (initialised here, in this process). */
async function engineBackend(engine: Engine): Promise<string> {
  return engine === "torch" ? "torch" : (await initBackend("auto")).backend;
}

/** `--compare ddpo`: both algorithms on tiny-shapes, JSON on stdout, the plot in `out`. */
async function compareDdpo(seconds: number, out: string, engine: Engine, evaluate: boolean): Promise<number> {
  const backend = await engineBackend(engine);
  const settings = {
    seconds,
    shared: {
      engine,
      model: "tiny-shapes",
      reward: "tiny-aesthetic",
      prompts: "shapes",
      seed: 0,
      sample_num_steps: ALIGNPROP_BENCH.sample_num_steps,
      sample_guidance_scale: ALIGNPROP_BENCH.sample_guidance_scale,
    },
    // AlignProp as `npm start` trains it (its learning rate and truncation), DDPO with TRL's PPO settings.
    alignprop: { ...alignpropBenchConfig("k1"), ...quickstartTraining() },
    ddpo: { sample_batch_size: 4, sample_num_batches_per_epoch: 2, train_batch_size: 4, sample_eta: 1 },
  };
  const comparison = await compareAlgorithms(
    {
      ...settings,
      evaluate,
      onStep: (algorithm, r) =>
        process.stderr.write(`${algorithm} ${r.seconds.toFixed(0)} s: ${r.samples} samples, reward ${r.rewardMean.toFixed(4)}\n`),
    },
    16,
  );
  await writeFileAtomic(out, compareHtml(comparison, { backend, ...settings }));
  process.stdout.write(JSON.stringify({ backend, settings, ...comparison, html: out }, null, 2) + "\n");
  return EXIT.ok;
}

/** The quickstart's AlignProp training settings (read and checked as a run config): learning rate, batch, truncation. */
function quickstartTraining(): Record<string, OverrideValue> {
  const { config } = loadRunConfig({ file: QUICKSTART });
  return {
    train_learning_rate: config.train_learning_rate,
    train_batch_size: config.train_batch_size,
    truncated_backprop_rand: config.truncated_backprop_rand,
    truncated_backprop_timestep: config.truncated_backprop_timestep,
    truncated_rand_backprop_minmax: config.truncated_rand_backprop_minmax.map(String),
    kl_coeff: config.kl_coeff,
  };
}

/** Reports an eval pass on stderr. */
const onEval = (r: EvalRecord) =>
  process.stderr.write(`eval at step ${r.step}: ${Object.entries(r.monitors).map(([k, v]) => `${k} ${v.toFixed(3)}`).join("  ")}\n`);

/**
 * `--quickstart`: the main job for a wall-clock budget (or its own num_epochs, whichever ends first), how much of the
 * reward gap it closed and the prompt fidelity it ended at; JSON on stdout, the summary line on stderr.
 */
async function quickstartRise(seconds: number, engine: Engine, evaluate: boolean): Promise<number> {
  const backend = await engineBackend(engine);
  const onStep = (r: StepRecord) => process.stderr.write(`${r.seconds.toFixed(0)} s: reward ${r.rewardMean.toFixed(4)}\n`);
  const { config } = loadRunConfig({ file: QUICKSTART });
  const limits = { seconds, steps: Math.max(config.num_epochs, RISE_MIN_STEPS), minSteps: RISE_MIN_STEPS, evaluate, onStep, onEval };
  const run = await runJob({ engine }, limits, QUICKSTART);
  const report = quickstartReport(run, run.steps.length >= config.num_epochs);
  process.stdout.write(JSON.stringify({ backend, config: QUICKSTART, run: run.description, peak_rss_mb: run.peakRssMb, ...report }, null, 2) + "\n");
  process.stderr.write(quickstartText(report) + "\n");
  return EXIT.ok;
}
