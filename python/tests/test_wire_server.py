"""The Python TrainerServer over real ZeroMQ sockets, seen from pyzmq peers: the publish queue sheds image batches
first while the socket thread is busy, close() delivers everything published, and unsafe binds are refused. (Its
behaviour against the real TS client is tested from TS in test/bridge-python/.)"""

import threading
import time
import uuid

import pytest
import zmq

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.wire.options import Endpoints, RunCommandOutcome, TrainerServerOptions
from alignprop_torch.wire.protocol import PROTOCOL_MAJOR, decode_event, decode_result
from alignprop_torch.wire.server import TrainerServer


def ipc_endpoints(tmp_path) -> Endpoints:
    return Endpoints(f"ipc://{tmp_path}/c.sock", f"ipc://{tmp_path}/e.sock", f"ipc://{tmp_path}/o.sock")


def server_with(tmp_path, handle=None, **options) -> TrainerServer:
    outcome = RunCommandOutcome(True, "ok", pb.RUN_STATE_RUNNING)
    return TrainerServer.bind(
        TrainerServerOptions(
            endpoints=ipc_endpoints(tmp_path),
            run_id="run-py",
            config_json="{}",
            agent="test",
            handle=handle or (lambda command: outcome),
            **options,
        )
    )


def subscribed(context: zmq.Context, server: TrainerServer) -> zmq.Socket:
    """A SUB socket whose subscription has reached the server: log probes are published until one arrives."""
    sub = context.socket(zmq.SUB)
    sub.linger = 0
    sub.subscribe(b"")
    sub.connect(server.endpoints.events)
    for _ in range(500):
        server.publish(pb.Log(message="probe"))
        if sub.poll(20):
            while sub.poll(100):
                sub.recv_multipart()
            return sub
    raise AssertionError("the subscription never reached the server")


def received_seqs(sub: zmq.Socket, last_seq: int) -> list[int]:
    seqs = []
    while not seqs or seqs[-1] < last_seq:
        assert sub.poll(10_000), f"no event after seq {seqs[-1] if seqs else None}"
        topic, frame = sub.recv_multipart()
        event = decode_event(frame).value
        assert event is not None and topic.decode() == event.WhichOneof("payload")
        seqs.append(event.seq)
    return seqs


def command(kind: str) -> pb.Command:
    return pb.Command(id=str(uuid.uuid4()), protocol_major=PROTOCOL_MAJOR, **{kind: getattr(pb, kind.title())()})


def test_while_the_socket_thread_is_busy_the_publish_queue_sheds_image_batches_first(tmp_path):
    entered, release = threading.Event(), threading.Event()

    def slow_handler(command):
        entered.set()
        release.wait(10)
        return RunCommandOutcome(True, "paused", pb.RUN_STATE_PAUSED)

    server = server_with(tmp_path, handle=slow_handler, publish_queue_limit=8)
    context = zmq.Context()
    try:
        sub = subscribed(context, server)
        dealer = context.socket(zmq.DEALER)
        dealer.linger = 0
        dealer.connect(server.endpoints.control)
        dealer.send(command("pause").SerializeToString())
        assert entered.wait(10), "the handler was called"
        first = server.last_seq + 1
        for i in range(20):
            server.publish(pb.ImageBatch(step=i) if i % 2 else pb.Metrics(step=i))
        release.set()
        got = received_seqs(sub, first + 19)
        # Queue of 8: every image batch but the newest went first, then the oldest metrics.
        assert [s - first for s in got] == [6, 8, 10, 12, 14, 16, 18, 19]
        assert server.published_dropped == 12
        assert decode_result(dealer.recv()).value.message == "paused"
        snapshot = pb.Command(id="s", protocol_major=PROTOCOL_MAJOR, snapshot=pb.SnapshotRequest(after_seq=first - 1))
        dealer.send(snapshot.SerializeToString())
        held = decode_result(dealer.recv()).value.snapshot.events
        assert [e.seq for e in held] == list(range(first, first + 20)), "a snapshot fills every gap"
        dealer.close()
        sub.close()
    finally:
        release.set()
        server.close()
        context.term()


