/**
 * ONNX Runtime sessions for one-operator graphs, cached per key (op, shapes, attributes) in a bounded LRU: creating
 * a session costs milliseconds, running a cached one microseconds. Evicted sessions are disposed.
 */
import { availableParallelism } from "node:os";
import { OrtSession, type OrtSessionOptions } from "./binding.js";
import { encodeModel, type OnnxGraph } from "./onnx-model.js";
import { envSwitch } from "../../util/env-switch.js";

/** Threads each session's intra-op pool uses: `ALIGNPROP_ORT_THREADS`, else every core. */
export function ortThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ALIGNPROP_ORT_THREADS;
  if (raw === undefined || raw === "") return availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`ALIGNPROP_ORT_THREADS=${JSON.stringify(raw)} must be a positive integer (threads per ORT session)`);
  }
  return n;
}

/**
 * Whether the intra-op pool's threads spin while a run waits for its next node: `ALIGNPROP_ORT_SPIN`, "1" (the
 * default) or "0". Spinning saves waking a thread for each of a graph's thousands of nodes (the tiny-UNet step at
 * two threads 182–188 → 154–167 ms, the AlignProp quickstart step 0.55–0.57 → 0.47–0.48 s), and ORT stops it when a
 * run ends, so the wasm backend has the cores between runs. On cores another busy process shares it costs time
 * instead (two UNet steps at once, two threads each: 318–323 → 440–450 ms): set "0" there, or fewer threads.
 */
export const ortSpinning = (env: NodeJS.ProcessEnv = process.env): boolean =>
  envSwitch(env, "ALIGNPROP_ORT_SPIN", { off: "pool threads sleep", on: "they spin during a run" });

export const DEFAULT_SESSION_CACHE_SIZE = 256;

export class SessionCache {
  private readonly sessions = new Map<string, OrtSession>();
  readonly options: OrtSessionOptions;

  constructor(
    readonly capacity = DEFAULT_SESSION_CACHE_SIZE,
    readonly threads = ortThreads(),
    readonly spinning = ortSpinning(),
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`SessionCache capacity=${capacity} must be a positive integer`);
    }
    this.options = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      // Without the arena, graph intermediates (NCHW transposes, im2col patches) are freed after each run instead
      // of held per session: −320 MB peak RSS on the tiny-UNet step at about the same speed.
      enableCpuMemArena: false,
      enableMemPattern: false,
      // Pool threads spin only inside a run (`force_spinning_stop`): between ORT calls the wasm backend has the cores.
      extra: { session: { intra_op: { allow_spinning: spinning ? "1" : "0" }, force_spinning_stop: "1" } },
    };
  }

  /** The session for `key`, building its graph only on a miss. */
  get(key: string, graph: () => OnnxGraph): OrtSession {
    const hit = this.sessions.get(key);
    if (hit) {
      this.sessions.delete(key);
      this.sessions.set(key, hit);
      return hit;
    }
    const session = new OrtSession(encodeModel(graph()), this.options);
    this.sessions.set(key, session);
    if (this.sessions.size > this.capacity) {
      const [oldestKey, oldest] = this.sessions.entries().next().value as [string, OrtSession];
      this.sessions.delete(oldestKey);
      oldest.dispose();
    }
    return session;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Cached keys, least recently used first. */
  keys(): string[] {
    return [...this.sessions.keys()];
  }

  clear(): void {
    for (const session of this.sessions.values()) session.dispose();
    this.sessions.clear();
  }
}
