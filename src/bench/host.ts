/** What a bench report says of the machine it ran on, the same fields in every report. */
import { cpus, loadavg } from "node:os";

/** The 1, 5 and 15 minute load averages, to two decimals. */
export const loadAverage = (): number[] => loadavg().map((v) => Number(v.toFixed(2)));

/** Node's version, the CPU's model string (as the OS reports it) and the number of cores. */
export function machine() {
  const cores = cpus();
  return { node: process.version, cpu: cores[0]?.model ?? "unknown", cpus: cores.length };
}
