/**
 * CURVE on the Python wire with the project's key files: `alignprop keygen`'s key directories and allow-lists are
 * read by the Python trainer; a controller commands, an observer only watches, and a stranger gets nothing at all.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Subscriber } from "zeromq";
import { TrainerClient } from "../../src/bridge/client.js";
import { writeKeyPair, type KeyPair } from "../../src/bridge/curve.js";
import { companionEndpoints } from "../../src/bridge/endpoints.js";
import { RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { EventTap } from "../helpers/event-tap.js";
import { freePortTriple } from "../helpers/ports.js";
import { tempRuns } from "../helpers/runs.js";
import { spawnPythonDemo } from "./python-engine.js";

const runs = tempRuns();
const keys = mkdtempSync(join(tmpdir(), "alignprop-curve-py-"));
after(() => {
  runs.cleanup();
  rmSync(keys, { recursive: true, force: true });
});

test("over CURVE the Python trainer admits allowed controller and observer keys and starves a stranger", async () => {
  const server = writeKeyPair(join(keys, "server"));
  const controller = writeKeyPair(join(keys, "controller"));
  const observer = writeKeyPair(join(keys, "observer"));
  const stranger = writeKeyPair(join(keys, "stranger"));
  // Allow-lists as users write them: a key directory, and a file of keys with a comment.
  const observers = join(keys, "observers.txt");
  writeFileSync(observers, `# the team's laptops\n${observer.publicKey}\n`);
  const port = await freePortTriple();
  const control = `tcp://127.0.0.1:${port}`;
  const trainer = await spawnPythonDemo(
    runs,
    { num_epochs: "100000" },
    {
      endpoints: { control, ...companionEndpoints(control) },
      curve: { serverKeyDir: join(keys, "server"), allow: [join(keys, "controller")], allowObservers: [observers] },
      clientCurve: { serverPublicKey: server.publicKey, keys: controller },
    },
  );
  const as = (pair: KeyPair, observerMode = false) =>
    TrainerClient.connect(control, { curve: { serverPublicKey: server.publicKey, keys: pair }, observer: observerMode, timeoutMs: 1500 });

  const bossTap = new EventTap(trainer.client);
  await bossTap.untilStep(2);
  const watcher = await as(observer, true);
  const watchTap = new EventTap(watcher);
  await watchTap.untilStep(3);
  const refused = await watcher.pause();
  assert.equal(refused.ok, false);
  assert.match(refused.message, /read-only observer endpoint/);

  await assert.rejects(as(observer), /cannot attach.*allow-list/, "an observer key cannot use the control endpoint");
  await assert.rejects(as(stranger), /cannot attach.*allow-list/);
  await assert.rejects(as(stranger, true), /cannot attach.*allow-list/);

  const spy = new Subscriber({ curveServerKey: server.publicKey, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey, receiveTimeout: 300 });
  spy.subscribe();
  spy.connect(companionEndpoints(control).events);
  const seen = bossTap.metricsSteps().at(-1)!;
  await bossTap.untilStep(seen + 3);
  await watchTap.untilStep(seen + 3);
  // Absence can only be shown by waiting: the spy's subscription is refused, and a bounded receive finds nothing.
  await assert.rejects(spy.receive(), /timed out|EAGAIN|Resource temporarily unavailable/i);
  spy.close();

  assert.equal((await trainer.client.pause()).ok, true, "the controller commands");
  await bossTap.untilState(RunState.PAUSED);
  await watcher.close();
  assert.equal((await trainer.client.stop()).ok, true);
  await bossTap.untilState(RunState.DONE);
  const exit = await trainer.exit;
  assert.equal(exit.exitCode, 0, exit.stderrTail);
});

test("a Python trainer refuses a non-loopback bind without CURVE keys, naming the fix", async () => {
  const port = await freePortTriple();
  const control = `tcp://0.0.0.0:${port}`;
  await assert.rejects(
    spawnPythonDemo(runs, { num_epochs: "10" }, { endpoints: { control, ...companionEndpoints(control) } }),
    /not a loopback address: serving other hosts needs CURVE authentication/,
  );
});
