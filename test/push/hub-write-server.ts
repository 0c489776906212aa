/**
 * A local stand-in for the Hugging Face Hub's write API (node:http on 127.0.0.1), speaking what @huggingface/hub's
 * `createRepo` and `uploadFiles` (`commit`, with `useXet: false`) send:
 *
 *   POST /api/repos/create                              {name, organization, visibility?, type} → {url, name}; 409 if it exists
 *   POST /api/models/{ns}/{name}/preupload/{rev}        {files: [{path, size, sample}]} → {files: [{path, uploadMode}]}
 *   POST /{ns}/{name}.git/info/lfs/objects/batch        git-lfs batch: {operation, transfers, objects: [{oid, size}]}
 *                                                        → {transfer: "basic", objects: [{oid, size, actions?.upload.href}]}
 *   PUT  /lfs-storage/{oid}                             the object's bytes (no Authorization, like a signed S3 URL)
 *   POST /api/models/{ns}/{name}/commit/{rev}           NDJSON: header {summary, description}, then file (base64) and
 *                                                        lfsFile {path, algo, oid, size} lines → {commitOid, commitUrl}
 *
 * As the Hub does: every API call needs `Authorization: Bearer <token>` (401 otherwise); preupload sends a file to
 * LFS when .gitattributes would (*.safetensors, *.bin, …), when its sample holds a NUL byte (binary) or when it is
 * over 10 MB; LFS objects are checked against their sha256 oid and size, an object already stored gets no upload
 * action, and a commit naming an LFS object that was never uploaded is refused (422). Unknown repos → 404
 * RepoNotFound, unknown branches → 404 RevisionNotFound. `failNext` makes one matching request fail. Every
 * request is recorded with its headers and body.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  /** pathname + search */
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

export interface CreatedRepo {
  /** The JSON body of the create request. */
  request: Record<string, unknown>;
  /** branch → (path → bytes) */
  branches: Map<string, Map<string, Uint8Array>>;
}

export interface ReceivedCommit {
  repo: string;
  branch: string;
  summary: string;
  description: string | undefined;
  /** Files committed in this commit, by path, with how each arrived. */
  files: Map<string, { bytes: Uint8Array; via: "regular" | "lfs" }>;
}

export interface HubWriteServer {
  url: string;
  requests: RecordedRequest[];
  repos: Map<string, CreatedRepo>;
  commits: ReceivedCommit[];
  /** Uploaded LFS objects by sha256. */
  lfs: Map<string, Uint8Array>;
  /** The next request whose method and URL match answers `status` with `{error: message}`. */
  failNext(method: string, url: RegExp, status: number, message: string): void;
  close(): Promise<void>;
}

const LFS_PATTERNS = /\.(safetensors|bin|ckpt|pt|pth|onnx|h5|msgpack|npy|npz|pkl|zip|gz|tar)$/;
const LFS_SIZE = 10 * 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

