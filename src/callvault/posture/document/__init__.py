"""The encryption posture document, generated from the live system (``callvault posture``).

    from callvault.posture.document import build_posture
    doc = build_posture(home)
    doc.markdown(); doc.html(); doc.pdf()   # str, str, bytes
    doc.as_json()                           # facts + control and checklist results
    doc.gaps                                # controls that do not pass

The compliance mapping and the procurement checklist are versioned data
(``data/compliance-v1.json``, ``data/checklist-v1.json``); see docs/posture/posture.md.
"""

from callvault.posture.document._build import POSTURE_FORMAT, PostureDocument, build_posture
from callvault.posture.document._mapping import (
    Checklist,
    ComplianceMapping,
    Control,
    Question,
    combine,
    load_checklist,
    load_mapping,
)

__all__ = [
    "POSTURE_FORMAT",
    "Checklist",
    "ComplianceMapping",
    "Control",
    "PostureDocument",
    "Question",
    "build_posture",
    "combine",
    "load_checklist",
    "load_mapping",
]
