/**
 * End to end: a real short training run writes report.html when it ends, and headless Chromium (Debian's
 * `chromium`) renders it — the screenshot has the chart colours and every logged image's pixels, the DOM has both
 * charts with a drawn path, one data-URI image per logged image and its `prompt | reward` caption.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, test } from "node:test";
import { PNG } from "pngjs";
import { chromium, haveChromium, PROBE } from "../helpers/chromium.js";
import { alignprop } from "../helpers/cli.js";
import { TINY_RUN_FLAGS } from "../helpers/tiny-model.js";

const work = mkdtempSync(join(tmpdir(), "alignprop-report-e2e-"));
after(() => rmSync(work, { recursive: true, force: true }));
const browse = (args: string[]) => chromium(work, args);

const WINDOW = { width: 1200, height: 2400 };

interface Caption { file: string; prompt: string; reward: number; }
const unescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");

test("a real run's report.html renders in headless Chromium with both charts and every logged image captioned", async (t) => {
  if (!haveChromium(t)) return;
  const runs = join(work, "runs");
  let start = performance.now();
  const train = await alignprop(["train", "--ci", ...TINY_RUN_FLAGS, "--runs_dir", runs, "--num_epochs", "20", "--log_image_freq", "5", "--save_freq", "1000"]);
  const trainSeconds = (performance.now() - start) / 1000;
  assert.equal(train.exitCode, 0, String(train.stderr));
  const runDir = join(runs, readdirSync(runs)[0]!);
  const report = join(runDir, "report.html");
  assert.ok(existsSync(report), `the run wrote ${report} when it ended`);

  const steps = readdirSync(join(runDir, "images")).map((d) => Number(d.slice("step-".length))).sort((a, b) => a - b);
  assert.deepEqual(steps, [5, 10, 15, 20]);
  // The report shows the newest step first.
  const logged = [...steps].reverse().flatMap((step) => {
    const captions = JSON.parse(readFileSync(join(runDir, "images", `step-${step}`, "captions.json"), "utf8")) as Caption[];
    return captions.map((c) => ({ ...c, png: readFileSync(join(runDir, "images", `step-${step}`, c.file)) }));
  });
  assert.equal(logged.length, 8);

  start = performance.now();
  const shotPath = join(work, "report.png");
  await browse([`--screenshot=${shotPath}`, `--window-size=${WINDOW.width},${WINDOW.height}`, pathToFileURL(report).href]);
  const dom = await browse(["--dump-dom", pathToFileURL(report).href]);
  const probePath = join(runDir, "probe.html");
  writeFileSync(probePath, readFileSync(report, "utf8").replace("</body>", `${PROBE}</body>`));
  const probed = await browse(["--dump-dom", pathToFileURL(probePath).href]);
  const chromiumSeconds = (performance.now() - start) / 1000;
  t.diagnostic(`training run ${trainSeconds.toFixed(1)} s, three Chromium loads ${chromiumSeconds.toFixed(1)} s`);

  // The screenshot: mostly white page, but with the charts' line colours and the images' own pixels on it.
  const shot = PNG.sync.read(readFileSync(shotPath));
  assert.deepEqual([shot.width, shot.height], [WINDOW.width, WINDOW.height]);
  const colours = new Map<number, number>();
  let nonWhite = 0;
  for (let i = 0; i < shot.data.length; i += 4) {
    const rgb = (shot.data[i]! << 16) | (shot.data[i + 1]! << 8) | shot.data[i + 2]!;
    colours.set(rgb, (colours.get(rgb) ?? 0) + 1);
    if (rgb !== 0xffffff) nonWhite++;
  }
  const near = (target: number) =>
    [...colours].filter(([c]) => Math.abs((c >> 16) - (target >> 16)) + Math.abs(((c >> 8) & 255) - ((target >> 8) & 255)) + Math.abs((c & 255) - (target & 255)) < 30)
      .reduce((n, [, count]) => n + count, 0);
  t.diagnostic(`screenshot: ${colours.size} distinct colours, ${((100 * nonWhite) / (shot.width * shot.height)).toFixed(1)}% non-white, ${near(0x2563eb)} reward-blue and ${near(0xdc2626)} loss-red pixels`);
  assert.ok(nonWhite > 0.03 * shot.width * shot.height, `only ${nonWhite} non-white pixels: the page rendered blank`);
  assert.ok(colours.size > 300, `only ${colours.size} distinct colours`);
  assert.ok(near(0x2563eb) > 300, "the reward line (#2563eb) is drawn");
  assert.ok(near(0xdc2626) > 300, "the loss line (#dc2626) is drawn");
  for (const image of logged) {
    const png = PNG.sync.read(image.png);
    const own = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4) own.add((png.data[i]! << 16) | (png.data[i + 1]! << 8) | png.data[i + 2]!);
    const shown = [...own].filter((c) => colours.has(c)).length;
    assert.ok(shown >= 0.9 * own.size, `${image.prompt}: only ${shown} of its ${own.size} colours are on screen`);
  }

  // The DOM: two charts with a drawn line over the 20 steps, one data-URI image per logged image, each captioned.
  const charts = [...dom.matchAll(/<svg [^>]*class="chart" data-chart="(\w+)"[\s\S]*?<\/svg>/g)];
  assert.deepEqual(charts.map((c) => c[1]), ["reward", "loss"]);
  for (const [svg] of charts) {
    const d = /<path class="line" d="([^"]+)"/.exec(svg)?.[1];
    assert.equal(d?.match(/[ML]/g)?.length, 20, `one vertex a step in ${d}`);
  }
  const srcs = [...dom.matchAll(/<img [^>]*src="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(srcs, logged.map((i) => `data:image/png;base64,${i.png.toString("base64")}`));
  const captions = [...dom.matchAll(/<figcaption>([^<]*)<\/figcaption>/g)].map((m) => unescape(m[1]!));
  assert.deepEqual(captions, logged.map((i) => `${i.prompt} | ${i.reward.toFixed(3)}`));
  assert.doesNotMatch(dom, /image missing|class="notes"/);

  // What the browser made of them: every image decoded at its size, every line spans most of the plot.
  const natural = [...probed.matchAll(/data-natural="(\d+x\d+)"/g)].map((m) => m[1]);
  assert.deepEqual(natural, logged.map((i) => { const p = PNG.sync.read(i.png); return `${p.width}x${p.height}`; }));
  const widths = [...probed.matchAll(/data-bbox-width="(\d+)"/g)].map((m) => Number(m[1]));
  assert.equal(widths.length, 2);
  for (const w of widths) assert.ok(w > 500, `a chart line only ${w}px wide`);
});
