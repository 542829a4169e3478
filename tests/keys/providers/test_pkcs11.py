"""What only the PKCS#11 provider must prove, on a real SoftHSM2 token (``_kms_pkcs11.py``).

Master keys are sensitive and non-extractable token objects; key state is enforced by the
token itself (``CKA_ENCRYPT`` / ``CKA_DECRYPT``), across processes; interrupted changes fail
closed; the PIN never shows in errors or logs, a wrong PIN is a clear error that is not
retried (retries lock tokens); URIs and PIN sources are validated at configuration time.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import textwrap
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callvault import (
    ConfigError,
    Environment,
    KeyDestroyed,
    KeyExists,
    KeyUnavailable,
    ProviderUnreachable,
)
from callvault.keys.providers import ProviderSettings, WrappedKey, open_provider

if os.environ.get("CALLVAULT_TEST_PKCS11_REQUIRED") != "1":  # required: fail on import
    pytest.importorskip("pkcs11")
import pkcs11
from pkcs11 import Attribute, GCMParams, KeyType, Mechanism, MechanismFlag
from pkcs11 import exceptions as p11

from callvault.keys.providers._pkcs11 import Pkcs11Kms
from callvault.keys.providers._pkcs11_config import (
    PIN_ENV,
    PIN_FILE_ENV,
    Pin,
    Pkcs11Location,
    parse_pkcs11_uri,
    resolve_pin,
)
from callvault.keys.providers._pkcs11_objects import (
    APPLICATION,
    KeyRecord,
    find_versions,
    generate_version,
)
from callvault.keys.providers._pkcs11_wrap import _aad
from callvault.keys.providers._registry import open_bare_provider

DEV = Environment.DEV
NewKeyId = Callable[..., str]


@pytest.fixture
def hsm(kms_backend_pkcs11: dict[str, Any]) -> dict[str, Any]:
    return {**kms_backend_pkcs11["notes"], "provider": kms_backend_pkcs11["provider"]}


def _on_token(provider: Pkcs11Kms, operation: Callable[[Any], Any]) -> Any:
    """Run raw python-pkcs11 code on the provider's own logged-in session (and lock)."""
    return provider._run(operation)


def _token_refusal(provider: Pkcs11Kms, call: Callable[[], Any]) -> str:
    """Run ``call`` on the token and return how the token refused it (it must refuse)."""

    def attempt(session: Any) -> str:
        try:
            call()
        except p11.PKCS11Error as exc:
            return f"{type(exc).__name__}: {exc}"
        return "accepted"

    outcome: str = _on_token(provider, attempt)
    return outcome


# CKR_KEY_FUNCTION_NOT_PERMITTED (0x68): the key's attributes forbid the operation, as
# opposed to a tag failure (CKR_GENERAL_ERROR on SoftHSM).
NOT_PERMITTED = ("0x68", "KeyFunctionNotPermitted")


def _created(hsm: dict[str, Any], new_key_id: NewKeyId) -> tuple[Pkcs11Kms, str]:
    provider: Pkcs11Kms = hsm["provider"](DEV)
    key_id = new_key_id()
    provider.create_key(key_id, {"tenant": "acme"})
    return provider, key_id


def _raw_unwrap(key: Any, key_id: str, wrapped: WrappedKey, ad: bytes) -> bytes:
    params = GCMParams(wrapped.blob[:12], _aad(key_id, wrapped.version, ad))
    out: bytes = key.decrypt(wrapped.blob[12:], mechanism=Mechanism.AES_GCM, mechanism_param=params)
    return out


# -- the keys on the token ---------------------------------------------------------------


