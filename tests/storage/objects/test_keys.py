"""Object keys: built and checked from callvault's identifier alphabets, so no key can name
a path outside the store or a prefix that spans tenants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callvault import DataClass
from callvault.errors import InvalidRequest
from callvault.storage.objects import check_key, check_prefix, object_key, split_key


def test_object_key_round_trip() -> None:
    key = object_key("acme", DataClass.RECORDING, "call-42.v2:a_b")
    assert key == "acme/recording/call-42.v2:a_b"
    assert split_key(key) == ("acme", DataClass.RECORDING, "call-42.v2:a_b")


@pytest.mark.parametrize(
    ("tenant", "data_class", "object_id"),
    [
        ("..", "recording", "x"),
        ("acme", "..", "x"),
        ("acme", "recording", ".."),
        ("acme", "recording", "a/b"),
        ("ac/me", "recording", "x"),
        ("acme", "recording", ""),
        ("", "recording", "x"),
        ("acme", "Recording", "x"),
        ("acme", "recording", "x\n"),
        ("acme", "recording", "é"),
        ("acme", "recording", "a" * 129),
    ],
)
def test_object_key_refuses(tenant: str, data_class: str, object_id: str) -> None:
    with pytest.raises(InvalidRequest):
        object_key(tenant, data_class, object_id)


@pytest.mark.parametrize(
    ("prefix", "parts"),
    [
        ("", ()),
        ("acme", ("acme",)),
        ("acme/", ("acme",)),
        ("acme/transcript/", ("acme", "transcript")),
    ],
)
def test_prefixes(prefix: str, parts: tuple[str, ...]) -> None:
    assert check_prefix(prefix) == parts


@pytest.mark.parametrize(
    "prefix", ["/", "//", "acme//", "/acme", "ac", "acme/rec", "..", "acme/.."]
)
def test_bad_prefixes(prefix: str) -> None:
    if prefix == "ac":  # a valid (short) tenant id: whole segment, so it is accepted as such
        assert check_prefix(prefix) == ("ac",)
        return
    with pytest.raises(InvalidRequest):
        check_prefix(prefix)


@given(st.text(max_size=80))
def test_any_accepted_key_is_three_safe_segments(text: str) -> None:
    try:
        key = check_key(text)
    except InvalidRequest:
        return
    parts = key.split("/")
    assert len(parts) == 3
    assert all(part and not part.startswith(".") and "\x00" not in part for part in parts)
    assert not key.startswith("/")
