"""The ring of recent events a snapshot serves: bounded, the latest status kept, old image batches without pixels."""

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.wire.event_ring import EventRing


def status(seq, state=pb.RUN_STATE_RUNNING):
    return pb.Event(seq=seq, status=pb.Status(state=state, step=seq))


def metrics(seq):
    return pb.Event(seq=seq, metrics=pb.Metrics(step=seq))


def images(seq):
    batch = pb.ImageBatch(step=seq, images=[pb.Image(png=bytes([137, 80, 78, seq]), prompt=f"p{seq}", reward=0.5)])
    return pb.Event(seq=seq, images=batch)


def seqs(events):
    return [e.seq for e in events]


def test_a_full_ring_evicts_the_oldest_event():
    ring = EventRing(3, 4)
    for seq in range(1, 6):
        ring.add(metrics(seq))
    assert seqs(ring.after(0)) == [3, 4, 5]
    assert ring.first_seq == 3


def test_a_full_ring_keeps_the_latest_status_however_old():
    ring = EventRing(3, 4)
    ring.add(status(1, pb.RUN_STATE_PAUSED))
    for seq in range(2, 51):
        ring.add(metrics(seq))
    held = ring.after(0)
    assert seqs(held) == [1, 49, 50]
    assert held[0].status.state == pb.RUN_STATE_PAUSED


def test_a_newer_status_replaces_the_older_one_as_the_protected_event():
    ring = EventRing(3, 4)
    ring.add(status(1, pb.RUN_STATE_STARTING))
    ring.add(metrics(2))
    ring.add(status(3))
    for seq in range(4, 11):
        ring.add(metrics(seq))
    assert seqs(ring.after(0)) == [3, 9, 10]


def test_old_image_batches_lose_pixels_but_keep_prompts_and_rewards_and_the_original_is_untouched():
    ring = EventRing(100, 2)
    originals = [images(seq) for seq in (1, 2, 3)]
    for event in originals:
        ring.add(event)
    first, second, third = ring.after(0)
    assert first.images.pixels_dropped and first.images.images[0].png == b""
    assert first.images.images[0].prompt == "p1" and first.images.images[0].reward == 0.5
    assert not second.images.pixels_dropped and second.images.images[0].png == bytes([137, 80, 78, 2])
    assert not third.images.pixels_dropped
    assert originals[0].images.images[0].png == bytes([137, 80, 78, 1])


def test_after_returns_only_later_events_in_order():
    ring = EventRing(100, 4)
    for seq in range(1, 11):
        ring.add(metrics(seq))
    assert seqs(ring.after(6)) == [7, 8, 9, 10]
    assert seqs(ring.after(10)) == []
    assert EventRing(3, 4).first_seq == 0
