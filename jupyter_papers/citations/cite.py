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
from ..paper import Paper, valid_key

INLINE = ("pandoc", "myst", "latex")

__all__ = ["FORMATS", "INLINE", "STYLES", "BibliographyError", "BibliographyReport", "UnknownStyleError",
           "abstract_cell", "bibtex_entry", "cite", "inline_citation", "to_csl", "write_bibliography"]


def cite(paper: Paper, style: str = "apa", format: str = "text") -> str:
    """A reference in ``style`` (apa, ieee, chicago, harvard, mla, nature, vancouver, any
    CSL name or .csl file), a BibTeX entry (``bibtex``), or an inline citation (``pandoc``,
    ``myst``, ``latex``). ``format`` is text, html or markdown; html and markdown escape the
    paper's text."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    style = (style or "apa").strip()
    if style.lower() in INLINE:
        return inline_citation([paper], style.lower())
    if style.lower() == "bibtex":
        entry = bibtex_entry(paper)
        if format == "html":
            return f"<pre>{html.escape(entry)}</pre>"
        fence = "`" * max(3, 1 + max(map(len, re.findall("`+", entry)), default=0))  # no value can close it
        return f"{fence}bibtex\n{entry}\n{fence}" if format == "markdown" else entry
    return format_references([to_csl(paper)], style, format)[0]


def inline_citation(papers: list[Paper], format: str = "pandoc", narrative: bool = False,
                    locators: dict[str, str] | None = None) -> str:
    """One citation of several works, in a notebook's citation syntax: pandoc
    (``[@a; @b, p. 33]``, narrative ``@a``), MyST (``{cite:p}`a,b```, ``{cite:t}``) or LaTeX
    (``\\citep[p.~33]{a,b}``, narrative ``\\citet{a}``). ``locators``: paper id -> "p. 33".
    Keys hold only characters every syntax accepts, so nothing can break out of it."""
    if format not in INLINE:
        raise UnknownStyleError(f"an inline citation is {', '.join(INLINE)}, not {format!r}")
    keys = [(valid_key(paper.key) or paper.base_key(), _locator((locators or {}).get(paper.id, ""))) for paper in papers]
    if format == "pandoc":
        if narrative:
            return " and ".join(f"@{key}" + (f" [{where}]" if where else "") for key, where in keys)
        return "[" + "; ".join(f"@{key}" + (f", {where}" if where else "") for key, where in keys) + "]"
    if format == "myst":
        role = "cite:t" if narrative else "cite:p"
        return f"{{{role}}}`" + ",".join(f"{{}}{key}{{{where}}}" if where else key for key, where in keys) + "`"
    where = next((where for _, where in keys if where), "")
    command = "citet" if narrative else "citep"
    return f"\\{command}" + (f"[{where.replace(' ', '~')}]" if where else "") + "{" + ",".join(k for k, _ in keys) + "}"


def _locator(text: str) -> str:
    """A locator as plain words ("p. 33", "chap. 2"): nothing that closes a citation."""
    return " ".join(re.sub(r"[\[\]{}`;@\\$<>]", "", str(text)).split())[:40]


def abstract_cell(paper: Paper) -> str:
    """Markdown for a notebook cell: title, authors, year, venue, links, the abstract as a
    quote. The title is bold, not a heading: a heading would fold the cells below it
    under it in JupyterLab's outline."""
    title = markdown_with_math(paper.title or "Untitled")
    link = safe_url(paper.link)
    lines = [f"**[{title}]({link})**" if link else f"**{title}**"]
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
