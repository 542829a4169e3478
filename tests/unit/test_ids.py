"""Identifiers are checked once, at the edge, before any work is done."""

from __future__ import annotations

import pytest

from callvault import DataClass, Environment, InvalidRequest, ObjectContext


@pytest.mark.parametrize("tenant", ["", "Acme", "-acme", "a" * 64, "ac me", "acme/../x", "ácme"])
def test_bad_tenant_ids(tenant: str) -> None:
    with pytest.raises(InvalidRequest, match="tenant id"):
        ObjectContext(tenant, Environment.DEV, DataClass.RECORDING, "x")


@pytest.mark.parametrize("object_id", ["", ".hidden", "a/b", "../x", "x" * 129, "id with space"])
def test_bad_object_ids(object_id: str) -> None:
    with pytest.raises(InvalidRequest, match="object id"):
        ObjectContext("acme", Environment.DEV, DataClass.RECORDING, object_id)


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ("", "non-empty printable"),
        ("line\nbreak", "non-empty printable"),
        ("Zoe\u0308", "NFC"),  # e + combining diaeresis: the NFD spelling of Zoë
        ("+1" + "5" * 300, "at most 256 bytes"),
    ],
)
def test_bad_subjects(subject: str, reason: str) -> None:
    with pytest.raises(InvalidRequest, match=reason):
        ObjectContext("acme", Environment.DEV, DataClass.RECORDING, "x", subject)


def test_nfc_subject_and_enums_are_accepted() -> None:
    ctx = ObjectContext("acme", "prod", "transcript", "call-1", "Zo\u00eb +33 1 23 45 67 89")  # type: ignore[arg-type]
    assert ctx.environment is Environment.PROD
    assert ctx.data_class is DataClass.TRANSCRIPT
    with pytest.raises(ValueError):
        ObjectContext("acme", "qa", DataClass.RECORDING, "x")  # type: ignore[arg-type]
