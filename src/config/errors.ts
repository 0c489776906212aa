import type { z } from "zod";

import { fieldSpec, RUN_CONFIG_FIELDS } from "./fields.js";
import { closest } from "./suggest.js";
import { InputError } from "../util/input-error.js";

export interface ConfigIssue {
  /** The field that is wrong, or the config file's path when the file itself cannot be read. */
  readonly field: string;
  /** What was wrong, with the value, and what would be right. */
  readonly message: string;
}

/** Every problem with a run configuration at once, one line per field: `field: message`. */
export class ConfigError extends InputError {
  override readonly name = "ConfigError";

  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map((issue) => `${issue.field}: ${issue.message}`).join("\n"));
  }
}

const FIELD_NAMES = RUN_CONFIG_FIELDS.map((field) => field.name);

/** Turns zod's issues into one issue per field, explained in terms of the value the user gave. */
export function toConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  input: Readonly<Record<string, unknown>>,
): ConfigIssue[] {
  const byField = new Map<string, string>();
  const add = (field: string, message: string): void => {
    if (!byField.has(field)) byField.set(field, message);
  };
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) add(key, unknownFieldMessage(key));
      continue;
    }
    const field = String(issue.path[0] ?? "");
    add(field, issue.code === "custom" ? issue.message : wrongValueMessage(field, input[field], issue.message));
  }
  return [...byField].map(([field, message]) => ({ field, message }));
}

function unknownFieldMessage(key: string): string {
  const maxDistance = Math.max(2, Math.floor(key.length / 4));
  const suggestion = closest(key, FIELD_NAMES, { maxDistance, allowContained: true });
  return suggestion === undefined
    ? "unknown field; remove it or check its spelling"
    : `unknown field; did you mean "${suggestion}"?`;
}

function wrongValueMessage(field: string, value: unknown, zodMessage: string): string {
  const spec = fieldSpec(field);
  if (spec === undefined) return zodMessage;
  const got = `got ${showValue(value)}; expected ${spec.expected}`;
  if (spec.type.kind !== "enum" || typeof value !== "string") return got;
  const suggestion = closest(value, spec.type.values, { maxDistance: 1, allowContained: false });
  return suggestion === undefined ? got : `${got} (did you mean "${suggestion}"?)`;
}

export function showValue(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
