/**
 * Hub downloads against a local server: file choice, token, revision, the Hugging Face cache layout and its reuse,
 * offline mode, resuming, errors.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { homedir, hostname, tmpdir } from "node:os";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { withFileLock } from "../../src/io/file-lock.js";
import { hubCacheDir } from "../../src/io/hub-cache.js";
import { stateDict } from "../../src/models/nn/state-dict.js";
import { disposePipeline, loadPipeline, resolvePipeline } from "../../src/models/pipeline.js";
import { startHubServer, type HubServer, type RepoContents } from "./hub-server.js";
import { NEEDED, REPO, tinyRepo, UNET } from "./tiny-repo.js";

const TOKEN = "hf_localtesttoken";

let root: string;
let contents: RepoContents;
/** conv_in.weight of the v1 pipeline's UNet, to tell revisions apart. */
let v1ConvIn: Float32Array;

before(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "alignprop-hub-"));
  const repo = await tinyRepo(root);
  contents = repo.contents;
  v1ConvIn = repo.convIn.v1!;
});
after(() => rm(root, { recursive: true, force: true }));

let serial = 0;
/** A fresh server and cache folder. */
async function setup(token?: string): Promise<{ server: HubServer; cacheDir: string }> {
  return { server: await startHubServer(REPO, contents, token), cacheDir: join(root, `cache-${serial++}`) };
}

/** The repo paths fetched from `revision`'s commit (files are always fetched by commit, so a moving branch cannot mix). */
const resolvedPaths = (server: HubServer, revision: string) => {
  const prefix = `/${REPO}/resolve/${server.commits[revision]}/`;
  return [...new Set(server.requests.filter((r) => r.url.startsWith(prefix)).map((r) => r.url.slice(prefix.length)))].sort();
};
const repoFolder = (cacheDir: string) => join(cacheDir, "models--alignprop-test--tiny-sd");
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const gitOid = (bytes: Uint8Array) => createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");

test("a repo id downloads only the pipeline's files of the asked revision, sending the token on every request", async () => {
  const { server, cacheDir } = await setup(TOKEN);
  try {
    const pipeline = await loadPipeline(REPO, { endpoint: server.url, cacheDir, token: TOKEN, revision: "v1" });
    assert.deepEqual(stateDict(pipeline.unet)["conv_in.weight"]!.data, v1ConvIn, "the v1 weights, not main's");
    disposePipeline(pipeline);
    assert.ok(server.requests.length > 0);
    assert.ok(server.requests.every((r) => r.authorization === `Bearer ${TOKEN}`), "every request carries the token");
    assert.ok(server.requests.some((r) => r.url.startsWith(`/api/models/${REPO}/revision/v1?`)));
    assert.ok(server.requests.some((r) => r.url.startsWith(`/api/models/${REPO}/tree/${server.commits.v1}?recursive=true`)));
    assert.deepEqual(resolvedPaths(server, "v1"), NEEDED);
    assert.deepEqual(resolvedPaths(server, "main"), []);
  } finally {
    await server.close();
  }
});

test("the cache has huggingface_hub's layout: refs/<revision>, snapshots/<commit>/<path> linked to blobs/<sha256 or git sha1>", async () => {
  const { server, cacheDir } = await setup();
  try {
    const dir = await resolvePipeline(REPO, { endpoint: server.url, cacheDir, revision: "v1" });
    const folder = repoFolder(cacheDir);
    assert.equal(dir, join(folder, "snapshots", server.commits.v1!));
    assert.equal(await readFile(join(folder, "refs", "v1"), "utf8"), server.commits.v1);
    assert.deepEqual(await readdir(join(folder, "refs")), ["v1"]);
    const lfs = contents.v1![UNET]!;
    const plain = contents.v1!["unet/config.json"]!;
    assert.equal(await readlink(join(dir, UNET)), join("..", "..", "..", "blobs", sha256(lfs)));
    assert.equal(await readlink(join(dir, "model_index.json")), join("..", "..", "blobs", gitOid(contents.v1!["model_index.json"]!)));
    assert.deepEqual(await readFile(join(dir, UNET)), Buffer.from(lfs));
    assert.deepEqual(await readFile(join(folder, "blobs", gitOid(plain))), Buffer.from(plain));
    assert.equal((await readdir(join(folder, "blobs"))).length, NEEDED.length);
    assert.match(await readFile(join(cacheDir, "CACHEDIR.TAG"), "utf8"), /^Signature: 8a477f597d28d172789f06886806bc55\n/);
  } finally {
    await server.close();
  }
});

