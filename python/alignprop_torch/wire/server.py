"""The trainer's end of the bridge, the twin of src/bridge/server.ts. The `control` ROUTER answers commands (hello,
ping and snapshot here; pause, resume, stop and checkpoint_now by the trainer's handler); the `observe` ROUTER
answers only the read-only ones; a PUB socket streams events, each `[topic, Event]`, numbered by `seq`.

One thread owns the sockets (pyzmq sockets are not thread-safe). The training thread calls `publish()`, which numbers
the event, remembers it and puts its frame in a bounded queue that sheds image batches first, then wakes the socket
thread through a pipe: it never waits for a socket. Commands reach the trainer through `handle`, called on the socket
thread: it must only record the request (under its own lock) and answer at once.

With CURVE keys every socket is encrypted and a ZAP handler admits only allowed client keys: controller keys on
`control`, controller or observer keys on `observe` and `events`."""

from __future__ import annotations

import os
import threading
import time
import uuid

import zmq
from google.protobuf.message import Message

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.wire.endpoints import assert_safe_bind
from alignprop_torch.wire.event_ring import EventRing
from alignprop_torch.wire.options import MUTATING, Endpoints, TrainerServerOptions
from alignprop_torch.wire.protocol import (
    FINAL_GRACE_S,
    MAX_FRAME_BYTES,
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    decode_command,
)
from alignprop_torch.wire.publish_queue import PublishQueue
from alignprop_torch.wire.zap import CONTROL_DOMAIN, OBSERVE_DOMAIN, ZapHandler

# Socket options, as the TS server sets them: replies and events beyond the high-water mark are dropped for that peer.
ROUTER_LINGER_MS = 1000
PUB_LINGER_MS = 2000
HIGH_WATER_MARK = 1000
# Commands read from one socket before the others (and the publish queue) get a turn.
READ_BATCH = 100

_PAYLOAD_CASES = {f.message_type.full_name: f.name for f in pb.Event.DESCRIPTOR.oneofs_by_name["payload"].fields}
_CASE_JSON_NAMES = {f.name: f.json_name for f in pb.Command.DESCRIPTOR.oneofs_by_name["kind"].fields}


