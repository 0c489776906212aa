import { showValue } from "./errors.js";
import { RUN_CONFIG_FIELDS, type FieldType } from "./fields.js";

export interface FieldHelp {
  readonly name: string;
  /** e.g. "integer ≥ 1", "no|fp16|bf16", "[integer, integer]". */
  readonly type: string;
  /** The default as JSON, or "(none)" for an optional field without one. */
  readonly default: string;
  readonly doc: string;
}

/** Every RunConfig field, in declaration order (TRL's fields first). */
export function describeRunConfig(): FieldHelp[] {
  return RUN_CONFIG_FIELDS.map((field) => ({
    name: field.name,
    type: typeLabel(field.type),
    default: field.default === undefined ? "(none)" : showValue(field.default),
    doc: field.doc,
  }));
}

/** The fields as aligned `name  type  default  doc` lines for `--help`. */
export function formatRunConfigHelp(): string {
  const rows = describeRunConfig();
  const width = (column: (row: FieldHelp) => string): number => Math.max(...rows.map((row) => column(row).length));
  const nameWidth = width((row) => row.name);
  const typeWidth = width((row) => row.type);
  const defaultWidth = width((row) => row.default);
  return rows
    .map((row) =>
      [row.name.padEnd(nameWidth), row.type.padEnd(typeWidth), row.default.padEnd(defaultWidth), row.doc].join("  "),
    )
    .join("\n");
}

function typeLabel(type: FieldType): string {
  switch (type.kind) {
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "number": {
      const noun = type.integer ? "integer" : "number";
      return type.range === "" ? noun : `${noun} ${type.range}`;
    }
    case "enum":
      return type.values.map((value) => (value === "" ? '""' : value)).join("|");
    case "int-pair":
      return "[integer, integer]";
    case "string-list":
      return "string list";
    case "int-list":
      return "integer list";
    case "json-object":
      return "JSON object";
  }
}
