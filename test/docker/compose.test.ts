/**
 * No Docker engine runs here, so the GPU deployment is checked statically: the compose file's structure, that every
 * file it and the Dockerfiles reference exists, and that its ports, commands and healthchecks are ones the CLI
 * accepts. Both trainer images (TF.js on CUDA 11.2, PyTorch on CUDA 12) are held to the same assertions.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, posix, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { z } from "zod";
import { parseArgv } from "../../src/cli/args.js";
import { companionEndpoints } from "../../src/bridge/endpoints.js";
import { loadRunConfig } from "../../src/config/index.js";
import { PACKAGE_ROOT } from "../../src/models/embedded.js";
import { PYTHON_DIR, projectPython } from "../../src/python/env.js";
import { TORCH_TRAINER_MODULE } from "../../src/python/torch-trainer.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8"));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { bin: { alignprop: string } };

const Service = z.object({
  command: z.array(z.string()),
  ports: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  secrets: z.array(z.string()).optional(),
  profiles: z.array(z.string()).optional(),
  healthcheck: z.object({ test: z.array(z.string()), interval: z.string(), timeout: z.string(), retries: z.number() }).optional(),
});
const TrainerService = Service.extend({
  build: z.object({ context: z.string(), dockerfile: z.string() }),
  healthcheck: Service.shape.healthcheck.unwrap(),
  ports: z.array(z.string()),
  volumes: z.array(z.string()),
  secrets: z.array(z.string()),
  deploy: z.object({
    resources: z.object({
      reservations: z.object({
        devices: z.array(z.object({ driver: z.string(), count: z.union([z.number(), z.literal("all")]), capabilities: z.array(z.string()) })),
      }),
    }),
  }),
});
const Compose = z.object({
  services: z.object({ trainer: TrainerService, "trainer-torch": TrainerService, dashboard: Service }),
  secrets: z.record(z.string(), z.object({ file: z.string() })),
  volumes: z.record(z.string(), z.unknown()),
});
const c = Compose.parse(compose);

/** The two trainer images: the compose service, the engine its command selects, and its Dockerfile's text. */
const trainers = (
  [
    { name: "trainer", engine: "tfjs" },
    { name: "trainer-torch", engine: "torch" },
  ] as const
).map(({ name, engine }) => {
  const service = c.services[name];
  const dockerfilePath = join(root, service.build.context, service.build.dockerfile);
  return { name, engine, service, dockerfilePath, dockerfile: readFileSync(dockerfilePath, "utf8") };
});

/** The flags `train` itself takes in the compose commands; every other flag is a run-config field. */
const TRAIN_FLAGS = ["headless", "config", "bind", "server-key", "allow", "allow-observer"];
/** Compose's `${VAR:-default}` interpolation, with every variable unset. */
const interpolated = (arg: string) => arg.replace(/\$\{\w+:-([^}]*)\}/g, "$1");
function trainCommand(command: readonly string[]) {
  const [verb, ...args] = command.map(interpolated);
  assert.equal(verb, "train");
  const { flags, positionals } = parseArgv(args, new Set(["headless", "ci"]));
  assert.deepEqual(positionals, []);
  const overrides = Object.fromEntries(Object.entries(flags).filter(([k]) => !TRAIN_FLAGS.includes(k)));
  return { flags, overrides };
}
const portOf = (endpoint: string) => Number(/:(\d+)$/.exec(endpoint)![1]);
const copySources = (dockerfile: string) =>
  dockerfile
    .split("\n")
    .filter((l) => l.startsWith("COPY "))
    .flatMap((l) => l.slice(5).trim().split(/\s+/).slice(0, -1));

test("the compose file declares every secret and volume the services use, and the dashboard profile", () => {
  assert.deepEqual(c.services.dashboard.profiles, ["dashboard"]);
  for (const service of Object.values(c.services)) for (const s of service.secrets ?? []) assert.ok(c.secrets[s], `secret ${s} is declared`);
  for (const { service } of trainers) {
    const named = service.volumes.map((v) => v.split(":")[0]!).filter((v) => !v.startsWith("."));
    for (const v of named) assert.ok(v in c.volumes, `volume ${v} is declared`);
  }
});

