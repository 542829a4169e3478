"""``backup.unencrypted``: backups written or shipped without encryption.

"Unencrypted backup endpoints" is a seed red flag: a backup holds every recording and
transcript at once, outlives erasure requests and travels to other sites and vendors.
callvault's own ``backup create`` always encrypts (docs/backup.md); this rule catches the
backups around it:

* settings that turn backup encryption off (``BACKUP_ENCRYPTION=false``,
  ``backup: {encrypt: false}``, ``backup_sse = none``…);
* pgBackRest repositories with ``repoN-cipher-type=none``, or a ``pgbackrest.conf`` that
  defines a repository without a cipher (pgBackRest's default is no encryption);
* backup endpoints over plaintext (``BACKUP_URL=http://…``, ``ftp://…``);
* dump commands (``pg_dump``, ``pg_dumpall``, ``mysqldump``, ``mongodump``) written to a
  file or a bucket with no encryption step (``gpg``, ``age``, ``openssl enc``, ``sops``,
  ``callvault seal``) on the line, and ``aws s3 cp|sync`` of a backup without ``--sse``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from callvault.posture.lint._context import LintContext
from callvault.posture.lint._files import SourceFile
from callvault.posture.lint._model import Check, CheckInfo, Hit, Severity
from callvault.posture.lint._text import assignments, code_lines, logical_lines

__all__ = ["CHECK"]

INFO = CheckInfo(
    id="backup.unencrypted",
    severity=Severity.HIGH,
    title="Backup without encryption",
    rationale="The seed lists 'Unencrypted backup endpoints' as a red flag; a backup holds "
    "all call data at once and outlives erasure (HIPAA 164.312(a)(2)(iv), PCI DSS 4.0 "
    "Req 3.5, GDPR Art. 32).",
    fix="Encrypt before the data leaves the host (callvault backup create, or pipe dumps "
    "through age/gpg/callvault seal), use TLS endpoints, set pgBackRest "
    "repoN-cipher-type=aes-256-cbc with a passphrase from a secret store, and S3 SSE-KMS.",
)

_OFF = frozenset({"false", "no", "off", "0", "none", "disabled", "disable", "plaintext"})
_BACKUP_ENCRYPTION_KEY = re.compile(
    r"(?i)(?:backup.*(?:encrypt|cipher|sse)|(?:encrypt|cipher|sse).*backup)"
)
_BACKUP_ENDPOINT_KEY = re.compile(r"(?i)backup\w*(?:url|endpoint|target|dest\w*|uri|host)")
_PGBACKREST_CIPHER = re.compile(r"^\s*(repo\d+)-cipher-type\s*=\s*(\S+)")
_PGBACKREST_REPO = re.compile(r"^\s*(repo\d+)-(?:path|s3-bucket|azure-container|gcs-bucket)\s*=")
_DUMP = re.compile(r"\b(?:pg_dump|pg_dumpall|pg_basebackup|mysqldump|mongodump)\b")
_DUMP_OUTPUT = re.compile(r"(?:>|\s-f\s|--file[=\s]|\baws\s+s3\s+cp\b|--archive[=\s])")
_ENCRYPTS = re.compile(
    r"\b(?:gpg|age|openssl\s+(?:enc|smime|cms)|sops|callvault\s+(?:seal|backup))\b|--encrypt"
)
_S3_COPY = re.compile(r"\baws\s+s3\s+(?:cp|sync)\b")


def _settings(source: SourceFile) -> Iterator[Hit]:
    for number, key, value in assignments(source):
        lowered = value.lower()
        if _BACKUP_ENCRYPTION_KEY.search(key) and lowered in _OFF:
            yield Hit(source.rel, number, f"{key} = {value}: backup encryption is turned off")
        elif _BACKUP_ENDPOINT_KEY.search(key) and lowered.startswith(("http://", "ftp://")):
            scheme = lowered.split(":", 1)[0]
            yield Hit(source.rel, number, f"{key}: backup endpoint over plaintext {scheme}")


def _pgbackrest(source: SourceFile) -> Iterator[Hit]:
    repos: dict[str, int] = {}
    ciphered: set[str] = set()
    for number, line in code_lines(source):
        if match := _PGBACKREST_CIPHER.match(line):
            ciphered.add(match.group(1))
            if match.group(2).lower() == "none":
                yield Hit(source.rel, number, f"pgBackRest {match.group(1)} is not encrypted")
        elif match := _PGBACKREST_REPO.match(line):
            repos.setdefault(match.group(1), number)
    if source.name == "pgbackrest.conf":
        for repo, number in sorted(repos.items()):
            if repo not in ciphered:
                yield Hit(
                    source.rel, number, f"pgBackRest {repo} has no cipher-type (default: none)"
                )


def _commands(source: SourceFile) -> Iterator[Hit]:
    for number, line in logical_lines(source):
        if _ENCRYPTS.search(line):
            continue
        if _DUMP.search(line) and _DUMP_OUTPUT.search(line):
            yield Hit(source.rel, number, "database dump written without an encryption step")
        elif _S3_COPY.search(line) and "backup" in line.lower() and "--sse" not in line:
            yield Hit(source.rel, number, "backup copied to S3 without --sse")


def _probe(ctx: LintContext) -> Iterator[Hit]:
    for source in ctx.config_files():
        seen: set[int | None] = set()
        for hit in (*_settings(source), *_pgbackrest(source), *_commands(source)):
            if hit.line not in seen:
                seen.add(hit.line)
                yield hit


CHECK = Check(INFO, _probe)