test("a second load downloads nothing; with the server gone, offline mode and a failed connection both use the cache", async () => {
  const { server, cacheDir } = await setup();
  const opts = { endpoint: server.url, cacheDir };
  const dir = await resolvePipeline(REPO, opts);
  const downloads = server.requests.length;
  assert.equal(await resolvePipeline(REPO, opts), dir);
  assert.deepEqual(
    server.requests.slice(downloads).map((r) => r.url.split("?")[0]),
    [`/api/models/${REPO}/revision/main`, `/api/models/${REPO}/tree/${server.commits.main}`],
    "the branch is resolved to its commit and listed, nothing fetched",
  );
  const before = server.requests.length;
  assert.equal(await resolvePipeline(REPO, { ...opts, revision: server.commits.main }), dir);
  assert.equal(server.requests.length, before, "a cached commit needs no request");
  await server.close();

  const lines: string[] = [];
  assert.equal(await resolvePipeline(REPO, { ...opts, offline: true, log: (l) => lines.push(l) }), dir);
  assert.equal(await resolvePipeline(REPO, { ...opts, log: (l) => lines.push(l) }), dir);
  assert.match(lines[0]!, /^offline mode: using the cached alignprop-test\/tiny-sd@main from /);
  assert.match(lines[1]!, /^cannot reach http:\/\/127\.0\.0\.1:\d+ \(fetch failed: .*ECONNREFUSED.*\): using the cached alignprop-test\/tiny-sd@main/);
  const pipeline = await loadPipeline(REPO, { ...opts, offline: true });
  disposePipeline(pipeline);

  await assert.rejects(resolvePipeline(REPO, { ...opts, offline: true, revision: "v1" }), /offline mode: alignprop-test\/tiny-sd@v1 is not in the cache .*models--alignprop-test--tiny-sd; download it once online \(without HF_HUB_OFFLINE\)/);
  await rm(join(dir, "vae/config.json"));
  await assert.rejects(resolvePipeline(REPO, { ...opts, offline: true }), /offline mode: the cached alignprop-test\/tiny-sd@main in .* is incomplete \(the pipeline lacks vae\/config\.json\)/);
});

test("an uncached repo while the Hub is unreachable: the error says network or cache, and how to fix either", async () => {
  const { server, cacheDir } = await setup();
  await server.close();
  await assert.rejects(
    resolvePipeline(REPO, { endpoint: server.url, cacheDir }),
    new RegExp(
      `^Error: cannot reach http://127\\.0\\.0\\.1:\\d+ \\(fetch failed: connect ECONNREFUSED [^)]*\\): alignprop-test/tiny-sd@main is not in the cache ${cacheDir}/models--alignprop-test--tiny-sd; ` +
        `connect to the network \\(or set HF_ENDPOINT to a reachable Hub\\) to download it once into ${cacheDir}, or pass a local folder$`,
    ),
  );
});

test("a download cut mid-file is completed by a Range request for the rest", async () => {
  const { server, cacheDir } = await setup();
  try {
    server.dropOnce(UNET, 100_000);
    const lines: string[] = [];
    const dir = await resolvePipeline(REPO, { endpoint: server.url, cacheDir, log: (l) => lines.push(l) });
    assert.deepEqual(await readFile(join(dir, UNET)), Buffer.from(contents.main![UNET]!));
    const ranges = server.requests.filter((r) => r.url.endsWith(UNET) && r.range && r.range !== "bytes=0-0").map((r) => r.range);
    assert.equal(ranges.length, 1);
    const resumedAt = Number(/^bytes=(\d+)-/.exec(ranges[0]!)![1]);
    assert.ok(resumedAt > 0 && resumedAt <= 100_000, `resumed at byte ${resumedAt}`);
    assert.ok(lines.some((l) => l.startsWith(`download of ${UNET} interrupted`)));
    assert.ok(lines.some((l) => l === `resuming ${UNET} at byte ${resumedAt} of ${contents.main![UNET]!.length}`));
  } finally {
    await server.close();
  }
});

