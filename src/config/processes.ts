import type { z } from "zod";

import type { RunConfig } from "./schema.js";

/**
 * The shape of a data-parallel job (num_processes and accelerate's multi-node fields). Only the torch engine runs
 * several processes (accelerate launch); the TF.js trainer is one process, so it refuses more than one.
 */
export function checkProcesses(config: RunConfig, ctx: z.RefinementCtx<RunConfig>): void {
  const issue = (field: keyof RunConfig, message: string) => ctx.addIssue({ code: "custom", path: [field], message });
  const { num_processes: processes, num_machines: machines, machine_rank: rank } = config;
  if (config.engine !== "torch") {
    for (const field of ["num_processes", "num_machines"] as const) {
      if (config[field] > 1) issue(field, `${config[field]}: only the torch engine trains on several processes (accelerate launch); use --engine torch or 1`);
    }
    return;
  }
  if (Number.isInteger(processes) && Number.isInteger(machines) && processes < machines) {
    issue("num_processes", `${processes} is fewer than num_machines=${machines}; num_processes counts the processes of all machines together`);
  }
  if (Number.isInteger(processes) && Number.isInteger(machines) && processes % machines !== 0) {
    issue("num_processes", `${processes} does not split evenly over num_machines=${machines}; use a multiple of ${machines}`);
  }
  if (Number.isInteger(rank) && Number.isInteger(machines) && rank >= machines) {
    issue("machine_rank", `${rank} is not below num_machines=${machines}; use an integer in [0, ${machines - 1}]`);
  }
  if (machines > 1 && !config.main_process_ip) {
    issue("main_process_ip", `"" with num_machines=${machines}: every machine needs machine 0's address to join it`);
  }
}
