/** Headless Chromium (Debian's `chromium`) for the report tests: one run per call with a fresh profile under `work`. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { execa } from "execa";

export const INSTALL = "chromium is not installed; install it with `apt-get update && apt-get install -y chromium` (Debian) — this test renders report.html in headless Chromium (.ci/run installs it)";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--force-color-profile=srgb", "--hide-scrollbars"];

/** False (and the test skipped, saying how to include it) when Chromium is not installed outside CI. */
export function haveChromium(t: TestContext): boolean {
  if (!spawnSync("chromium", ["--version"]).error) return true;
  // CI requires the browser (.ci/run sets ALIGNPROP_REQUIRE_CHROMIUM=1); elsewhere the skip says how to include it.
  assert.notEqual(process.env.ALIGNPROP_REQUIRE_CHROMIUM, "1", INSTALL);
  t.skip(`skipped: ${INSTALL}`);
  return false;
}

let launches = 0;
/** One headless Chromium run with a fresh profile in `work`; resolves with its stdout. */
export async function chromium(work: string, args: string[]): Promise<string> {
  const profile = join(work, `profile-${++launches}`);
  const r = await execa("chromium", [...FLAGS, `--user-data-dir=${profile}`, ...args], { reject: false, timeout: 60_000, stdin: "ignore" });
  assert.equal(r.exitCode, 0, `chromium ${args.join(" ")} failed (${r.exitCode}):\n${String(r.stderr).slice(-2000)}`);
  return String(r.stdout);
}

/** Adds data attributes saying what the browser made of each image and chart path, once the page has loaded. */
export const PROBE = `<script>addEventListener("load", () => {
  for (const img of document.images) img.dataset.natural = img.naturalWidth + "x" + img.naturalHeight;
  for (const p of document.querySelectorAll("svg.chart path.line")) p.dataset.bboxWidth = String(Math.round(p.getBBox().width));
});</script>`;
