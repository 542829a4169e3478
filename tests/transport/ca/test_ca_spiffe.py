"""SPIFFE IDs parse strictly (one spelling per identity) and lifetimes stay in bounds."""

from __future__ import annotations

import datetime as dt

import pytest

from callvault.errors import InvalidRequest
from callvault.transport.ca import MAX_SERVICE_TTL, MIN_SERVICE_TTL, SpiffeId, parse_ttl


@pytest.mark.parametrize(
    "value", ["spiffe://example.org/api", "spiffe://a-b_c.d/x/Y.z", "spiffe://td/a_b-c.d"]
)
def test_valid_ids_round_trip(value: str) -> None:
    assert str(SpiffeId.parse(value)) == value


@pytest.mark.parametrize(
    "value",
    [
        "spiffe://example.org",  # no workload path
        "spiffe://example.org/",
        "spiffe://Example.org/api",  # upper-case trust domain
        "SPIFFE://example.org/api",
        "https://example.org/api",
        "spiffe://example.org/a//b",
        "spiffe://example.org/a/./b",
        "spiffe://example.org/a/../b",
        "spiffe://example.org/api/",
        "spiffe://example.org:443/api",
        "spiffe://user@example.org/api",
        "spiffe://example.org/api?x=1",
        "spiffe://example.org/api#f",
        "spiffe://example.org/a%2fb",
        "spiffe://example.org/" + "a" * 2100,
    ],
)
def test_invalid_ids_are_refused(value: str) -> None:
    with pytest.raises(InvalidRequest):
        SpiffeId.parse(value)


def test_ttl_bounds() -> None:
    assert parse_ttl("24h") == dt.timedelta(hours=24)
    assert parse_ttl("60m") == MIN_SERVICE_TTL and parse_ttl("30d") == MAX_SERVICE_TTL
    for bad in ("3599s", "721h", "1h30m", " ", "1.5h"):
        with pytest.raises(InvalidRequest):
            parse_ttl(bad)
