"""The one check that decides whether a database URL is safe to connect to.

DESIGN.md: PostgreSQL connections use ``sslmode=verify-full``; any weaker mode is refused.
``require`` and ``verify-ca`` encrypt but do not check that the certificate names the host
(anyone with a certificate from the same CA, or any certificate at all, can impersonate the
server); ``prefer``/``allow``/``disable`` may not encrypt at all. So the check is an
allowlist, not a denylist: exactly ``verify-full``, with an explicit ``sslrootcert``.

It also pins what libpq would otherwise choose on its own: TLS 1.3 as the floor
(``ssl_min_protocol_version``), no GSSAPI transport encryption (``gssencmode=disable``: when
it succeeds libpq skips TLS and with it the certificate check), no Unix sockets (libpq never
uses TLS on a socket, so sslmode would silently mean nothing) and no service file (it could
supply any of the above). The check is pure (no I/O), so ``callvault lint`` can reuse it on a
configuration file: it raises ``InsecureDatabaseUrl`` whose ``setting`` names the problem.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from callvault.storage.records._errors import InsecureDatabaseUrl

__all__ = ["check_database_url"]

_PG_DRIVER = "postgresql+psycopg"
_SQLITE_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite"})
_PINNED = {"ssl_min_protocol_version": "TLSv1.3", "gssencmode": "disable"}
_FORBIDDEN = {
    "service": "connection service files may override any setting; put every setting in the URL",
    "sslkeylogfile": "writing TLS session keys to a file defeats the encryption",
}


def check_database_url(url: str | URL) -> URL:
    """Return the URL to connect with (normalised), or raise ``InsecureDatabaseUrl``.

    SQLite (embedded, a local file) passes unchanged. PostgreSQL must use the psycopg 3
    driver, ``sslmode=verify-full`` and ``sslrootcert``; TLS 1.3 is added as the minimum.
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        raise InsecureDatabaseUrl("url", "not a database URL") from None
    if parsed.drivername in _SQLITE_DRIVERS:
        return parsed
    if parsed.get_backend_name() != "postgresql":
        raise InsecureDatabaseUrl(
            "backend", f"{parsed.get_backend_name()!r} is not supported (use sqlite or postgresql)"
        )
    if parsed.drivername not in ("postgresql", _PG_DRIVER):
        # Other drivers spell TLS settings differently; sslmode would be silently ignored.
        raise InsecureDatabaseUrl(
            "driver", f"{parsed.drivername!r} is not supported; use {_PG_DRIVER!r}"
        )
    query = {key: _single(parsed, key) for key in parsed.query}
    _check_sslmode(query.get("sslmode"))
    if not query.get("sslrootcert"):
        raise InsecureDatabaseUrl(
            "sslrootcert", "missing; name the file of the CA that issued the server certificate"
        )
    for key, reason in _FORBIDDEN.items():
        if key in query:
            raise InsecureDatabaseUrl(key, reason)
    for key, value in _PINNED.items():
        if key in query and query[key] != value:
            raise InsecureDatabaseUrl(key, f"must be {value!r} (got {query[key]!r})")
    if query.get("ssl_max_protocol_version", "TLSv1.3") != "TLSv1.3":
        raise InsecureDatabaseUrl("ssl_max_protocol_version", "must be absent or 'TLSv1.3'")
    _check_host(parsed.host, query.get("host"))
    return parsed.set(drivername=_PG_DRIVER).update_query_dict(_PINNED)


def _single(parsed: URL, key: str) -> str:
    value = parsed.query[key]
    if isinstance(value, tuple):
        raise InsecureDatabaseUrl(key, "given more than once")
    return value


def _check_sslmode(mode: str | None) -> None:
    if mode is None:
        raise InsecureDatabaseUrl(
            "sslmode", "missing; set sslmode=verify-full (weaker modes are refused)"
        )
    if mode != "verify-full":
        raise InsecureDatabaseUrl(
            "sslmode",
            f"must be 'verify-full' (got {mode!r}): weaker modes do not authenticate the server",
        )


def _check_host(host: str | None, query_host: str | None) -> None:
    hosts = [h for h in (query_host or "").split(",") if h]
    if host:
        hosts.append(host)
    if not hosts:
        raise InsecureDatabaseUrl("host", "missing; a Unix socket would carry no TLS")
    for name in hosts:
        if name.startswith(("/", "@")):
            raise InsecureDatabaseUrl("host", "Unix sockets carry no TLS; use a TCP host name")
