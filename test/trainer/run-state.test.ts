import assert from "node:assert/strict";
import { test } from "node:test";
import { RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { RunStateMachine, Signal, stateName } from "../../src/trainer/run-state.js";

const { STARTING, RUNNING, PAUSED, STOPPING, DONE, FAILED, UNSPECIFIED } = RunState;

/** A path from STARTING that reaches each state. */
const PATH_TO: Record<RunState, RunState[]> = {
  [UNSPECIFIED]: [],
  [STARTING]: [],
  [RUNNING]: [RUNNING],
  [PAUSED]: [RUNNING, PAUSED],
  [STOPPING]: [STOPPING],
  [DONE]: [STOPPING, DONE],
  [FAILED]: [FAILED],
};

function machineIn(state: RunState): RunStateMachine {
  const machine = new RunStateMachine();
  for (const next of PATH_TO[state]) machine.to(next);
  assert.equal(machine.state, state);
  return machine;
}

const ALLOWED: Array<[RunState, RunState]> = [
  [STARTING, RUNNING],
  [STARTING, STOPPING],
  [STARTING, FAILED],
  [RUNNING, PAUSED],
  [RUNNING, STOPPING],
  [RUNNING, FAILED],
  [PAUSED, RUNNING],
  [PAUSED, STOPPING],
  [PAUSED, FAILED],
  [STOPPING, DONE],
  [STOPPING, FAILED],
];

const REACHABLE = [STARTING, RUNNING, PAUSED, STOPPING, DONE, FAILED];

test("a new run starts in STARTING, the loading state the trainer reports from the moment its sockets are bound", () => {
  assert.equal(new RunStateMachine().state, STARTING);
});

test("every allowed transition moves the machine to the new state", () => {
  for (const [from, to] of ALLOWED) {
    const machine = machineIn(from);
    machine.to(to);
    assert.equal(machine.state, to, `${stateName(from)} → ${stateName(to)}`);
  }
});

test("a run can pause and resume any number of times", () => {
  const machine = machineIn(RUNNING);
  for (let i = 0; i < 5; i++) {
    machine.to(PAUSED);
    machine.to(RUNNING);
  }
  assert.equal(machine.state, RUNNING);
});

test("every other transition throws naming both states and leaves the state unchanged", () => {
  const allowed = new Set(ALLOWED.map(([a, b]) => `${a}>${b}`));
  let refused = 0;
  for (const from of REACHABLE) {
    for (const to of [...REACHABLE, UNSPECIFIED]) {
      if (allowed.has(`${from}>${to}`)) continue;
      const machine = machineIn(from);
      assert.throws(() => machine.to(to), { message: `run state cannot go from ${stateName(from)} to ${stateName(to)}` });
      assert.equal(machine.state, from);
      refused++;
    }
  }
  assert.equal(refused, REACHABLE.length * 7 - ALLOWED.length);
});

test("DONE and FAILED are final", () => {
  for (const end of [DONE, FAILED]) {
    for (const to of REACHABLE) assert.throws(() => machineIn(end).to(to), new RegExp(`from ${stateName(end)} to ${stateName(to)}$`));
  }
});

test("stateName is the lower-case enum name", () => {
  assert.deepEqual(REACHABLE.map(stateName), ["starting", "running", "paused", "stopping", "done", "failed"]);
});

test("Signal.notify() wakes every waiter", async () => {
  const signal = new Signal();
  const woken: number[] = [];
  const waits = [1, 2, 3].map((i) => signal.wait().then(() => woken.push(i)));
  signal.notify();
  await Promise.all(waits);
  assert.deepEqual(woken.sort(), [1, 2, 3]);
});

test("Signal wakes only those already waiting: a wait after notify() needs the next notify()", async () => {
  const signal = new Signal();
  signal.notify();
  let woken = false;
  const late = signal.wait().then(() => (woken = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(woken, false, "an earlier notify() is not remembered");
  signal.notify();
  await late;
  assert.equal(woken, true);
});
