"""The two in-process backends: the local KMS (a keyring in a temp home) and SoftHSM2.

SoftHSM2 gets a private configuration and token directory under the run's temporary
directory, as the provider suite does (tests/keys/providers/_kms_pkcs11.py): the token is
initialised with ``softhsm2-util`` before the module is loaded, because SoftHSM reads its
token directory once, at ``C_Initialize``, i.e. at the provider's first call. For that
reason ``SOFTHSM2_CONF`` stays set from ``launch`` to ``stop`` (not only while opening),
and a process can measure one SoftHSM2 backend only: python-pkcs11 initialises a module
once per process. The user PIN is a fresh random one, handed to the provider through
``CALLVAULT_PKCS11_PIN`` only while it is opened.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import subprocess
from pathlib import Path

from bench.providers._backend import Backend, Skipped

__all__ = ["LocalServer", "SoftHsmServer"]

MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
TOKEN = "callvault-bench"


class LocalServer:
    """The default provider: ``local://`` is the home's own keyring file."""

    def __init__(self, tmp: Path) -> None:
        del tmp

    def ready(self) -> Backend:
        return Backend("local", "local://", notes="keyring file in the temporary home")

    def stop(self) -> None:
        pass


class SoftHsmServer:
    """A SoftHSM2 token of its own; ``launch`` raises ``Skipped`` without SoftHSM2."""

    def __init__(self, tmp: Path) -> None:
        if importlib.util.find_spec("pkcs11") is None:
            raise Skipped("python-pkcs11 is not installed (pip install 'callvault[pkcs11]')")
        util = shutil.which("softhsm2-util")
        module = next((Path(m) for m in MODULES if Path(m).is_file()), None)
        if util is None or module is None:
            raise Skipped("SoftHSM2 is not installed (apt-get install softhsm2)")
        directory = tmp / "softhsm"
        (directory / "tokens").mkdir(parents=True)
        conf = directory / "softhsm2.conf"
        conf.write_text(
            f"directories.tokendir = {directory / 'tokens'}\n"
            "objectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
        )
        self._pin = f"u-{secrets.token_hex(8)}"
        subprocess.run(
            [
                util,
                "--init-token",
                "--free",
                "--label",
                TOKEN,
                "--so-pin",
                f"so-{secrets.token_hex(8)}",
                "--pin",
                self._pin,
            ],
            check=True,
            capture_output=True,
            timeout=60,
            env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        )
        self._module = module
        self._previous = os.environ.get("SOFTHSM2_CONF")
        os.environ["SOFTHSM2_CONF"] = str(conf)

    def ready(self) -> Backend:
        return Backend(
            "pkcs11",
            f"pkcs11://{self._module}?token={TOKEN}",
            environ={"CALLVAULT_PKCS11_PIN": self._pin, "CALLVAULT_PKCS11_PIN_FILE": None},
            notes=f"SoftHSM2 token {TOKEN!r} ({self._module})",
        )

    def stop(self) -> None:
        if self._previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = self._previous
