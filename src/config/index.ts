export { ConfigError, type ConfigIssue } from "./errors.js";
export { describeRunConfig, formatRunConfigHelp, type FieldHelp } from "./describe.js";
export { loadRunConfig, type LoadedRunConfig, type LoadRunConfigOptions } from "./load.js";
export type { OverrideValue } from "./coerce.js";
export { formatUnhonouredHelp, UNHONOURED, unhonouredWarnings, type Engine } from "./warnings.js";
export { trainedTimesteps } from "./checks.js";
export {
  BACKENDS,
  DEFAULT_RUN_CONFIG,
  ENGINES,
  LOG_WITH,
  LOSSES,
  MIXED_PRECISION,
  RunConfigSchema,
  type RunConfig,
} from "./schema.js";
