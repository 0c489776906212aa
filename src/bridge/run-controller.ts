/**
 * What a front end (the Ink dashboard or the headless reporter) needs from a run: one ordered, duplicate-free
 * stream of events (snapshot history first, then live) and acknowledged commands. `TrainerClient` implements it;
 * front ends depend on this interface only, never on sockets or TF.js.
 */
import type { CommandResult, Event } from "../gen/alignprop/v1/alignprop_pb.js";

export interface RunController {
  /**
   * Events in seq order, each once: the trainer's held history, then live events. When the trainer process dies,
   * the stream yields an `error` event with source "process" and its exit code, then ends. It also ends after the
   * run reaches DONE or FAILED, or after `close()`.
   */
  events(): AsyncIterable<Event>;
  /** Each resolves with the trainer's acknowledgement (idempotent: pausing a paused run is ok). */
  pause(): Promise<CommandResult>;
  resume(): Promise<CommandResult>;
  stop(): Promise<CommandResult>;
  checkpointNow(): Promise<CommandResult>;
  /** Detach: stop listening; never stops the trainer. */
  close(): Promise<void>;
}
