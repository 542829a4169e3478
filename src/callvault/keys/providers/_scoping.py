"""Environment scoping of master key ids.

Every master key id starts with its environment (``prod/acme/default``). A provider checks
the prefix on every call, so a key id of one environment is refused in another even when
both environments reach the same KMS: the seed's "KMS keys shared across environments" red
flag cannot happen by accident.
"""

from __future__ import annotations

from callvault._ids import Environment
from callvault.errors import EnvironmentMismatch

__all__ = ["check_key_environment"]


def check_key_environment(key_id: str, environment: Environment) -> None:
    scope = key_id.split("/", 1)[0]
    if scope != environment.value:
        raise EnvironmentMismatch(
            f"key {key_id} is not a {environment.value!r} key; keys are never used across "
            "environments"
        )
