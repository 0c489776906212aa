/**
 * CURVE key material: Z85 text keys (ZeroMQ's 40-character encoding of 32 bytes), key files written by
 * `alignprop keygen` (`public.key`, and `secret.key` with mode 0600), and allow-lists of client public keys.
 */
import { curveKeyPair } from "zeromq";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync, chmodSync } from "node:fs";
import { join } from "node:path";

const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const Z85_VALUE = new Map([...Z85].map((c, i) => [c, i]));

export const isZ85Key = (s: string): boolean => s.length === 40 && [...s].every((c) => Z85_VALUE.has(c));

/** 40 Z85 characters → the 32 key bytes (each 5 characters are one big-endian base-85 uint32). */
export function z85Decode(text: string): Uint8Array {
  if (!isZ85Key(text)) throw new Error(`"${text}" is not a 40-character Z85 CURVE key`);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    let value = 0;
    for (let j = 0; j < 5; j++) value = value * 85 + Z85_VALUE.get(text[i * 5 + j]!)!;
    new DataView(out.buffer).setUint32(i * 4, value);
  }
  return out;
}

export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length !== 32) throw new Error(`a CURVE key is 32 bytes, got ${bytes.length}`);
  let out = "";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < 8; i++) {
    let value = view.getUint32(i * 4);
    let chunk = "";
    for (let j = 0; j < 5; j++) {
      chunk = Z85[value % 85]! + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}

export interface KeyPair {
  publicKey: string;
  secretKey: string;
}

/** The keys in a key file: every line that is not blank or a `#` comment, each checked. */
function keysIn(path: string): string[] {
  const keys = readFileSync(path, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  for (const k of keys) if (!isZ85Key(k)) throw new Error(`${path}: "${k}" is not a 40-character Z85 CURVE key`);
  return keys;
}

/** Writes a new key pair into `dir` (created if needed); refuses to overwrite an existing secret key. */
export function writeKeyPair(dir: string): KeyPair & { publicPath: string; secretPath: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const publicPath = join(dir, "public.key");
  const secretPath = join(dir, "secret.key");
  if (existsSync(secretPath)) throw new Error(`${secretPath} already exists; remove it first or choose another directory`);
  const pair = curveKeyPair();
  writeFileSync(secretPath, `# alignprop CURVE secret key: keep private\n${pair.secretKey}\n`, { mode: 0o600 });
  chmodSync(secretPath, 0o600);
  writeFileSync(publicPath, `# alignprop CURVE public key\n${pair.publicKey}\n`, { mode: 0o644 });
  return { ...pair, publicPath, secretPath };
}

/** Reads the pair `keygen` wrote into `dir`; the secret file must not be readable by others. */
export function readKeyPair(dir: string): KeyPair {
  const secretPath = join(dir, "secret.key");
  if (!existsSync(secretPath)) throw new Error(`${secretPath} not found; create a key pair with \`alignprop keygen ${dir}\``);
  if ((statSync(secretPath).mode & 0o077) !== 0) {
    throw new Error(`${secretPath} is readable by other users (mode ${(statSync(secretPath).mode & 0o777).toString(8)}); chmod 600 it`);
  }
  const [secretKey] = keysIn(secretPath);
  const [publicKey] = keysIn(join(dir, "public.key"));
  if (!secretKey || !publicKey) throw new Error(`${dir} does not hold a key pair (public.key + secret.key)`);
  return { publicKey, secretKey };
}

/** One public key from a file, or from `public.key` in a directory. */
export function readPublicKey(path: string): string {
  const file = statSync(path).isDirectory() ? join(path, "public.key") : path;
  const [key] = keysIn(file);
  if (!key) throw new Error(`${file} holds no public key`);
  return key;
}

/**
 * An allow-list: each path is a file of keys (one per line) or a directory whose `*.key` files (except
 * `secret.key`) hold keys.
 */
export function readAllowList(paths: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const path of paths) {
    if (!existsSync(path)) throw new Error(`allow-list ${path} not found`);
    const files = statSync(path).isDirectory()
      ? readdirSync(path).filter((f) => f.endsWith(".key") && f !== "secret.key").map((f) => join(path, f))
      : [path];
    for (const f of files) for (const k of keysIn(f)) keys.add(k);
  }
  return [...keys];
}
