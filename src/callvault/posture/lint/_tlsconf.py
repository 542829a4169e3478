"""Where TLS settings live in server configs, read once for the three TLS rules.

Recognised (line by line, whole-line comments skipped, prose files ignored):

* nginx: ``ssl_protocols`` / ``ssl_ciphers`` and their ``proxy_``/``grpc_``/``uwsgi_``
  variants; a server with ``listen … ssl`` and no ``ssl_ciphers`` anywhere in the tree runs
  nginx's default ``HIGH:!aNULL:!MD5``, which enables CBC suites.
* HAProxy: ``ssl-min-ver`` (global ``ssl-default-*-options`` or a ``bind``/``server``
  line), ``force-sslv3``/``force-tlsv10``/``force-tlsv11``, ``ssl-default-bind-ciphers``,
  ``ssl-default-server-ciphers`` and a ``ciphers`` option on ``bind``/``server``.
* Apache httpd: ``SSLProtocol`` (``all`` means TLS 1.0 and 1.1 too) and ``SSLCipherSuite``.
* Python: ``ssl.PROTOCOL_TLSv1*``, ``TLSVersion.TLSv1*``/``SSLv3``/``MINIMUM_SUPPORTED``,
  ``set_ciphers("…")``; uvicorn's ``--ssl-ciphers``.
* Generic settings: ``*min*_(tls|ssl|protocol)*_version = TLSv1.0`` style keys
  (PostgreSQL's ``ssl_min_protocol_version``, many YAML configs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from callvault.posture.lint._context import LintContext
from callvault.posture.lint._files import SourceFile
from callvault.posture.lint._text import code_lines, unquote

__all__ = ["LEGACY", "CipherSetting", "ProtocolSetting", "cipher_settings", "protocol_settings"]

LEGACY = {"SSLv2": "SSLv2", "SSLv3": "SSLv3", "TLSv1": "TLS 1.0", "TLSv1.0": "TLS 1.0",
          "TLSv1.1": "TLS 1.1"}  # fmt: skip
NGINX_DEFAULT_CIPHERS = "HIGH:!aNULL:!MD5"

_NGINX_PROTOCOLS = re.compile(r"^\s*(?:\w+_)?ssl_protocols\s+([^;]+);?")
_NGINX_CIPHERS = re.compile(r"^\s*(?:\w+_)?ssl_ciphers\s+([^;]+);?")
_NGINX_SSL_LISTEN = re.compile(r"^\s*listen\s+[^;]*\bssl\b")
_HAPROXY_MIN = re.compile(r"\bssl-min-ver\s+(SSLv3|TLSv1\.[01])\b")
_HAPROXY_MIN13 = re.compile(r"^\s*ssl-default-bind-options\s.*\bssl-min-ver\s+TLSv1\.3\b")
_HAPROXY_FORCE = re.compile(r"\bforce-(sslv3|tlsv10|tlsv11)\b")
_HAPROXY_CIPHERS = re.compile(
    r"^\s*(?:ssl-default-(?:bind|server)-ciphers\s+(\S+)|(?:bind|server)\s.*\bciphers\s+(\S+))"
)
_APACHE_PROTOCOL = re.compile(r"^\s*SSLProtocol\s+(.+)$", re.IGNORECASE)
_APACHE_CIPHERS = re.compile(r"^\s*SSLCipherSuite\s+(?:SSL\s+)?(\S+)", re.IGNORECASE)
_PYTHON_LEGACY = re.compile(
    r"\b(?:PROTOCOL_(SSLv3|TLSv1(?:_1)?)\b|TLSVersion\.(SSLv3|TLSv1(?:_1)?|MINIMUM_SUPPORTED)\b)"
)
_PYTHON_CIPHERS = re.compile(r"""(?:set_ciphers\(\s*|--ssl-ciphers[= ]\s*)["']?([^"')\s]+)""")
_GENERIC_MIN = re.compile(
    r"""^\s*["']?[\w.-]*min[\w.-]*(?:tls|ssl|protocol)[\w.-]*["']?\s*[=:]\s*["']?
        (SSLv3|TLS\s?v?1(?:[._][01])?|1\.[01])["']?\s*(?:[#;].*)?$""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class ProtocolSetting:
    """A line enabling protocol versions; ``legacy``: the versions older than TLS 1.2."""

    source: SourceFile
    line: int
    legacy: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CipherSetting:
    """A TLS <= 1.2 cipher string a server or client is configured with."""

    source: SourceFile
    line: int
    ciphers: str
    implicit: bool = False
    """True when no string is written and the server's default applies."""


def protocol_settings(ctx: LintContext) -> Iterator[ProtocolSetting]:
    for source in ctx.config_files():
        for number, line in code_lines(source):
            legacy = _legacy_in(line)
            if legacy:
                yield ProtocolSetting(source, number, legacy)


def _legacy_in(line: str) -> tuple[str, ...]:
    if match := _NGINX_PROTOCOLS.match(line):
        return tuple(LEGACY[t] for t in match.group(1).split() if t in LEGACY)
    if match := _APACHE_PROTOCOL.match(line):
        return _apache_legacy(match.group(1))
    found = [m.group(1) for m in _HAPROXY_MIN.finditer(line)]
    found += [{"sslv3": "SSLv3", "tlsv10": "TLSv1", "tlsv11": "TLSv1.1"}[m.group(1)]
              for m in _HAPROXY_FORCE.finditer(line)]  # fmt: skip
    for py in _PYTHON_LEGACY.finditer(line):
        name = (py.group(1) or py.group(2)).replace("_", ".")
        found.append("TLSv1" if name == "MINIMUM.SUPPORTED" else name)
    if not found and (generic := _GENERIC_MIN.match(line)):
        value = re.sub(r"[\s_v]", "", generic.group(1).upper()).replace("TLS", "")
        found.append("SSLv3" if "SSL" in value else ("TLSv1.1" if value.endswith("1.1")
                                                      else "TLSv1"))  # fmt: skip
    return tuple(dict.fromkeys(LEGACY.get(v, v) for v in found))


def _apache_legacy(spec: str) -> tuple[str, ...]:
    enabled: set[str] = set()
    for token in spec.split():
        name = token.lstrip("+-")
        names = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"} if name.lower() == "all" else {name}
        if token.startswith("-"):
            enabled -= names
        else:
            enabled |= names
    return tuple(LEGACY[v] for v in ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1") if v in enabled)


def cipher_settings(ctx: LintContext) -> Iterator[CipherSetting]:
    """Explicit cipher strings, and nginx TLS listeners left on nginx's default string."""
    any_nginx_ciphers = False
    listeners: list[CipherSetting] = []
    for source in ctx.config_files():
        tls13_only = _tls13_only(source)
        for number, line in code_lines(source):
            if match := _NGINX_CIPHERS.match(line):
                any_nginx_ciphers = True
                if not tls13_only:
                    yield CipherSetting(source, number, unquote(match.group(1)))
            elif _NGINX_SSL_LISTEN.match(line) and not tls13_only:
                listeners.append(CipherSetting(source, number, NGINX_DEFAULT_CIPHERS, True))
            elif match := _HAPROXY_CIPHERS.match(line):
                yield CipherSetting(source, number, match.group(1) or match.group(2))
            elif match := _APACHE_CIPHERS.match(line):
                yield CipherSetting(source, number, unquote(match.group(1)))
            elif match := _PYTHON_CIPHERS.search(line):
                yield CipherSetting(source, number, match.group(1))
    if not any_nginx_ciphers:
        yield from listeners


def _tls13_only(source: SourceFile) -> bool:
    """TLS 1.2 cipher strings do not apply to TLS 1.3, so a file that allows only TLS 1.3
    (nginx ``ssl_protocols TLSv1.3``, HAProxy ``ssl-min-ver TLSv1.3``) has no weak suite."""
    if any(_HAPROXY_MIN13.search(line) for line in source.lines):
        return True
    protocols = [m.group(1).split() for line in source.lines
                 if (m := _NGINX_PROTOCOLS.match(line))]  # fmt: skip
    return bool(protocols) and all(p == ["TLSv1.3"] for p in protocols)
