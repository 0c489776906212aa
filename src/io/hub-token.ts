/**
 * Where the Hub token comes from, in huggingface_hub's order (utils/_auth.py `get_token`): an explicit option, else
 * `$HF_TOKEN`, else `$HUGGING_FACE_HUB_TOKEN` (its older name), else the file `hf auth login` writes: `$HF_TOKEN_PATH`,
 * default `<HF home>/token`. Values from the environment or the file are trimmed and "" means none, as huggingface_hub's
 * `_clean_token` does. Downloads (hub.ts), `push` (hub-push.ts) and the push-at-end preflight all ask here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { expandPath, hfHome } from "./hub-cache.js";

export interface FoundToken {
  token: string;
  /** Where it was found, for messages: the option's name, "HF_TOKEN", or the token file's path. */
  source: string;
}

/** The file `hf auth login` writes the token to. */
export function hubTokenPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_TOKEN_PATH ? expandPath(env.HF_TOKEN_PATH, env) : join(hfHome(env), "token");
}

/** The token to send, or undefined when none is set anywhere. `option` is used as given (its format is checked later). */
export function findHubToken(option: string | undefined, optionName: string, env: NodeJS.ProcessEnv = process.env): FoundToken | undefined {
  if (option !== undefined) return { token: option, source: optionName };
  for (const name of ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"]) {
    const value = env[name]?.trim();
    if (value) return { token: value, source: name };
  }
  const path = hubTokenPath(env);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read the Hub token file ${path}: ${(error as Error).message}`);
  }
  const token = text.trim();
  return token ? { token, source: path } : undefined;
}
