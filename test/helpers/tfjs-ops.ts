/** Running code with every model call as TF.js ops (`ALIGNPROP_ORT_GRAPHS=0`), the traced graphs' reference. */

/** f with `ALIGNPROP_ORT_GRAPHS=0`; the variable is restored (or removed) afterwards. */
export function withTfjsOps<T>(f: () => T): T {
  const saved = process.env.ALIGNPROP_ORT_GRAPHS;
  process.env.ALIGNPROP_ORT_GRAPHS = "0";
  try {
    return f();
  } finally {
    if (saved === undefined) delete process.env.ALIGNPROP_ORT_GRAPHS;
    else process.env.ALIGNPROP_ORT_GRAPHS = saved;
  }
}