for (const { name, engine, service, dockerfile, dockerfilePath } of trainers) {
  test(`${name}: a GPU reservation, runs and HF cache volumes, keys as secrets, a Dockerfile that exists`, () => {
    const [gpu] = service.deploy.resources.reservations.devices;
    assert.equal(gpu!.driver, "nvidia");
    assert.deepEqual(gpu!.capabilities, ["gpu"]);
    assert.ok(service.volumes.some((v) => v.startsWith("./runs:/app/runs")));
    const { flags, overrides } = trainCommand(service.command);
    const { config } = loadRunConfig({ file: join(root, String(flags.config)), overrides: overrides as Record<string, string | boolean> });
    const logdir = posix.join(/^WORKDIR (\S+)$/m.exec(dockerfile)![1]!, config.logdir); // where the CLI runs in the image
    assert.ok(service.volumes.some((v) => v.split(":")[1] === logdir), `the tracker's logdir ${logdir} is on a host volume`);
    assert.match(dockerfile, new RegExp(`^VOLUME \\[.*"${logdir}".*\\]$`, "m"));
    assert.ok(service.volumes.some((v) => v.startsWith("hf-cache:/hf-cache")));
    assert.equal(service.environment!.HF_HOME, "/hf-cache");
    assert.deepEqual(service.secrets, ["server_key", "health_key"]);
    assert.ok(existsSync(dockerfilePath));
  });

  test(`${name}: its command parses with the CLI's parser and config loader (engine ${engine}) and binds with CURVE`, () => {
    const { flags, overrides } = trainCommand(service.command);
    assert.equal(flags.headless, true);
    const { config } = loadRunConfig({ file: join(root, String(flags.config)), overrides: overrides as Record<string, string | boolean> });
    assert.equal(config.engine, engine);
    assert.equal(flags["server-key"], "/run/secrets/server_key", "the server key comes from a secret");
    assert.ok(flags.allow && flags["allow-observer"]);
  });

  test(`${name}: the published ports are the bind and its companion endpoints, and the image exposes them`, () => {
    const bind = String(trainCommand(service.command).flags.bind);
    const inside = [bind, companionEndpoints(bind).events, companionEndpoints(bind).observe].map(portOf);
    assert.deepEqual(inside, [inside[0], inside[0]! + 1, inside[0]! + 2]);
    const published = service.ports.map((p) => p.split(":").map(Number) as [number, number]);
    assert.deepEqual(
      published.map(([, container]) => container),
      inside,
    );
    const hostBase = published[0]![0];
    assert.deepEqual(
      published.map(([host]) => host),
      [hostBase, hostBase + 1, hostBase + 2],
    );
    assert.match(dockerfile, new RegExp(`^EXPOSE ${inside.join(" ")}$`, "m"));
  });

  test(`${name}: the healthcheck pings the bind with an observer key through the CLI the image runs`, () => {
    const [cmd, node, main, verb, endpoint, ...rest] = service.healthcheck.test;
    assert.deepEqual([cmd, node, main, verb], ["CMD", "node", pkg.bin.alignprop, "ping"]);
    assert.equal(endpoint, String(trainCommand(service.command).flags.bind).replace("0.0.0.0", "127.0.0.1"));
    const health = parseArgv(rest, new Set(["observer"])).flags;
    assert.equal(health.observer, true);
    assert.equal(health["server-public"], "/run/secrets/server_key/public.key");
    assert.equal(health["client-key"], "/run/secrets/health_key");
  });

  test(`${name}: the Dockerfile installs Node 22, copies files that exist and enters through the CLI`, () => {
    assert.match(dockerfile, /setup_22\.x/);
    for (const s of copySources(dockerfile)) assert.ok(existsSync(join(root, s)), `COPY source ${s} exists`);
    const entry = /ENTRYPOINT \["node", "([^"]+)"\]/.exec(dockerfile)![1];
    assert.equal(entry, pkg.bin.alignprop);
    assert.match(dockerfile, /npm ci .*\n.*npm run build/);
  });

  test(`${name}: the image holds everything the compose default run reads`, () => {
    const copied = copySources(dockerfile).map((s) => s.replace(/\/$/, ""));
    const { flags, overrides } = trainCommand(service.command);
    const config = String(flags.config);
    const { config: run } = loadRunConfig({ file: join(root, config), overrides: overrides as Record<string, string | boolean> });
    const needed = [config, join("models", run.model, "model_index.json")];
    if (engine === "torch") {
      const python = relative(PACKAGE_ROOT, PYTHON_DIR);
      needed.push(join(python, ...TORCH_TRAINER_MODULE.split("."), "__main__.py"), join(python, "requirements.lock"));
    }
    for (const file of needed) {
      assert.ok(existsSync(join(root, file)), `${file} exists`);
      assert.ok(copied.some((source) => file === source || file.startsWith(`${source}/`)), `${file} is copied into the image`);
    }
  });
}

const [tfjs, torch] = trainers;

