/**
 * A local stand-in for the Hugging Face Hub (node:http on 127.0.0.1), speaking the part of its API that
 * @huggingface/hub's `modelInfo`, `listFiles` and `downloadFile` and huggingface_hub's `hf_hub_download` and
 * `snapshot_download` use:
 *
 *   GET /api/models/{org}/{name}/revision/{revision}                → {id, sha: <commit>, siblings}
 *   GET /api/models/{org}/{name}/tree/{revision}[/{folder}][?recursive=true] → [{type, path, size, oid, lfs?}]
 *   GET|HEAD /{org}/{name}/resolve/{revision}/{path}                 → the bytes, with ETag (sha256 for LFS files, git
 *                                                                      sha1 otherwise) and X-Repo-Commit; `Range:
 *                                                                      bytes=a-b` → 206 + Content-Range
 *
 * Each revision has a commit (a sha1 of its name and files), which is a revision name too. Errors as the Hub sends
 * them (JSON `{error}`, `X-Error-Code: EntryNotFound | RevisionNotFound | RepoNotFound`, 401 without the right
 * token). Every request is recorded; `dropOnce` cuts one body transfer mid-file; `hold` stalls one mid-file until
 * released (a slow download a test controls without timing).
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** revision → (path → bytes) */
export type RepoContents = Record<string, Record<string, Uint8Array>>;

export interface RecordedRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  range: string | undefined;
}

export interface HubServer {
  url: string;
  /** revision → the commit it resolves to */
  commits: Record<string, string>;
  requests: RecordedRequest[];
  /** The next body transfer of `path` (any revision) stops after `bytes` bytes and the connection is destroyed. */
  dropOnce(path: string, bytes: number): void;
  /** The next body transfer of `path` sends `bytes` bytes, then waits for the returned `release()` to send the rest. */
  hold(path: string, bytes: number): () => void;
  close(): Promise<void>;
}

const gitOid = (bytes: Uint8Array) => createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
/** The Hub stores these in LFS (its .gitattributes does so for *.safetensors and *.bin). */
const isLfs = (path: string) => /\.(safetensors|bin)$/.test(path);

