"""Where the Vault token comes from: the environment or a file, never the URI or config.

Two sources, exactly one of which must be set:

* ``CALLVAULT_VAULT_TOKEN_FILE``: a regular file of mode 0600 holding the token (a group-
  or world-readable token file is refused, not used). It is re-read whenever it changes,
  so a Vault Agent sink that rewrites it on renewal is picked up without a restart.
* ``VAULT_TOKEN``: the variable every Vault tool reads.

The token is only ever handed to the HTTP client's ``X-Vault-Token`` header; ``repr``
names the source, never the value.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Mapping
from pathlib import Path

from callvault.errors import ConfigError

__all__ = ["TOKEN_ENV", "TOKEN_FILE_ENV", "TokenSource"]

TOKEN_ENV = "VAULT_TOKEN"  # noqa: S105 - a variable name, not a secret
TOKEN_FILE_ENV = "CALLVAULT_VAULT_TOKEN_FILE"  # noqa: S105 - a variable name, not a secret


class TokenSource:
    """The current Vault token, from ``VAULT_TOKEN`` or ``CALLVAULT_VAULT_TOKEN_FILE``."""

    __slots__ = ("_file", "_lock", "_stamp", "_value")

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        file, value = environ.get(TOKEN_FILE_ENV), environ.get(TOKEN_ENV)
        if file and value:
            raise ConfigError(
                f"both {TOKEN_ENV} and {TOKEN_FILE_ENV} are set; set one, so it is clear "
                "which token callvault uses"
            )
        if not file and not value:
            raise ConfigError(f"no Vault token: set {TOKEN_FILE_ENV} (a 0600 file) or {TOKEN_ENV}")
        self._lock = threading.Lock()
        self._file = Path(file) if file else None
        self._stamp: tuple[int, int, int] | None = None
        self._value = "" if value is None else _checked(value, TOKEN_ENV)
        if self._file is not None:
            self.token()  # fail early on a missing or loose file

    def token(self) -> str:
        if self._file is None:
            return self._value
        info = _stat(self._file)
        stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._value = _checked(self._file.read_text(), str(self._file))
                self._stamp = stamp
            return self._value

    def __repr__(self) -> str:
        source = f"file {self._file}" if self._file is not None else f"${TOKEN_ENV}"
        return f"TokenSource({source})"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a token source cannot be pickled")


def _stat(path: Path) -> os.stat_result:
    try:
        info = path.lstat()
    except OSError as exc:
        raise ConfigError(f"cannot read the Vault token file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"the Vault token file {path} is not a regular file")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(
            f"the Vault token file {path} has mode {stat.S_IMODE(info.st_mode):04o}; "
            "a token file must be 0600"
        )
    return info


def _checked(raw: str, source: str) -> str:
    token = raw.strip()
    # Printable ASCII without spaces: anything else could split the HTTP header it goes in.
    if not token or not all(33 <= ord(c) <= 126 for c in token):
        raise ConfigError(f"the Vault token from {source} is empty or not printable ASCII")
    return token