def test_master_keys_are_sensitive_and_never_extractable(
    hsm: dict[str, Any], new_key_id: NewKeyId
) -> None:
    provider, key_id = _created(hsm, new_key_id)
    provider.rotate_key(key_id)

    def inspect(session: Any) -> None:
        keys = find_versions(session, key_id)
        assert sorted(k[Attribute.ID] for k in keys) == [b"\0\0\0\1", b"\0\0\0\2"]
        for key in keys:
            assert key[Attribute.KEY_TYPE] == KeyType.AES and key[Attribute.VALUE_LEN] == 32
            assert key[Attribute.TOKEN] and key[Attribute.PRIVATE]
            assert key[Attribute.SENSITIVE] and key[Attribute.ALWAYS_SENSITIVE]
            assert not key[Attribute.EXTRACTABLE] and key[Attribute.NEVER_EXTRACTABLE]
            assert not key[Attribute.WRAP] and not key[Attribute.DERIVE]
            with pytest.raises(p11.AttributeSensitive):
                key[Attribute.VALUE]
            with pytest.raises(p11.AttributeReadOnly):
                key[Attribute.EXTRACTABLE] = True
            with pytest.raises(p11.AttributeReadOnly):
                key[Attribute.SENSITIVE] = False
            with pytest.raises(p11.PKCS11Error):  # no extractable copy either
                key.copy({Attribute.EXTRACTABLE: True, Attribute.TOKEN: False})
        # Export under a wrapping key of our own is refused by the token.
        wrapper = session.generate_key(
            KeyType.AES, 256, capabilities=MechanismFlag.WRAP | MechanismFlag.UNWRAP
        )
        with pytest.raises(p11.PKCS11Error):
            wrapper.wrap_key(keys[0], mechanism=Mechanism.AES_KEY_WRAP)

    _on_token(provider, inspect)


def test_the_token_itself_refuses_disabled_and_retired_versions(
    hsm: dict[str, Any], new_key_id: NewKeyId
) -> None:
    """Not only callvault's record: a handle obtained while the key was enabled is refused
    by the HSM after disable, and by version after the minimum decryption version moves."""
    provider, key_id = _created(hsm, new_key_id)
    key, old = provider.generate_data_key(key_id, b"ad")
    raw_v1 = _on_token(provider, lambda s: find_versions(s, key_id, version=1))[0]
    provider.disable_key(key_id)
    refusal = _token_refusal(provider, lambda: _raw_unwrap(raw_v1, key_id, old, b"ad"))
    assert any(marker in refusal for marker in NOT_PERMITTED), refusal
    usage = _on_token(provider, lambda s: (raw_v1[Attribute.ENCRYPT], raw_v1[Attribute.DECRYPT]))
    assert usage == (False, False)
    provider.enable_key(key_id)
    assert _on_token(provider, lambda s: _raw_unwrap(raw_v1, key_id, old, b"ad")) == (
        key.secret_bytes()
    )

    provider.rotate_key(key_id)  # only the primary version may encrypt
    flags = _on_token(
        provider,
        lambda s: {
            k[Attribute.ID][-1]: (k[Attribute.ENCRYPT], k[Attribute.DECRYPT])
            for k in find_versions(s, key_id)
        },
    )
    assert flags == {1: (False, True), 2: (True, True)}
    provider.set_min_decrypt_version(key_id, 2)
    refusal = _token_refusal(provider, lambda: _raw_unwrap(raw_v1, key_id, old, b"ad"))
    assert any(marker in refusal for marker in NOT_PERMITTED), refusal


def test_destroy_removes_every_version_object(hsm: dict[str, Any], new_key_id: NewKeyId) -> None:
    provider, key_id = _created(hsm, new_key_id)
    provider.rotate_key(key_id)
    provider.schedule_deletion(key_id, 0)
    provider.destroy(key_id)
    assert _on_token(provider, lambda s: find_versions(s, key_id)) == []
    described = provider.describe_key(key_id)  # the tombstone record remains
    assert described.state.value == "destroyed" and described.versions == (1, 2)


def test_list_keys_shows_only_this_environment_on_a_shared_token(
    hsm: dict[str, Any], new_key_id: NewKeyId
) -> None:
    dev, prod = hsm["provider"](DEV), hsm["provider"](Environment.PROD)
    dev_key, prod_key = new_key_id(), new_key_id(Environment.PROD)
    dev.create_key(dev_key, {})
    prod.create_key(prod_key, {})
    assert dev_key in {k.key_id for k in dev.list_keys()}
    assert prod_key not in {k.key_id for k in dev.list_keys()}
    assert {k.key_id for k in prod.list_keys()} >= {prod_key}
    assert all(k.key_id.startswith("prod/") for k in prod.list_keys())


# -- crashes and other processes ---------------------------------------------------------