class TrainerServer:
    def __init__(self, opts: TrainerServerOptions) -> None:
        """Binds the three sockets on a new socket thread; raises when a bind fails. Prefer `TrainerServer.bind`."""
        for endpoint in (opts.endpoints.control, opts.endpoints.events, opts.endpoints.observe):
            assert_safe_bind(endpoint, opts.curve is not None)
        self._opts = opts
        self._lock = threading.Lock()
        self._ring = EventRing(opts.ring_capacity, opts.keep_image_batches)
        self._queue = PublishQueue(opts.publish_queue_limit)
        self._seq = opts.start_seq
        self._status: pb.Status | None = None
        self._instance_id = str(uuid.uuid4())
        self._closing = False
        # When the socket thread stops serving once closing: at once, or after the final grace of an ended run.
        self._close_by = 0.0
        # Set when a client confirms it has every event of an ended run (see FINAL_GRACE_S).
        self._caught_up = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._context = zmq.Context()
        self._zap = ZapHandler(self._context, opts.curve.policy) if opts.curve else None
        # Frames that could not be decoded or were refused; written by the socket thread only.
        self.bad_frames = 0
        self._bound = threading.Event()
        self._bind_error: str | None = None
        self._endpoints = opts.endpoints
        self._thread = threading.Thread(target=self._run, name="alignprop-wire", daemon=True)
        self._thread.start()
        self._bound.wait()
        if self._bind_error is not None:
            self._thread.join()
            self._close_pipe()
            raise OSError(self._bind_error)

    @classmethod
    def bind(cls, opts: TrainerServerOptions) -> TrainerServer:
        return cls(opts)

    @property
    def endpoints(self) -> Endpoints:
        """The endpoints as bound (a tcp port `*` resolved)."""
        return self._endpoints

    @property
    def refused_connections(self) -> int:
        """Connections the ZAP handler refused (always 0 without CURVE)."""
        return self._zap.refused if self._zap else 0

    @property
    def published_dropped(self) -> int:
        """Frames the publish queue shed because the socket thread fell behind."""
        return self._queue.dropped

    @property
    def last_seq(self) -> int:
        return self._seq

    def publish(self, payload: Message) -> pb.Event:
        """Numbers, remembers and broadcasts one event (its payload: a Status, Metrics, ...); returns it, not to be
        changed afterwards. Never blocks on a socket."""
        case = _PAYLOAD_CASES[payload.DESCRIPTOR.full_name]
        with self._lock:
            self._seq += 1
            event = pb.Event(run_id=self._opts.run_id, seq=self._seq, time_unix_ms=float(time.time_ns() // 1_000_000))
            getattr(event, case).CopyFrom(payload)
            if case == "status":
                self._status = event.status
            if self._opts.record is not None:
                self._opts.record(event)
            self._ring.add(event)
            woke = self._queue.put((case, event.SerializeToString()))
        if woke:
            self._wake()
        return event

    def close(self, grace_s: float = FINAL_GRACE_S) -> None:
        """Sends what is queued, then closes the sockets (their linger flushes the last frames). A run that has ended
        keeps answering until a client confirms it has every event, for at most `grace_s` (FINAL_GRACE_S)."""
        if self._closing:
            return
        with self._lock:
            ended = self._ended()
        self._close_by = time.monotonic() + (grace_s if ended else 0.0)
        self._closing = True
        self._wake()
        self._thread.join()
        self._close_pipe()

    def _close_pipe(self) -> None:
        os.close(self._wake_read)
        os.close(self._wake_write)

    # The socket thread.

    def _wake(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            os.write(self._wake_write, b"\0")
        except BlockingIOError:
            pass  # the pipe is full: the socket thread has wake-ups pending already

    def _socket(self, kind: int, linger: int, domain: str) -> zmq.Socket:
        socket = self._context.socket(kind)
        socket.linger = linger
        socket.sndhwm = HIGH_WATER_MARK
        socket.rcvhwm = HIGH_WATER_MARK
        socket.maxmsgsize = MAX_FRAME_BYTES
        if self._opts.curve:
            socket.curve_server = True
            socket.curve_publickey = self._opts.curve.keys.public_key.encode("ascii")
            socket.curve_secretkey = self._opts.curve.keys.secret_key.encode("ascii")
            socket.zap_domain = domain.encode("ascii")
        return socket

    def _run(self) -> None:
        ends = self._opts.endpoints
        control = self._socket(zmq.ROUTER, ROUTER_LINGER_MS, CONTROL_DOMAIN)
        observe = self._socket(zmq.ROUTER, ROUTER_LINGER_MS, OBSERVE_DOMAIN)
        pub = self._socket(zmq.PUB, PUB_LINGER_MS, OBSERVE_DOMAIN)
        try:
            try:
                control.bind(ends.control)
                pub.bind(ends.events)
                observe.bind(ends.observe)
                self._endpoints = Endpoints(
                    control=control.getsockopt_string(zmq.LAST_ENDPOINT),
                    events=pub.getsockopt_string(zmq.LAST_ENDPOINT),
                    observe=observe.getsockopt_string(zmq.LAST_ENDPOINT),
                )
            except zmq.ZMQError as err:
                self._bind_error = f"cannot bind {ends.control} / {ends.events} / {ends.observe}: {err}"
                return
            finally:
                self._bound.set()
            self._serve(control, observe, pub)
        finally:
            for socket in (control, observe, pub):
                socket.close()
            if self._zap:
                self._zap.close()
            self._context.term()

    def _serve(self, control: zmq.Socket, observe: zmq.Socket, pub: zmq.Socket) -> None:
        poller = zmq.Poller()
        poller.register(control, zmq.POLLIN)
        poller.register(observe, zmq.POLLIN)
        poller.register(self._wake_read, zmq.POLLIN)
        while not self._done_serving():
            timeout_ms = max(1, int((self._close_by - time.monotonic()) * 1000)) if self._closing else None
            for source, _ in poller.poll(timeout_ms):
                if source is control or source is observe:
                    self._answer_all(source, read_only=source is observe)
                else:
                    os.read(self._wake_read, 4096)
            self._send_queued(pub)
        # Everything published before close() is in the queue by now.
        self._send_queued(pub)

    def _done_serving(self) -> bool:
        return self._closing and (self._caught_up or time.monotonic() >= self._close_by)

    def _ended(self) -> bool:
        return self._status is not None and self._status.state in (pb.RUN_STATE_DONE, pb.RUN_STATE_FAILED)

    def _send_queued(self, pub: zmq.Socket) -> None:
        for topic, frame in self._queue.take_all():
            pub.send_multipart([topic.encode("ascii"), frame], flags=zmq.NOBLOCK)

    def _answer_all(self, router: zmq.Socket, read_only: bool) -> None:
        for _ in range(READ_BATCH):
            try:
                identity, *frames = router.recv_multipart(flags=zmq.NOBLOCK)
            except zmq.Again:
                return
            reply = self._answer(frames, read_only).SerializeToString()
            try:
                router.send_multipart([identity, reply], flags=zmq.NOBLOCK)
            except zmq.ZMQError:
                pass  # the peer is gone or not reading: the reply is lost, the trainer goes on

    def _answer(self, frames: list[bytes], read_only: bool) -> pb.CommandResult:
        decoded = decode_command(frames[0]) if len(frames) == 1 else None
        if decoded is None or decoded.value is None:
            self.bad_frames += 1
            return self._result("", False, decoded.error if decoded else f"expected 1 frame, got {len(frames)}")
        cmd = decoded.value
        if cmd.protocol_major != PROTOCOL_MAJOR:
            self.bad_frames += 1
            return self._result(
                cmd.id,
                False,
                f"protocol version mismatch: peer speaks alignprop.v{cmd.protocol_major}, this trainer speaks "
                f"alignprop.v{PROTOCOL_MAJOR}; use matching alignprop versions",
            )
        kind = cmd.WhichOneof("kind")
        if read_only and kind in MUTATING:
            self.bad_frames += 1
            return self._result(
                cmd.id,
                False,
                f"{_CASE_JSON_NAMES[kind]} refused: this is the read-only observer endpoint; commands need a "
                "controller key on the control endpoint",
            )
        return self._dispatch(cmd, kind)

    def _dispatch(self, cmd: pb.Command, kind: str | None) -> pb.CommandResult:
        if kind == "hello":
            hello = pb.Hello(
                protocol_major=PROTOCOL_MAJOR,
                protocol_minor=PROTOCOL_MINOR,
                agent=self._opts.agent,
                run_id=self._opts.run_id,
                events_endpoint=self._endpoints.events,
                observe_endpoint=self._endpoints.observe,
                instance_id=self._instance_id,
                start_seq=self._opts.start_seq,
            )
            return self._result(cmd.id, True, "hello", hello=hello)
        if kind == "ping":
            return self._result(cmd.id, True, "pong")
        if kind == "snapshot":
            with self._lock:
                seq, first_seq, status = self._seq, self._ring.first_seq, self._status
                events = self._ring.after(cmd.snapshot.after_seq)
                if self._ended() and cmd.snapshot.after_seq >= seq:
                    self._caught_up = True
            snapshot = pb.Snapshot(
                run_id=self._opts.run_id,
                seq=seq,
                first_seq=first_seq,
                status=status,
                config_json=self._opts.config_json,
                events=events,
                bad_frames=self.bad_frames,
                instance_id=self._instance_id,
            )
            return self._result(cmd.id, True, "snapshot", snapshot=snapshot)
        if kind in MUTATING:
            try:
                outcome = self._opts.handle(kind)
            except Exception as err:  # a broken handler is the trainer's bug; the wire keeps serving
                return self._result(cmd.id, False, f"the trainer could not handle {_CASE_JSON_NAMES[kind]}: {err}")
            return self._result(cmd.id, outcome.ok, outcome.message, state=outcome.state)
        self.bad_frames += 1
        return self._result(cmd.id, False, "command has no kind (unknown command from a newer client?)")

    def _result(
        self,
        id: str,
        ok: bool,
        message: str,
        *,
        hello: pb.Hello | None = None,
        snapshot: pb.Snapshot | None = None,
        state: pb.RunState.ValueType | None = None,
    ) -> pb.CommandResult:
        if state is None:
            status = self._status
            state = status.state if status is not None else pb.RUN_STATE_STARTING
        return pb.CommandResult(id=id, ok=ok, message=message, state=state, hello=hello, snapshot=snapshot)
