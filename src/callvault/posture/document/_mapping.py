"""The compliance mapping and the procurement checklist: versioned data, typed, evaluated.

Both files (``data/compliance-v1.json``, ``data/checklist-v1.json``) name check ids, never
outcomes: the outcome of a control is computed from the checks it lists. A control passes
only when every one of its checks passes; one failing check fails it; otherwise a check
without evidence leaves it at ``no-evidence``, which is not a pass. A mapping that names a
check the facts do not have is a data bug and is refused (it could otherwise never fail).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from importlib import resources
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callvault.errors import ConfigError
from callvault.posture.facts import CheckStatus, PostureFacts

__all__ = [
    "Checklist",
    "ComplianceMapping",
    "Control",
    "Question",
    "combine",
    "load_checklist",
    "load_mapping",
    "resolve",
]

M = TypeVar("M", bound=BaseModel)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Control(_Frozen):
    framework: str = Field(min_length=1)
    control: str = Field(min_length=1)
    title: str = Field(min_length=1)
    checks: tuple[str, ...] = Field(min_length=1)


class ComplianceMapping(_Frozen):
    format: str = Field(pattern=r"^callvault\.compliance-mapping/v1$")
    version: int = Field(ge=1)
    source: str
    controls: tuple[Control, ...] = Field(min_length=1)


class Question(_Frozen):
    n: int = Field(ge=1, le=10)
    question: str = Field(min_length=1)
    checks: tuple[str, ...] = Field(min_length=1)
    statement: str = Field(min_length=1)


class Checklist(_Frozen):
    format: str = Field(pattern=r"^callvault\.procurement-checklist/v1$")
    version: int = Field(ge=1)
    source: str
    questions: tuple[Question, ...] = Field(min_length=10, max_length=10)


def _load(model: type[M], name: str) -> M:
    text = resources.files("callvault.posture.document").joinpath("data", name).read_text()
    try:
        return model.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise ConfigError(f"invalid posture data file {name}: {exc}") from None


@functools.cache
def load_mapping() -> ComplianceMapping:
    return _load(ComplianceMapping, "compliance-v1.json")


@functools.cache
def load_checklist() -> Checklist:
    checklist = _load(Checklist, "checklist-v1.json")
    if sorted(q.n for q in checklist.questions) != list(range(1, 11)):
        raise ConfigError("the procurement checklist must answer questions 1 to 10 once each")
    return checklist


def combine(statuses: Iterable[CheckStatus]) -> CheckStatus:
    """All pass: pass. Any fail: fail. Otherwise (some without evidence): no-evidence."""
    found = list(statuses)
    if not found or CheckStatus.FAIL in found:
        return CheckStatus.FAIL
    if CheckStatus.NO_EVIDENCE in found:
        return CheckStatus.NO_EVIDENCE
    return CheckStatus.PASS


def resolve(facts: PostureFacts, check_ids: Iterable[str]) -> list[CheckStatus]:
    """The statuses of ``check_ids``; ``ConfigError`` for an id the facts do not have."""
    known = {c.id: c.status for c in facts.checks}
    missing = [i for i in check_ids if i not in known]
    if missing:
        raise ConfigError(f"posture mapping names unknown checks: {', '.join(missing)}")
    return [known[i] for i in check_ids]
