"""The bind rule of src/bridge/endpoints.ts: ipc:// always; tcp:// on loopback, or anywhere only with CURVE on."""

from __future__ import annotations

import re

_TCP = re.compile(r"^tcp://(.+):(\d+|\*)$")
_LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1)$")


def assert_safe_bind(endpoint: str, curve: bool = False) -> None:
    """Raises unless `endpoint` is ipc://, tcp:// on loopback, or tcp:// anywhere with CURVE authentication on."""
    if endpoint.startswith("ipc://"):
        return
    m = _TCP.match(endpoint)
    if not m:
        raise ValueError(f'bind endpoint "{endpoint}" is not ipc://<path> or tcp://<host>:<port>')
    if not curve and not _LOOPBACK.match(m.group(1)):
        raise ValueError(
            f'bind endpoint "{endpoint}" is not a loopback address: serving other hosts needs CURVE authentication; '
            "create keys with `alignprop keygen <dir>` and pass --server-key <dir> "
            "--allow <client public key file|dir> (or bind tcp://127.0.0.1:<port> and tunnel with ssh -L)"
        )
