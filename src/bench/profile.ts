/**
 * Where one training step's time goes (issue 18): by kernel, by model part, and how many kernels it dispatches.
 *
 * Kernels are timed by wrapping every kernel registered for the active backend (`KernelConfig.kernelFunc`) for the
 * duration of the profiled call. On the wasm backend (and the ORT kernels on it) a kernel computes its output before
 * it returns, so the wall time around `kernelFunc` is the kernel's whole cost. Each kernel's time is its self time:
 * a kernel that dispatches others through the engine is charged only for what its children did not spend.
 * (`tf.profile` measures the same wall time on wasm, through `backend.time`, but also lists customGrad scopes — which
 * wrap whole UNet calls here — beside the kernels inside them, with no nesting to tell them apart, and keeps a record
 * with shapes for every dispatch.) A model call run as one traced ONNX Runtime graph (src/tf/ort/traced-run.ts)
 * dispatches no kernel: each graph run is a row of its own ("ORT graph: unet forward"), counted with the kernels.
 * What the step spends outside every kernel and graph is TF.js's engine (tape, scopes, tensor bookkeeping) and plain
 * JavaScript.
 *
 * Model parts come from the `phase` hook (src/util/phase.ts) in the algorithm; each part's time is its self time too
 * (the backward pass excludes the forward calls checkpointing recomputes inside it), and "other" is the rest of the step.
 */
import * as tf from "@tensorflow/tfjs";
import { withGraphRunHook } from "../tf/ort/traced-run.js";
import { PHASES, type Phase, withPhaseHook } from "../util/phase.js";

/** The kernel-table name of a traced graph's runs (a whole model call in ONNX Runtime, src/tf/ort/traced-run.ts). */
export const graphRow = (label: string): string => `ORT graph: ${label}`;

export interface KernelRow {
  kernel: string;
  calls: number;
  /** Self time, ms. */
  ms: number;
}

export interface PartRow {
  part: Phase | "other";
  /** How many times the step entered this part. */
  calls: number;
  /** Self time, ms (for "other": the step's time outside every part). */
  ms: number;
  /** Kernels dispatched while this part was the innermost one. */
  ops: number;
  /** Of `ms`, time inside kernels. */
  kernel_ms: number;
}

export interface Profile {
  backend: string;
  /** Wall time of the profiled call, ms. */
  step_ms: number;
  /** Kernels dispatched (registered-kernel calls through the engine, nested ones included) and traced graph runs. */
  ops: number;
  /** Sum of the kernels' self times, ms. */
  kernel_ms: number;
  /** Slowest first. */
  kernels: KernelRow[];
  /** In PHASES order, "other" last. */
  parts: PartRow[];
}

interface Open {
  start: number;
  /** Time spent in children (nested kernels or nested parts), ms. */
  child: number;
}

/** Runs `run` as the innermost entry of `stack`, charges its total time to its parent and hands `done` its self time. */
function timed<T, O extends Open>(stack: O[], open: O, run: () => T, done: (self: number) => void): T {
  stack.push(open);
  try {
    return run();
  } finally {
    const total = performance.now() - open.start;
    stack.pop();
    const parent = stack.at(-1);
    if (parent) parent.child += total;
    done(total - open.child);
  }
}

/** One profiled call's tallies. */
class Recorder {
  readonly kernels = new Map<string, KernelRow>();
  readonly parts = new Map<Phase | "other", PartRow>();
  ops = 0;
  private readonly kernelStack: Open[] = [];
  private readonly partStack: (Open & { name: Phase })[] = [];

  private part(name: Phase | "other"): PartRow {
    let row = this.parts.get(name);
    if (!row) this.parts.set(name, (row = { part: name, calls: 0, ms: 0, ops: 0, kernel_ms: 0 }));
    return row;
  }

  kernel<T>(name: string, run: () => T): T {
    return timed(this.kernelStack, { start: performance.now(), child: 0 }, run, (self) => {
      const row = this.kernels.get(name) ?? { kernel: name, calls: 0, ms: 0 };
      row.calls++;
      row.ms += self;
      this.kernels.set(name, row);
      const part = this.part(this.partStack.at(-1)?.name ?? "other");
      part.ops++;
      part.kernel_ms += self;
      this.ops++;
    });
  }

  phase<T>(name: Phase, run: () => T): T {
    return timed(this.partStack, { name, start: performance.now(), child: 0 }, run, (self) => {
      const row = this.part(name);
      row.calls++;
      row.ms += self;
    });
  }
}

/** Wraps every kernel registered for `backend` so `rec` sees it; returns the function that unwraps them. */
function wrapKernels(backend: string, rec: Recorder): () => void {
  const configs = tf.getKernelsForBackend(backend);
  const originals = configs.map((c) => c.kernelFunc);
  for (const c of configs) {
    const run = c.kernelFunc;
    c.kernelFunc = (args) => rec.kernel(c.kernelName, () => run(args));
  }
  return () => configs.forEach((c, i) => (c.kernelFunc = originals[i]!));
}

/** Runs `fn` once with its kernels and model parts timed, on the active backend. */
export function profile<T>(fn: () => T): { result: T; profile: Profile } {
  const backend = tf.getBackend();
  const rec = new Recorder();
  const unwrap = wrapKernels(backend, rec);
  let result: T;
  let stepMs: number;
  try {
    const t0 = performance.now();
    result = withPhaseHook(
      (name, run) => rec.phase(name, run),
      () => withGraphRunHook((label, run) => rec.kernel(graphRow(label), run), fn),
    );
    stepMs = performance.now() - t0;
  } finally {
    unwrap();
  }
  const parts = [...rec.parts.values()].filter((p) => p.part !== "other");
  const other = rec.parts.get("other") ?? { part: "other", calls: 0, ms: 0, ops: 0, kernel_ms: 0 };
  other.calls = 1;
  other.ms = stepMs - parts.reduce((s, p) => s + p.ms, 0);
  const kernels = [...rec.kernels.values()].sort((a, b) => b.ms - a.ms);
  return {
    result,
    profile: {
      backend,
      step_ms: stepMs,
      ops: rec.ops,
      kernel_ms: kernels.reduce((s, k) => s + k.ms, 0),
      kernels,
      parts: [...PHASES.flatMap((name) => parts.filter((p) => p.part === name)), other],
    },
  };
}
