/**
 * One Hub file into a cache blob, resumably: bytes go to `<blob>.incomplete` (the blob is named after the file's
 * hash, so a partial from another version is never continued), an interrupted transfer continues from the bytes
 * already there with a Range request, and the finished file is checked against the Hub's hash (sha256 for LFS files,
 * the git blob sha1 otherwise) before it is renamed into place.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";

import { downloadFile, HubApiError } from "@huggingface/hub";

import { formatBytes } from "../util/format-bytes.js";

/** A file as the Hub's tree listing describes it. */
export interface HubFile {
  path: string;
  size: number;
  /** git blob sha1 of the file (of its pointer, for LFS files). */
  oid: string;
  /** sha256 of the content, for LFS files. */
  lfs?: { oid: string; size: number };
}

/** The file's name in the cache's blobs/: the Hub's ETag for it (sha256 for LFS files, git sha1 otherwise). */
export const etagOf = (file: HubFile): string => file.lfs?.oid ?? file.oid;

export interface HubLocation {
  repo: string;
  revision: string;
  endpoint: string;
  token?: string;
}

/**
 * Downloads `file` to `blob` (attempts = 1 + retries, each resuming); HTTP 4xx errors are not retried. `onBytes`
 * hears of every chunk written (bytes already on disk from an earlier attempt are not counted again).
 */
export async function downloadBlob(
  at: HubLocation,
  file: HubFile,
  blob: string,
  retries: number,
  log: (message: string) => void,
  onBytes: (count: number) => void = () => {},
): Promise<void> {
  const partial = `${blob}.incomplete`;
  await mkdir(dirname(blob), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      await transfer(at, file, partial, log, onBytes);
      await verify(file, partial);
      break;
    } catch (error) {
      const permanent = error instanceof HubApiError && error.statusCode >= 400 && error.statusCode < 500;
      if (permanent || attempt >= retries) {
        throw new Error(`cannot download ${file.path} from ${at.repo}@${at.revision} (${at.endpoint}): ${(error as Error).message}`);
      }
      log(`download of ${file.path} interrupted (${(error as Error).message}); retrying`);
    }
  }
  await rename(partial, blob);
}

/** Appends the missing bytes of `file` to `partial`. */
async function transfer(
  at: HubLocation,
  file: HubFile,
  partial: string,
  log: (message: string) => void,
  onBytes: (count: number) => void,
): Promise<void> {
  let have = await stat(partial).then((s) => s.size, () => 0);
  if (have > file.size) {
    await rm(partial);
    have = 0;
  }
  if (have === file.size) return;
  const blob = await downloadFile({
    repo: at.repo,
    path: file.path,
    revision: at.revision,
    hubUrl: at.endpoint,
    accessToken: at.token,
    // Plain HTTP (the resolve URL) rather than Xet chunks: it supports Range, which resuming needs.
    xet: false,
  });
  if (!blob) throw new Error(`${file.path} is listed but the Hub answers that it does not exist`);
  log(have ? `resuming ${file.path} at byte ${have} of ${file.size}` : `downloading ${file.path} (${formatBytes(file.size)})`);
  const handle = await open(partial, "a");
  try {
    for await (const chunk of (have ? blob.slice(have) : blob).stream() as unknown as AsyncIterable<Uint8Array>) {
      await handle.write(chunk);
      onBytes(chunk.byteLength);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Size and hash must match the listing; a mismatch discards the partial file so the next try starts afresh. */
async function verify(file: HubFile, partial: string): Promise<void> {
  const size = (await stat(partial)).size;
  const hash = file.lfs ? createHash("sha256") : createHash("sha1").update(`blob ${size}\0`);
  for await (const chunk of createReadStream(partial)) hash.update(chunk as Buffer);
  const expected = etagOf(file);
  const got = hash.digest("hex");
  if (size !== file.size || got !== expected) {
    await rm(partial);
    throw new Error(`${file.path}: downloaded ${size} bytes with ${file.lfs ? "sha256" : "git sha1"} ${got}, but the Hub lists ${file.size} bytes with ${expected}`);
  }
}
