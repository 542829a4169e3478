"""Posture history: every scan and lint report a home produced, for trends, the dashboard
and the evidence bundle. See docs/posture/evidence.md ("History")."""

from callvault.posture.history._store import (
    DEFAULT_KEEP,
    FORMATS,
    HISTORY_DIR,
    HistoryProblem,
    HistoryRead,
    PostureHistory,
)

__all__ = [
    "DEFAULT_KEEP",
    "FORMATS",
    "HISTORY_DIR",
    "HistoryProblem",
    "HistoryRead",
    "PostureHistory",
]
