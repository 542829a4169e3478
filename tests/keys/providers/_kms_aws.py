"""The AWS KMS backend for the provider suite: moto's server mode on 127.0.0.1.

moto runs in its own process (``ThreadedMotoServer`` on an ephemeral port), reached over
real HTTP by a real boto3 client, with dummy credentials in a boto3 session of our own
(``os.environ`` is left alone). moto keeps key *states* but does not enforce them on
cryptographic calls, so ``enforces_key_state`` is False: disable / deletion behaviour is
proven on OpenBao and SoftHSM2, and on moto only its bookkeeping (test_aws.py). AWS deletes
keys no sooner than 7 days after scheduling, hence ``destroys_immediately=False``.

Without moto the backend skips, unless ``CALLVAULT_TEST_AWS_REQUIRED=1`` (CI), when it fails.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from callvault import Environment
from callvault.keys.providers import KmsProvider
from callvault.testing import MotoUnavailable, moto_available, moto_server

REQUIRED_VAR = "CALLVAULT_TEST_AWS_REQUIRED"
REGION = "eu-central-1"


def _missing(reason: str) -> None:
    if os.environ.get(REQUIRED_VAR) == "1":
        pytest.fail(f"AWS KMS backend required ({REQUIRED_VAR}=1) but {reason}")
    pytest.skip(f"AWS KMS backend unavailable: {reason}")


def _closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="session")
def kms_backend_aws() -> Iterator[dict[str, Any]]:
    if not moto_available():
        _missing("moto[server] is not installed")
    with contextlib.ExitStack() as stack:
        try:
            port = stack.enter_context(moto_server())
        except MotoUnavailable as exc:
            _missing(str(exc))
        yield _backend(port)


def _backend(port: int) -> dict[str, Any]:
    import boto3

    from callvault.keys.providers._aws import AwsKms
    from callvault.keys.providers._aws_settings import AwsKmsSettings

    endpoint = f"http://127.0.0.1:{port}"
    providers: dict[Environment, KmsProvider] = {}

    def session() -> Any:
        return boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )

    def provider(environment: Environment) -> KmsProvider:
        if environment not in providers:
            settings = AwsKmsSettings(
                region=REGION, endpoint=endpoint, allow_plaintext_endpoint_for_tests=True
            )
            providers[environment] = AwsKms(settings, environment, session=session())
        return providers[environment]

    def unreachable(environment: Environment) -> KmsProvider:
        settings = AwsKmsSettings(
            region=REGION,
            endpoint=f"http://127.0.0.1:{_closed_port()}",
            allow_plaintext_endpoint_for_tests=True,
            connect_timeout=1,
            read_timeout=1,
            max_attempts=1,
        )
        return AwsKms(settings, environment, session=session())

    return {
        "provider": provider,
        "enforces_key_state": False,
        "destroys_immediately": False,
        "unreachable": unreachable,
        "notes": {"endpoint": endpoint, "region": REGION},
    }
