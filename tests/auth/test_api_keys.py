"""Customer API keys: shown once, stored as keyed hashes, rotated with overlap, revoked."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import stat
from datetime import timedelta
from typing import Any

import pytest

from callvault import Vault
from callvault.auth import (
    API_KEY_FILE,
    Action,
    ApiKeyPolicy,
    ApiKeyStore,
    AuthenticationError,
    AuthorizationError,
    CredentialKind,
    Role,
    authorize,
)
from callvault.errors import InvalidRequest, KeyNotFound


def refused(store: ApiKeyStore, secret: str) -> str:
    with pytest.raises(AuthenticationError) as info:
        store.verify(secret)
    assert str(info.value) == AuthenticationError.MESSAGE
    return info.value.reason


def test_create_and_verify(api_keys: ApiKeyStore):
    new = api_keys.create("acme", "service", "voice agent")
    assert re.fullmatch(r"cvk_[a-z2-7]{16}_[a-z2-7]{52}", new.secret)
    assert new.info.key_id in new.secret and new.info.tenant == "acme"
    principal = api_keys.verify(new.secret)
    assert (principal.role, principal.tenant) == (Role.SERVICE, "acme")
    assert principal.kind is CredentialKind.API_KEY and principal.token_id == new.info.key_id
    assert principal.expires_at == new.info.expires_at
    assert new.secret not in repr(new) and new.secret.split("_")[2] not in repr(new)


def _forms(text: str) -> list[bytes]:
    raw = text.encode()
    return [raw, raw.hex().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw)]


def test_store_file_holds_no_secret_and_no_pepper(api_keys: ApiKeyStore, vault: Vault):
    made = [
        api_keys.create("acme", "tenant-admin", "ops"),
        api_keys.create("globex", "service", "a"),
    ]
    made.append(api_keys.rotate("acme", made[0].info.key_id))
    path = vault.home / API_KEY_FILE
    content = path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for new in made:
        secret_part = new.secret.rsplit("_", 1)[1]
        for form in _forms(new.secret) + _forms(secret_part):
            assert form not in content
        secret_bits = base64.b32decode(secret_part.upper() + "====")
        assert secret_bits not in content and secret_bits.hex().encode() not in content
    pepper = api_keys._pepper_key(json.loads(content), create=False).secret_bytes()
    for form in (pepper, pepper.hex().encode(), base64.b64encode(pepper)):
        assert form not in content
    assert json.loads(content)["pepper"]["version"] == 1  # wrapped form only
    assert vault.provider.describe_key("dev/platform/api-keys")


def test_list_is_metadata_only_and_per_tenant(api_keys: ApiKeyStore):
    a = api_keys.create("acme", "service", "one")
    api_keys.create("globex", "service", "two")
    listed = api_keys.list("acme")
    assert [k.key_id for k in listed] == [a.info.key_id]
    fields = {f.name for f in dataclasses.fields(listed[0])}
    assert fields == {
        "key_id",
        "tenant",
        "role",
        "label",
        "created_at",
        "expires_at",
        "rotated_at",
        "revoked_at",
    }
    assert a.secret not in repr(listed)


def test_wrong_unknown_and_malformed_keys_refused(api_keys: ApiKeyStore):
    new = api_keys.create("acme", "service", "x")
    _, key_id, secret = new.secret.split("_")
    other_secret = ("a" if secret[0] != "a" else "b") + secret[1:]
    assert refused(api_keys, f"cvk_{key_id}_{other_secret}").startswith("wrong")
    assert refused(api_keys, f"cvk_{'a' * 16}_{secret}") == "unknown API key"
    for bad in [
        "",
        new.secret + "a",
        new.secret.upper(),
        new.secret[:-1],
        " " + new.secret,
        f"cvk_{key_id}_{secret[:20]}",
        f"xyz_{key_id}_{secret}",
        None,
        42,
    ]:
        assert refused(api_keys, bad) == "malformed API key"  # type: ignore[arg-type]


def test_revoked_key_refused(api_keys: ApiKeyStore, clock: Any):
    new = api_keys.create("acme", "service", "x")
    rotated = api_keys.rotate("acme", new.info.key_id)  # both secrets live now
    info = api_keys.revoke("acme", new.info.key_id)
    assert info.revoked_at == clock()
    for secret in (new.secret, rotated.secret):
        refused(api_keys, secret)
    assert api_keys.list("acme")[0].revoked_at is not None
    with pytest.raises(InvalidRequest):
        api_keys.rotate("acme", new.info.key_id)  # no resurrection by rotation


def test_other_tenants_keys_are_not_found(api_keys: ApiKeyStore):
    new = api_keys.create("acme", "tenant-admin", "x")
    with pytest.raises(KeyNotFound):
        api_keys.revoke("globex", new.info.key_id)
    with pytest.raises(KeyNotFound):
        api_keys.rotate("globex", new.info.key_id)
    assert api_keys.verify(new.secret).tenant == "acme"


def test_rotation_overlap(api_keys: ApiKeyStore, clock: Any):
    old = api_keys.create("acme", "service", "x")
    clock.advance(days=10)
    new = api_keys.rotate("acme", old.info.key_id)
    assert new.info.key_id == old.info.key_id and new.secret != old.secret
    assert new.info.expires_at > old.info.expires_at and new.info.rotated_at == clock()
    clock.advance(hours=23, minutes=59)
    assert api_keys.verify(old.secret).tenant == "acme"  # in the overlap
    clock.advance(minutes=1)
    assert refused(api_keys, old.secret).startswith("wrong")
    assert api_keys.verify(new.secret).tenant == "acme"


def test_second_rotation_does_not_extend_the_overlap(api_keys: ApiKeyStore, clock: Any):
    first = api_keys.create("acme", "service", "x")
    second = api_keys.rotate("acme", first.info.key_id)
    clock.advance(hours=20)
    third = api_keys.rotate("acme", first.info.key_id)
    clock.advance(hours=4)  # 24 h after the first rotation
    refused(api_keys, first.secret)
    assert api_keys.verify(second.secret) and api_keys.verify(third.secret)
    clock.advance(hours=20)
    refused(api_keys, second.secret)
    assert api_keys.verify(third.secret)


def test_keys_expire(api_keys: ApiKeyStore, clock: Any):
    new = api_keys.create("acme", "service", "x")
    clock.advance(days=89, hours=23)
    assert api_keys.verify(new.secret)
    clock.advance(hours=1)
    assert refused(api_keys, new.secret) == "expired API key"


@pytest.mark.parametrize(("field", "value"), [("role", "tenant-admin"), ("tenant", "globex")])
def test_editing_the_file_to_escalate_breaks_the_key(api_keys, vault: Vault, field, value):
    new = api_keys.create("acme", "service", "x")
    path = vault.home / API_KEY_FILE
    doc = json.loads(path.read_text())
    doc["keys"][new.info.key_id][field] = value
    path.write_text(json.dumps(doc))
    refused(api_keys, new.secret)


def test_create_refuses_bad_input(api_keys: ApiKeyStore):
    for role in ("platform-admin", "auditor", "root"):
        with pytest.raises(InvalidRequest):
            api_keys.create("acme", role, "x")
    for label in ("", "x" * 65, "tab\there"):
        with pytest.raises(InvalidRequest):
            api_keys.create("acme", "service", label)
    with pytest.raises(InvalidRequest):
        api_keys.create("Not A Tenant", "service", "x")


def test_policy_bounds():
    from datetime import timedelta

    with pytest.raises(ValueError):
        ApiKeyPolicy(lifetime=timedelta(days=400))
    with pytest.raises(ValueError):
        ApiKeyPolicy(rotation_overlap=timedelta(days=8))


def test_api_key_principals_go_through_authorize(api_keys: ApiKeyStore):
    service = api_keys.verify(api_keys.create("acme", "service", "agent").secret)
    admin = api_keys.verify(api_keys.create("acme", "tenant-admin", "ops").secret)
    authorize(service, Action.TRANSCRIPTS_WRITE, "acme")
    authorize(admin, Action.KEYS_ROTATE, "acme")
    with pytest.raises(AuthorizationError):
        authorize(service, Action.KEYS_ROTATE, "acme")
    with pytest.raises(AuthorizationError):
        authorize(admin, Action.TRANSCRIPTS_READ, "globex")


def test_a_second_store_instance_sees_the_same_keys(api_keys: ApiKeyStore, vault: Vault, clock):
    new = api_keys.create("acme", "service", "x")
    other = ApiKeyStore(vault.home, vault.provider, clock=clock)
    assert other.verify(new.secret).tenant == "acme"
    other.revoke("acme", new.info.key_id)
    refused(api_keys, new.secret)


def test_lifetime_may_be_shortened_never_lengthened(api_keys: ApiKeyStore, clock: Any):
    short = api_keys.create("acme", "service", "x", lifetime=timedelta(hours=2))
    assert short.info.expires_at == clock() + timedelta(hours=2)
    clock.advance(hours=1)
    renewed = api_keys.rotate("acme", short.info.key_id)
    assert renewed.info.expires_at == clock() + timedelta(hours=2)  # its own lifetime again
    for bad in (timedelta(minutes=59), timedelta(days=91), timedelta(0), -timedelta(hours=2)):
        with pytest.raises(InvalidRequest):
            api_keys.create("acme", "service", "x", lifetime=bad)
    clock.advance(hours=2)
    assert refused(api_keys, renewed.secret) == "expired API key"


def test_rotation_overlap_can_be_shortened_to_zero(api_keys: ApiKeyStore, clock: Any):
    old = api_keys.create("acme", "service", "x")
    new = api_keys.rotate("acme", old.info.key_id, overlap=timedelta(0))
    assert new.previous_valid_until is None
    refused(api_keys, old.secret)
    assert api_keys.verify(new.secret)
    newer = api_keys.rotate("acme", old.info.key_id, overlap=timedelta(hours=1))
    assert newer.previous_valid_until == clock() + timedelta(hours=1)
    assert api_keys.verify(new.secret) and api_keys.verify(newer.secret)
    clock.advance(hours=1)
    refused(api_keys, new.secret)
    for bad in (timedelta(hours=25), -timedelta(seconds=1)):
        with pytest.raises(InvalidRequest):
            api_keys.rotate("acme", old.info.key_id, overlap=bad)
    assert api_keys.verify(newer.secret)  # the refused rotations changed nothing


def test_default_overlap_is_reported(api_keys: ApiKeyStore, clock: Any):
    old = api_keys.create("acme", "service", "x")
    new = api_keys.rotate("acme", old.info.key_id)
    assert new.previous_valid_until == clock() + timedelta(hours=24)


def test_rotating_an_expired_key_does_not_revive_its_old_secret(api_keys: ApiKeyStore, clock):
    old = api_keys.create("acme", "service", "x", lifetime=timedelta(hours=1))
    clock.advance(hours=3)
    refused(api_keys, old.secret)
    renewed = api_keys.rotate("acme", old.info.key_id)
    assert renewed.previous_valid_until is None
    assert refused(api_keys, old.secret).startswith("wrong")
    assert api_keys.verify(renewed.secret).tenant == "acme"


def test_entries_without_a_stored_lifetime_use_the_policy(api_keys, vault: Vault, clock):
    new = api_keys.create("acme", "service", "x", lifetime=timedelta(hours=5))
    path = vault.home / API_KEY_FILE
    doc = json.loads(path.read_text())
    del doc["keys"][new.info.key_id]["lifetime_s"]
    path.write_text(json.dumps(doc))
    rotated = api_keys.rotate("acme", new.info.key_id)
    assert rotated.info.expires_at == clock() + api_keys.policy.lifetime


def test_get_is_metadata_for_the_own_tenant_only(api_keys: ApiKeyStore):
    new = api_keys.create("acme", "tenant-admin", "ops")
    assert api_keys.get("acme", new.info.key_id) == new.info
    with pytest.raises(KeyNotFound):
        api_keys.get("globex", new.info.key_id)
    with pytest.raises(KeyNotFound):
        api_keys.get("acme", "a" * 16)