def test_close_delivers_every_event_published_before_it(tmp_path):
    server = server_with(tmp_path)
    context = zmq.Context()
    sub = subscribed(context, server)
    first = server.last_seq + 1
    for step in range(300):
        server.publish(pb.Metrics(step=step))
    server.close()
    assert received_seqs(sub, first + 299) == list(range(first, first + 300))
    sub.close()
    context.term()


def test_a_non_loopback_tcp_bind_without_curve_is_refused_with_the_way_to_do_it(tmp_path):
    endpoints = Endpoints("tcp://0.0.0.0:5555", "tcp://0.0.0.0:5556", "tcp://0.0.0.0:5557")
    options = TrainerServerOptions(endpoints=endpoints, run_id="r", config_json="{}", agent="t", handle=lambda c: None)
    with pytest.raises(ValueError, match="not a loopback address: serving other hosts needs CURVE"):
        TrainerServer.bind(options)


def test_a_failed_bind_names_the_endpoints(tmp_path):
    endpoints = Endpoints(f"ipc://{tmp_path}/missing-dir/c.sock", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
    options = TrainerServerOptions(endpoints=endpoints, run_id="r", config_json="{}", agent="t", handle=lambda c: None)
    with pytest.raises(OSError, match="cannot bind ipc://.*missing-dir"):
        TrainerServer.bind(options)


def closing(server: TrainerServer, grace_s: float) -> threading.Thread:
    thread = threading.Thread(target=server.close, kwargs={"grace_s": grace_s})
    thread.start()
    return thread


def snapshot_after(dealer: zmq.Socket, after_seq: int) -> pb.Snapshot:
    request = pb.SnapshotRequest(after_seq=after_seq)
    cmd = pb.Command(id=str(uuid.uuid4()), protocol_major=PROTOCOL_MAJOR, snapshot=request)
    dealer.send(cmd.SerializeToString())
    assert dealer.poll(10_000), "no answer to the snapshot"
    result = decode_result(dealer.recv()).value
    assert result is not None and result.ok
    return result.snapshot


def test_an_ended_run_answers_until_a_client_confirms_it_has_every_event(tmp_path):
    server = server_with(tmp_path)
    server.publish(pb.Metrics(step=1))
    done = server.publish(pb.Status(state=pb.RUN_STATE_DONE, message="finished"))
    thread = closing(server, grace_s=600)  # longer than the test may run: only the confirmation ends it
    context = zmq.Context()
    dealer = context.socket(zmq.DEALER)
    dealer.linger = 0
    dealer.connect(server.endpoints.control)
    # A client that missed the last frames fetches them: that is no confirmation yet.
    missed = snapshot_after(dealer, done.seq - 2)
    assert [e.seq for e in missed.events] == [done.seq - 1, done.seq]
    assert thread.is_alive()
    assert snapshot_after(dealer, done.seq).events == []  # nothing after DONE: it has every event
    thread.join(timeout=30)
    assert not thread.is_alive()
    dealer.close()
    context.term()


def test_an_ended_run_without_a_confirming_client_closes_after_its_grace_and_a_running_one_at_once(tmp_path):
    (tmp_path / "ended").mkdir()
    (tmp_path / "running").mkdir()
    ended = server_with(tmp_path / "ended")
    ended.publish(pb.Status(state=pb.RUN_STATE_FAILED, message="broke"))
    started = time.monotonic()
    ended.close(grace_s=0.3)
    assert time.monotonic() - started >= 0.29
    running = server_with(tmp_path / "running")
    running.publish(pb.Status(state=pb.RUN_STATE_RUNNING, message="training"))
    thread = closing(running, grace_s=600)
    thread.join(timeout=30)
    assert not thread.is_alive()
