/**
 * An in-memory RunController for dashboard tests: tests push events into its stream, end or break the stream, and
 * read which commands the UI sent. The real controller (TrainerClient) is tested with the bridge.
 */
import { create } from "@bufbuild/protobuf";
import type { RunController } from "../../src/bridge/run-controller.js";
import {
  CommandResultSchema,
  RunState,
  type CommandResult,
  type Event,
} from "../../src/gen/alignprop/v1/alignprop_pb.js";

export type CommandName = "pause" | "resume" | "stop" | "checkpointNow" | "close";

export class FakeController implements RunController {
  readonly calls: CommandName[] = [];
  private readonly buffer: Event[] = [];
  private finished = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  /** What each command answers; tests may replace entries. */
  readonly answers: Record<Exclude<CommandName, "close">, () => Promise<CommandResult>> = {
    pause: async () => ok("paused", RunState.PAUSED),
    resume: async () => ok("resumed", RunState.RUNNING),
    stop: async () => ok("stopping", RunState.STOPPING),
    checkpointNow: async () => ok("checkpoint queued", RunState.RUNNING),
  };

  async *events(): AsyncIterable<Event> {
    for (;;) {
      const next = this.buffer.shift();
      if (next) {
        yield next;
      } else if (this.failure) {
        throw this.failure;
      } else if (this.finished) {
        return;
      } else {
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    }
  }

  push(...events: Event[]): void {
    this.buffer.push(...events);
    this.notify();
  }

  /** Ends the stream after the events already pushed. */
  end(): void {
    this.finished = true;
    this.notify();
  }

  /** Makes the stream throw after the events already pushed. */
  breakWith(error: Error): void {
    this.failure = error;
    this.notify();
  }

  pause(): Promise<CommandResult> {
    return this.command("pause");
  }
  resume(): Promise<CommandResult> {
    return this.command("resume");
  }
  stop(): Promise<CommandResult> {
    return this.command("stop");
  }
  checkpointNow(): Promise<CommandResult> {
    return this.command("checkpointNow");
  }
  async close(): Promise<void> {
    this.calls.push("close");
    this.end();
  }

  private command(name: Exclude<CommandName, "close">): Promise<CommandResult> {
    this.calls.push(name);
    return this.answers[name]();
  }

  private notify(): void {
    this.wake?.();
    this.wake = undefined;
  }
}

export function ok(message: string, state: RunState): CommandResult {
  return create(CommandResultSchema, { ok: true, message, state });
}
