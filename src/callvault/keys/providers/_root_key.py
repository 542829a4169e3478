"""Where the local KMS's root key comes from: never code, never config.

Three sources, in the order ``resolve_root_key`` tries them:
``CALLVAULT_ROOT_KEY`` (64 hex characters), ``CALLVAULT_ROOT_PASSPHRASE`` (stretched with
scrypt under a per-home salt), or the file ``root.key`` in the home directory, which must be
mode 0600 (a group- or world-readable root key is refused, not silently used).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from callvault._atomic import atomic_write
from callvault.errors import ConfigError
from callvault.keys._material import KeyMaterial

__all__ = ["ROOT_KEY_FILE", "create_root_key_file", "resolve_root_key"]

ROOT_KEY_FILE = "root.key"
PASSPHRASE_SALT_FILE = "root.salt"  # noqa: S105 - a file name, not a secret
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1


def create_root_key_file(home: Path) -> Path:
    path = home / ROOT_KEY_FILE
    if path.exists():
        raise ConfigError(f"{path} already exists; refusing to overwrite a root key")
    atomic_write(path, os.urandom(32).hex().encode() + b"\n", mode=0o600)
    return path


def resolve_root_key(home: Path, environ: Mapping[str, str] = os.environ) -> KeyMaterial:
    if hex_key := environ.get("CALLVAULT_ROOT_KEY"):
        return _from_hex(hex_key.strip(), "CALLVAULT_ROOT_KEY")
    if passphrase := environ.get("CALLVAULT_ROOT_PASSPHRASE"):
        return _from_passphrase(home, passphrase)
    path = home / ROOT_KEY_FILE
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise ConfigError(
            f"no root key: {path} is missing and neither CALLVAULT_ROOT_KEY nor "
            "CALLVAULT_ROOT_PASSPHRASE is set (run `callvault init`)"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{path} is not a regular file")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(
            f"{path} has mode {stat.S_IMODE(info.st_mode):04o}; a root key must be 0600"
        )
    return _from_hex(path.read_text().strip(), str(path))


def _from_hex(value: str, source: str) -> KeyMaterial:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"root key from {source} must be 64 hexadecimal characters")
    return KeyMaterial(raw, "root")


def _from_passphrase(home: Path, passphrase: str) -> KeyMaterial:
    if len(passphrase) < 16:
        raise ConfigError("CALLVAULT_ROOT_PASSPHRASE must be at least 16 characters")
    salt_path = home / PASSPHRASE_SALT_FILE
    if not salt_path.exists():
        atomic_write(salt_path, os.urandom(16), mode=0o600)
    salt = salt_path.read_bytes()
    kdf = Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return KeyMaterial(kdf.derive(passphrase.encode()), "root")
