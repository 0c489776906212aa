/** `alignprop bench --profile` end to end: the quickstart's step, tables on stdout, the same figures in --out. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { StepProfile } from "../../src/bench/profile-step.js";
import { alignprop } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "alignprop-profile-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("bench --profile prints the quickstart step's parts and kernels and writes them as JSON", async () => {
  const out = join(dir, "profile.json");
  const r = await alignprop(["bench", "--profile", "--out", out]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  const json = JSON.parse(readFileSync(out, "utf8")) as StepProfile & { config: string; host: { cpu: string; cpus: number; load_average: number[] } };
  assert.match(json.config, /configs\/quickstart\.json$/);
  assert.match(json.run, /^AlignProp on tiny-shapes/);
  assert.equal(json.host.load_average.length, 3);
  assert.deepEqual([json.host.cpu, json.host.cpus], [cpus()[0]!.model, cpus().length]);
  const stdout = String(r.stdout);
  assert.ok(stdout.includes(`host: ${json.host.cpu}, ${json.host.cpus} cores, load average`), stdout.slice(0, 300));
  assert.match(stdout, new RegExp(`${json.profile.ops} kernels dispatched`));
  // The quickstart keeps the last 2 of 20 steps: 18 no-grad UNet calls in one part, 2 kept ones (traced graphs: the
  // backward graph recomputes each forward, so no checkpointing pass), plus the KL term's 2 base predictions.
  const parts = Object.fromEntries(json.profile.parts.map((p) => [p.part, p]));
  assert.equal(parts.unet_grad?.calls, 2);
  assert.match(stdout, /^ORT graph: unet forward +22 /m);
  for (const p of json.profile.parts) assert.match(stdout, new RegExp(`^${p.part} +${p.calls} +${p.ms.toFixed(1)} `, "m"));
  for (const k of json.profile.kernels.slice(0, 20)) assert.match(stdout, new RegExp(`^${k.kernel} +${k.calls} +${k.ms.toFixed(1)} `, "m"));
});
