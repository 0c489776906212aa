import "../helpers/at-a-terminal.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { render } from "ink-testing-library";
import { ProgressSchema, RunState, type Event } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { Header } from "../../ui/Header.js";
import { progressBar, progressEtaSeconds, progressText } from "../../ui/progress.js";
import { initialRunView, reduceRunView } from "../../ui/run-view.js";
import { progress, status } from "./events.js";

const MiB = 1024 * 1024;
const download = create(ProgressSchema, {
  phase: "download", item: "unet/diffusion_pytorch_model.safetensors", done: 12 * MiB, total: 40 * MiB, unit: "bytes",
  rate: 2 * MiB, itemsDone: 1, itemsTotal: 5,
});
const viewOf = (...events: Event[]) => events.reduce(reduceRunView, initialRunView);

test("a download reads as amounts, files, rate and the ETA at that rate", () => {
  assert.equal(progressEtaSeconds(download), 14);
  assert.equal(progressText(download), "download unet/diffusion_pytorch_model.safetensors: 12.0 MiB / 40.0 MiB (1/5 files), 2.0 MiB/s, ETA 14s");
});

test("loading reads as components done, with no rate", () => {
  const load = create(ProgressSchema, { phase: "load", item: "vae", done: 1, total: 4, unit: "components", rate: 3, itemsDone: 1, itemsTotal: 4 });
  assert.equal(progressText(load), "load vae: 1/4 components");
  assert.equal(progressEtaSeconds(create(ProgressSchema, { ...download, rate: 0 })), undefined, "no ETA before a rate is measured");
});

test("the progress bar fills in proportion, and is empty while the total is unknown", () => {
  assert.equal(progressBar(download, 10), "[███░░░░░░░]");
  assert.equal(progressBar(create(ProgressSchema, { ...download, done: 40 * MiB }), 4), "[████]");
  assert.equal(progressBar(create(ProgressSchema, { ...download, total: 0 }), 4), "[░░░░]");
});

test("the header shows the progress bar and ETA while the run is STARTING, and not once it runs", () => {
  const loading = viewOf(status({ state: RunState.STARTING, total: 10, message: "loading org/model" }), progress(download));
  const frame = render(<Header view={loading} width={160} />);
  assert.match(frame.lastFrame() ?? "", / STARTING /);
  assert.match(frame.lastFrame() ?? "", /\[█+░+\] download unet\/diffusion_pytorch_model\.safetensors: 12\.0 MiB \/ 40\.0 MiB \(1\/5 files\), 2\.0 MiB\/s, ETA 14s/);
  frame.unmount();
  const running = render(<Header view={reduceRunView(loading, status({ state: RunState.RUNNING, total: 10 }))} width={160} />);
  assert.doesNotMatch(running.lastFrame() ?? "", /ETA 14s|█/);
  running.unmount();
});
