/**
 * `engine.gradients(f, xs, dy, true)` that frees memory as the backward pass goes. TF.js's own pass keeps every
 * intermediate gradient and every saved forward tensor until the whole pass ends, so its peak is the forward's saved
 * activations plus a gradient for each of them (1.34 GB for the bench's tiny-UNet step, of which the forward's tape is
 * 0.61 GB). Here, once a tape node's gradient has been pulled through it, the node's saved tensors and its outputs'
 * gradients are disposed (each tensor is one node's output, so nothing later reads them): the peak is about the
 * forward's tape. Same kernels, same order, same values as TF.js's pass.
 *
 * Only a first-order pass (no tape recording around it) walks the tape itself; a higher-order one is TF.js's own. A
 * pass may run inside another's backward (a checkpointed call's gradient re-running its forward): the outer tape is
 * left as it was.
 */
import * as tf from "@tensorflow/tfjs";

/** The parts of TF.js's tape node this walk reads (tfjs-core tape.ts `TapeNode`). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: tf.NamedTensorMap;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

/** The engine's tape state and the scoped-run methods `engine.gradients` uses (not in TF.js's public types). */
interface TapeEngine {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
}

export interface Gradients {
  value: tf.Tensor;
  /** d(value · dy)/d xs[i]; undefined for an x the value does not depend on. */
  grads: (tf.Tensor | undefined)[];
}

/**
 * The nodes on a path from some x to y, each with its inputs pruned to those that depend on an x (tfjs-core's
 * `getFilteredNodesXToY`, the rule TF.js applies).
 */
function nodesFromXsToY(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      node.outputs.forEach((o) => fromX.add(o.id));
      nodesFromX.add(node.id);
    }
  }
  const toY = new Set([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => toY.has(o.id))) {
      Object.values(node.inputs).forEach((t) => toY.add(t.id));
      nodesToY.add(node.id);
    }
  }
  return tape
    .filter((node) => nodesFromX.has(node.id) && nodesToY.has(node.id))
    .map((node) => ({ ...node, inputs: Object.fromEntries(Object.entries(node.inputs).filter(([, t]) => fromX.has(t.id))) }));
}

/** f's value and d(value · dy)/d xs (dy defaults to ones), freeing each node's tensors once it is passed. */
export function gradients(f: () => tf.Tensor, xs: readonly tf.Tensor[], dy?: tf.Tensor): Gradients {
  const engine = tf.engine();
  const internals = engine as unknown as TapeEngine;
  if (internals.state.gradientDepth > 0) {
    const { value, grads } = engine.gradients(f, [...xs], dy, true);
    return { value, grads: grads.map((g) => g ?? undefined) };
  }
  if (xs.length === 0) throw new Error("gradients: xs is empty; name at least one tensor to differentiate for");
  if (dy && dy.dtype !== "float32") throw new Error(`gradients: dy must be float32, got ${dy.dtype}`);
  // Called from inside another pass's backward (a checkpointed call's gradient), the outer tape is put back after.
  const outer = internals.state.activeTape;
  let y: tf.Tensor;
  let tape: TapeNode[];
  try {
    y = internals.scopedRun(() => internals.startTape(), () => internals.endTape(), () => engine.tidy("forward", f));
  } finally {
    tape = internals.state.activeTape ?? [];
    internals.state.activeTape = outer;
  }
  if (!(y instanceof tf.Tensor)) throw new Error("gradients: f() must return a tensor");
  try {
    return engine.tidy("backward", () => {
      const accumulated = new Map<number, tf.Tensor>([[y.id, dy ?? tf.onesLike(y)]]);
      const wanted = new Set(xs.map((x) => x.id));
      // A gradient function may hand a tensor on as it is: one the caller owns (dy) or one still held is kept.
      const release = (t: tf.Tensor) => {
        if (t !== dy && ![...accumulated.values()].includes(t)) t.dispose();
      };
      const nodes = nodesFromXsToY(tape, xs, y);
      for (let i = nodes.length - 1; i >= 0; i--) {
        const node = nodes[i]!;
        if (!node.gradient) throw new Error(`gradients: ${node.kernelName} has no gradient function`);
        const inputGradients = node.gradient(node.outputs.map((o) => accumulated.get(o.id) ?? null));
        for (const [inputName, x] of Object.entries(node.inputs)) {
          const gradient = inputGradients[inputName];
          if (!gradient) throw new Error(`gradients: ${node.kernelName} gives no gradient for its input ${inputName}`);
          const dx = engine.tidy(gradient);
          if (dx.dtype !== "float32" || !tf.util.arraysEqual(dx.shape, x.shape)) {
            throw new Error(`gradients: ${node.kernelName}'s gradient for ${inputName} is ${dx.dtype}[${dx.shape}], input is [${x.shape}]`);
          }
          const current = accumulated.get(x.id);
          accumulated.set(x.id, current ? tf.add(current, dx) : dx);
          if (current) [current, dx].forEach(release);
        }
        // Nothing later reads this node's saved tensors or its outputs' gradients.
        node.saved?.forEach((t) => t.dispose());
        for (const o of node.outputs) {
          const g = accumulated.get(o.id);
          if (!g || wanted.has(o.id)) continue;
          accumulated.delete(o.id);
          release(g);
        }
      }
      return { value: y, grads: xs.map((x) => accumulated.get(x.id)) };
    });
  } finally {
    for (const node of tape) node.saved?.forEach((t) => t.dispose());
  }
}