def test_a_stale_record_left_by_a_crash_does_not_win(
    hsm: dict[str, Any], new_key_id: NewKeyId
) -> None:
    provider, key_id = _created(hsm, new_key_id)
    _, wrapped = provider.generate_data_key(key_id, b"ad")
    enabled = provider.describe_key(key_id)
    provider.disable_key(key_id)
    stale = KeyRecord(
        key_id,
        "enabled",
        1,
        1,
        (1,),
        enabled.created_at.isoformat(),
        enabled.rotated_at.isoformat(),
        labels={"tenant": "acme"},
        generation=1,
    )  # a crash between writing generation 2 and destroying generation 1

    def plant(session: Any) -> None:
        session.create_object(
            {
                Attribute.CLASS: pkcs11.ObjectClass.DATA,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.APPLICATION: APPLICATION,
                Attribute.LABEL: "callvault:" + key_id,
                Attribute.VALUE: stale.encode(),
            }
        )

    _on_token(provider, plant)
    assert provider.describe_key(key_id).state.value == "disabled"
    with pytest.raises(KeyUnavailable):
        provider.unwrap(key_id, wrapped, b"ad")
    provider.enable_key(key_id)  # the next change removes older generations
    records = _on_token(
        provider,
        lambda s: list(
            s.get_objects(
                {Attribute.APPLICATION: APPLICATION, Attribute.LABEL: "callvault:" + key_id}
            )
        ),
    )
    assert len(records) == 1


def test_an_interrupted_change_fails_closed_until_reapplied(
    hsm: dict[str, Any], new_key_id: NewKeyId
) -> None:
    """Record says enabled, token already withdrew decrypt (crash mid-change): refused with
    KeyUnavailable, never an OpenError or a success; re-running a key command repairs it."""
    provider, key_id = _created(hsm, new_key_id)
    key, wrapped = provider.generate_data_key(key_id, b"ad")

    def withdraw(session: Any) -> None:
        find_versions(session, key_id, version=1)[0][Attribute.DECRYPT] = False

    _on_token(provider, withdraw)
    with pytest.raises(KeyUnavailable, match="interrupted"):
        provider.unwrap(key_id, wrapped, b"ad")
    provider.enable_key(key_id)
    assert provider.unwrap(key_id, wrapped, b"ad").secret_bytes() == key.secret_bytes()


def test_a_rotation_interrupted_before_its_record_is_completed_not_duplicated(
    hsm: dict[str, Any], new_key_id: NewKeyId
) -> None:
    provider, key_id = _created(hsm, new_key_id)
    _on_token(provider, lambda s: generate_version(s, key_id, 2))  # crash: no record yet
    assert provider.rotate_key(key_id).versions == (1, 2)
    assert len(_on_token(provider, lambda s: find_versions(s, key_id, version=2))) == 1
    assert provider.generate_data_key(key_id, b"ad")[1].version == 2

    def usable_orphan(session: Any) -> None:  # not callvault's doing: never destroyed
        generate_version(session, key_id, 3)[Attribute.DECRYPT] = True

    _on_token(provider, usable_orphan)
    with pytest.raises(KeyUnavailable, match="unrecorded"):
        provider.rotate_key(key_id)


def test_create_refuses_key_objects_without_a_record(
    hsm: dict[str, Any], new_key_id: NewKeyId
) -> None:
    provider: Pkcs11Kms = hsm["provider"](DEV)
    key_id = new_key_id()
    _on_token(provider, lambda s: generate_version(s, key_id, 1))
    with pytest.raises(KeyExists, match="without a callvault record"):
        provider.create_key(key_id, {})


