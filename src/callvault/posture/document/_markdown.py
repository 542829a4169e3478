"""Markdown rendering (CommonMark + GFM tables). Cell text is escaped so a tenant id or a
finding containing ``|``, backticks or HTML cannot break a table or inject markup into a
renderer that allows HTML."""

from __future__ import annotations

import html
import re

from callvault.posture.document._blocks import Block, Bullets, Code, Heading, Paragraph, Table

__all__ = ["render_markdown"]

_SPECIAL = re.compile(r"([\\`*\[\]|#])")


def _text(value: str) -> str:
    flat = " ".join(value.split())
    return _SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def _inline_code(value: str) -> str:
    return value.replace("`", "'")


def render_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"{'#' * block.level} {_text(block.text)}\n")
        elif isinstance(block, Paragraph):
            out.append(_text(block.text) + "\n")
        elif isinstance(block, Bullets):
            out.append(
                "\n".join(
                    f"{i + 1}. {_text(item)}" if block.ordered else f"- {_text(item)}"
                    for i, item in enumerate(block.items)
                )
                + "\n"
            )
        elif isinstance(block, Code):
            out.append("```sh\n" + "\n".join(_inline_code(x) for x in block.lines) + "\n```\n")
        else:
            out.append(_table(block))
    return "\n".join(out)


def _table(table: Table) -> str:
    lines = [
        "| " + " | ".join(_text(h) for h in table.headers) + " |",
        "|" + "---|" * len(table.headers),
    ]
    for row in table.rows:
        cells = [_text(c) for c in row]
        if table.status_column is not None:
            cells[table.status_column] = f"**{cells[table.status_column].upper()}**"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
