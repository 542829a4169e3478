"""``log.sensitive-fields``: logging that would record secrets or call data.

"Plaintext logs containing sensitive data" is a seed red flag: logs are copied to
aggregators, tickets and vendors with none of the encryption the data had. Recognised:

* DEBUG on loggers that print headers, bodies or key material: ``callvault``, ``httpx``,
  ``httpcore``, ``botocore``, ``boto3``, ``urllib3``, ``requests``, ``hvac``,
  ``sqlalchemy.engine`` (bound parameters), or on the root logger; in ``dictConfig``
  YAML/JSON, ``fileConfig`` INI, and Python ``setLevel``/``basicConfig`` calls;
* access-log formats with ``Authorization``/``Cookie`` headers or request bodies (nginx
  ``$http_authorization``, ``$request_body``; Apache ``%{Authorization}i``; HAProxy header
  captures; gunicorn ``{authorization}i``);
* Python log calls whose arguments are ``transcript``, ``caller``, ``token``…
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from callvault.posture.lint._context import LintContext
from callvault.posture.lint._files import SourceFile
from callvault.posture.lint._logconf import debug_loggers
from callvault.posture.lint._model import Check, CheckInfo, Hit, Severity
from callvault.posture.lint._text import code_lines

__all__ = ["CHECK", "SENSITIVE_LOGGERS"]

INFO = CheckInfo(
    id="log.sensitive-fields",
    severity=Severity.HIGH,
    title="Logging would record secrets or call data",
    rationale="The seed lists 'Plaintext logs containing sensitive data' as a red flag: "
    "DEBUG HTTP/AWS/DB loggers print Authorization headers, bodies and bound parameters, "
    "and logging transcripts or caller numbers puts PHI in clear (HIPAA 164.312(b), "
    "GDPR Art. 32).",
    fix="Keep callvault/httpx/botocore/urllib3/sqlalchemy loggers at INFO or above in "
    "deployments, drop Authorization/Cookie/body fields from access-log formats, and log "
    "ids (call_id, blind ids) instead of transcripts, caller numbers or tokens.",
)

SENSITIVE_LOGGERS = ("callvault", "httpx", "httpcore", "botocore", "boto3", "urllib3",
                     "requests", "hvac", "sqlalchemy.engine", "root")  # fmt: skip
_ACCESS_FORMAT = re.compile(
    r"\$http_authorization|\$http_cookie|\$request_body|\$http_x_api_key|"
    r"%\{(?:Authorization|Cookie|X-Api-Key)\}i|\{authorization\}i|\{cookie\}i|"
    r"capture\s+request\s+header\s+(?:Authorization|Cookie)|req\.hdr\((?:Authorization|Cookie)\)",
    re.IGNORECASE,
)
_LOG_CALL = re.compile(
    r"\b(?:log|logger|logging|_log|LOG|LOGGER|self\.log(?:ger)?)\."
    r"(?:debug|info|warning|warn|error|exception|critical|log)\((.*)"
)
_STRING = re.compile(r"""(?:[rbuRBU]?)(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')""")
_FSTRING = re.compile(r"""\b[rR]?[fF][rR]?(["'])(.*?)(?<!\\)\1""")
_F_FIELD = re.compile(r"\{([^{}:!]+)[^{}]*\}")
_FIELD = re.compile(
    r"\b(?:transcript|transcript_text|caller|caller_number|caller_id|phone_number|token|"
    r"access_token|api_key|authorization|password|secret|plaintext|dek|root_key)\b"
)


def _sensitive_arguments(arguments: str) -> list[str]:
    """Identifiers passed to a log call that name sensitive fields: outside string
    literals, or inside an f-string's braces."""
    names: list[str] = _FIELD.findall(_STRING.sub(" ", arguments))
    for match in _FSTRING.finditer(arguments):
        for field in _F_FIELD.findall(match.group(2)):
            names += _FIELD.findall(field)
    return list(dict.fromkeys(names))


def _source_hits(source: SourceFile) -> Iterator[Hit]:
    for number, line in code_lines(source):
        if _ACCESS_FORMAT.search(line):
            yield Hit(source.rel, number, "access log records Authorization/Cookie or bodies")
        elif source.is_python and (match := _LOG_CALL.search(line)):
            names = _sensitive_arguments(match.group(1))
            if names:
                yield Hit(source.rel, number, f"log call records {', '.join(names)}")


def _probe(ctx: LintContext) -> Iterator[Hit]:
    for source in ctx.config_files():
        yield from _source_hits(source)
        for number, logger in debug_loggers(source, SENSITIVE_LOGGERS):
            yield Hit(source.rel, number, f"logger {logger!r} at DEBUG")


CHECK = Check(INFO, _probe)
