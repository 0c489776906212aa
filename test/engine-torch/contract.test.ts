/**
 * The wire contract (test/helpers/contract.ts) on the real PyTorch trainer, AlignProp on tiny-shapes: the bodies that
 * fit a trainer whose steps take about a second on the CPU (the 60-step ones run on the Python demo in
 * test/bridge-python/, which shares this trainer's wire).
 */
import { after, test } from "node:test";
import { sigkillEndsTheStreamWithAProcessError } from "../helpers/contract.js";
import { tempRuns } from "../helpers/runs.js";
import { torchEngine } from "../bridge-python/python-engine.js";

const runs = tempRuns();
after(() => runs.cleanup());

test("torch engine: SIGKILL ends the stream with a process error naming the signal", () => sigkillEndsTheStreamWithAProcessError(torchEngine(runs)));
