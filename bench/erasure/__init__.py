"""The erasure benchmark (issue 5): what erasing a whole tenant costs with 10 objects and
with 100 000 (``--quick``: 3 000), split into key destruction and the total.

``bench.run`` runs it as the ``erasure`` section; what it measures and how: bench/README.md.
"""

from bench.erasure._bench import (
    ERASURE_FULL,
    ERASURE_QUICK,
    ErasurePlan,
    bench_erasure,
    erasure_targets,
    print_erasure,
)

__all__ = [
    "ERASURE_FULL",
    "ERASURE_QUICK",
    "ErasurePlan",
    "bench_erasure",
    "erasure_targets",
    "print_erasure",
]
