"""The keyd benchmark (issue 6): mTLS handshake cost per new connection, and a remote
unwrap through keyd against the same unwrap in-process, median and p99, measured in the
same run against a ``callvault keyd`` child process.

``bench.run`` runs it as the ``keyd`` section; what it measures and how: bench/README.md
and the module docstring of ``bench.keyd._bench``.
"""

from bench.keyd._bench import KEYD_FULL, KEYD_QUICK, KeydPlan, bench_keyd, keyd_targets
from bench.keyd._report import print_keyd

__all__ = ["KEYD_FULL", "KEYD_QUICK", "KeydPlan", "bench_keyd", "keyd_targets", "print_keyd"]
