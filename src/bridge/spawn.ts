/**
 * Starts the trainer as a child process (execa) on private ipc:// endpoints, waits for its ready line, and hands back
 * a connected `TrainerClient` whose event stream reports the process's death. The trainer's stderr is kept (the
 * last lines go into the error event) and passed to `onStderr`. The private endpoint folder is removed on every exit
 * path: when the trainer exits, or when this process does.
 */
import { execa, type ResultPromise } from "execa";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TrainerClient, type ProcessExit } from "./client.js";
import type { KeyPair } from "./curve.js";
import { privateIpcEndpoints, type Endpoints } from "./endpoints.js";
import { runFiles } from "../run/layout.js";

/** What the trainer prints on stdout, one JSON line, once its sockets are bound. */
export interface ReadyLine {
  alignprop: "ready";
  runId: string;
  runDir: string;
  control: string;
  events: string;
  observe: string;
  pid: number;
}

export interface SpawnOptions {
  /** Path of the run config JSON the trainer reads (already validated by the CLI). */
  configPath: string;
  /** Endpoints to bind; private ipc:// endpoints when absent. */
  endpoints?: Endpoints;
  /** A checkpoint directory to continue from. */
  resume?: string;
  /** Config warnings (fields the engine cannot honour) the trainer publishes as log events when it starts. */
  warnings?: readonly string[];
  /** CURVE for the trainer: its key directory (from `alignprop keygen`) and allow-list paths. */
  curve?: { serverKeyDir: string; allow: string[]; allowObservers: string[] };
  onStderr?: (line: string) => void;
  env?: Record<string, string>;
  agent?: string;
  /** How this process's own client authenticates when the trainer uses CURVE. */
  clientCurve?: { serverPublicKey: string; keys: KeyPair };
  /**
   * The trainer program and its leading arguments, e.g. a Python interpreter with `-m <module>` (the PyTorch engine);
   * the arguments above follow. The TF.js trainer under this Node by default.
   */
  command?: readonly [string, ...string[]];
}

export interface SpawnedTrainer {
  ready: ReadyLine;
  client: TrainerClient;
  process: ResultPromise;
  exit: Promise<ProcessExit>;
}

const TRAINER_MAIN = fileURLToPath(new URL("../trainer/main.js", import.meta.url));
const STDERR_TAIL_LINES = 40;

export async function spawnTrainer(opts: SpawnOptions): Promise<SpawnedTrainer> {
  const ipc = opts.endpoints ? undefined : await privateIpcEndpoints();
  const endpoints = opts.endpoints ?? ipc!;
  const args = ["--config", opts.configPath, "--control", endpoints.control, "--events", endpoints.events, "--observe", endpoints.observe];
  if (opts.resume) args.push("--resume", opts.resume);
  for (const warning of opts.warnings ?? []) args.push("--warning", warning);
  if (opts.curve) {
    args.push("--server-key", opts.curve.serverKeyDir);
    for (const a of opts.curve.allow) args.push("--allow", a);
    for (const a of opts.curve.allowObservers) args.push("--allow-observer", a);
  }
  const [program, ...leading] = opts.command ?? [process.execPath, TRAINER_MAIN];
  const child = execa(program, [...leading, ...args], {
    reject: false,
    buffer: false,
    stdin: "ignore",
    env: opts.env,
    // The trainer handles SIGINT/SIGTERM itself (finish the step, save, exit 0), however long its step takes: execa
    // would otherwise follow a kill() with SIGKILL after 5 s. The hard kill is a second signal (train.ts).
    cleanup: true,
    forceKillAfterDelay: false,
  });
  const tail: string[] = [];
  child.stderr?.setEncoding("utf8");
  let partial = "";
  child.stderr?.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      opts.onStderr?.(line);
    }
  });
  // The private socket folder goes when the trainer exits, or with this process if it exits first (a second Ctrl+C).
  const removeIpcDir = () => ipc && rmSync(ipc.dir, { recursive: true, force: true });
  process.once("exit", removeIpcDir);
  const exit: Promise<ProcessExit> = child.then((r) => {
    if (partial) tail.push(partial);
    removeIpcDir();
    process.off("exit", removeIpcDir);
    return { exitCode: r.exitCode, signal: r.signal, stderrTail: tail.join("\n") };
  });
  const ready = await readyLine(child, exit);
  let client: TrainerClient;
  try {
    client = await TrainerClient.connect(ready.control, { processExit: exit, agent: opts.agent, curve: opts.clientCurve });
  } catch (err) {
    // A run that fails within milliseconds can exit before the client finishes its handshake: say how it ended.
    const ended = await Promise.race([exit, Promise.resolve(undefined)]);
    if (!ended) throw err;
    const how = ended.signal ? `was killed by ${ended.signal}` : `exited with code ${ended.exitCode}`;
    throw new Error(`trainer ${how} before a client could attach (events are in ${runFiles(ready.runDir).events}):\n${ended.stderrTail}`);
  }
  return { ready, client, process: child, exit };
}

/** Resolves with the ready line, or rejects with the trainer's stderr if it exits first. */
function readyLine(child: ResultPromise, exit: Promise<ProcessExit>): Promise<ReadyLine> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      const lines = (buffered + chunk).split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith('{"alignprop":"ready"')) resolve(JSON.parse(line) as ReadyLine);
    });
    void exit.then((e) => {
      const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.exitCode}`;
      reject(new Error(`trainer ${how} before it was ready:\n${e.stderrTail}`));
    });
  });
}
