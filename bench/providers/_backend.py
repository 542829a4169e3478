"""What one provider under test is: its URI, the environment it is opened with, its name.

A backend is *where* a provider runs (a temp keyring, a SoftHSM2 token, an OpenBao server,
a moto server); the measurements only see the URI and the variables the provider reads
when it is opened (PIN, token file, credentials). Those variables are set for the opening
only (``scoped_environ``) and restored afterwards, so the benchmark process, and any other
section in it, never keeps a secret in ``os.environ`` longer than the provider needs it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

__all__ = ["Backend", "Skipped", "scoped_environ"]


class Skipped(Exception):
    """The provider's software is missing here: reported as "skipped (reason)"."""


@dataclass(frozen=True)
class Backend:
    name: str
    uri: str
    """The ``kms`` setting of a home using this provider."""
    environ: Mapping[str, str | None] = field(default_factory=dict)
    """Variables the provider reads while it is opened (None: must be unset)."""
    in_process: bool = True
    """False for a network round trip (OpenBao, moto): smaller plans."""
    notes: str = ""
    """How the server runs (for the report)."""


@contextlib.contextmanager
def scoped_environ(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or unset, for None) ``values`` in ``os.environ`` for the block only."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
