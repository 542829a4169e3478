"""``endpoint.plaintext-debug``: debug servers and plaintext listeners.

The seed's procurement checklist asks "Are there any plaintext debug paths in non-
production?": a ``--reload`` server, a framework debug mode (interactive tracebacks that
print request bodies and settings) or an HTTP listener on every interface is exactly how
call data leaves the encrypted path. callvault's own ``serve`` has no plaintext mode; this
rule finds the servers started beside it:

* ``uvicorn``/``gunicorn``/``hypercorn`` commands with ``--reload``/``--debug``, or bound
  to ``0.0.0.0``/``::`` without a certificate option (``--ssl-certfile``, ``--certfile``);
* ``uvicorn.run(…)``/``app.run(…)`` with ``reload=True``/``debug=True``, or ``ssl=False``;
* ``DEBUG=true``-style settings (``DEBUG``, ``FLASK_DEBUG``, ``*_DEBUG``) in config files;
* callvault, keyd and Vault addresses over ``http://`` (or ``vault+http://``) to a
  non-loopback host.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from callvault.posture.lint._context import LintContext
from callvault.posture.lint._files import SourceFile
from callvault.posture.lint._model import Check, CheckInfo, Hit, Severity
from callvault.posture.lint._text import assignments, logical_lines

__all__ = ["CHECK"]

INFO = CheckInfo(
    id="endpoint.plaintext-debug",
    severity=Severity.HIGH,
    title="Plaintext or debug endpoint",
    rationale="The seed's checklist asks whether any plaintext debug paths exist: debug "
    "and auto-reload servers expose tracebacks, settings and request bodies, and an HTTP "
    "listener carries call data in clear (HIPAA 164.312(e)(1), NIST 800-53 SC-8).",
    fix="Serve through callvault serve or a TLS terminator (uvicorn --ssl-certfile/"
    "--ssl-keyfile, TLS 1.3), bind debug servers to 127.0.0.1 only, never ship "
    "--reload or DEBUG=true, and use https:// / vault+https:// addresses.",
)

_SERVER_CMD = re.compile(r"\b(?:uvicorn|gunicorn|hypercorn|flask\s+run|fastapi\s+(?:dev|run))\b")
_DEBUG_FLAG = re.compile(r"(?:^|\s)--(?:reload|debug)\b|\bfastapi\s+dev\b")
_ALL_INTERFACES = re.compile(r"(?:--host[=\s]+|--bind[=\s]+|-b\s+)[\"']?(?:0\.0\.0\.0|\[?::\]?)\b")
_TLS_OPTION = re.compile(r"--(?:ssl-certfile|certfile|ssl-keyfile|keyfile)\b")
_RUN_CALL = re.compile(r"\b(?:uvicorn\.run|\w+\.run|run_simple)\(.*\b(reload|debug)\s*=\s*True\b")
_SSL_FALSE = re.compile(r"\bssl\s*=\s*False\b")
_DEBUG_KEY = re.compile(r"^(?:[A-Z0-9_]*_)?DEBUG$|^debug$")
_ON = frozenset({"true", "1", "yes", "on"})
_SERVICE_KEY = re.compile(
    r"(?i)(?:callvault|keyd|vault_addr|vault).*(?:url|addr|address|endpoint|kms)"
)
_PLAIN_URL = re.compile(r"\b(?:vault\+)?http://[^\s\"'#]+")
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _command_problem(line: str) -> str | None:
    if _SERVER_CMD.search(line):
        if _DEBUG_FLAG.search(line):
            return "server started with --reload/--debug"
        if _ALL_INTERFACES.search(line) and not _TLS_OPTION.search(line):
            return "server listens on all interfaces without TLS"
    if match := _RUN_CALL.search(line):
        return f"server started with {match.group(1)}=True"
    if _SSL_FALSE.search(line):
        return "ssl=False: plaintext connection"
    return None


def _setting_problems(source: SourceFile) -> Iterator[Hit]:
    for number, key, value in assignments(source):
        if _DEBUG_KEY.match(key) and value.lower() in _ON:
            yield Hit(source.rel, number, f"{key}={value}: debug mode enabled")
        elif (_SERVICE_KEY.search(key) or "vault+http://" in value) and (
            match := _PLAIN_URL.search(value)
        ):
            host = urlsplit(match.group(0).removeprefix("vault+")).hostname or ""
            if host not in _LOOPBACK:
                yield Hit(source.rel, number, f"{key}: plaintext address {match.group(0)}")


def _probe(ctx: LintContext) -> Iterator[Hit]:
    for source in ctx.config_files():
        yield from _setting_problems(source)
        for number, line in logical_lines(source):
            if problem := _command_problem(line):
                yield Hit(source.rel, number, problem)


CHECK = Check(INFO, _probe)
