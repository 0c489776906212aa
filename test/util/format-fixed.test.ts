/** formatFixed equals Python's f"{x:.Nf}" (the project's Python, run once over every case) on ties and around them. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";

import { projectPython } from "../../src/python/env.js";
import { formatFixed } from "../../src/util/format-fixed.js";

const ties = [0.125, 0.375, 0.625, 0.875, 1.125, 2.5, 0.5, 1.5, -0.125, -0.375, -2.5, 1023.875, -0.0];
const near = [2.675, 1.005, 0.1 + 0.2, 1e-9, -1e-9, 0.995, 12345.678, -7.25, 0, 3, -1e6 / 3];
const cases: Array<[number, number]> = [...ties, ...near].flatMap((x) => [0, 1, 2, 3].map((d): [number, number] => [x, d]));

test("formatFixed is Python's fixed-point format, ties to even included", () => {
  // Each number as its shortest round-trip text, which Python's float() reads back to the same double.
  const script = "import json, sys\nfor x, d in json.load(sys.stdin): print(f'{float(x):.{d}f}')";
  const input = JSON.stringify(cases.map(([x, d]) => [Object.is(x, -0) ? "-0.0" : String(x), d]));
  const expected = execFileSync(projectPython(), ["-c", script], { input, encoding: "utf8" }).trim().split("\n");
  assert.deepEqual(
    cases.map(([x, d]) => formatFixed(x, d)),
    expected,
  );
  assert.equal(formatFixed(0.125, 2), "0.12", "Python rounds the tie to even; toFixed would say 0.13");
  assert.equal(formatFixed(Number.NaN, 2), "nan");
});
