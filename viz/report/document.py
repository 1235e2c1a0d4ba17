"""A report as a list of blocks, written once and rendered twice: Markdown and offline HTML.

Blocks are plain dataclasses (a heading, a paragraph, a callout, cards, a table, images, a list,
a preformatted block), so a report builder says *what* a report holds and this module says how
each format shows it. Pages are self-contained and work offline: images are linked by relative
path, no scripts, a print stylesheet for a one-page briefing.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2
    anchor: str = ""


@dataclass(frozen=True)
class Paragraph:
    """Text with the inline Markdown that notes use (``code``, **bold**, *em*)."""

    text: str
    css: str = ""


@dataclass(frozen=True)
class Callout:
    """A boxed paragraph: the answer, or the caveat about the data."""

    text: str
    css: str = "answer"


@dataclass(frozen=True)
class Card:
    """One headline figure: a label, a value, and a line under it (an interval, an id)."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Cards:
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class Table:
    """A table; ``numeric`` columns align right; ``marked`` rows are highlighted (the choice)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()
    marked: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Images:
    paths: tuple[str, ...]
    captions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Links:
    """Links ``(label, target)``."""

    links: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Preformatted:
    text: str
    language: str = ""


@dataclass(frozen=True)
class Raw:
    """Markdown text written as is (notes), shown in HTML through :func:`markdown_blocks_to_html`."""

    markdown: str


Block = Heading | Paragraph | Callout | Cards | Table | Images | Bullets | Links | Preformatted | Raw


@dataclass
class Document:
    """A report: its title, language and blocks."""

    title: str
    lang: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


# --------------------------------------------------------------------------- Markdown


def _md_table(table: Table) -> list[str]:
    align = ["---:" if i in table.numeric else "---" for i in range(len(table.header))]
    cells = [[str(c).replace("|", "\\|") for c in row] for row in table.rows]
    marked = [[f"**{c}**" if r in table.marked and c else c for c in row] for r, row in enumerate(cells)]
    return [f"| {' | '.join(table.header)} |", f"|{'|'.join(align)}|"] + [f"| {' | '.join(r)} |" for r in marked]


def to_markdown(document: Document) -> str:
    """The document as Markdown (for reading in a terminal, an editor or a git forge)."""
    lines = [f"# {document.title}", ""]
    for block in document.blocks:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + block.text, ""]
        elif isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, Callout):
            lines += ["> " + block.text.replace("\n", "\n> "), ""]
        elif isinstance(block, Cards):
            lines += [f"- **{c.label}**: {c.value}" + (f" ({c.note})" if c.note else "") for c in block.cards]
            lines.append("")
        elif isinstance(block, Table):
            lines += [*_md_table(block), ""]
        elif isinstance(block, Images):
            captions = block.captions or tuple(Path(p).stem for p in block.paths)
            lines += [f"![{caption}]({path})\n" for path, caption in zip(block.paths, captions, strict=True)]
        elif isinstance(block, Bullets):
            lines += [f"- {item}" for item in block.items] + [""]
        elif isinstance(block, Links):
            lines += [f"- [{label}]({target})" for label, target in block.links] + [""]
        elif isinstance(block, Preformatted):
            lines += [f"```{block.language}", block.text.rstrip(), "```", ""]
        elif isinstance(block, Raw):
            lines += [block.markdown.strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- HTML

CSS = """
body{font-family:'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','Microsoft YaHei',system-ui,sans-serif;
max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.marked td{background:#fff6d6;font-weight:600}
img{max-width:100%;margin:.6em 0}figure{margin:0}figcaption{color:#555;font-size:.9em}
pre{background:#f6f6f6;padding:1em;overflow:auto}.meta,small,.id{color:#666}
.answer{border-left:6px solid #1a7f37;background:#f0f9f2;padding:.8em 1.2em;font-size:1.15em;margin:1em 0}
.caveat{border-left:6px solid #b26a00;background:#fff8ec;padding:.6em 1.2em;margin:1em 0}
.cards{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}
.cards div{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;min-width:11em}
.cards b{display:block;font-size:1.5em}.cards small{display:block}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:1em}
.grid .q{border:1px solid #ccc;border-radius:8px;padding:.8em 1em}.grid .q h3{margin:.2em 0;font-size:1.05em}
.card{border-top:2px solid #ddd;margin-top:2em}.thumbs{display:flex;flex-wrap:wrap;gap:1em}
.thumbs img{max-width:48%;margin:0}.wide{overflow-x:auto}.better{color:#1a7f37}.worse{color:#c62828}
@media print{body{max-width:none;margin:0;font-size:10pt}h2{page-break-after:avoid}
img{max-height:9cm;page-break-inside:avoid}.noprint,pre{display:none}a{color:inherit;text-decoration:none}}
"""


def inline_markdown(text: str) -> str:
    """Escape ``text`` and render inline Markdown: ``code``, **bold**, *em*."""
    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)
    return re.sub(r"(?<![*\w])\*([^*\s][^*]*)\*(?!\w)", r"<em>\1</em>", out)


def markdown_blocks_to_html(text: str) -> str:
    """Paragraphs, ``- `` bullet lists and ``#`` headings of a notes file as HTML."""
    parts = []
    for block in (b.strip() for b in text.split("\n\n")):
        if not block:
            continue
        lines = block.splitlines()
        if all(line.lstrip().startswith(("- ", "* ")) for line in lines):
            items = "".join(f"<li>{inline_markdown(line.lstrip()[2:])}</li>" for line in lines)
            parts.append(f"<ul>{items}</ul>")
        elif block.startswith("#"):
            level = min(6, 2 + len(block) - len(block.lstrip("#")))
            parts.append(f"<h{level}>{inline_markdown(block.lstrip('#').strip())}</h{level}>")
        else:
            parts.append(f"<p>{inline_markdown(' '.join(lines))}</p>")
    return "\n".join(parts)


def _html_table(table: Table) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in table.header)
    rows = []
    for r, row in enumerate(table.rows):
        cells = "".join(f"<td class='num'>{esc(str(c))}</td>" if i in table.numeric else f"<td>{esc(str(c))}</td>"
                        for i, c in enumerate(row))
        rows.append(f"<tr class='marked'>{cells}</tr>" if r in table.marked else f"<tr>{cells}</tr>")
    return f"<div class='wide'><table><tr>{head}</tr>{''.join(rows)}</table></div>"


def _html_block(block: Block) -> str:
    esc = html.escape
    if isinstance(block, Heading):
        anchor = f" id='{esc(block.anchor)}'" if block.anchor else ""
        return f"<h{block.level}{anchor}>{esc(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        css = f" class='{esc(block.css)}'" if block.css else ""
        return f"<p{css}>{inline_markdown(block.text)}</p>"
    if isinstance(block, Callout):
        return f"<div class='{esc(block.css)}'>{inline_markdown(block.text)}</div>"
    if isinstance(block, Cards):
        return "<div class='cards'>" + "".join(
            f"<div><small>{esc(c.label)}</small><b>{esc(c.value)}</b><small>{esc(c.note)}</small></div>"
            for c in block.cards) + "</div>"
    if isinstance(block, Table):
        return _html_table(block)
    if isinstance(block, Images):
        captions = block.captions or tuple(Path(p).stem for p in block.paths)
        return "".join(f"<figure><img src='{esc(p)}' alt='{esc(c)}'><figcaption>{esc(c)}</figcaption></figure>"
                       for p, c in zip(block.paths, captions, strict=True))
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{inline_markdown(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Links):
        return "<ul>" + "".join(f"<li><a href='{esc(t)}'>{esc(label)}</a></li>" for label, t in block.links) + "</ul>"
    if isinstance(block, Preformatted):
        return f"<pre class='noprint'>{esc(block.text)}</pre>"
    return markdown_blocks_to_html(block.markdown)


def page(title: str, lang: str, body: list[str]) -> str:
    """A whole offline HTML page around ``body`` (HTML fragments)."""
    html_lang = "zh-CN" if lang == "zh" else "en"
    head = (f"<!doctype html><html lang='{html_lang}'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>")
    return "\n".join([head, *body, "</body></html>\n"])


def to_html(document: Document) -> str:
    """The document as one self-contained, offline, printable HTML page."""
    body = [f"<h1>{html.escape(document.title)}</h1>", *(_html_block(b) for b in document.blocks)]
    return page(document.title, document.lang, body)


def write_atomic(path: Path, text: str) -> None:
    """Write ``path`` via a hidden temporary file renamed into place (never half a page)."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
