import { z } from "zod";

import { RunConfigSchema } from "./schema.js";

/** The shape of a field's value, as much as coercing CLI strings and explaining errors need. */
export type FieldType =
  | { readonly kind: "string"; readonly nonEmpty: boolean }
  | { readonly kind: "boolean" }
  /** `range` reads like "≥ 1", "> 0" or "in [0, 1)"; "" when any value goes. */
  | { readonly kind: "number"; readonly integer: boolean; readonly range: string }
  | { readonly kind: "enum"; readonly values: readonly string[] }
  | { readonly kind: "int-pair" }
  | { readonly kind: "string-list" }
  | { readonly kind: "int-list" }
  /** TRL's kwargs dicts: any JSON object. */
  | { readonly kind: "json-object" };

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  /** What a right value looks like, e.g. "an integer ≥ 1"; completes "expected …" in error messages. */
  readonly expected: string;
  /** `undefined` for an optional field without a default. */
  readonly default: unknown;
  readonly doc: string;
}

type JsonSchema = z.core.JSONSchema.JSONSchema;

/** Every RunConfig field in declaration order, read off the zod schema so the two cannot drift apart. */
export const RUN_CONFIG_FIELDS: readonly FieldSpec[] = Object.entries(
  z.toJSONSchema(RunConfigSchema, { io: "input" }).properties ?? {},
).map(([name, schema]) => toFieldSpec(name, schema));

const FIELDS_BY_NAME = new Map(RUN_CONFIG_FIELDS.map((field) => [field.name, field]));

export function fieldSpec(name: string): FieldSpec | undefined {
  return FIELDS_BY_NAME.get(name);
}

function toFieldSpec(name: string, schema: z.core.JSONSchema._JSONSchema): FieldSpec {
  if (typeof schema === "boolean") throw new Error(`RunConfig field ${name} has no JSON schema`);
  const type = toFieldType(name, schema);
  return { name, type, expected: describeExpected(type), default: schema.default, doc: schema.description ?? "" };
}

function toFieldType(name: string, schema: JsonSchema): FieldType {
  if (schema.enum !== undefined) return { kind: "enum", values: schema.enum.map(String) };
  if (schema.prefixItems !== undefined) return { kind: "int-pair" };
  switch (schema.type) {
    case "string":
      return { kind: "string", nonEmpty: (schema.minLength ?? 0) > 0 };
    case "boolean":
      return { kind: "boolean" };
    case "number":
      // schema.ts spells integers as multipleOf(1) rather than z.int(); see `int` there.
      return { kind: "number", integer: schema.multipleOf === 1, range: describeRange(schema) };
    case "array":
      return typeof schema.items === "object" && !Array.isArray(schema.items) && schema.items.type === "number" ? { kind: "int-list" } : { kind: "string-list" };
    case "object":
      return { kind: "json-object" };
    default:
      throw new Error(`RunConfig field ${name} has a type the config loader cannot coerce`);
  }
}

function describeExpected(type: FieldType): string {
  switch (type.kind) {
    case "string":
      return type.nonEmpty ? "a non-empty string" : "a string";
    case "boolean":
      return "true or false";
    case "number": {
      const noun = type.integer ? "an integer" : "a number";
      return type.range === "" ? noun : `${noun} ${type.range}`;
    }
    case "enum":
      return `one of ${type.values.map((value) => JSON.stringify(value)).join(", ")}`;
    case "int-pair":
      return "two integers [min, max]";
    case "string-list":
      return "a non-empty list of names";
    case "int-list":
      return "a list of integers";
    case "json-object":
      return 'a JSON object such as {"key": "value"}';
  }
}

function describeRange(schema: JsonSchema): string {
  const low = bound(schema.minimum, schema.exclusiveMinimum);
  const high = bound(schema.maximum, schema.exclusiveMaximum);
  if (low !== undefined && high !== undefined) {
    return `in ${low.exclusive ? "(" : "["}${low.value}, ${high.value}${high.exclusive ? ")" : "]"}`;
  }
  if (low !== undefined) return `${low.exclusive ? ">" : "≥"} ${low.value}`;
  if (high !== undefined) return `${high.exclusive ? "<" : "≤"} ${high.value}`;
  return "";
}

function bound(
  inclusive: number | undefined,
  exclusive: number | boolean | undefined,
): { value: number; exclusive: boolean } | undefined {
  if (typeof exclusive === "number") return { value: exclusive, exclusive: true };
  return inclusive === undefined ? undefined : { value: inclusive, exclusive: false };
}
