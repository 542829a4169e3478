"""The document as renderer-neutral blocks: headings, paragraphs, lists and tables of
plain text. Markdown, HTML and PDF render the same blocks, so the three formats cannot say
different things; each renderer escapes text for its own syntax."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Block", "Bullets", "Code", "Heading", "Paragraph", "Table"]


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str
    anchor: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str


@dataclass(frozen=True, slots=True)
class Bullets:
    items: tuple[str, ...]
    ordered: bool = False


@dataclass(frozen=True, slots=True)
class Code:
    """Commands to type, shown verbatim."""

    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    status_column: int | None = None
    """A column whose cells are ``pass``/``fail``/``no-evidence`` (rendered as badges)."""


Block = Heading | Paragraph | Bullets | Code | Table
