/**
 * The argument after "name:" in a reward spec for rewards configured by several values:
 * `aesthetic:head=./head.safetensors,clip=openai/clip-vit-large-patch14,revision=main` → { head, clip, revision }.
 * Values cannot hold commas.
 */
export function parseRewardArgs(name: string, arg: string | undefined, allowed: Readonly<Record<string, string>>): Record<string, string> {
  const usage = Object.entries(allowed).map(([key, what]) => `${key}=${what}`).join(", ");
  const out: Record<string, string> = {};
  for (const part of (arg ?? "").split(",").filter((p) => p.trim() !== "")) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? "" : part.slice(0, eq).trim();
    const value = eq < 0 ? "" : part.slice(eq + 1).trim();
    if (!key || !value) throw new Error(`reward ${name}: ${JSON.stringify(part)} is not key=value; ${name} takes ${usage}`);
    if (!(key in allowed)) throw new Error(`reward ${name}: unknown option ${JSON.stringify(key)}; ${name} takes ${usage}`);
    if (key in out) throw new Error(`reward ${name}: ${key} is given twice`);
    out[key] = value;
  }
  return out;
}