export async function startHubWriteServer(token: string, existing: readonly string[] = []): Promise<HubWriteServer> {
  const requests: RecordedRequest[] = [];
  const repos = new Map<string, CreatedRepo>();
  const commits: ReceivedCommit[] = [];
  const lfs = new Map<string, Uint8Array>();
  const failures: Array<{ method: string; url: RegExp; status: number; message: string }> = [];
  let base = "";
  const newRepo = (request: Record<string, unknown>): CreatedRepo => ({ request, branches: new Map([["main", new Map()]]) });
  for (const id of existing) repos.set(id, newRepo({}));

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, status: number, message: string, code?: string) =>
    json(res, status, { error: message }, code ? { "X-Error-Code": code } : {});

  /** The repo and branch an API path names, or an error answer. */
  const target = (res: ServerResponse, id: string, branch: string) => {
    const repo = repos.get(id);
    if (!repo) return fail(res, 404, "Repository Not Found", "RepoNotFound");
    const files = repo.branches.get(branch);
    if (!files) return fail(res, 404, `Invalid rev id: ${branch}`, "RevisionNotFound");
    return files;
  };

  const create = (res: ServerResponse, body: Record<string, unknown>) => {
    const id = `${String(body.organization)}/${String(body.name)}`;
    if (repos.has(id)) return fail(res, 409, "You already created this model repo");
    repos.set(id, newRepo(body));
    json(res, 200, { url: `${base}/${id}`, name: id });
  };

  const preupload = (res: ServerResponse, id: string, branch: string, body: { files: Array<{ path: string; size: number; sample: string }> }) => {
    if (!target(res, id, branch)) return;
    const files = body.files.map((f) => {
      const binary = Buffer.from(f.sample, "base64").includes(0);
      return { path: f.path, uploadMode: LFS_PATTERNS.test(f.path) || binary || f.size > LFS_SIZE ? "lfs" : "regular", shouldIgnore: false };
    });
    json(res, 200, { files, commitOid: "0".repeat(40) });
  };

  const batch = (res: ServerResponse, id: string, body: { operation: string; objects: Array<{ oid: string; size: number }> }) => {
    if (!repos.has(id)) return fail(res, 404, "Repository not found", "RepoNotFound");
    if (body.operation !== "upload") return fail(res, 400, `operation ${body.operation} is not supported here`);
    const objects = body.objects.map(({ oid, size }) =>
      lfs.has(oid) ? { oid, size } : { oid, size, authenticated: true, actions: { upload: { href: `${base}/lfs-storage/${oid}`, expires_in: 3600 } } },
    );
    res.writeHead(200, { "Content-Type": "application/vnd.git-lfs+json" });
    res.end(JSON.stringify({ transfer: "basic", objects }));
  };

  const store = (res: ServerResponse, oid: string, body: Buffer) => {
    if (sha256(body) !== oid) return fail(res, 400, `content sha256 ${sha256(body)} does not match the object id ${oid}`);
    lfs.set(oid, new Uint8Array(body));
    res.writeHead(200, { ETag: `"${oid}"` });
    res.end();
  };

  const commit = (res: ServerResponse, id: string, branch: string, body: string) => {
    const files = target(res, id, branch);
    if (!files) return;
    const lines = body.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> });
    const [header, ...operations] = lines;
    if (header?.key !== "header") return fail(res, 400, "the first NDJSON line must be the header");
    const received: ReceivedCommit = {
      repo: id,
      branch,
      summary: String(header.value.summary),
      description: header.value.description === undefined ? undefined : String(header.value.description),
      files: new Map(),
    };
    for (const { key, value } of operations) {
      const path = String(value.path);
      if (key === "file") {
        const bytes = new Uint8Array(Buffer.from(String(value.content), value.encoding === "base64" ? "base64" : "utf8"));
        received.files.set(path, { bytes, via: "regular" });
      } else if (key === "lfsFile") {
        const bytes = lfs.get(String(value.oid));
        if (!bytes || bytes.length !== value.size) return fail(res, 422, `LFS object ${String(value.oid)} for ${path} was not uploaded`);
        received.files.set(path, { bytes, via: "lfs" });
      } else {
        return fail(res, 400, `unsupported commit operation ${key}`);
      }
    }
    for (const [path, { bytes }] of received.files) files.set(path, bytes);
    commits.push(received);
    const oid = createHash("sha1").update(body).digest("hex");
    json(res, 200, { success: true, commitOid: oid, commitUrl: `${base}/${id}/commit/${oid}`, hookOutput: "" });
  };

  const route = (req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer) => {
    const path = decodeURIComponent(url.pathname);
    const failure = failures.findIndex((f) => f.method === req.method && f.url.test(url.pathname));
    if (failure >= 0) {
      const [f] = failures.splice(failure, 1);
      return fail(res, f!.status, f!.message);
    }
    let m: RegExpExecArray | null;
    if (req.method === "PUT" && (m = /^\/lfs-storage\/([0-9a-f]{64})$/.exec(path))) return store(res, m[1]!, body);
    if (req.headers.authorization !== `Bearer ${token}`) return fail(res, 401, "Invalid username or password.");
    const parsed = () => JSON.parse(body.toString("utf8"));
    if (req.method === "POST" && path === "/api/repos/create") return create(res, parsed());
    if (req.method === "POST" && (m = /^\/api\/models\/([^/]+\/[^/]+)\/preupload\/(.+)$/.exec(path))) return preupload(res, m[1]!, m[2]!, parsed());
    if (req.method === "POST" && (m = /^\/api\/models\/([^/]+\/[^/]+)\/commit\/(.+)$/.exec(path))) return commit(res, m[1]!, m[2]!, body.toString("utf8"));
    if (req.method === "POST" && (m = /^\/([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/.exec(path))) return batch(res, m[1]!, parsed());
    fail(res, 404, `no route for ${req.method} ${url.pathname}`);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://hub.local");
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? "", url: url.pathname + url.search, authorization: req.headers.authorization, contentType: req.headers["content-type"], body });
      try {
        route(req, res, url, body);
      } catch (error) {
        fail(res, 400, `bad request: ${(error as Error).message}`);
      }
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    repos,
    commits,
    lfs,
    failNext: (method, url, status, message) => failures.push({ method, url, status, message }),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
