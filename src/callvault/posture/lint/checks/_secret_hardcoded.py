"""``secret.hardcoded``: keys, tokens and passwords written into code or configuration.

"Hardcoded encryption keys in code or config" is a seed red flag: a secret in a repository
is in every clone, backup and CI log, forever, and cannot be rotated by deleting the line.
Detection is ``_detectors`` (detect-secrets plus callvault's key formats). Findings carry
the secret's kind and a fingerprint, never the value, so the lint report itself is safe to
upload as a CI artifact.
"""

from __future__ import annotations

from collections.abc import Iterator

from callvault.posture.lint._context import LintContext
from callvault.posture.lint._detectors import find_secrets
from callvault.posture.lint._model import Check, CheckInfo, Hit, Severity

__all__ = ["CHECK"]

INFO = CheckInfo(
    id="secret.hardcoded",
    severity=Severity.CRITICAL,
    title="Hardcoded key, token or password",
    rationale="The seed lists 'Hardcoded encryption keys in code or config' as a red flag; "
    "a committed secret is copied into every clone, backup and log and must be treated as "
    "compromised (NIST SP 800-57 key protection, PCI DSS 4.0 Req 3.6).",
    fix="Rotate the secret now, then load it at run time: callvault's root key from "
    "root.key (0600), CALLVAULT_ROOT_KEY from a secret manager, or a KMS; API keys and "
    "passwords from the environment or a secret store.",
)


def _probe(ctx: LintContext) -> Iterator[Hit]:
    for source, secret in find_secrets(ctx.files):
        yield Hit(source.rel, secret.line, f"{secret.kind} (fingerprint {secret.fingerprint})")


CHECK = Check(INFO, _probe)
