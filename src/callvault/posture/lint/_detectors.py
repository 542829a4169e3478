"""Secret detection: Yelp's detect-secrets (Apache-2.0) plus callvault's own key formats.

detect-secrets knows the world's token formats (AWS, GitHub, Slack, Stripe, JWT, private
keys, ``password = "…"`` keywords, credentials in URLs…) and its filters drop templated
values, UUIDs and sequential strings. It does not know callvault's formats, so they are
matched here:

* customer API keys ``cvk_<16 base32>_<52 base32>`` (auth/_api_key_model.py);
* the local KMS root key: 64 hex digits as ``CALLVAULT_ROOT_KEY`` / any ``root_key`` value,
  or as the whole content of a ``root.key`` file;
* ``CALLVAULT_ROOT_PASSPHRASE`` with a literal value;
* PEM private keys of any kind (also encrypted ones: a key file belongs in a secret store).

The high-entropy plugins are left out: in a deployment tree they mostly find hashes and
lock-file digests, and a linter that cries wolf is switched off. detect-secrets' own
verification (network calls to the provider) is never used. Secret values leave this
module only as ``fingerprint()`` tags.
"""

from __future__ import annotations

import bisect
import logging
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from callvault.posture.lint._files import SourceFile
from callvault.posture.lint._text import fingerprint, is_placeholder

__all__ = ["SecretHit", "find_secrets"]

_PLUGINS = (
    "AWSKeyDetector", "ArtifactoryDetector", "AzureStorageKeyDetector", "BasicAuthDetector",
    "CloudantDetector", "DiscordBotTokenDetector", "GitHubTokenDetector",
    "GitLabTokenDetector", "IbmCloudIamDetector", "IbmCosHmacDetector", "JwtTokenDetector",
    "KeywordDetector", "MailchimpDetector", "NpmDetector", "OpenAIDetector",
    "PrivateKeyDetector", "PypiTokenDetector", "SendGridDetector", "SlackDetector",
    "SoftlayerDetector", "SquareOAuthDetector", "StripeDetector", "TelegramBotTokenDetector",
    "TwilioKeyDetector",
)  # fmt: skip
_FILTERS = (
    "detect_secrets.filters.heuristic.is_indirect_reference",
    "detect_secrets.filters.heuristic.is_likely_id_string",
    "detect_secrets.filters.heuristic.is_lock_file",
    "detect_secrets.filters.heuristic.is_not_alphanumeric_string",
    "detect_secrets.filters.heuristic.is_potential_uuid",
    "detect_secrets.filters.heuristic.is_prefixed_with_dollar_sign",
    "detect_secrets.filters.heuristic.is_sequential_string",
    "detect_secrets.filters.heuristic.is_swagger_file",
    "detect_secrets.filters.heuristic.is_templated_secret",
)
_API_KEY = re.compile(r"\bcvk_[a-z2-7]{16}_[a-z2-7]{52}\b")
_ROOT_KEY = re.compile(r"(?i)root[_-]?key\b[^0-9a-f\n]{0,40}\b([0-9a-f]{64})\b")
_PASSPHRASE = re.compile(r"""CALLVAULT_ROOT_PASSPHRASE["']?\s*[=:]\s*["']?([^"'\s#]+)""")
_PRIVATE_KEY = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----")
_HEX64 = re.compile(r"\s*[0-9a-fA-F]{64}\s*")


@dataclass(frozen=True, slots=True)
class SecretHit:
    """A secret's kind, line and fingerprint: never the value."""

    line: int
    kind: str
    fingerprint: str


def find_secrets(sources: Iterable[SourceFile]) -> Iterator[tuple[SourceFile, SecretHit]]:
    """Every secret in ``sources``, callvault's formats first, then detect-secrets'."""
    sources = tuple(sources)
    for source in sources:
        for hit in _callvault_formats(source):
            yield source, hit
    yield from _detect_secrets(sources)


