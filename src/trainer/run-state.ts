/**
 * The run's lifecycle: STARTING → RUNNING ⇄ PAUSED → STOPPING → DONE | FAILED (FAILED from anywhere; STARTING →
 * STOPPING when stopped before the first step). STARTING is loading: the trainer is in it from the moment its sockets
 * are bound until the job is ready. An impossible transition is a bug in the trainer, so it throws.
 */
import { RunState } from "../gen/alignprop/v1/alignprop_pb.js";

const NEXT: Record<RunState, readonly RunState[]> = {
  [RunState.UNSPECIFIED]: [RunState.STARTING],
  [RunState.STARTING]: [RunState.RUNNING, RunState.STOPPING, RunState.FAILED],
  [RunState.RUNNING]: [RunState.PAUSED, RunState.STOPPING, RunState.FAILED],
  [RunState.PAUSED]: [RunState.RUNNING, RunState.STOPPING, RunState.FAILED],
  [RunState.STOPPING]: [RunState.DONE, RunState.FAILED],
  [RunState.DONE]: [],
  [RunState.FAILED]: [],
};

export const stateName = (s: RunState): string => RunState[s].toLowerCase();

export class RunStateMachine {
  private current: RunState = RunState.STARTING;

  get state(): RunState {
    return this.current;
  }

  to(next: RunState): void {
    if (!NEXT[this.current].includes(next)) {
      throw new Error(`run state cannot go from ${stateName(this.current)} to ${stateName(next)}`);
    }
    this.current = next;
  }
}

/** A one-shot wake-up: `wait()` resolves at the next `notify()`. Costs nothing while waiting. */
export class Signal {
  private waiters: Array<() => void> = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
