/**
 * No Docker engine runs here, so the GPU deployment is checked statically: the compose file's structure, that every
 * file it and the Dockerfile reference exists, and that its ports, commands and healthcheck are ones the CLI accepts.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { z } from "zod";
import { parseArgv } from "../../src/cli/args.js";
import { companionEndpoints } from "../../src/bridge/endpoints.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8"));
const dockerfile = readFileSync(join(root, "docker/trainer.Dockerfile"), "utf8");

const Service = z.object({
  command: z.array(z.string()),
  ports: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  secrets: z.array(z.string()).optional(),
  profiles: z.array(z.string()).optional(),
  healthcheck: z.object({ test: z.array(z.string()), interval: z.string(), timeout: z.string(), retries: z.number() }).optional(),
});
const Compose = z.object({
  services: z.object({ trainer: Service.extend({ build: z.object({ context: z.string(), dockerfile: z.string() }) }), dashboard: Service }),
  secrets: z.record(z.string(), z.object({ file: z.string() })),
  volumes: z.record(z.string(), z.unknown()),
});

test("the compose file has the trainer with a GPU reservation, growth env, volumes, secrets and a dashboard profile", () => {
  const c = Compose.parse(compose);
  const trainer = compose.services.trainer;
  assert.deepEqual(trainer.deploy.resources.reservations.devices[0].capabilities, ["gpu"]);
  assert.equal(trainer.deploy.resources.reservations.devices[0].driver, "nvidia");
  assert.equal(c.services.trainer.environment!.TF_FORCE_GPU_ALLOW_GROWTH, "true");
  assert.ok(c.services.trainer.volumes!.some((v) => v.startsWith("./runs:/app/runs")));
  assert.ok(c.services.trainer.volumes!.some((v) => v.startsWith("hf-cache:")));
  assert.deepEqual(c.services.dashboard.profiles, ["dashboard"]);
  assert.ok(existsSync(join(root, c.services.trainer.build.context, c.services.trainer.build.dockerfile)));
  for (const s of [...(c.services.trainer.secrets ?? []), ...(c.services.dashboard.secrets ?? [])]) assert.ok(c.secrets[s], `secret ${s} is declared`);
});

test("the trainer command binds the published ports with CURVE, as the CLI requires for a non-loopback bind", () => {
  const c = Compose.parse(compose);
  const [command, ...args] = c.services.trainer.command;
  assert.equal(command, "train");
  const { flags } = parseArgv(args, new Set(["headless", "ci"]));
  assert.equal(flags.headless, true);
  assert.ok(existsSync(join(root, String(flags.config))), `${flags.config} exists in the image`);
  const bind = String(flags.bind);
  const port = Number(/:(\d+)$/.exec(bind)![1]);
  const ports = [bind, companionEndpoints(bind).events, companionEndpoints(bind).observe].map((e) => Number(/:(\d+)$/.exec(e)![1]));
  assert.deepEqual(ports, [port, port + 1, port + 2]);
  assert.deepEqual(c.services.trainer.ports, ports.map((p) => `${p}:${p}`));
  assert.equal(flags["server-key"], "/run/secrets/server_key", "the server key comes from a secret");
  assert.ok(flags.allow && flags["allow-observer"]);
  assert.match(dockerfile, new RegExp(`EXPOSE ${ports.join(" ")}`));
});

test("the healthcheck and the dashboard use the CLI with the same endpoint and an observer key", () => {
  const c = Compose.parse(compose);
  const [cmd, node, main, verb, endpoint, ...rest] = c.services.trainer.healthcheck!.test;
  assert.deepEqual([cmd, node, main, verb], ["CMD", "node", "dist/src/cli/main.js", "ping"]);
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  assert.equal(main, pkg.bin.alignprop, "the healthcheck runs the CLI the package builds");
  const bind = String(parseArgv(c.services.trainer.command.slice(1), new Set(["headless"])).flags.bind);
  assert.equal(endpoint, bind.replace("0.0.0.0", "127.0.0.1"));
  const health = parseArgv(rest, new Set(["observer"])).flags;
  assert.equal(health.observer, true);
  assert.equal(health["server-public"], "/run/secrets/server_key/public.key");
  const [verb2, endpoint2, ...rest2] = c.services.dashboard.command;
  assert.deepEqual([verb2, endpoint2], ["attach", endpoint]);
  assert.equal(parseArgv(rest2, new Set(["observer"])).flags.observer, true);
});

test("the Dockerfile builds on CUDA 11.2 + cuDNN 8 with Node 22, copies files that exist, and installs tfjs-node-gpu", () => {
  assert.match(dockerfile, /^FROM nvidia\/cuda:11\.2\.\d+-cudnn8-runtime/m);
  assert.match(dockerfile, /setup_22\.x/);
  assert.match(dockerfile, /@tensorflow\/tfjs-node-gpu@4\.22\.0/);
  assert.match(dockerfile, /ENV TF_FORCE_GPU_ALLOW_GROWTH=true/);
  for (const line of dockerfile.split("\n").filter((l) => l.startsWith("COPY "))) {
    const sources = line.slice(5).trim().split(/\s+/).slice(0, -1);
    for (const s of sources) assert.ok(existsSync(join(root, s)), `COPY source ${s} exists`);
  }
  const entry = /ENTRYPOINT \["node", "([^"]+)"\]/.exec(dockerfile)![1];
  assert.equal(entry, JSON.parse(readFileSync(join(root, "package.json"), "utf8")).bin.alignprop);
});

test("the image holds everything the compose default run reads: its config and the embedded pipeline", () => {
  const copied = dockerfile
    .split("\n")
    .filter((l) => l.startsWith("COPY "))
    .flatMap((l) => l.slice(5).trim().split(/\s+/).slice(0, -1));
  const c = Compose.parse(compose);
  const config = c.services.trainer.command[c.services.trainer.command.indexOf("--config") + 1]!;
  const model = (JSON.parse(readFileSync(join(root, config), "utf8")) as { model?: string }).model ?? "tiny-shapes";
  for (const needed of [config, join("models", model, "model_index.json")]) {
    assert.ok(copied.some((source) => needed === source || needed.startsWith(`${source.replace(/\/$/, "")}/`)), `${needed} is copied into the image`);
  }
});