test("an interrupted run leaves a partial file that the next run resumes; completed files are not fetched again", async () => {
  const { server, cacheDir } = await setup();
  try {
    server.dropOnce(UNET, 50_000);
    const opts = { endpoint: server.url, cacheDir, retries: 0 };
    await assert.rejects(resolvePipeline(REPO, opts), new RegExp(`cannot download ${UNET} from ${REPO}@${server.commits.main} \\(http://127\\.0\\.0\\.1:\\d+\\)`));
    const blobs = join(repoFolder(cacheDir), "blobs");
    const partial = join(blobs, `${sha256(contents.main![UNET]!)}.incomplete`);
    const have = (await stat(partial)).size;
    assert.ok(have > 0, "the partial file is kept beside the blobs");
    const before = server.requests.length;
    const dir = await resolvePipeline(REPO, opts);
    const second = server.requests.slice(before).filter((r) => r.url.includes("/resolve/"));
    const fetched = new Set(second.map((r) => r.url.split(`/resolve/${server.commits.main}/`)[1]));
    assert.ok(!fetched.has("model_index.json") && !fetched.has("unet/config.json"), "files completed before the cut are kept");
    assert.ok(second.some((r) => r.url.endsWith(UNET) && r.range === `bytes=${have}-${contents.main![UNET]!.length - 1}`));
    assert.deepEqual(await readFile(join(dir, UNET)), Buffer.from(contents.main![UNET]!));
    assert.ok(!(await readdir(blobs)).some((n) => n.endsWith(".incomplete")));
  } finally {
    await server.close();
  }
});

test("the cache root follows huggingface_hub: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME, ~/.cache", () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: "/a", HUGGINGFACE_HUB_CACHE: "/b", HF_HOME: "/c" }), "/a");
  assert.equal(hubCacheDir({ HUGGINGFACE_HUB_CACHE: "/b", HF_HOME: "/c" }), "/b");
  assert.equal(hubCacheDir({ HF_HOME: "/c", XDG_CACHE_HOME: "/x" }), "/c/hub");
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: "/x" }), "/x/huggingface/hub");
  assert.equal(hubCacheDir({}), join(homedir(), ".cache", "huggingface", "hub"));
  assert.equal(hubCacheDir({ HF_HOME: "~/hf" }), join(homedir(), "hf", "hub"), "~ is expanded");
  assert.equal(hubCacheDir({ HF_HUB_CACHE: "$DATA/${WHO}/hub", DATA: "/data", WHO: "me" }), "/data/me/hub", "$VAR is expanded");
});

