/** `reward`: the run's training reward, averaged over the eval samples. */
import { mean, type Monitor } from "./monitor.js";

export const rewardMonitor: Monitor = {
  name: "reward",
  measure: (s) => (s.rewards.length ? { reward: mean(s.rewards) } : {}),
};
