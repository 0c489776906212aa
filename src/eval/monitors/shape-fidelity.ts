/**
 * `shape-fidelity`, for the shapes world (models/tiny-shapes): does each sample show what its prompt names? Judged by
 * the world's held-out classifiers (`classifyColour`, `classifyShape`: no learned weights, so independent of every
 * model in the run). `fidelity_colour` is the share of samples whose prompt names a colour that show it,
 * `fidelity_shape` likewise for shapes, and `fidelity` the share showing everything their prompt names.
 */
import { classifyColour, classifyShape } from "../../data/shapes-world.js";
import { imagePixels, type Monitor } from "./monitor.js";

export const shapeFidelityMonitor: Monitor = {
  name: "shape-fidelity",
  measure: (s) => {
    if (s.height !== s.width) return {};
    const tally = { colour: [0, 0], shape: [0, 0], all: [0, 0] };
    s.metadata.forEach((m, i) => {
      const pixels = imagePixels(s, i);
      const checks: boolean[] = [];
      if (typeof m.colour === "string") checks.push(count(tally.colour, classifyColour(pixels, s.height).colour === m.colour));
      if (typeof m.shape === "string") checks.push(count(tally.shape, classifyShape(pixels, s.height) === m.shape));
      if (checks.length) count(tally.all, checks.every(Boolean));
    });
    const share = ([right, total]: number[]) => right! / total!;
    return {
      ...(tally.all[1] ? { fidelity: share(tally.all) } : {}),
      ...(tally.colour[1] ? { fidelity_colour: share(tally.colour) } : {}),
      ...(tally.shape[1] ? { fidelity_shape: share(tally.shape) } : {}),
    };
  },
};

function count(tally: number[], right: boolean): boolean {
  tally[0]! += right ? 1 : 0;
  tally[1]! += 1;
  return right;
}
