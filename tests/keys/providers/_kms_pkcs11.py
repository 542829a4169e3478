"""The PKCS#11 backend for the provider suite: SoftHSM2 with a private token directory.

The fixture writes its own ``softhsm2.conf`` under the session's temporary directory
(``SOFTHSM2_CONF``), initialises the tokens with ``softhsm2-util`` before the module is
first loaded in this process (SoftHSM reads its token directory at ``C_Initialize``), and
gives every environment a provider on one shared token: the harder case for environment
scoping. A second token serves the wrong-PIN tests in ``test_pkcs11.py``, which reach
these settings through the backend's ``notes``.

Without SoftHSM2 or python-pkcs11 the backend skips, unless
``CALLVAULT_TEST_PKCS11_REQUIRED=1`` (CI), when it fails.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callvault import Environment

MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
TOKEN = "callvault-test"
PIN_TOKEN = "callvault-pin-test"
ABSENT_TOKEN = "callvault-absent"


def _missing(reason: str) -> None:
    if os.environ.get("CALLVAULT_TEST_PKCS11_REQUIRED") == "1":
        pytest.fail(f"PKCS#11 backend required but unavailable: {reason}")
    pytest.skip(f"PKCS#11 backend unavailable: {reason}")


def _init_token(util: str, label: str, so_pin: str, pin: str) -> None:
    subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", pin],
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="session")
def kms_backend_pkcs11(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    try:
        import pkcs11  # noqa: F401  (the provider needs it; skip cleanly without)

        from callvault.keys.providers._pkcs11 import Pkcs11Kms
        from callvault.keys.providers._pkcs11_config import Pin, Pkcs11Location
    except ImportError as exc:
        _missing(f"python-pkcs11 is not installed ({exc})")
    util = shutil.which("softhsm2-util")
    module = next((Path(m) for m in MODULES if Path(m).is_file()), None)
    if util is None or module is None:
        _missing("SoftHSM2 is not installed (apt-get install softhsm2)")
    assert util is not None and module is not None

    directory = tmp_path_factory.mktemp("softhsm")
    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {directory / 'tokens'}\n"
        "objectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    pin, so_pin = f"u-{secrets.token_hex(8)}", f"so-{secrets.token_hex(8)}"
    for label in (TOKEN, PIN_TOKEN):
        _init_token(util, label, so_pin, pin)

    providers: dict[Environment, Any] = {}

    def provider(environment: Environment) -> Any:
        if environment not in providers:
            location = Pkcs11Location(module, TOKEN)
            providers[environment] = Pkcs11Kms(location, Pin(pin), environment)
        return providers[environment]

    def unreachable(environment: Environment) -> Any:
        """An HSM whose token is not there (removed, partition offline): KeyUnavailable."""
        return Pkcs11Kms(Pkcs11Location(module, ABSENT_TOKEN), Pin(pin), environment)

    yield {
        "provider": provider,
        "unreachable": unreachable,
        "notes": {
            "module": str(module),
            "token": TOKEN,
            "pin_token": PIN_TOKEN,
            "pin": pin,
            "so_pin": so_pin,
            "conf": str(conf),
        },
    }
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous
