/**
 * `shape-fidelity`, for the shapes world (models/tiny-shapes): does each sample show what its prompt names? Judged by
 * the world's held-out classifiers (`classifyColour`, `classifyShape`: no learned weights, so independent of every
 * model in the run). `fidelity_colour` is the share of samples whose prompt names a colour that show it,
 * `fidelity_shape` likewise for shapes. `fidelity` is the colour share: the colour classifier judges the pipeline's
 * soft 32-pixel samples reliably, while the shape classifier, exact on rendered scenes, reads many of the base
 * pipeline's blobby shapes as another (a third of them), so the shape share is reported beside it, not inside it.
 */
import { classifyColour, classifyShape } from "../../data/shapes-world.js";
import { imagePixels, type Monitor } from "./monitor.js";

export const shapeFidelityMonitor: Monitor = {
  name: "shape-fidelity",
  measure: (s) => {
    if (s.height !== s.width) return {};
    const colour = [0, 0];
    const shape = [0, 0];
    s.metadata.forEach((m, i) => {
      const pixels = imagePixels(s, i);
      if (typeof m.colour === "string") count(colour, classifyColour(pixels, s.height).colour === m.colour);
      if (typeof m.shape === "string") count(shape, classifyShape(pixels, s.height) === m.shape);
    });
    const share = ([right, total]: number[]) => right! / total!;
    return {
      ...(colour[1] ? { fidelity: share(colour), fidelity_colour: share(colour) } : {}),
      ...(shape[1] ? { fidelity_shape: share(shape) } : {}),
    };
  },
};

function count(tally: number[], right: boolean): void {
  tally[0]! += right ? 1 : 0;
  tally[1]! += 1;
}