test("trainer-torch passes the host's W&B key and mode through and keeps W&B's files under the logs volume", () => {
  const env = torch!.service.environment!;
  assert.equal(interpolated(env.WANDB_API_KEY!), "", "empty unless the host sets it");
  assert.match(env.WANDB_API_KEY!, /^\$\{WANDB_API_KEY:-\}$/);
  assert.match(env.WANDB_MODE!, /^\$\{WANDB_MODE:-\}$/);
  assert.ok(torch!.service.volumes.some((v) => v.split(":")[1] === env.WANDB_DIR), `WANDB_DIR ${env.WANDB_DIR} is on a host volume`);
});

test("trainer and trainer-torch can run side by side: no host port in common", () => {
  const hostPorts = trainers.flatMap(({ service }) => service.ports.map((p) => Number(p.split(":")[0])));
  assert.equal(new Set(hostPorts).size, hostPorts.length, hostPorts.join(","));
  assert.deepEqual(torch!.service.profiles, ["torch"], "the torch trainer starts only when asked for");
});

test("the TF.js image builds on CUDA 11.2 + cuDNN 8 and installs tfjs-node-gpu", () => {
  assert.match(tfjs!.dockerfile, /^FROM nvidia\/cuda:11\.2\.\d+-cudnn8-runtime/m);
  assert.match(tfjs!.dockerfile, /@tensorflow\/tfjs-node-gpu@4\.22\.0/);
  assert.match(tfjs!.dockerfile, /ENV TF_FORCE_GPU_ALLOW_GROWTH=true/);
  assert.equal(tfjs!.service.environment!.TF_FORCE_GPU_ALLOW_GROWTH, "true");
});

test("the torch image: a CUDA 12 PyTorch runtime whose torch satisfies what the lock's libraries require, takes all GPUs", () => {
  const from = /^FROM pytorch\/pytorch:(\d+\.\d+\.\d+)-cuda(12\.\d+)-cudnn9-runtime$/m.exec(torch!.dockerfile);
  assert.ok(from, "FROM pytorch/pytorch:<torch>-cuda12.<n>-cudnn9-runtime");
  const imageTorch = from[1]!;
  // The libraries' own torch requirements, read from their installed metadata (the lock's versions) by packaging.
  const check = spawnSync(
    projectPython(),
    [
      "-c",
      [
        "import sys, importlib.metadata as m",
        "from packaging.requirements import Requirement",
        "bad = []",
        "for dist in ('diffusers', 'transformers', 'peft', 'accelerate'):",
        "    for r in map(Requirement, m.requires(dist) or []):",
        "        if r.name == 'torch' and (r.marker is None or r.marker.evaluate({'extra': 'torch'})):",
        "            print(dist, m.version(dist), r.specifier)",
        "            if not r.specifier.contains(sys.argv[1]): bad.append(dist)",
        "sys.exit(', '.join(bad) or None)",
      ].join("\n"),
      imageTorch,
    ],
    { encoding: "utf8" },
  );
  assert.equal(check.status, 0, `torch ${imageTorch} does not satisfy: ${check.stderr}`);
  assert.match(check.stdout, /accelerate 1\.16\.0 >=2\.6\.0/, check.stdout);
  assert.equal(torch!.service.deploy.resources.reservations.devices[0]!.count, "all");
});

test("the torch image installs python/requirements.lock minus torch into the Python the CLI spawns", () => {
  const dockerfile = torch!.dockerfile;
  const python = /^ENV ALIGNPROP_PYTHON=(\/\S+)$/m.exec(dockerfile);
  assert.ok(python, "ALIGNPROP_PYTHON names the image's interpreter (absolute), so the CLI needs no .venv");
  const filter = /grep -v '([^']+)' (\S+) > (\S+)/.exec(dockerfile);
  assert.ok(filter, "the lock is filtered with grep -v");
  const [, pattern, lock, filtered] = filter;
  assert.equal(lock, join(relative(PACKAGE_ROOT, PYTHON_DIR), "requirements.lock"));
  const lines = readFileSync(join(root, lock!), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
  const dropped = lines.filter((l) => new RegExp(pattern!).test(l));
  assert.deepEqual(dropped.map((l) => l.split("==")[0]), ["torch"], "only torch is left out of the lock");
  assert.ok(lines.some((l) => l === "diffusers==0.42.1"));
  const install = new RegExp(`"\\$ALIGNPROP_PYTHON" -m pip install .*-r ${filtered!.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} -c (\\S+)`).exec(dockerfile);
  assert.ok(install, "the filtered lock is installed with the image's torch as a constraint");
  assert.match(dockerfile, new RegExp(`torch==" \\+ torch\\.__version__\\)' > ${install[1]!.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
});
