"""Who may connect over CURVE (the policy of src/bridge/zap.ts): controller keys on the `control` domain, controller
or observer keys on `observe` (the observe ROUTER and the PUB socket). pyzmq's ThreadAuthenticator answers ZAP
(RFC 27) requests at inproc://zeromq.zap.01 in the sockets' context and asks these callbacks; an unknown key gets
"400" and its connection never carries a message."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import zmq
from zmq.auth.thread import ThreadAuthenticator

CONTROL_DOMAIN = "control"
OBSERVE_DOMAIN = "observe"


@dataclass(frozen=True)
class ZapPolicy:
    controllers: tuple[str, ...]
    observers: tuple[str, ...]

    def allows(self, domain: str, key: str) -> bool:
        if domain == CONTROL_DOMAIN:
            return key in self.controllers
        if domain == OBSERVE_DOMAIN:
            return key in self.controllers or key in self.observers
        return False


class _Counter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.admitted = 0
        self.refused = 0

    def count(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self.admitted += 1
            else:
                self.refused += 1


class _DomainKeys:
    """The credentials provider pyzmq calls with (domain, Z85 key as bytes)."""

    def __init__(self, policy: ZapPolicy, counter: _Counter) -> None:
        self._policy = policy
        self._counter = counter

    def callback(self, domain: str, key: bytes) -> bool:
        ok = self._policy.allows(domain, key.decode("ascii"))
        self._counter.count(ok)
        return ok


class ZapHandler:
    def __init__(self, context: zmq.Context, policy: ZapPolicy) -> None:
        self._counter = _Counter()
        self._auth = ThreadAuthenticator(context)
        self._auth.start()
        for domain in (CONTROL_DOMAIN, OBSERVE_DOMAIN):
            self._auth.configure_curve_callback(domain, credentials_provider=_DomainKeys(policy, self._counter))

    @property
    def admitted(self) -> int:
        return self._counter.admitted

    @property
    def refused(self) -> int:
        return self._counter.refused

    def close(self) -> None:
        self._auth.stop()
