"""The Vault ACL policies a callvault token should have, generated so docs and tests agree.

Two policies per environment, so the server enforces environment scoping too (a ``dev``
token cannot name a ``prod`` key, whatever the client does) and a serving process cannot
destroy keys:

* ``runtime``: wrap, unwrap, generate and rewrap under the environment's keys, read their
  configuration and KV records. What ``callvault serve`` needs.
* ``admin``: the runtime rights plus create, rotate, configure, disable, delete and write
  the KV records. What ``callvault keys ...`` needs.

Neither grants ``create`` on ``encrypt`` (no key minted by a wrap), ``export`` or
``backup`` (the keys are not exportable anyway), nor anything outside the two mounts. The admin
policy's ``update`` on ``transit/keys/callvault.<env>.*`` also reaches ``import_version``,
but the server refuses it for keys it generated, so no known material can be slipped in
as a new version.
"""

from __future__ import annotations

from callvault._ids import Environment
from callvault.keys.providers._vault_wire import PREFIX

__all__ = ["recommended_policy"]


def recommended_policy(
    environment: Environment,
    *,
    admin: bool,
    transit_mount: str = "transit",
    meta_mount: str = "callvault-meta",
) -> str:
    """HCL for ``bao policy write callvault-<env>[-admin] -``."""
    env = Environment(environment).value
    keys = f"{transit_mount}/keys/{PREFIX}.{env}.*"
    records = f"{meta_mount}/data/{transit_mount}/{env}"
    listing = f"{meta_mount}/metadata/{transit_mount}/{env}"
    rules = [
        (f"{transit_mount}/datakey/plaintext/{PREFIX}.{env}.*", ["update"]),
        (f"{transit_mount}/encrypt/{PREFIX}.{env}.*", ["update"]),
        (f"{transit_mount}/decrypt/{PREFIX}.{env}.*", ["update"]),
        (f"{transit_mount}/rewrap/{PREFIX}.{env}.*", ["update"]),
        (f"{transit_mount}/config/keys", ["read"]),
        (keys, ["read", "update", "delete"] if admin else ["read"]),
        (f"{records}/*", ["create", "read", "update"] if admin else ["read"]),
        (f"{listing}/*", ["list", "read"]),
        (listing, ["list"]),
    ]
    role = "administration" if admin else "runtime"
    lines = [f"# callvault {role} policy for environment {env!r} (generated)"]
    for path, capabilities in rules:
        quoted = ", ".join(f'"{c}"' for c in capabilities)
        lines.append(f'path "{path}" {{\n  capabilities = [{quoted}]\n}}')
    return "\n".join(lines) + "\n"
