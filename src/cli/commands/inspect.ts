/**
 * `alignprop inspect <pipeline dir | component config.json> [--keys]`: what the project builds from a diffusers
 * pipeline's configs — each component's class and parameter count, and with --keys every state-dict key with its
 * PyTorch shape (the `*.keys.txt` format: `key<TAB>d0,d1,…`), to diff against a checkpoint. Models are built
 * shape-only: no weights are read, so SD-sized configs take no memory.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

import { SHAPE_ONLY } from "../../models/nn/module.js";
import { readJsonObject } from "../../io/json-file.js";
import type { Module } from "../../models/nn/module.js";
import { buildModel, modelClassOf } from "../../models/pipeline-components.js";
import { checkModelIndex, CONFIG_FILE, MODEL_INDEX, WEIGHTS_STEM, type ModelComponent } from "../../models/pipeline-layout.js";
import { InputError } from "../../util/input-error.js";
import { flag, parseCommand } from "../args.js";
import { EXIT, type CliCommand } from "../command.js";

const Options = z.object({ keys: flag(), help: flag() });

const USAGE = `alignprop inspect <pipeline dir | component config.json> [--keys]

  Prints each component's class and parameter count, built from the configs alone (no weights are read).
  <pipeline dir>         a diffusers folder with model_index.json
  <config.json>          one model's config: UNet2DConditionModel, AutoencoderKL, CLIPTextModel, or the rewards'
                         CLIPVisionModelWithProjection and CLIPModel
  --keys                 also every state-dict key and its PyTorch shape, one "key<TAB>d0,d1,…" line each`;

/** One printed component: a module (with its parameters) or a non-module component (class only). */
interface Row {
  name: string;
  cls: string;
  model?: Module;
  note?: string;
}

export const inspect: CliCommand = {
  name: "inspect",
  summary: "show a pipeline's components, parameter counts and state-dict keys",
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommand(argv, { name: "inspect", options: Options, booleans: ["keys"], usage: USAGE, positionals: { count: 1, what: "folder or config.json" } });
    if (!parsed) return EXIT.ok;
    const { options, positionals } = parsed;
    const target = positionals[0]!;
    const info = await stat(target).catch(() => undefined);
    if (!info) throw new InputError(`${target} does not exist; inspect takes a pipeline folder or a model's config.json`);
    const rows = info.isDirectory() ? await pipelineRows(target) : [await componentRow(target, "")];
    process.stdout.write(render(rows, options.keys));
    return EXIT.ok;
  },
};

async function componentRow(path: string, name: string): Promise<Row> {
  const config = await readJsonObject(path);
  const cls = modelClassOf(config, path);
  return { name, cls, model: buildModel(cls, config, SHAPE_ONLY, path) };
}

async function pipelineRows(dir: string): Promise<Row[]> {
  const index = await readJsonObject(join(dir, MODEL_INDEX));
  const classes = checkModelIndex(index, join(dir, MODEL_INDEX));
  const rows: Row[] = [];
  for (const component of Object.keys(WEIGHTS_STEM) as ModelComponent[]) {
    rows.push(await componentRow(join(dir, component, CONFIG_FILE[component]), component));
  }
  rows.push({ name: "tokenizer", cls: classes.tokenizer });
  const ddim = classes.scheduler === "DDIMScheduler" ? undefined : "sampled with DDIMScheduler built from this config";
  rows.push({ name: "scheduler", cls: classes.scheduler, note: ddim });
  for (const [name, entry] of Object.entries(index)) {
    const cls = Array.isArray(entry) ? entry[1] : undefined;
    if (!name.startsWith("_") && !rows.some((r) => r.name === name) && typeof cls === "string") {
      rows.push({ name, cls, note: "not used by alignprop" });
    }
  }
  return rows;
}

function render(rows: Row[], keys: boolean): string {
  const count = (n: number) => n.toLocaleString("en-US");
  const longestName = Math.max(...rows.map((r) => r.name.length));
  const nameWidth = longestName ? longestName + 2 : 0;
  const classWidth = Math.max(...rows.map((r) => r.cls.length)) + 2;
  const models = rows.filter((r) => r.model);
  const countWidth = Math.max(...models.map((r) => count(r.model!.parameterCount()).length));
  const lines: string[] = [];
  const header = (text: string) => lines.push((keys ? "# " : "") + text.trimEnd());
  for (const row of rows) {
    const lead = row.name.padEnd(nameWidth) + row.cls.padEnd(classWidth);
    if (!row.model) {
      header(lead + (row.note ? `(${row.note})` : ""));
      continue;
    }
    const params = row.model.namedParameters();
    header(`${lead}${count(row.model.parameterCount()).padStart(countWidth)} parameters  ${params.length} tensors`);
    if (keys) for (const [key, p] of params) lines.push(`${key}\t${p.torchShape.join(",")}`);
  }
  if (models.length > 1) {
    const total = models.reduce((n, r) => n + r.model!.parameterCount(), 0);
    header(`${"total".padEnd(nameWidth + classWidth)}${count(total).padStart(countWidth)} parameters`);
  }
  return lines.join("\n") + "\n";
}
