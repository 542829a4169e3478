"""Live facts for the posture document: what the system *is*, read through public APIs.

    from callvault.posture.facts import collect_facts
    facts = collect_facts(home)           # PostureFacts
    facts.check("keys.rotation").status   # CheckStatus.PASS / FAIL / NO_EVIDENCE
    facts.as_json(), facts.sha256()

Every check id and what it rests on is listed in docs/posture/posture.md.
"""

from callvault.posture.facts._collect import collect_facts
from callvault.posture.facts._model import (
    FACTS_FORMAT,
    Check,
    CheckStatus,
    PostureFacts,
    Section,
    canonical_json,
)

__all__ = [
    "FACTS_FORMAT",
    "Check",
    "CheckStatus",
    "PostureFacts",
    "Section",
    "canonical_json",
    "collect_facts",
]
