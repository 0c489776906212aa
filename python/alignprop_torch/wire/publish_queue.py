"""The bounded queue in front of the PUB socket (twin of the TS server's SendQueue with `shedImagesFirst`): the
training thread puts frames in and never waits; the socket thread takes them out. When it is full, a queued image
batch is dropped first, else the oldest frame, and the drop is counted."""

from __future__ import annotations

import threading
from collections import deque

Frame = tuple[str, bytes]


class PublishQueue:
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._frames: deque[Frame] = deque()
        self._lock = threading.Lock()
        self.dropped = 0

    def put(self, frame: Frame) -> bool:
        """Queues one [topic, bytes] frame; True when the queue was empty before (the consumer may be asleep)."""
        with self._lock:
            was_empty = not self._frames
            if len(self._frames) >= self._limit:
                victim = next((f for f in self._frames if f[0] == "images"), self._frames[0])
                self._frames.remove(victim)
                self.dropped += 1
            self._frames.append(frame)
            return was_empty

    def take_all(self) -> list[Frame]:
        with self._lock:
            frames = list(self._frames)
            self._frames.clear()
            return frames
