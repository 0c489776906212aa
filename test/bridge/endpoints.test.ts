import assert from "node:assert/strict";
import { rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { test } from "node:test";
import {
  assertSafeBind,
  companionEventsEndpoint,
  privateIpcEndpoints,
  reachableEventsEndpoint,
} from "../../src/bridge/endpoints.js";

test("assertSafeBind accepts ipc:// endpoints", () => {
  assert.doesNotThrow(() => assertSafeBind("ipc:///tmp/alignprop-x/control.sock"));
});

test("assertSafeBind accepts tcp on loopback: 127.0.0.1, another 127.x address, localhost and [::1]", () => {
  for (const endpoint of [
    "tcp://127.0.0.1:5555",
    "tcp://127.0.0.1:*",
    "tcp://127.1.2.3:6000",
    "tcp://localhost:5555",
    "tcp://[::1]:5555",
  ]) {
    assert.doesNotThrow(() => assertSafeBind(endpoint), endpoint);
  }
});

test("assertSafeBind refuses a wildcard or LAN address with a message naming the endpoint and the way out", () => {
  for (const endpoint of [
    "tcp://0.0.0.0:5555",
    "tcp://*:5555",
    "tcp://192.168.1.20:5555",
    "tcp://10.0.0.7:*",
    "tcp://[::]:5555",
    "tcp://127.0.0.1.example.com:5555",
    "tcp://localhost.example.com:5555",
  ]) {
    assert.throws(
      () => assertSafeBind(endpoint),
      (err: Error) => {
        assert.ok(err.message.includes(`"${endpoint}"`), err.message);
        assert.match(err.message, /not a loopback address/);
        assert.match(err.message, /tcp:\/\/127\.0\.0\.1:<port>/);
        return true;
      },
      endpoint,
    );
  }
});

test("assertSafeBind refuses an endpoint that is neither ipc:// nor tcp://host:port", () => {
  for (const endpoint of ["inproc://control", "tcp://127.0.0.1", "127.0.0.1:5555", ""]) {
    assert.throws(() => assertSafeBind(endpoint), { message: `bind endpoint "${endpoint}" is not ipc://<path> or tcp://<host>:<port>` });
  }
});

test("companionEventsEndpoint puts an ipc events socket beside the control socket", () => {
  assert.equal(companionEventsEndpoint("ipc:///run/a/control.sock"), "ipc:///run/a/control-events.sock");
  assert.equal(companionEventsEndpoint("ipc:///run/a/trainer"), "ipc:///run/a/trainer-events.sock");
});

test("companionEventsEndpoint keeps the tcp host and takes the next port", () => {
  assert.equal(companionEventsEndpoint("tcp://127.0.0.1:5555"), "tcp://127.0.0.1:5556");
  assert.equal(companionEventsEndpoint("tcp://[::1]:6000"), "tcp://[::1]:6001");
});

test("companionEventsEndpoint gives a wildcard control port a wildcard events port", () => {
  assert.equal(companionEventsEndpoint("tcp://localhost:*"), "tcp://localhost:*");
});

test("companionEventsEndpoint names an endpoint it cannot read", () => {
  assert.throws(() => companionEventsEndpoint("udp://127.0.0.1:5555"), /endpoint "udp:\/\/127\.0\.0\.1:5555" is not ipc/);
});

test("reachableEventsEndpoint substitutes the control host for a wildcard events bind", () => {
  assert.equal(reachableEventsEndpoint("tcp://127.0.0.1:5555", "tcp://0.0.0.0:41234"), "tcp://127.0.0.1:41234");
  assert.equal(reachableEventsEndpoint("tcp://localhost:5555", "tcp://*:41234"), "tcp://localhost:41234");
  assert.equal(reachableEventsEndpoint("tcp://[::1]:5555", "tcp://[::]:41234"), "tcp://[::1]:41234");
});

test("reachableEventsEndpoint leaves a concrete events address and ipc endpoints as they are", () => {
  assert.equal(reachableEventsEndpoint("tcp://127.0.0.1:5555", "tcp://127.0.0.1:41234"), "tcp://127.0.0.1:41234");
  assert.equal(reachableEventsEndpoint("ipc:///r/control.sock", "ipc:///r/events.sock"), "ipc:///r/events.sock");
  assert.equal(reachableEventsEndpoint("ipc:///r/control.sock", "tcp://0.0.0.0:41234"), "tcp://0.0.0.0:41234");
});

test("privateIpcEndpoints makes a fresh 0700 directory in the temp dir holding both sockets", async () => {
  const a = await privateIpcEndpoints();
  const b = await privateIpcEndpoints();
  try {
    assert.notEqual(a.dir, b.dir);
    assert.equal(dirname(a.dir), tmpdir());
    const info = await stat(a.dir);
    assert.ok(info.isDirectory());
    assert.equal(info.mode & 0o777, 0o700);
    assert.equal(a.control, `ipc://${a.dir}/control.sock`);
    assert.equal(a.events, `ipc://${a.dir}/events.sock`);
    assert.doesNotThrow(() => assertSafeBind(a.control));
    assert.doesNotThrow(() => assertSafeBind(a.events));
  } finally {
    await rm(a.dir, { recursive: true, force: true });
    await rm(b.dir, { recursive: true, force: true });
  }
});

test("companionEventsEndpoint refuses the last tcp port, which leaves none for events", () => {
  assert.throws(() => companionEventsEndpoint("tcp://127.0.0.1:65535"), /"tcp:\/\/127\.0\.0\.1:65535" leaves no port for events/);
  assert.equal(companionEventsEndpoint("tcp://127.0.0.1:65534"), "tcp://127.0.0.1:65535");
});
