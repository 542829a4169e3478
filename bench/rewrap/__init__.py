"""The rewrap benchmark (issue 4): how many DEKs per second ``callvault keys rewrap``
moves to a new master-key version on the local provider, per kind of stored value.

``bench.run`` runs it as the ``rewrap`` section; what it measures and how: bench/README.md.
"""

from bench.rewrap._bench import REWRAP_FULL, REWRAP_QUICK, RewrapPlan, bench_rewrap, print_rewrap

__all__ = ["REWRAP_FULL", "REWRAP_QUICK", "RewrapPlan", "bench_rewrap", "print_rewrap"]
