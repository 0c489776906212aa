import type { RunConfig } from "./schema.js";

/**
 * TRL fields the engine cannot honour. They are accepted so TRL configs load, but a user who set one explicitly
 * is told it has no effect; defaults stay quiet. The torch engine honours mixed_precision and allow_tf32.
 */
export function tfjsWarnings(config: RunConfig, explicit: ReadonlySet<string>): string[] {
  const warnings: string[] = [];
  const torch = config.engine === "torch";
  if (explicit.has("train_use_8bit_adam") && config.train_use_8bit_adam) {
    const engine = torch ? "the torch engine uses torch.optim.AdamW" : "TF.js has no 8-bit Adam";
    warnings.push(`train_use_8bit_adam=true is ignored: ${engine}, so AdamW keeps fp32 state`);
  }
  if (!torch && explicit.has("allow_tf32")) {
    warnings.push(`allow_tf32=${config.allow_tf32} is ignored: TF.js has no switch for TF32 matmuls`);
  }
  if (!torch && explicit.has("mixed_precision") && config.mixed_precision !== "no") {
    warnings.push(`mixed_precision="${config.mixed_precision}" is ignored: TF.js trains in fp32`);
  }
  if (explicit.has("log_with") && config.log_with === "wandb") {
    warnings.push(
      `log_with="wandb" is ignored: the TF.js engine writes TensorBoard files (log_with="tensorboard"); ` +
        "metrics go to events.jsonl and report.html in the run directory",
    );
  }
  return warnings;
}
