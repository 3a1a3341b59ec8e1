"""Turning a Paper into text for a notebook: formatted references (through ``csl``),
BibTeX entries (through ``bibfile``), inline citations and abstract cells.

Paper text is untrusted: what becomes HTML or Markdown is escaped; keys are validated
before they enter a citation.
"""

from __future__ import annotations

import html
import re

from .bibfile import BibliographyError, BibliographyReport, bibtex_entry, write_bibliography
from .csl import FORMATS, STYLES, UnknownStyleError, format_references, to_csl
from .markup import escape_markdown, markdown_with_math, safe_url
from .paper import Paper, valid_key

INLINE = {
    "pandoc": "[@{key}]",
    "myst": "{{cite:p}}`{key}`",
    "latex": "\\cite{{{key}}}",
}

__all__ = ["FORMATS", "INLINE", "STYLES", "BibliographyError", "BibliographyReport", "UnknownStyleError",
           "abstract_cell", "bibtex_entry", "cite", "to_csl", "write_bibliography"]


def cite(paper: Paper, style: str = "apa", format: str = "text") -> str:
    """A reference in ``style`` (apa, ieee, chicago, harvard, mla, nature, vancouver, any
    CSL name or .csl file), a BibTeX entry (``bibtex``), or an inline citation (``pandoc``,
    ``myst``, ``latex``). ``format`` is text, html or markdown; html and markdown escape the
    paper's text."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    style = (style or "apa").strip()
    if style.lower() in INLINE:
        return INLINE[style.lower()].format(key=valid_key(paper.key) or paper.base_key())
    if style.lower() == "bibtex":
        entry = bibtex_entry(paper)
        if format == "html":
            return f"<pre>{html.escape(entry)}</pre>"
        fence = "`" * max(3, 1 + max(map(len, re.findall("`+", entry)), default=0))  # no value can close it
        return f"{fence}bibtex\n{entry}\n{fence}" if format == "markdown" else entry
    return format_references([to_csl(paper)], style, format)[0]


def abstract_cell(paper: Paper) -> str:
    """Markdown for a notebook cell: title, authors, year, venue, links, the abstract as a quote."""
    title = markdown_with_math(paper.title or "Untitled")
    link = safe_url(paper.link)
    lines = [f"### [{title}]({link})" if link else f"### {title}"]
    meta = [escape_markdown(", ".join(paper.authors), line_start=True)] if paper.authors else []
    meta += [str(paper.year)] if paper.year else []
    meta += [f"*{escape_markdown(paper.venue)}*"] if paper.venue else []
    if meta:
        lines.append(" · ".join(meta))
    links = []
    if paper.arxiv_id:
        links.append(f"[arXiv:{escape_markdown(paper.arxiv_id)}]({safe_url('https://arxiv.org/abs/' + paper.arxiv_id)})")
    if paper.doi:
        links.append(f"[doi:{escape_markdown(paper.doi)}]({safe_url('https://doi.org/' + paper.doi)})")
    if links:
        lines.append(" · ".join(links))
    if paper.abstract:
        lines.append("> " + markdown_with_math(paper.abstract, line_start=True))
    return "\n\n".join(lines) + "\n"
