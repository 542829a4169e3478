"""``kms.key-shared-across-envs``: one KMS key referenced by two environments.

"KMS keys shared across environments (production should use separate keys)" is a seed red
flag: a staging host that can use the production key can decrypt production data, and a
key policy cannot tell the two apart. callvault itself scopes key ids by environment, but
that does not help when the *same* AWS key, Vault transit key or HSM token is configured for
both.

References recognised: AWS KMS key and alias ARNs, bare ``alias/…``, key UUIDs and
multi-region ``mrk-…`` ids on a line that mentions KMS, Vault transit key paths
(``transit/keys/NAME``) and ``*TRANSIT_KEY*=NAME`` settings, and callvault provider URIs
other than ``local://`` and ``aws://?region=`` (``pkcs11://…?token=``, ``vault+https://…``,
``keyd://…``), whose keys live behind one token, mount or service. A file's environment
is ``LintContext.environment_of``; files of unknown environment are not compared. Every
reference to a shared key is reported, naming the other environments.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from callvault.posture.lint._context import LintContext
from callvault.posture.lint._model import Check, CheckInfo, Hit, Severity
from callvault.posture.lint._text import code_lines

__all__ = ["CHECK", "key_references"]

INFO = CheckInfo(
    id="kms.key-shared-across-envs",
    severity=Severity.HIGH,
    title="The same KMS key is used by two environments",
    rationale="The seed lists 'KMS keys shared across environments' as a red flag: a "
    "non-production host holding the production key can decrypt production call data "
    "(NIST SP 800-57: one key, one purpose; SOC 2 CC6.1 segregation).",
    fix="Create one key (or Vault transit key, HSM token, keyd service) per environment and "
    "reference only that environment's key in its configuration.",
)

_ARN = re.compile(r"\barn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:(?:key|alias)/[\w/+.-]+")
_ALIAS = re.compile(r"(?<![\w:/])alias/[\w/+.-]+")
_KEY_ID = re.compile(
    r"\b(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"
)
_TRANSIT_PATH = re.compile(r"\btransit/(?:keys|encrypt|decrypt|rewrap|datakey/\w+)/([\w.-]+)")
_TRANSIT_SETTING = re.compile(r"""TRANSIT_KEY\w*["']?\s*[=:]\s*["']?([\w.-]+)""", re.IGNORECASE)
_PROVIDER_URI = re.compile(r"\b(?:pkcs11|vault\+https?|keyd)://[^\s\"'#]+")


def key_references(line: str) -> set[str]:
    """The KMS keys a line references, normalised (``aws-kms:alias/x``, ``transit:x``)."""
    refs = {f"aws-kms:{m.group(0)}" for m in _ARN.finditer(line)}
    stripped = _ARN.sub("", line)
    if "kms" in line.lower():
        refs |= {f"aws-kms:{m.group(0)}" for m in _ALIAS.finditer(stripped)}
        refs |= {f"aws-kms:key/{m.group(0)}" for m in _KEY_ID.finditer(stripped)}
    refs |= {f"vault-transit:{m.group(1)}" for m in _TRANSIT_PATH.finditer(line)}
    refs |= {f"vault-transit:{m.group(1)}" for m in _TRANSIT_SETTING.finditer(line)}
    refs |= {f"provider:{m.group(0).rstrip(',;')}" for m in _PROVIDER_URI.finditer(line)}
    return refs


def _probe(ctx: LintContext) -> Iterator[Hit]:
    uses: dict[str, list[tuple[str, str, int]]] = defaultdict(list)  # ref -> (env, file, line)
    for source in ctx.config_files():
        env = ctx.environment_of(source)
        if env is None:
            continue
        for number, line in code_lines(source):
            for ref in key_references(line):
                uses[ref].append((env, source.rel, number))
    for ref, places in sorted(uses.items()):
        envs = {env for env, _, _ in places}
        if len(envs) < 2:
            continue
        for env, rel, number in places:
            others = sorted(
                {f"{other} ({other_rel})" for other, other_rel, _ in places if other != env}
            )
            yield Hit(
                rel,
                number,
                f"{ref.split(':', 1)[1]} ({env}) is also used by {', '.join(others)}",
            )


CHECK = Check(INFO, _probe)