export async function startHubServer(repo: string, contents: RepoContents, token?: string): Promise<HubServer> {
  const requests: RecordedRequest[] = [];
  const drops = new Map<string, number>();
  const holds = new Map<string, { bytes: number; released: Promise<void> }>();
  const commits = Object.fromEntries(
    Object.entries(contents).map(([revision, files]) => {
      const hash = createHash("sha1").update(`commit ${revision}\n`);
      for (const path of Object.keys(files).sort()) hash.update(`${path} ${gitOid(files[path]!)}\n`);
      return [revision, hash.digest("hex")];
    }),
  );
  /** The revision name a branch, tag or commit stands for. */
  const named = (revision: string) => (revision in contents ? revision : Object.keys(commits).find((r) => commits[r] === revision));

  const fail = (res: ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { "Content-Type": "application/json", "X-Error-Code": code });
    res.end(JSON.stringify({ error: message }));
  };

  const info = (res: ServerResponse, revision: string) => {
    const name = named(revision);
    if (!name) return fail(res, 404, "RevisionNotFound", `Invalid rev id: ${revision}`);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ _id: commits[name], id: repo, modelId: repo, sha: commits[name], private: false, siblings: Object.keys(contents[name]!).map((rfilename) => ({ rfilename })) }));
  };

  /** The entries under `folder` ("" for the root): all of them with `recursive`, else its direct children. */
  const tree = (res: ServerResponse, revision: string, folder: string, recursive: boolean) => {
    const name = named(revision);
    if (!name) return fail(res, 404, "RevisionNotFound", `Invalid rev id: ${revision}`);
    const files = contents[name]!;
    const dirs = new Set(Object.keys(files).flatMap((p) => p.split("/").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("/"))));
    const prefix = folder ? `${folder}/` : "";
    const shown = (path: string) => path.startsWith(prefix) && (recursive || !path.slice(prefix.length).includes("/"));
    const entries = [
      ...[...dirs].filter(shown).map((path) => ({ type: "directory", path, size: 0, oid: gitOid(new TextEncoder().encode(path)) })),
      ...Object.entries(files).filter(([path]) => shown(path)).map(([path, bytes]) => ({
        type: "file",
        path,
        size: bytes.length,
        oid: gitOid(isLfs(path) ? new TextEncoder().encode(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(bytes)}\nsize ${bytes.length}\n`) : bytes),
        ...(isLfs(path) ? { lfs: { oid: sha256(bytes), size: bytes.length, pointerSize: 134 } } : {}),
      })),
    ];
    if (folder && !dirs.has(folder)) return fail(res, 404, "EntryNotFound", `${folder} does not exist on "${revision}"`);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify(entries));
  };

  const resolve = (req: IncomingMessage, res: ServerResponse, revision: string, path: string) => {
    const name = named(revision);
    if (!name) return fail(res, 404, "RevisionNotFound", `Invalid rev id: ${revision}`);
    const bytes = contents[name]![path];
    if (!bytes) {
      res.setHeader("X-Repo-Commit", commits[name]!);
      return fail(res, 404, "EntryNotFound", `${path} does not exist on "${revision}"`);
    }
    const headers = {
      ETag: `"${isLfs(path) ? sha256(bytes) : gitOid(bytes)}"`,
      "X-Repo-Commit": commits[name]!,
      "Accept-Ranges": "bytes",
      "Content-Type": "application/octet-stream",
    };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
    const body = bytes.subarray(start, end + 1);
    if (range) res.writeHead(206, { ...headers, "Content-Range": `bytes ${start}-${end}/${bytes.length}`, "Content-Length": body.length });
    else res.writeHead(200, { ...headers, "Content-Length": body.length });
    if (req.method === "HEAD") return res.end();
    const cut = drops.get(path);
    // The size probe (bytes=0-0) is never cut; a body transfer is, once.
    if (cut !== undefined && body.length > 1) {
      drops.delete(path);
      res.write(body.subarray(0, cut), () => res.socket?.destroy());
      return;
    }
    const held = holds.get(path);
    if (held !== undefined && body.length > 1) {
      holds.delete(path);
      res.write(body.subarray(0, held.bytes), () => void held.released.then(() => res.end(body.subarray(held.bytes))));
      return;
    }
    res.end(body);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://hub.local");
    requests.push({ method: req.method ?? "", url: url.pathname + url.search, authorization: req.headers.authorization, range: req.headers.range });
    if (token && req.headers.authorization !== `Bearer ${token}`) {
      return fail(res, 401, "GatedRepo", `Access to model ${repo} is restricted. You must be authenticated to access it.`);
    }
    const infoPrefix = `/api/models/${repo}/revision/`;
    const treePrefix = `/api/models/${repo}/tree/`;
    const resolvePrefix = `/${repo}/resolve/`;
    if (url.pathname.startsWith(infoPrefix)) return info(res, decodeURIComponent(url.pathname.slice(infoPrefix.length)));
    if (url.pathname.startsWith(treePrefix)) {
      const [revision, ...folder] = url.pathname.slice(treePrefix.length).split("/");
      return tree(res, decodeURIComponent(revision!), folder.map(decodeURIComponent).join("/"), url.searchParams.get("recursive") === "true");
    }
    if (url.pathname.startsWith(resolvePrefix)) {
      const [revision, ...path] = url.pathname.slice(resolvePrefix.length).split("/");
      return resolve(req, res, decodeURIComponent(revision!), path.map(decodeURIComponent).join("/"));
    }
    fail(res, 404, "RepoNotFound", `Repository not found: ${url.pathname}`);
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    commits,
    requests,
    dropOnce: (path, bytes) => drops.set(path, bytes),
    hold: (path, bytes) => {
      let release!: () => void;
      holds.set(path, { bytes, released: new Promise<void>((resolve) => (release = resolve)) });
      return release;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
