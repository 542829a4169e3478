"""Errors of the records store, each a subclass of a ``callvault.errors`` kind so callers
that branch on the tree keep working.

::

    ConfigError
    └── InsecureDatabaseUrl   a database URL that would not authenticate the server (names the
                              setting: sslmode, sslrootcert, driver, host…)
    CallvaultError
    ├── RecordNotFound        no row with that id *for this tenant* (another tenant's row is
    │                         indistinguishable from no row: no cross-tenant oracle)
    ├── RecordExists          the tenant already has a row with that id
    ├── UploadClaimed         another upload holds the lease on that object id
    └── UploadClaimLost       this upload's lease lapsed and another upload took the id
"""

from __future__ import annotations

from callvault.errors import CallvaultError, ConfigError

__all__ = [
    "InsecureDatabaseUrl",
    "RecordExists",
    "RecordNotFound",
    "UploadClaimLost",
    "UploadClaimed",
]


class InsecureDatabaseUrl(ConfigError):
    """A database URL was refused before any connection was made.

    ``setting`` names the offending URL setting, so a linter can point at it.
    """

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"database URL refused: {setting}: {message}")
        self.setting = setting


class RecordNotFound(CallvaultError):
    """The tenant has no record with this id."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"no such {kind}")


class RecordExists(CallvaultError):
    """The tenant already has a record with this id; nothing was written."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"{kind} id already exists")


class UploadClaimed(CallvaultError):
    """Another upload of this object id holds the lease (in this or another replica)."""

    def __init__(self) -> None:
        super().__init__("this id is being uploaded by another request")


class UploadClaimLost(CallvaultError):
    """This upload's lease expired and another upload took the id over; stop writing."""

    def __init__(self) -> None:
        super().__init__("the upload stalled past its lease and another upload took the id")
