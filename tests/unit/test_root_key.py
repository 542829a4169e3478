"""Root key sources: a 0600 file, an environment variable, or a passphrase; nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from callvault import ConfigError
from callvault.keys.providers import create_root_key_file, resolve_root_key


def test_file_is_created_private_and_never_overwritten(tmp_path: Path) -> None:
    path = create_root_key_file(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    key = resolve_root_key(tmp_path, {})
    assert len(key.secret_bytes()) == 32
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        create_root_key_file(tmp_path)
    assert resolve_root_key(tmp_path, {}).secret_bytes() == key.secret_bytes()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o666])
def test_loose_permissions_are_refused(tmp_path: Path, mode: int) -> None:
    path = create_root_key_file(tmp_path)
    os.chmod(path, mode)
    with pytest.raises(ConfigError, match="must be 0600"):
        resolve_root_key(tmp_path, {})


def test_missing_root_key_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="callvault init"):
        resolve_root_key(tmp_path, {})


def test_environment_variable(tmp_path: Path) -> None:
    key = resolve_root_key(tmp_path, {"CALLVAULT_ROOT_KEY": "ab" * 32})
    assert key.secret_bytes() == bytes([0xAB]) * 32
    for bad in ["ab" * 31, "zz" * 32, "ab" * 33]:
        with pytest.raises(ConfigError, match="64 hexadecimal"):
            resolve_root_key(tmp_path, {"CALLVAULT_ROOT_KEY": bad})


def test_passphrase_is_stretched_with_a_per_home_salt(tmp_path: Path) -> None:
    env = {"CALLVAULT_ROOT_PASSPHRASE": "correct horse battery staple"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = resolve_root_key(tmp_path / "a", env)
    again = resolve_root_key(tmp_path / "a", env)
    other_home = resolve_root_key(tmp_path / "b", env)
    assert first.secret_bytes() == again.secret_bytes()
    assert first.secret_bytes() != other_home.secret_bytes()
    with pytest.raises(ConfigError, match="at least 16"):
        resolve_root_key(tmp_path / "b", {"CALLVAULT_ROOT_PASSPHRASE": "short"})


def test_key_material_never_shows_its_bytes(tmp_path: Path) -> None:
    import pickle

    key = resolve_root_key(tmp_path, {"CALLVAULT_ROOT_KEY": "cd" * 32})
    assert "cd" * 4 not in repr(key) and "cd" * 4 not in str(key)
    with pytest.raises(TypeError):
        pickle.dumps(key)
