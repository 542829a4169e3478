"""``build_posture``: facts in, a ``PostureDocument`` out (blocks plus evaluations).

The document is a pure function of the facts: rendering twice gives the same bytes, and
the only moving part is the collection time the facts carry.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from callvault.posture.document import _sections_ops as ops
from callvault.posture.document import _sections_system as system
from callvault.posture.document._blocks import Block
from callvault.posture.document._html import render_html
from callvault.posture.document._mapping import (
    Control,
    Question,
    combine,
    load_checklist,
    load_mapping,
    resolve,
)
from callvault.posture.document._markdown import render_markdown
from callvault.posture.document._pdf import render_pdf
from callvault.posture.facts import CheckStatus, PostureFacts, collect_facts

__all__ = ["POSTURE_FORMAT", "PostureDocument", "build_posture"]

POSTURE_FORMAT = "callvault.posture/v1"


class PostureDocument:
    """The posture of one home at one time, renderable as Markdown, HTML, PDF or JSON."""

    def __init__(self, facts: PostureFacts) -> None:
        self.facts = facts
        mapping, checklist = load_mapping(), load_checklist()
        self.controls: list[tuple[Control, CheckStatus]] = [
            (c, combine(resolve(facts, c.checks))) for c in mapping.controls
        ]
        self.answers: list[tuple[Question, CheckStatus]] = [
            (q, combine(resolve(facts, q.checks)))
            for q in sorted(checklist.questions, key=lambda q: q.n)
        ]
        self.blocks: list[Block] = [
            *system.overview(facts, list(self.controls)),
            *system.algorithms(facts),
            *system.allowlist(facts),
            *system.keys(facts),
            *system.cmk(facts),
            *ops.erasure(facts),
            *ops.incident(facts),
            *ops.pqc(facts),
            *ops.compliance(facts, self.controls),
            *ops.checklist(facts, list(self.answers), checklist),
            *ops.evidence(facts),
        ]

    @property
    def gaps(self) -> list[Control]:
        """Controls that do not pass (failing or without evidence)."""
        return [c for c, s in self.controls if s is not CheckStatus.PASS]

    def as_json(self) -> dict[str, Any]:
        facts = self.facts.as_json()
        return {
            **facts,
            "format": POSTURE_FORMAT,
            "facts_format": facts["format"],
            "facts_sha256": self.facts.sha256(),
            "controls": [
                {
                    "framework": c.framework,
                    "control": c.control,
                    "title": c.title,
                    "checks": list(c.checks),
                    "status": s.value,
                }
                for c, s in self.controls
            ],
            "checklist": [
                {"n": q.n, "question": q.question, "checks": list(q.checks), "status": s.value}
                for q, s in self.answers
            ],
        }

    def markdown(self) -> str:
        return render_markdown(self.blocks)

    def html(self) -> str:
        return render_html(self.blocks, title=f"callvault posture ({self.facts.environment})")

    def pdf(self) -> bytes:
        return render_pdf(
            self.blocks, title="callvault encryption posture", when=self.facts.generated_at
        )


def build_posture(home: Path, *, now: datetime | None = None) -> PostureDocument:
    """Collect the home's live facts and build its posture document."""
    return PostureDocument(collect_facts(home, now=now))
