/**
 * events.jsonl is one format whichever engine writes it: the Python wire's JSON lines (alignprop_torch.wire.json_lines)
 * are byte for byte what src/run/events-log.ts writes for the same message (protobuf-es's `toJsonString`, maps sorted), over a seeded corpus of every payload, numbers of
 * every magnitude and the awkward strings (json_corpus.py beside this file).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { CommandResultSchema, CommandSchema, EventSchema } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { projectPython } from "../../src/python/env.js";
import { toJsonLine } from "../../src/run/events-log.js";
import { pythonDemo } from "./python-engine.js";

const CORPUS = fileURLToPath(new URL("../../../test/bridge-python/json_corpus.py", import.meta.url));
const SCHEMAS: Record<string, DescMessage> = { Event: EventSchema, CommandResult: CommandResultSchema, Command: CommandSchema };

test("every JSON line the Python side writes equals protobuf-es's toJsonString of the same bytes", () => {
  const output = execFileSync(projectPython(), [CORPUS], { encoding: "utf8", env: { ...process.env, ...pythonDemo().env } });
  const lines = output.trimEnd().split("\n");
  assert.ok(lines.length > 90, `${lines.length} corpus lines`);
  for (const line of lines) {
    const [type, binary, json] = line.split("\t") as [string, string, string];
    const schema = SCHEMAS[type];
    assert.ok(schema, `a known message type: ${type}`);
    assert.equal(json, toJsonLine(schema, fromBinary(schema, Buffer.from(binary, "base64"))), `${type} ${binary}`);
  }
});
