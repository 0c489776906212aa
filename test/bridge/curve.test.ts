/**
 * CURVE security over real sockets: only allowed keys connect; observers read but cannot command; strangers get
 * nothing at all.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Subscriber, curveKeyPair } from "zeromq";
import { TrainerClient } from "../../src/bridge/client.js";
import { isZ85Key, readAllowList, readKeyPair, readPublicKey, writeKeyPair, z85Decode, z85Encode } from "../../src/bridge/curve.js";
import { companionEndpoints } from "../../src/bridge/endpoints.js";
import { TrainerServer, type RunCommand } from "../../src/bridge/server.js";
import { LogLevel, LogSchema, RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { create } from "@bufbuild/protobuf";
import { EventTap } from "../helpers/event-tap.js";
import { freePortTriple } from "../helpers/ports.js";

const dir = mkdtempSync(join(tmpdir(), "alignprop-curve-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("Z85 keys decode to 32 bytes and encode back to the same text", () => {
  const { publicKey, secretKey } = curveKeyPair();
  for (const key of [publicKey, secretKey]) {
    assert.ok(isZ85Key(key));
    assert.equal(z85Decode(key).length, 32);
    assert.equal(z85Encode(z85Decode(key)), key);
  }
  assert.throws(() => z85Decode("too short"), /not a 40-character Z85 CURVE key/);
});

test("keygen writes public.key and a 0600 secret.key, and refuses to overwrite the secret", () => {
  const keys = join(dir, "kg");
  const pair = writeKeyPair(keys);
  assert.equal(statSync(pair.secretPath).mode & 0o777, 0o600);
  assert.deepEqual(readKeyPair(keys), { publicKey: pair.publicKey, secretKey: pair.secretKey });
  assert.equal(readPublicKey(keys), pair.publicKey);
  assert.equal(readPublicKey(pair.publicPath), pair.publicKey);
  assert.throws(() => writeKeyPair(keys), /secret\.key already exists/);
});

test("a secret key readable by others is refused with the fix", () => {
  const keys = join(dir, "loose");
  const pair = writeKeyPair(keys);
  chmodSync(pair.secretPath, 0o644);
  assert.throws(() => readKeyPair(keys), /readable by other users \(mode 644\); chmod 600 it/);
});

test("an allow-list reads key files and directories of *.key files, and names a bad key", () => {
  const a = writeKeyPair(join(dir, "allow-a"));
  const b = writeKeyPair(join(dir, "allow-b"));
  const file = join(dir, "clients.txt");
  writeFileSync(file, `# laptop\n${b.publicKey}\n\n`);
  assert.deepEqual(readAllowList([join(dir, "allow-a"), file]).sort(), [a.publicKey, b.publicKey].sort());
  writeFileSync(join(dir, "bad.txt"), "not-a-key\n");
  assert.throws(() => readAllowList([join(dir, "bad.txt")]), /bad\.txt: "not-a-key" is not a 40-character Z85 CURVE key/);
});

test("over CURVE, a controller commands, an observer only watches, and a stranger gets nothing", async () => {
  const server = curveKeyPair();
  const controller = curveKeyPair();
  const observer = curveKeyPair();
  const stranger = curveKeyPair();
  const port = await freePortTriple();
  const control = `tcp://127.0.0.1:${port}`;
  const handled: RunCommand[] = [];
  const trainer = await TrainerServer.bind({
    control,
    ...companionEndpoints(control),
    runId: "curve-run",
    configJson: "{}",
    agent: "test",
    curve: { keys: server, policy: { controllers: [controller.publicKey], observers: [observer.publicKey] } },
    handle: async (command) => {
      handled.push(command);
      return { ok: true, message: command, state: RunState.RUNNING };
    },
  });
  const as = (keys: typeof server, observerMode = false) =>
    TrainerClient.connect(control, { curve: { serverPublicKey: server.publicKey, keys }, observer: observerMode, timeoutMs: 1500 });
  try {
    for (let i = 0; i < 3; i++) trainer.publish({ case: "log", value: create(LogSchema, { level: LogLevel.INFO, message: `m${i}` }) });

    const boss = await as(controller);
    const bossTap = new EventTap(boss);
    await bossTap.until((e) => e.seq === 3, "the held events");
    assert.equal((await boss.pause()).ok, true);
    assert.deepEqual(handled, ["pause"]);

    const watcher = await as(observer, true);
    const watchTap = new EventTap(watcher);
    await watchTap.until((e) => e.seq === 3, "the held events, for the observer");
    const refused = await watcher.pause();
    assert.equal(refused.ok, false);
    assert.match(refused.message, /read-only observer endpoint/);
    assert.deepEqual(handled, ["pause"], "the observer's pause never reached the trainer");

    await assert.rejects(as(observer), /cannot attach.*allow-list/, "an observer key cannot use the control endpoint");
    await assert.rejects(as(stranger), /cannot attach.*allow-list/);
    await assert.rejects(as(stranger, true), /cannot attach.*allow-list/);
    assert.ok(trainer.refusedConnections >= 3, `refused ${trainer.refusedConnections}`);
    assert.deepEqual(handled, ["pause"]);

    const spy = new Subscriber({ curveServerKey: server.publicKey, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey, receiveTimeout: 300 });
    spy.subscribe();
    const refusedBefore = trainer.refusedConnections;
    spy.connect(companionEndpoints(control).events);
    trainer.publish({ case: "log", value: create(LogSchema, { level: LogLevel.INFO, message: "live" }) });
    await bossTap.until((e) => e.seq === 4, "a live event for the controller");
    await watchTap.until((e) => e.seq === 4, "a live event for the observer");
    // Absence can only be shown by waiting: the spy's subscription is refused, and a bounded receive finds nothing.
    await assert.rejects(spy.receive(), /timed out|EAGAIN|Resource temporarily unavailable/i);
    assert.ok(trainer.refusedConnections > refusedBefore, "the ZAP handler refused the stranger's subscription");
    spy.close();
    await boss.close();
    await watcher.close();
  } finally {
    await trainer.close();
  }
});