def _in_another_process(hsm: dict[str, Any], code: str) -> None:
    """Run ``code`` (with ``kms``, a DEV provider on the test token) in a new process."""
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from callvault import Environment
        from callvault.keys.providers._pkcs11 import Pkcs11Kms
        from callvault.keys.providers._pkcs11_config import Pkcs11Location, resolve_pin
        kms = Pkcs11Kms(Pkcs11Location(Path({hsm["module"]!r}), {hsm["token"]!r}),
                        resolve_pin(), Environment.DEV)
        """
    )
    env = {**os.environ, "SOFTHSM2_CONF": hsm["conf"], PIN_ENV: hsm["pin"]}
    env.pop(PIN_FILE_ENV, None)
    subprocess.run([sys.executable, "-c", script + code], check=True, env=env, timeout=60)


def test_changes_made_by_another_process_apply_here_at_once(
    hsm: dict[str, Any], new_key_id: NewKeyId
) -> None:
    """State lives on the token, not in this process: objects this process has already
    found (and keeps handles to) follow a rotation or a disable made elsewhere."""
    provider, key_id = _created(hsm, new_key_id)
    key, wrapped = provider.generate_data_key(key_id, b"ad")
    assert provider.unwrap(key_id, wrapped, b"ad").secret_bytes() == key.secret_bytes()
    _in_another_process(hsm, f"kms.rotate_key({key_id!r})")
    assert provider.generate_data_key(key_id, b"ad")[1].version == 2
    _in_another_process(hsm, f"kms.disable_key({key_id!r})")
    with pytest.raises(KeyUnavailable, match="disabled"):
        provider.unwrap(key_id, wrapped, b"ad")
    with pytest.raises(KeyUnavailable, match="disabled"):
        provider.generate_data_key(key_id, b"ad")
    provider.enable_key(key_id)
    assert provider.unwrap(key_id, wrapped, b"ad").secret_bytes() == key.secret_bytes()


def test_a_version_destroyed_elsewhere_is_not_used_from_a_stale_handle(
    hsm: dict[str, Any], new_key_id: NewKeyId
) -> None:
    provider, key_id = _created(hsm, new_key_id)
    _, wrapped = provider.generate_data_key(key_id, b"ad")
    provider.unwrap(key_id, wrapped, b"ad")  # the version's object is now cached here
    _in_another_process(hsm, f"kms.schedule_deletion({key_id!r}, 0); kms.destroy({key_id!r})")
    with pytest.raises(KeyDestroyed):
        provider.unwrap(key_id, wrapped, b"ad")
    with pytest.raises(KeyDestroyed):
        provider.generate_data_key(key_id, b"ad")


def test_only_an_absent_token_is_worth_retrying(hsm: dict[str, Any], new_key_id: NewKeyId) -> None:
    """The resilient wrapper retries ``ProviderUnreachable`` only: an absent token is one,
    a disabled key is a plain ``KeyUnavailable`` (asking again will not help)."""
    absent = Pkcs11Kms(Pkcs11Location(Path(hsm["module"]), "callvault-absent"), Pin("x"), DEV)
    with pytest.raises(ProviderUnreachable, match="not present"):
        absent.generate_data_key(new_key_id(), b"ad")
    provider, key_id = _created(hsm, new_key_id)
    provider.disable_key(key_id)
    with pytest.raises(KeyUnavailable) as caught:
        provider.generate_data_key(key_id, b"ad")
    assert not isinstance(caught.value, ProviderUnreachable)


# -- the PIN -----------------------------------------------------------------------------


def _so_sets_user_pin(hsm: dict[str, Any], new_pin: str) -> None:
    token = pkcs11.lib(hsm["module"]).get_token(token_label=hsm["pin_token"])
    with token.open(rw=True, so_pin=hsm["so_pin"]) as session:
        session.init_pin(new_pin)


def test_a_wrong_pin_is_a_clear_error_that_is_never_retried(
    hsm: dict[str, Any], new_key_id: NewKeyId, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    location = Pkcs11Location(Path(hsm["module"]), hsm["pin_token"])
    wrong = "w-" + hsm["pin"][::-1]
    bad = Pkcs11Kms(location, Pin(wrong), DEV)
    with pytest.raises(ConfigError, match=r"login to token .* refused .*PinIncorrect") as first:
        bad.describe_key(new_key_id())
    _so_sets_user_pin(hsm, wrong)  # the "wrong" PIN is now right, yet not tried again:
    with pytest.raises(ConfigError) as second:  # a retry loop cannot lock the token
        bad.generate_data_key(new_key_id(), b"ad")
    _so_sets_user_pin(hsm, hsm["pin"])
    good = Pkcs11Kms(location, Pin(hsm["pin"]), DEV)
    key_id = new_key_id()
    good.create_key(key_id, {})
    key, wrapped = good.generate_data_key(key_id, b"ad")
    assert good.unwrap(key_id, wrapped, b"ad").secret_bytes() == key.secret_bytes()
    texts = [caplog.text, repr(bad), repr(good), repr(Pin(wrong))]
    for exc in (first.value, second.value):
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for text in texts:
        assert wrong not in text and hsm["pin"] not in text


def test_the_pin_never_appears_in_errors_repr_or_pickles(
    hsm: dict[str, Any], new_key_id: NewKeyId, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = hsm["pin"]
    provider = hsm["provider"](DEV)
    texts = [repr(provider), str(Pin(secret)), caplog.text]
    with pytest.raises(TypeError):
        pickle.dumps(Pin(secret))
    failures: list[BaseException] = []
    absent = Pkcs11Kms(Pkcs11Location(Path(hsm["module"]), "callvault-absent"), Pin(secret), DEV)
    for call in (
        lambda: absent.describe_key(new_key_id()),
        lambda: provider.describe_key(new_key_id()),
        lambda: parse_pkcs11_uri(f"pkcs11://{hsm['module']}?token=x&pin-value={secret}"),
        lambda: parse_pkcs11_uri(f"pkcs11://{hsm['module']}?token=x&slot={secret}"),
    ):
        with pytest.raises(Exception) as caught:
            call()
        failures.append(caught.value)
    for exc in failures:
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    texts.append(caplog.text)
    assert not [t for t in texts if secret in t]


# -- configuration -----------------------------------------------------------------------


def test_open_provider_by_uri_with_the_pin_from_the_environment(
    hsm: dict[str, Any], new_key_id: NewKeyId, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(PIN_ENV, hsm["pin"])
    monkeypatch.delenv(PIN_FILE_ENV, raising=False)
    uri = f"pkcs11://{hsm['module']}?token={hsm['token']}"
    bare = open_bare_provider(uri, ProviderSettings(tmp_path, DEV))
    assert isinstance(bare, Pkcs11Kms) and bare.scheme == "pkcs11"
    provider = open_provider(uri, ProviderSettings(tmp_path, DEV))  # the audited stack
    key_id = new_key_id()
    provider.create_key(key_id, {})
    key, wrapped = provider.generate_data_key(key_id, b"ad")
    assert hsm["provider"](DEV).unwrap(key_id, wrapped, b"ad").secret_bytes() == (
        key.secret_bytes()
    )


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("pkcs11://host{m}?token=t", "host part"),
        ("pkcs11:libsofthsm2.so?token=t", "absolute path"),
        ("pkcs11://{m}", "exactly one token"),
        ("pkcs11://{m}?token=a&token=b", "exactly one token"),
        ("pkcs11://{m}?token=", "1 to 32 bytes"),
        ("pkcs11://{m}?token=" + "x" * 33, "1 to 32 bytes"),
        ("pkcs11://{m}?token=t&pin-value=1234", "must not carry the PIN"),
        ("pkcs11://{m}?token=t&pin-source=/etc/pin", "must not carry the PIN"),
        ("pkcs11://{m}?token=t&slot=0", "unknown parameter"),
        ("pkcs11://{m}?token=t#frag", "fragment"),
        ("pkcs11:///nonexistent/libnothing.so?token=t", "does not exist"),
        ("local:///x?token=t", "not a pkcs11"),
    ],
)
def test_bad_uris_are_config_errors(hsm: dict[str, Any], uri: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_pkcs11_uri(uri.replace("{m}", hsm["module"]))


def test_a_good_uri_names_module_and_token(hsm: dict[str, Any]) -> None:
    location = parse_pkcs11_uri(f"pkcs11://{hsm['module']}?token=my%20hsm")
    assert location == Pkcs11Location(Path(hsm["module"]), "my hsm")


def test_pin_sources(tmp_path: Path) -> None:
    assert resolve_pin({PIN_ENV: "1234"}).reveal() == "1234"
    pin_file = tmp_path / "pin"
    pin_file.write_text("from-file\n")
    pin_file.chmod(0o600)
    assert resolve_pin({PIN_FILE_ENV: str(pin_file)}).reveal() == "from-file"
    pin_file.chmod(0o640)
    with pytest.raises(ConfigError, match="must be 0600"):
        resolve_pin({PIN_FILE_ENV: str(pin_file)})
    with pytest.raises(ConfigError, match="only one"):
        resolve_pin({PIN_ENV: "1234", PIN_FILE_ENV: str(pin_file)})
    with pytest.raises(ConfigError, match="no PKCS#11 PIN"):
        resolve_pin({})
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_pin({PIN_FILE_ENV: str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match="not a regular file"):
        resolve_pin({PIN_FILE_ENV: str(tmp_path)})
    (tmp_path / "empty").write_text("\n")
    (tmp_path / "empty").chmod(0o600)
    with pytest.raises(ConfigError, match="empty"):
        resolve_pin({PIN_FILE_ENV: str(tmp_path / "empty")})
