"""Small text helpers the checks share: comments, ``KEY=value`` pairs, redaction.

Checks read configuration line by line on purpose: nginx, HAProxy, Apache, ``.env``, INI,
TOML, YAML and shell all keep one setting per line, so one tolerant reader covers them
all without a parser per dialect, and every finding gets its line number for free.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from callvault.posture.lint._files import SourceFile

__all__ = [
    "assignments",
    "code_lines",
    "fingerprint",
    "is_placeholder",
    "logical_lines",
    "unquote",
]

_ASSIGNMENT = re.compile(
    r"""^\s*(?:export\s+|-\s+)?["']?([A-Za-z_][A-Za-z0-9_.\-]*)["']?\s*(?:=|:)\s*(.*?)\s*$"""
)
_BLOCK_SCALAR = re.compile(r":\s*[>|][-+]?\s*$")
_PLACEHOLDER = re.compile(r"^(?:\$\{?[A-Za-z_]|\{\{|<[^>]*>$|%\(|\*+$|x{4,}$|changeme$|\.\.\.)")
_FINGERPRINT_DOMAIN = b"callvault/lint/secret-fingerprint/v1\0"


def code_lines(source: SourceFile) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) of every line that is not a whole-line comment."""
    yield from source.code


def logical_lines(source: SourceFile) -> Iterator[tuple[int, str]]:
    """Like ``code_lines``, but a command split over lines is one line: shell ``\\``
    continuations are joined, and so is a YAML block scalar (``command: >-`` followed by
    more-indented lines). The number is the first line's."""
    pending: tuple[int, str] | None = None
    block: tuple[int, int, list[str]] | None = None  # (first line, key indent, parts)
    for number, line in source.code:
        if block is not None:
            if line.strip() and _indent(line) > block[1]:
                if not block[2]:
                    block = (number, block[1], block[2])
                block[2].append(line.strip())
                continue
            if block[2]:
                yield block[0], " ".join(block[2])
            block = None
        if pending is not None:
            line = pending[1] + " " + line.strip()
            number = pending[0]
            pending = None
        if line.rstrip().endswith("\\"):
            pending = (number, line.rstrip()[:-1])
            continue
        if _BLOCK_SCALAR.search(line):
            block = (number, _indent(line), [])
        yield number, line
    if pending is not None:
        yield pending
    if block is not None and block[2]:
        yield block[0], " ".join(block[2])


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def unquote(value: str) -> str:
    """A value without its trailing comment, surrounding quotes and separators."""
    value = value.strip().rstrip(",;")
    if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) >= 2:
        return value[1:-1]
    return re.sub(r"\s+#.*$", "", value).strip("\"'")


def assignments(source: SourceFile) -> Iterator[tuple[int, str, str]]:
    """(line, key, value) of every ``KEY=value`` / ``key: value`` / ``key = "value"`` line
    (env files, TOML, YAML, INI, compose ``- KEY=value`` lists)."""
    for number, line in code_lines(source):
        match = _ASSIGNMENT.match(line)
        if match:
            yield number, match.group(1), unquote(match.group(2))


def is_placeholder(value: str) -> bool:
    """A reference or template, not a value: ``${VAR}``, ``{{ .x }}``, ``<secret>``…"""
    return not value or bool(_PLACEHOLDER.match(value.strip()))


def fingerprint(secret: str) -> str:
    """A short, stable, one-way tag for a secret, so a report can say *which* secret
    without showing it: 12 hex digits of a domain-separated SHA-256. Stable across runs so
    CI can match a finding to the credential it rotated."""
    digest = hashlib.sha256(_FINGERPRINT_DOMAIN + secret.encode("utf-8", "replace"))
    return "sha256:" + digest.hexdigest()[:12]
