"""CURVE key files in the format `alignprop keygen` writes, and the allow-list policy per ZAP domain."""

import pytest
import zmq

from alignprop_torch.wire.curve import is_z85_key, read_allow_list, read_key_pair
from alignprop_torch.wire.zap import ZapPolicy


def write_pair(directory, mode=0o600):
    public, secret = (k.decode("ascii") for k in zmq.curve_keypair())
    directory.mkdir()
    (directory / "secret.key").write_text(f"# alignprop CURVE secret key: keep private\n{secret}\n")
    (directory / "secret.key").chmod(mode)
    (directory / "public.key").write_text(f"# alignprop CURVE public key\n{public}\n")
    return public, secret


def test_a_key_pair_directory_is_read_with_comments_skipped(tmp_path):
    public, secret = write_pair(tmp_path / "keys")
    pair = read_key_pair(tmp_path / "keys")
    assert (pair.public_key, pair.secret_key) == (public, secret)
    assert is_z85_key(public) and not is_z85_key("too short")


def test_a_secret_key_readable_by_others_is_refused_with_the_fix(tmp_path):
    write_pair(tmp_path / "loose", mode=0o644)
    with pytest.raises(PermissionError, match=r"readable by other users \(mode 644\); chmod 600 it"):
        read_key_pair(tmp_path / "loose")


def test_a_missing_key_pair_names_keygen(tmp_path):
    with pytest.raises(FileNotFoundError, match="alignprop keygen"):
        read_key_pair(tmp_path)


def test_an_allow_list_reads_files_and_directories_of_key_files_but_not_secret_keys(tmp_path):
    a_public, a_secret = write_pair(tmp_path / "a")
    b_public, _ = write_pair(tmp_path / "b")
    listing = tmp_path / "clients.txt"
    listing.write_text(f"# laptop\n{b_public}\n\n")
    keys = read_allow_list([tmp_path / "a", listing])
    assert sorted(keys) == sorted([a_public, b_public])
    assert a_secret not in keys


def test_a_bad_key_in_an_allow_list_is_named(tmp_path):
    (tmp_path / "bad.txt").write_text("not-a-key\n")
    with pytest.raises(ValueError, match=r'bad\.txt: "not-a-key" is not a 40-character Z85 CURVE key'):
        read_allow_list([tmp_path / "bad.txt"])
    with pytest.raises(FileNotFoundError, match="allow-list .* not found"):
        read_allow_list([tmp_path / "absent"])


def test_controllers_may_use_both_domains_and_observers_only_observe():
    policy = ZapPolicy(controllers=("C" * 40,), observers=("O" * 40,))
    assert policy.allows("control", "C" * 40) and policy.allows("observe", "C" * 40)
    assert policy.allows("observe", "O" * 40) and not policy.allows("control", "O" * 40)
    assert not policy.allows("observe", "S" * 40) and not policy.allows("other", "C" * 40)
