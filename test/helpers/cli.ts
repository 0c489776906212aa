/** Runs the built `alignprop` CLI as a user would, as a child process. */
import { execa, type Options } from "execa";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export function alignprop(args: string[], options: Options = {}) {
  return execa(process.execPath, [CLI, ...args], { reject: false, stdin: "ignore", ...options });
}
