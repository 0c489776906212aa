/**
 * The Hub's naming rules, each written once: repo ids (as huggingface_hub's `validate_repo_id` and the Hub accept
 * them), revision names, the token's format, and the endpoint default. Downloads (hub.ts), the cache (hub-cache.ts)
 * and `push` (hub-push.ts) all check names here.
 */

/** One part of "namespace/name": letters, digits, "-", "_", "."; starting and ending with a letter, digit or "_". */
const REPO_PART = /^[A-Za-z0-9_](?:[\w.-]*[A-Za-z0-9_])?$/;
const MAX_REPO_ID_LENGTH = 96;
export const DEFAULT_ENDPOINT = "https://huggingface.co";

/**
 * Whether `value` is a Hub repo id "namespace/name" (the namespace is required here, so a bare word stays a local
 * name). Neither part starts or ends with "-" or ".", so "./x" and "../x" are never repo ids.
 */
export function isRepoId(value: string): boolean {
  const parts = value.split("/");
  return (
    parts.length === 2 &&
    parts.every((p) => REPO_PART.test(p)) &&
    !value.includes("--") &&
    !value.includes("..") &&
    !value.endsWith(".git") &&
    value.length <= MAX_REPO_ID_LENGTH
  );
}

/** `value` if it is a repo id, else an error naming `field` and the rule. */
export function checkRepoId(value: string, field: string): string {
  if (isRepoId(value)) return value;
  throw new Error(
    `${field}=${JSON.stringify(value)} is not a Hub repo id: "namespace/name", each letters, digits, "-", "_", "." ` +
      `(no "--" or "..", not starting or ending with "-" or ".", not ending in ".git"), at most ${MAX_REPO_ID_LENGTH} characters`,
  );
}

/** A branch, tag or commit name: no empty, "." or ".." segment (it becomes a path under the cache's refs/). */
export function checkRevision(revision: string, field = "revision"): string {
  if (!/^[\w./-]+$/.test(revision) || revision.split("/").some((part) => part === "" || part === "." || part === "..")) {
    throw new Error(`${field}=${JSON.stringify(revision)} is not a branch, tag or commit name`);
  }
  return revision;
}

/** The token's format ("hf_" then letters, digits, "_"), checked so that no request is made with a wrong one. */
export function checkTokenFormat(token: string, source: string): string {
  if (!token.startsWith("hf_")) throw new Error(`the Hub token from ${source} must start with "hf_" (it starts with ${JSON.stringify(token.slice(0, 3))})`);
  const bad = /[^\w]/.exec(token.slice(3));
  if (bad) {
    const what = /\s/.test(bad[0]) ? "whitespace" : JSON.stringify(bad[0]);
    throw new Error(`the Hub token from ${source} holds ${what} at character ${bad.index + 4}; a token is "hf_" then letters, digits and "_"`);
  }
  if (token.length === 3) throw new Error(`the Hub token from ${source} is only "hf_"; paste the whole token`);
  return token;
}

/** The Hub's base URL: the option, else `$HF_ENDPOINT`, else https://huggingface.co; no trailing "/". */
export function hubEndpoint(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return (option ?? (env.HF_ENDPOINT || DEFAULT_ENDPOINT)).replace(/\/+$/, "");
}
