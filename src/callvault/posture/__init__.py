"""Posture: the system proves its own encryption posture (issue 7).

One subpackage per part: ``scan`` (TLS scanner with grades), ``lint``, ``history``,
``document``, ``evidence``. Each states its own ``__all__``; this package only groups them.
"""

__all__: list[str] = []