def _callvault_formats(source: SourceFile) -> Iterator[SecretHit]:
    if source.name == "root.key" and _HEX64.fullmatch(source.text):
        yield SecretHit(1, "callvault root key file", fingerprint(source.text.strip()))
        return
    for number, line in enumerate(source.lines, start=1):
        for api_key in _API_KEY.finditer(line):
            yield SecretHit(number, "callvault API key", fingerprint(api_key.group(0)))
        if root := _ROOT_KEY.search(line):
            yield SecretHit(number, "callvault root key", fingerprint(root.group(1)))
        if (phrase := _PASSPHRASE.search(line)) and not is_placeholder(phrase.group(1)):
            yield SecretHit(number, "callvault root passphrase", fingerprint(phrase.group(1)))
        if pem := _PRIVATE_KEY.search(line):
            kind = (pem.group(1) or "").strip()
            start = sum(len(x) + 1 for x in source.lines[: number - 1])
            end = source.text.find("-----END", start)
            block = source.text[start : end if end != -1 else len(source.text)]
            label = f"PEM {kind + ' ' if kind else ''}private key"
            yield SecretHit(number, label, fingerprint(block))


def _detect_secrets(sources: tuple[SourceFile, ...]) -> Iterator[tuple[SourceFile, SecretHit]]:
    # detect-secrets' public scan_file() runs every plugin on every line through a
    # dependency-injection layer: ~1 ms a line, minutes on a monorepo. So the plugins'
    # own patterns are first searched over the whole text (one C-level pass each) and only
    # the lines they hit go through detect-secrets' line scanner, filters included. The
    # two private functions used are stable across 1.x; the dependency range pins <2.
    showwarning = warnings.showwarning
    try:  # importing detect-secrets turns on logging.captureWarnings for the whole process
        from detect_secrets.core.scan import _is_filtered_out, _process_line_based_plugins
        from detect_secrets.plugins.keyword import DENYLIST_REGEX
        from detect_secrets.settings import get_plugins, transient_settings
    finally:
        warnings.showwarning = showwarning

    # detect-secrets logs skipped candidates *with their value* at INFO: keep that off.
    log = logging.getLogger("detect-secrets")
    if log.getEffectiveLevel() < logging.ERROR:
        log.setLevel(logging.ERROR)
    config = {
        "plugins_used": [{"name": name} for name in _PLUGINS],
        "filters_used": [{"path": path} for path in _FILTERS],
    }
    found: list[tuple[SourceFile, SecretHit]] = []
    with transient_settings(config):  # global settings: set once per run, then restored
        prefilter = [re.compile(DENYLIST_REGEX, re.IGNORECASE)]
        prefilter += [p for plugin in get_plugins() for p in getattr(plugin, "denylist", ())]
        for source in sources:
            candidates = _candidate_lines(source, prefilter)
            filename = str(source.path)
            if not candidates or _is_filtered_out(
                required_filter_parameters=["filename"], filename=filename
            ):
                continue
            lines = [(n, source.lines[n - 1]) for n in candidates]
            for secret in _process_line_based_plugins(lines=lines, filename=filename):
                value = secret.secret_value or ""
                if secret.type == "Private Key" or is_placeholder(value):
                    continue  # PEM private keys are reported above, with their kind
                tag = fingerprint(value) if value else "sha1:" + secret.secret_hash[:12]
                found.append((source, SecretHit(secret.line_number, secret.type, tag)))
    yield from found


def _candidate_lines(source: SourceFile, patterns: list[re.Pattern[str]]) -> list[int]:
    """1-based numbers of the lines any detector pattern matches somewhere."""
    starts = [0]
    for line in source.lines:
        starts.append(starts[-1] + len(line) + 1)
    hits: set[int] = set()
    text = "\n".join(source.lines)
    for pattern in patterns:
        for match in pattern.finditer(text):
            hits.add(bisect.bisect_right(starts, match.start()))
    return sorted(n for n in hits if 1 <= n <= len(source.lines))
