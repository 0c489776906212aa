/**
 * An on/off environment variable that defaults to on: unset, "" or "1" is on, "0" off; anything else is an error
 * naming the variable, its value and what each setting does.
 */
export function envSwitch(env: NodeJS.ProcessEnv, name: string, meaning: { off: string; on: string }): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "" || raw === "1") return true;
  if (raw === "0") return false;
  throw new Error(`${name}=${JSON.stringify(raw)} must be 0 (${meaning.off}) or 1 (${meaning.on})`);
}
