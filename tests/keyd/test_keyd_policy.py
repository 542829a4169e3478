"""keyd's authorisation by SPIFFE ID: the default preset separates using keys (api) from
administering them (ops); explicit ``[keyd.grants]`` replace it and are validated."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from callvault import ConfigError, KeyNotFound, OpenError
from callvault.keyd import DEFAULT_GRANTS, KeydPolicy, Operation
from callvault.keys.providers import KeyState
from callvault.keys.providers._remote_wire import KeyAccessDenied
from callvault.transport.ca import SpiffeId

from .conftest import TRUST_DOMAIN, RunningKeyd

KEY_ID = "dev/acme/default"
API = f"spiffe://{TRUST_DOMAIN}/api"
OPS = f"spiffe://{TRUST_DOMAIN}/ops"


def test_api_uses_keys_but_cannot_administer_them(keyd: RunningKeyd) -> None:
    ops, api = keyd.as_service("ops"), keyd.as_service("api")
    ops.create_key(KEY_ID, {"tenant": "acme"})
    key, wrapped = api.generate_data_key(KEY_ID, b"ad")
    assert api.unwrap(KEY_ID, wrapped, b"ad").secret_bytes() == key.secret_bytes()
    assert api.unwrap(KEY_ID, api.wrap(KEY_ID, key, b"x"), b"x").secret_bytes() == (
        key.secret_bytes()
    )
    with pytest.raises(OpenError):  # the provider's kinds come back unchanged
        api.unwrap(KEY_ID, wrapped, b"other")
    for refused in (
        lambda: api.destroy(KEY_ID),
        lambda: api.schedule_deletion(KEY_ID, 7),
        lambda: api.rotate_key(KEY_ID),
        lambda: api.create_key("dev/evil/default", {}),
        lambda: api.list_keys(),
    ):
        with pytest.raises(KeyAccessDenied):
            refused()
    assert ops.describe_key(KEY_ID).state is KeyState.ENABLED  # nothing happened
    entries = [e for e in keyd.log.entries() if e.action.startswith("keyd.")]
    assert any(
        (e.actor, e.action, e.outcome, e.key_id, e.key_version)
        == (API, "keyd.unwrap", "ok", KEY_ID, 1)
        for e in entries
    )
    destroy = [e for e in entries if e.action == "keyd.destroy"]
    assert [(e.actor, e.outcome) for e in destroy] == [(API, "KeyAccessDenied")]
    assert key.secret_bytes().hex() not in json.dumps([e.as_json() for e in entries])


def test_ops_rotates_and_destroys_but_cannot_unwrap(keyd: RunningKeyd) -> None:
    ops, api = keyd.as_service("ops"), keyd.as_service("api")
    ops.create_key(KEY_ID, {})
    _, wrapped = api.generate_data_key(KEY_ID, b"ad")
    assert ops.rotate_key(KEY_ID).primary_version == 2
    assert api.generate_data_key(KEY_ID, b"ad")[1].version == 2
    with pytest.raises(KeyAccessDenied):
        ops.unwrap(KEY_ID, wrapped, b"ad")
    with pytest.raises(KeyAccessDenied):
        ops.generate_data_key(KEY_ID, b"ad")
    assert ops.schedule_deletion(KEY_ID, 7).state is KeyState.PENDING_DELETION
    assert ops.destroy(KEY_ID).state is KeyState.DESTROYED
    rotate = keyd.audited(lambda e: e.action == "keyd.rotate_key")
    assert (rotate.actor, rotate.outcome, rotate.key_version) == (OPS, "ok", 2)
    with pytest.raises(KeyNotFound):
        ops.describe_key("dev/nobody/default")


def test_the_api_side_actor_travels_for_the_audit_only(keyd: RunningKeyd) -> None:
    from callvault.keys import acting_as

    keyd.as_service("ops").create_key(KEY_ID, {})
    api = keyd.as_service("api")
    with acting_as("service:acme"):
        api.generate_data_key(KEY_ID, b"ad")
    entry = keyd.audited(lambda e: e.action == "keyd.generate_data_key")
    assert entry.actor == API  # the authenticated identity, not the claim
    assert entry.detail["on_behalf_of.actor"] == "service:acme"


def test_grants_replace_the_preset_and_are_exact(
    keyd_factory: Callable[..., RunningKeyd],
) -> None:
    keyd = keyd_factory('[keyd.grants]\nbilling = ["describe_key", "create_key"]\n')
    billing = keyd.as_service("billing")
    billing.create_key(KEY_ID, {})
    with pytest.raises(KeyAccessDenied):
        keyd.as_service("api").describe_key(KEY_ID)  # the preset is gone
    with pytest.raises(KeyAccessDenied):
        keyd.as_service("billing-canary").describe_key(KEY_ID)  # no prefix matching


def test_policy_tables_are_validated() -> None:
    policy = KeydPolicy.build(TRUST_DOMAIN)
    api = SpiffeId.for_service(TRUST_DOMAIN, "api")
    assert policy.allows(api, Operation.UNWRAP)
    assert not policy.allows(api, Operation.DESTROY)
    assert not policy.allows(SpiffeId.for_service("other.test", "api"), Operation.UNWRAP)
    assert Operation.UNWRAP not in DEFAULT_GRANTS["ops"]
    with pytest.raises(ConfigError, match="unknown operation"):
        KeydPolicy.build(TRUST_DOMAIN, grants={"api": ["unwrap", "export"]})
    with pytest.raises(ConfigError, match="not a service name"):
        KeydPolicy.build(TRUST_DOMAIN, grants={"spiffe://x/api": ["unwrap"]})
    with pytest.raises(ConfigError, match="preset"):
        KeydPolicy.build(TRUST_DOMAIN, preset="open")
