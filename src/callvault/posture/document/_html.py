"""Self-contained HTML rendering: one file, inline CSS (screen and print), no script, no
external resource, every text node escaped. A strict Content-Security-Policy meta tag makes
a browser refuse scripts even if some escaping were ever missed."""

from __future__ import annotations

import html

from callvault.posture.document._blocks import Block, Bullets, Code, Heading, Paragraph, Table

__all__ = ["render_html"]

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;
max-width:1100px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.8rem;border-bottom:2px solid #1b1f24}h2{margin-top:2.2rem;
border-bottom:1px solid #c9ced6}h3{font-size:1.02rem;margin-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0;font-size:.88rem}
th,td{border:1px solid #c9ced6;padding:.3rem .45rem;text-align:left;vertical-align:top;
overflow-wrap:anywhere}th{background:#eef1f5}
.status{font-weight:700;white-space:nowrap}.pass{color:#0b6b2b}.fail{color:#a1160a}
.no-evidence{color:#8a5a00}pre{background:#f4f6f8;padding:.6rem;overflow-x:auto}
nav ol{columns:2}
@media print{body{max-width:none;margin:0;font-size:10pt}h2{break-before:auto;
break-after:avoid}table,tr{break-inside:avoid}nav{display:none}a{color:inherit}}
"""


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def render_html(blocks: list[Block], *, title: str) -> str:
    toc = [b for b in blocks if isinstance(b, Heading) and b.level == 2]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
    ]
    for block in blocks:
        parts.append(_block(block))
        if isinstance(block, Heading) and block.level == 1:
            items = "".join(f'<li><a href="#{_e(h.anchor)}">{_e(h.text)}</a></li>' for h in toc)
            parts.append(f'<nav aria-label="Contents"><ol>{items}</ol></nav>')
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        return f'<h{block.level} id="{_e(block.anchor)}">{_e(block.text)}</h{block.level}>'
    if isinstance(block, Paragraph):
        return f"<p>{_e(block.text)}</p>"
    if isinstance(block, Bullets):
        tag = "ol" if block.ordered else "ul"
        return f"<{tag}>" + "".join(f"<li>{_e(i)}</li>" for i in block.items) + f"</{tag}>"
    if isinstance(block, Code):
        return "<pre><code>" + _e("\n".join(block.lines)) + "</code></pre>"
    return _table(block)


def _table(table: Table) -> str:
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in table.headers)
    rows = []
    for row in table.rows:
        cells = []
        for i, cell in enumerate(row):
            if i == table.status_column:
                css = cell if cell in ("pass", "fail", "no-evidence") else "fail"
                cells.append(f'<td class="status {css}">{_e(cell.upper())}</td>')
            else:
                cells.append(f"<td>{_e(cell)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
