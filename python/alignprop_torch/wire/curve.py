"""CURVE key files as `alignprop keygen` writes them (src/bridge/curve.ts owns the format): `public.key`, and
`secret.key` with mode 0600, each one Z85 key (40 characters) on a line, `#` comments and blank lines allowed; an
allow-list is key files and directories of `*.key` files (except `secret.key`). pyzmq's zmq.auth reads only zcert
files, so the keys are read here and checked by the ZAP callback (zap.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

Z85_ALPHABET = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")


@dataclass(frozen=True)
class KeyPair:
    public_key: str
    secret_key: str


def is_z85_key(text: str) -> bool:
    return len(text) == 40 and all(c in Z85_ALPHABET for c in text)


def _keys_in(path: Path) -> list[str]:
    keys = [line.strip() for line in path.read_text(encoding="utf-8").split("\n")]
    keys = [k for k in keys if k and not k.startswith("#")]
    for key in keys:
        if not is_z85_key(key):
            raise ValueError(f'{path}: "{key}" is not a 40-character Z85 CURVE key')
    return keys


def read_key_pair(directory: str | Path) -> KeyPair:
    """The pair `keygen` wrote into `directory`; the secret file must not be readable by others."""
    directory = Path(directory)
    secret_path = directory / "secret.key"
    if not secret_path.exists():
        raise FileNotFoundError(f"{secret_path} not found; create a key pair with `alignprop keygen {directory}`")
    mode = secret_path.stat().st_mode
    if mode & 0o077:
        raise PermissionError(f"{secret_path} is readable by other users (mode {mode & 0o777:o}); chmod 600 it")
    secret = _keys_in(secret_path)
    public = _keys_in(directory / "public.key")
    if not secret or not public:
        raise ValueError(f"{directory} does not hold a key pair (public.key + secret.key)")
    return KeyPair(public_key=public[0], secret_key=secret[0])


def read_allow_list(paths: Iterable[str | Path]) -> list[str]:
    """The keys in each path: a file of keys (one per line), or a directory whose `*.key` files hold keys."""
    keys: dict[str, None] = {}
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"allow-list {path} not found")
        files = (
            sorted(f for f in path.iterdir() if f.name.endswith(".key") and f.name != "secret.key")
            if path.is_dir()
            else [path]
        )
        for file in files:
            keys.update(dict.fromkeys(_keys_in(file)))
    return list(keys)
