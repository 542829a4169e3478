"""The KMS providers benchmark (issue 4): per-call latency of every provider that can run
here (local, PKCS#11 on SoftHSM2, Vault Transit on OpenBao, AWS KMS on moto), bare and
through the provider stack; the key hierarchy's unwrap with a warm and a cold cache; and
the rewrap rate after a rotation, against raw AES-GCM.

``bench.run`` runs it as the ``providers`` section; what it measures and how:
bench/README.md.
"""

from bench.providers._backend import Backend, Skipped
from bench.providers._bench import (
    PROVIDERS,
    PROVIDERS_FULL,
    PROVIDERS_QUICK,
    ProvidersPlan,
    bench_providers,
)
from bench.providers._report import print_providers

__all__ = [
    "PROVIDERS",
    "PROVIDERS_FULL",
    "PROVIDERS_QUICK",
    "Backend",
    "ProvidersPlan",
    "Skipped",
    "bench_providers",
    "print_providers",
]
