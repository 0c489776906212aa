/** The monitors by name (`eval_monitors`); each loads what it needs once, when the run starts. */
import type { MonitorName } from "../monitor-names.js";
import { clipFidelityMonitor } from "./clip-fidelity.js";
import { diversityMonitor } from "./diversity.js";
import { driftMonitor } from "./drift.js";
import type { Monitor } from "./monitor.js";
import { rewardMonitor } from "./reward.js";
import { shapeFidelityMonitor } from "./shape-fidelity.js";

const MONITORS: Readonly<Record<MonitorName, () => Monitor | Promise<Monitor>>> = {
  reward: () => rewardMonitor,
  "shape-fidelity": () => shapeFidelityMonitor,
  "clip-fidelity": clipFidelityMonitor,
  diversity: () => diversityMonitor,
  drift: () => driftMonitor,
};

export async function loadMonitors(names: readonly MonitorName[]): Promise<Monitor[]> {
  return Promise.all(names.map((name) => MONITORS[name]()));
}
