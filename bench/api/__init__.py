"""The API benchmark (issue 3, item 7): a 5-minute call through the real HTTPS service,
encrypted vs the same service with a bench-only identity ``Vault`` (``PlaintextVault``).

``bench.run`` runs it as the ``api`` section; what it measures and how: bench/README.md.
"""

from bench.api._bench import API_FULL, API_QUICK, ApiPlan, bench_api, check_storage
from bench.api._plaintext import PlainRangeReader, PlaintextVault
from bench.api._report import print_api
from bench.api._summary import ADDED_MEDIAN_TARGET_MS, api_targets

__all__ = [
    "ADDED_MEDIAN_TARGET_MS",
    "API_FULL",
    "API_QUICK",
    "ApiPlan",
    "PlainRangeReader",
    "PlaintextVault",
    "api_targets",
    "bench_api",
    "check_storage",
    "print_api",
]