test("HF_ENDPOINT, HF_TOKEN, HF_HOME and HF_HUB_OFFLINE are honoured", async () => {
  const { server } = await setup(TOKEN);
  const saved = { ...process.env };
  try {
    for (const name of ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"]) delete process.env[name];
    Object.assign(process.env, { HF_ENDPOINT: server.url, HF_TOKEN: TOKEN, HF_HOME: join(root, "hf-home") });
    const dir = await resolvePipeline(REPO);
    assert.equal(dir, join(root, "hf-home", "hub", "models--alignprop-test--tiny-sd", "snapshots", server.commits.main!));
    assert.ok(server.requests.every((r) => r.authorization === `Bearer ${TOKEN}`));
    process.env.HF_HUB_OFFLINE = "1";
    const count = server.requests.length;
    assert.equal(await resolvePipeline(REPO), dir);
    assert.equal(server.requests.length, count, "offline: no request at all");
  } finally {
    process.env = saved;
    await server.close();
  }
});

test("variant fp16 fetches the .fp16 weights where the repo has them", async () => {
  const { server, cacheDir } = await setup();
  try {
    await resolvePipeline(REPO, { endpoint: server.url, cacheDir, variant: "fp16" });
    const paths = resolvedPaths(server, "main");
    assert.ok(paths.includes("unet/diffusion_pytorch_model.fp16.safetensors") && !paths.includes(UNET));
    assert.ok(paths.includes("vae/diffusion_pytorch_model.safetensors"), "components without the variant keep their plain weights");
  } finally {
    await server.close();
  }
});

test("errors name the problem: no token for a gated repo, unknown revision, not a pipeline, a malformed token", async () => {
  const { server, cacheDir } = await setup(TOKEN);
  try {
    const opts = { endpoint: server.url, cacheDir };
    await assert.rejects(resolvePipeline(REPO, opts), new RegExp(`cannot list ${REPO}@main on http://127\\.0\\.0\\.1:\\d+: Access to model ${REPO} is restricted`));
    await assert.rejects(resolvePipeline(REPO, { ...opts, token: TOKEN, revision: "v9" }), /cannot list .*@v9 .*Invalid rev id: v9/);
    await assert.rejects(resolvePipeline("someone/else", { ...opts, token: TOKEN }), /cannot list someone\/else@main .*Repository not found/);
    await assert.rejects(resolvePipeline(REPO, { ...opts, token: "secret" }), /the Hub token from the token option must start with "hf_"/);
    await assert.rejects(resolvePipeline(REPO, { ...opts, revision: "../x" }), /revision="\.\.\/x" is not a branch, tag or commit name/);
  } finally {
    await server.close();
  }
  const bare = await startHubServer(REPO, { main: { "README.md": new TextEncoder().encode("no pipeline") } });
  try {
    await assert.rejects(resolvePipeline(REPO, { endpoint: bare.url, cacheDir }), /alignprop-test\/tiny-sd@main: no model_index\.json: it is not a diffusers pipeline/);
  } finally {
    await bare.close();
  }
});

test("two processes fetching the same uncached repo: the second waits for the first's download, then finds it whole", async () => {
  const { server, cacheDir } = await setup();
  const release = server.hold(UNET, 50_000);
  let second: ChildProcessWithoutNullStreams | undefined;
  try {
    let downloading!: () => void;
    const started = new Promise<void>((resolve) => (downloading = resolve));
    const first = resolvePipeline(REPO, { endpoint: server.url, cacheDir, log: (l) => l.startsWith(`downloading ${UNET}`) && downloading() });
    await started; // the first holds the UNet's lock and half its bytes
    const pipeline = new URL("../../src/models/pipeline.js", import.meta.url).href;
    const script = `const { resolvePipeline } = await import(${JSON.stringify(pipeline)});
      const dir = await resolvePipeline(${JSON.stringify(REPO)}, { endpoint: ${JSON.stringify(server.url)}, cacheDir: ${JSON.stringify(cacheDir)}, log: (l) => console.log(l) });
      console.log("resolved " + dir);`;
    second = spawn(process.execPath, ["--input-type=module", "-e", script]);
    const lines: string[] = [];
    let waiting!: () => void;
    const waits = new Promise<void>((resolve) => (waiting = resolve));
    createInterface({ input: second.stdout }).on("line", (l) => {
      lines.push(l);
      if (l.startsWith("waiting for process")) waiting();
    });
    const exited = new Promise<number | null>((resolve) => second!.on("exit", resolve));
    await Promise.race([waits, exited.then(() => assert.fail(`the second process ended without waiting: ${lines.join(" | ")}`))]);
    assert.match(lines.at(-1)!, new RegExp(`^waiting for process ${process.pid} on .+, which is downloading ${UNET} into `));
    release();
    const dir = await first;
    assert.equal(await exited, 0, lines.join(" | "));
    assert.equal(lines.at(-1), `resolved ${dir}`);
    assert.deepEqual(await readFile(join(dir, UNET)), Buffer.from(contents.main![UNET]!));
    const bodies = server.requests.filter((r) => r.method === "GET" && r.url.endsWith(UNET) && r.range !== "bytes=0-0");
    assert.equal(bodies.length, 1, `one transfer of the UNet, not a second writer: ${JSON.stringify(bodies)}`);
    assert.ok(!lines.some((l) => l.startsWith(`resuming ${UNET}`) || l.startsWith(`downloading ${UNET}`)));
    const locks = join(cacheDir, ".locks", "models--alignprop-test--tiny-sd");
    assert.deepEqual(await readdir(locks), [], "the locks are gone");
  } finally {
    release();
    second?.kill();
    await server.close();
  }
});

test("a lock left by a process that is gone is taken over", async () => {
  const dir = await mkdtemp(join(tmpdir(), "alignprop-lock-"));
  try {
    const lock = join(dir, "blob.alignprop.lock");
    const gone = spawn(process.execPath, ["-e", ""]);
    const pid = await new Promise<number>((resolve) => gone.on("exit", () => resolve(gone.pid!)));
    await writeFile(lock, JSON.stringify({ pid, host: hostname() }));
    const waited: string[] = [];
    assert.equal(await withFileLock(lock, (h) => waited.push(h), async () => "ran"), "ran");
    assert.deepEqual(waited, [], "a dead holder is not waited for");
    await assert.rejects(stat(lock), /ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
