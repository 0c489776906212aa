"""The queue in front of the PUB socket never waits and, when full, drops image batches first."""

from alignprop_torch.wire.publish_queue import PublishQueue


def frame(topic, n):
    return (topic, bytes([n]))


def test_a_full_queue_drops_image_batches_before_anything_else_then_the_oldest():
    queue = PublishQueue(3)
    for f in [frame("metrics", 1), frame("images", 2), frame("metrics", 3)]:
        queue.put(f)
    queue.put(frame("images", 4))  # full: images 2 goes
    queue.put(frame("metrics", 5))  # full: images 4 goes
    queue.put(frame("metrics", 6))  # full, no images left: the oldest (metrics 1) goes
    assert queue.dropped == 3
    assert queue.take_all() == [frame("metrics", 3), frame("metrics", 5), frame("metrics", 6)]


def test_put_says_when_the_queue_was_empty_so_the_consumer_is_woken_once():
    queue = PublishQueue(10)
    assert queue.put(frame("log", 0)) is True
    assert queue.put(frame("log", 1)) is False
    assert len(queue.take_all()) == 2
    assert queue.put(frame("log", 2)) is True


def test_put_never_waits_however_many_frames_pile_up():
    queue = PublishQueue(10)
    for i in range(10_000):
        queue.put(frame("metrics", i % 256))
    assert queue.dropped == 10_000 - 10
    assert len(queue.take_all()) == 10
