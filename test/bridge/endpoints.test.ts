import assert from "node:assert/strict";
import { rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { test } from "node:test";
import {
  assertSafeBind,
  companionEndpoints,
  privateIpcEndpoints,
  reachableEndpoint,
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

test("companionEndpoints puts ipc events and observe sockets beside the control socket", () => {
  assert.deepEqual(companionEndpoints("ipc:///run/a/control.sock"), {
    events: "ipc:///run/a/control-events.sock",
    observe: "ipc:///run/a/control-observe.sock",
  });
  assert.deepEqual(companionEndpoints("ipc:///run/a/trainer"), {
    events: "ipc:///run/a/trainer-events.sock",
    observe: "ipc:///run/a/trainer-observe.sock",
  });
});

test("companionEndpoints keeps the tcp host and takes the next two ports", () => {
  assert.deepEqual(companionEndpoints("tcp://127.0.0.1:5555"), { events: "tcp://127.0.0.1:5556", observe: "tcp://127.0.0.1:5557" });
  assert.deepEqual(companionEndpoints("tcp://[::1]:6000"), { events: "tcp://[::1]:6001", observe: "tcp://[::1]:6002" });
});

test("companionEndpoints gives a wildcard control port wildcard ports", () => {
  assert.deepEqual(companionEndpoints("tcp://localhost:*"), { events: "tcp://localhost:*", observe: "tcp://localhost:*" });
});

test("companionEndpoints names an endpoint it cannot read", () => {
  assert.throws(() => companionEndpoints("udp://127.0.0.1:5555"), /endpoint "udp:\/\/127\.0\.0\.1:5555" is not ipc/);
});

test("reachableEndpoint substitutes the control host for a wildcard bind", () => {
  assert.equal(reachableEndpoint("tcp://127.0.0.1:5555", "tcp://0.0.0.0:41234"), "tcp://127.0.0.1:41234");
  assert.equal(reachableEndpoint("tcp://localhost:5555", "tcp://*:41234"), "tcp://localhost:41234");
  assert.equal(reachableEndpoint("tcp://[::1]:5555", "tcp://[::]:41234"), "tcp://[::1]:41234");
});

test("reachableEndpoint uses the host the client connected to (a tunnel or proxy), and leaves ipc endpoints as they are", () => {
  assert.equal(reachableEndpoint("tcp://127.0.0.2:5555", "tcp://127.0.0.1:5556"), "tcp://127.0.0.2:5556");
  assert.equal(reachableEndpoint("ipc:///r/control.sock", "ipc:///r/events.sock"), "ipc:///r/events.sock");
  assert.equal(reachableEndpoint("ipc:///r/control.sock", "tcp://0.0.0.0:41234"), "tcp://0.0.0.0:41234");
});

test("assertSafeBind allows any tcp address once CURVE authentication is on", () => {
  assert.doesNotThrow(() => assertSafeBind("tcp://0.0.0.0:5555", true));
  assert.throws(() => assertSafeBind("tcp://0.0.0.0:5555", false), /needs CURVE authentication/);
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
    assert.equal(a.events, `ipc://${a.dir}/control-events.sock`);
    assert.equal(a.observe, `ipc://${a.dir}/control-observe.sock`);
    assert.doesNotThrow(() => assertSafeBind(a.control));
    assert.doesNotThrow(() => assertSafeBind(a.events));
  } finally {
    await rm(a.dir, { recursive: true, force: true });
    await rm(b.dir, { recursive: true, force: true });
  }
});

test("companionEndpoints refuses the last two tcp ports, which leave none for events and observers", () => {
  assert.throws(() => companionEndpoints("tcp://127.0.0.1:65534"), /"tcp:\/\/127\.0\.0\.1:65534" leaves no ports/);
  assert.equal(companionEndpoints("tcp://127.0.0.1:65533").observe, "tcp://127.0.0.1:65535");
});
