import { fieldSpec, type FieldType } from "./fields.js";

/** A field value as CLI flags deliver it: often a string whatever the field's type. */
export type OverrideValue = string | number | boolean | readonly string[];

const TRUE_WORDS = new Set(["true", "1", "yes"]);
const FALSE_WORDS = new Set(["false", "0", "no"]);

/** Overrides keyed by field name (`num-epochs` becomes `num_epochs`), values coerced to each field's type. */
export function coerceOverrides(overrides: Readonly<Record<string, OverrideValue>>): Record<string, unknown> {
  const coerced: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(overrides)) {
    const name = key.replaceAll("-", "_");
    const spec = fieldSpec(name);
    coerced[name] = spec === undefined ? value : coerceValue(spec.type, value);
  }
  return coerced;
}

/** A value that cannot be read as the field's type comes back unchanged, for validation to report with the rest. */
function coerceValue(type: FieldType, value: OverrideValue): unknown {
  if (value === "null") return null; // TRL's None: the field unset where the schema allows it, else an error naming it
  switch (type.kind) {
    case "string":
    case "enum":
      return typeof value === "number" ? String(value) : value;
    case "number":
      return typeof value === "string" ? parseNumber(value) ?? value : value;
    case "boolean":
      return parseBoolean(value) ?? value;
    case "int-pair":
      return parsePair(value) ?? value;
    case "string-list":
      return typeof value === "number" || typeof value === "boolean" ? value : splitList(value);
    case "int-list":
      return typeof value === "number" ? [value] : typeof value === "boolean" ? value : splitList(value).map((item) => parseNumber(item) ?? item);
    case "json-object":
      return typeof value === "string" ? parseJson(value) ?? value : value;
  }
}

/** `--tracker_kwargs '{"wandb": {"entity": "me"}}'`; text that is not JSON is left for validation to report. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseNumber(text: string): number | undefined {
  const trimmed = text.trim();
  const number = Number(trimmed);
  return trimmed === "" || !Number.isFinite(number) ? undefined : number;
}

function parseBoolean(value: OverrideValue): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const word = String(value).trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

/** "0,50", "[0,50]" or ["0", "50"] → [0, 50]. */
function parsePair(value: OverrideValue): [number, number] | undefined {
  if (typeof value === "number" || typeof value === "boolean") return undefined;
  const parts = typeof value === "string" ? value.trim().replace(/^\[(.*)\]$/s, "$1").split(",") : value;
  if (parts.length !== 2) return undefined;
  const [min, max] = parts.map((part) => parseNumber(part));
  return min === undefined || max === undefined ? undefined : [min, max];
}

/** "to_q, to_k" or ["to_q", "to_k,to_v"] → ["to_q", "to_k", "to_v"]. */
function splitList(value: string | readonly string[]): string[] {
  const items = typeof value === "string" ? [value] : value;
  return items.flatMap((item) => item.split(",")).map((item) => item.trim()).filter((item) => item !== "");
}
