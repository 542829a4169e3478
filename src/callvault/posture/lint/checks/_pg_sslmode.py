"""``pg.sslmode-weak``: a PostgreSQL connection that does not verify the server.

libpq's default ``sslmode=prefer`` silently falls back to plaintext, ``require`` encrypts
but accepts any certificate (an active attacker reads everything), ``verify-ca`` does not
check the host name. DESIGN.md: "PostgreSQL connections use ``sslmode=verify-full``; any
weaker mode is refused", and ``verify-full`` needs the CA named in ``sslrootcert`` (else
libpq reads ``~/.postgresql/root.crt``, whatever that is on the host).

Recognised: ``postgres://`` / ``postgresql[+driver]://`` URLs, libpq key=value DSNs
(``host=… dbname=… sslmode=…``), ``PGSSLMODE`` and any ``sslmode=``/``sslmode:`` setting.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

from callvault.posture.lint._context import LintContext
from callvault.posture.lint._model import Check, CheckInfo, Hit, Severity
from callvault.posture.lint._text import assignments, code_lines, is_placeholder

__all__ = ["CHECK", "dsn_problem"]

INFO = CheckInfo(
    id="pg.sslmode-weak",
    severity=Severity.HIGH,
    title="PostgreSQL connection weaker than sslmode=verify-full",
    rationale="Call records travel to the database: sslmode prefer/allow/disable can be "
    "plaintext and require/verify-ca accept an impostor server; callvault requires "
    "verify-full with sslrootcert (DESIGN.md 'Transport', PCI DSS 4.0 Req 4.2.1).",
    fix="Use sslmode=verify-full&sslrootcert=/path/to/db-ca.pem in the URL or DSN "
    "(and PGSSLMODE=verify-full where the environment sets it).",
)

_URL = re.compile(r"\bpostgres(?:ql)?(?:\+\w+)?://[^\s\"'`<>]*")
_DSN_PAIR = re.compile(
    r"\b(host|hostaddr|dbname|user|port|sslmode|sslrootcert)\s*=\s*('[^']*'|[^\s\"';]+)"
)
_SETTING = re.compile(r"""(?i)\b(?:pg)?sslmode["']?\s*[=:]\s*["']?([a-z-]+)""")
_ENV_DEFAULTS = {"PGSSLMODE": "sslmode", "PGSSLROOTCERT": "sslrootcert"}
_WEAK = frozenset({"disable", "allow", "prefer", "require", "verify-ca"})


def dsn_problem(params: dict[str, str]) -> str | None:
    """What is wrong with a connection's TLS parameters, or None for verify-full + CA."""
    mode = params.get("sslmode")
    if mode is None:
        return "no sslmode (libpq default 'prefer' falls back to plaintext)"
    if mode.lower() != "verify-full":
        return f"sslmode={mode} does not verify the server"
    if not params.get("sslrootcert"):
        return "sslmode=verify-full without sslrootcert (trusts whatever ~/.postgresql holds)"
    return None


def _line_problems(line: str, defaults: dict[str, str]) -> Iterator[str]:
    urls = [m for m in _URL.finditer(line) if urlsplit(m.group(0)).netloc]
    for match in urls:
        query = parse_qs(urlsplit(match.group(0)).query)
        params = {k.lower(): v[-1] for k, v in query.items()}
        if problem := dsn_problem(defaults | params):
            yield problem
    rest = _URL.sub("", line)
    pairs = {k.lower(): v.strip("'") for k, v in _DSN_PAIR.findall(rest)}
    if "dbname" in pairs and pairs.keys() & {"host", "hostaddr", "user", "port"}:
        if problem := dsn_problem(defaults | pairs):
            yield problem
    elif not urls and (setting := _SETTING.search(rest)) and setting.group(1).lower() in _WEAK:
        yield f"sslmode={setting.group(1)} does not verify the server"


def _environment_defaults(ctx: LintContext) -> dict[str, str]:
    """``PGSSLMODE=verify-full`` / ``PGSSLROOTCERT=…`` set in the deployment apply to
    every connection that does not say otherwise (libpq reads them)."""
    defaults: dict[str, str] = {}
    for source in ctx.config_files():
        for _, key, value in assignments(source):
            if key in _ENV_DEFAULTS and value and not is_placeholder(value):
                defaults.setdefault(_ENV_DEFAULTS[key], value)
    return defaults


def _probe(ctx: LintContext) -> Iterator[Hit]:
    defaults = _environment_defaults(ctx)
    for source in ctx.config_files():
        for number, line in code_lines(source):
            problems = list(dict.fromkeys(_line_problems(line, defaults)))
            if problems:
                yield Hit(source.rel, number, "; ".join(problems))


CHECK = Check(INFO, _probe)
