"""The lint checks, one module per rule (its id, severity, rationale, fix and probe).

Adding a rule is one module here, one line in ``callvault.posture.lint._registry`` and its
positive and negative tests (tests/posture/lint/test_checks.py).
"""

__all__: list[str] = []
