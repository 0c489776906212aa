"""The trainer's memory of recent events, served to late clients as a snapshot (twin of src/bridge/event-ring.ts).
Bounded in count (the latest status event is always kept); image batches older than the newest `keep_image_batches`
keep their prompts and rewards but lose their PNG bytes. Not thread-safe: its owner locks."""

from __future__ import annotations

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb


class EventRing:
    def __init__(self, capacity: int, keep_image_batches: int) -> None:
        self._capacity = capacity
        self._keep_image_batches = keep_image_batches
        self._events: list[pb.Event] = []
        self._image_seqs: list[int] = []
        self._latest_status_seq = 0

    def add(self, event: pb.Event) -> None:
        self._events.append(event)
        kind = event.WhichOneof("payload")
        if kind == "status":
            self._latest_status_seq = event.seq
        # The latest status stays however old it is: a late client must learn the run's state.
        if len(self._events) > self._capacity:
            del self._events[1 if self._events[0].seq == self._latest_status_seq else 0]
        if kind == "images":
            self._image_seqs.append(event.seq)
            while len(self._image_seqs) > self._keep_image_batches:
                self._drop_pixels(self._image_seqs.pop(0))

    def after(self, after_seq: int) -> list[pb.Event]:
        """Held events with seq > after_seq, in order (seqs only grow, so the scan stops at the first older one)."""
        start = len(self._events)
        while start > 0 and self._events[start - 1].seq > after_seq:
            start -= 1
        return self._events[start:]

    @property
    def first_seq(self) -> int:
        return self._events[0].seq if self._events else 0

    def _drop_pixels(self, seq: int) -> None:
        index = next((i for i, e in enumerate(self._events) if e.seq == seq), None)
        if index is None or self._events[index].WhichOneof("payload") != "images":
            return
        # A copy: the publisher handed the original out (to the run log, to the caller).
        light = pb.Event()
        light.CopyFrom(self._events[index])
        light.images.pixels_dropped = True
        for image in light.images.images:
            image.png = b""
        self._events[index] = light
