/**
 * num_processes and accelerate's multi-node fields: one process by default; several only on the torch engine; a job
 * shape accelerate could not launch is refused naming the field and the value.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, loadRunConfig } from "../../src/config/index.js";

const load = (overrides: Record<string, string>) => loadRunConfig({ overrides });
const refuses = (overrides: Record<string, string>, message: RegExp) =>
  assert.throws(() => load(overrides), (err: unknown) => err instanceof ConfigError && err.issues.length === 1 && message.test(err.message), JSON.stringify(overrides));

test("one process by default; the torch engine takes several, on one machine or several", () => {
  const one = load({}).config;
  assert.deepEqual([one.num_processes, one.num_machines, one.machine_rank, one.main_process_ip, one.main_process_port], [1, 1, 0, "", 0]);
  assert.equal(load({ engine: "torch", num_processes: "2" }).config.num_processes, 2);
  assert.equal(load({ engine: "torch", algorithm: "ddpo", num_processes: "2" }).config.num_processes, 2);
  const node = load({ engine: "torch", num_processes: "16", num_machines: "2", machine_rank: "1", main_process_ip: "10.0.0.1", main_process_port: "29600" }).config;
  assert.deepEqual([node.num_processes, node.num_machines, node.machine_rank, node.main_process_ip, node.main_process_port], [16, 2, 1, "10.0.0.1", 29600]);
});

test("the TF.js engine refuses more than one process, pointing at --engine torch", () => {
  refuses({ num_processes: "2" }, /^num_processes: 2: only the torch engine trains on several processes .*--engine torch/);
  refuses({ num_machines: "2", num_processes: "1" }, /^num_machines: 2: only the torch engine/);
});

test("a job shape accelerate cannot launch is refused naming the field and the value", () => {
  const torch = { engine: "torch" };
  refuses({ ...torch, num_processes: "0" }, /^num_processes: /);
  refuses({ ...torch, num_processes: "3", num_machines: "2", main_process_ip: "h" }, /^num_processes: 3 does not split evenly over num_machines=2/);
  refuses({ ...torch, num_processes: "4", num_machines: "2", machine_rank: "2", main_process_ip: "h" }, /^machine_rank: 2 is not below num_machines=2/);
  refuses({ ...torch, num_processes: "4", num_machines: "2" }, /^main_process_ip: "" with num_machines=2/);
  refuses({ ...torch, main_process_port: "70000" }, /^main_process_port: /);
});
