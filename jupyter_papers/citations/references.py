"""A notebook's citations and its reference list.

Citations live in Markdown cells in one of three syntaxes: pandoc (``[@key]``,
``[see @a, p. 33; @b]``, narrative ``@key``), MyST (``{cite:p}`a,b```, ``{cite:t}`key```)
and LaTeX (``\\cite{a,b}``, ``\\citep[p.~33]{a}``, ``\\textcite{a}``). One parser finds them,
outside code (fenced blocks and code spans); the reference list is a Markdown cell marked
in its metadata, so it is found and updated in place, numbered by first citation in
numeric styles. Notebooks are read as plain JSON: this module imports no Jupyter package.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .csl import format_references, style_path, to_csl
from .markup import escape_markdown
from ..paper import Paper

MARKER = "jupyter_papers"  # the reference list cell's metadata: {"jupyter_papers": {"references": true}}
HEADING = "## References"

_FENCE_LINE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_MYST = re.compile(r"\{cite(?::(?P<kind>[a-z]+))?\}`(?P<body>[^`]*)`")
_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`[^`]*`")
_TICKS = re.compile(r"`+")
_LATEX = re.compile(r"\\(?P<command>(?:no|auto|paren|text|foot|full)?cite(?:[pt]|author|year|alp)?\*?)"
                    r"(?P<options>(?:\s*\[[^\]]*\]){0,2})\s*\{(?P<keys>[^}]*)\}")
_BRACKETED = re.compile(r"\[(?P<body>[^\[\]@]*@[^\[\]]*)\](?!\()")
_PANDOC_KEY = re.compile(r"(?P<suppress>-?)@(?P<key>[\w][\w:.#$%&+?<>~/-]*[\w])|(?P<s2>-?)@(?P<key2>\w)")
_NARRATIVE = re.compile(r"(?<![\w@\\/.:\[-])@(?P<key>[\w][\w:.#$%&+?<>~/-]*[\w]|\w)")


@dataclass
class Citation:
    """One citation as written: its keys, in order, and how it reads."""

    keys: list[str]
    syntax: str                       # pandoc, myst or latex
    narrative: bool = False           # "Wang et al. (2024) show" rather than "(Wang et al., 2024)"
    locators: dict[str, str] = field(default_factory=dict)   # key -> "p. 33"
    cell: int | None = None


def _blank(match: re.Match) -> str:
    """Code replaced by as many spaces, so that positions after it stay where they were."""
    return re.sub(r"[^\n]", " ", match.group())


def _blanked(text: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], re.sub(r"[^\n]", " ", text[start:end])]
        last = end
    return "".join(out) + text[last:]


def _without_fences(markdown: str) -> str:
    """Fenced code blocks blanked, as CommonMark reads them: closed by a fence of the same
    character at least as long, or by the end of the text. One pass over the lines (a
    pattern that looked for each fence's end took minutes on text of unclosed fences)."""
    spans, opened, position = [], None, 0
    for line in markdown.splitlines(keepends=True):
        fence = _FENCE_LINE.match(line)
        if opened is None:
            if fence and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):
                opened = (position, fence.group(1))
        elif fence and fence.group(1)[0] == opened[1][0] and len(fence.group(1)) >= len(opened[1]) and (
                not fence.group(2).strip()):
            spans.append((opened[0], position + len(line)))
            opened = None
        position += len(line)
    if opened is not None:
        spans.append((opened[0], len(markdown)))
    return _blanked(markdown, spans)


def _without_code_spans(text: str) -> str:
    """Code spans blanked (a run of backticks up to the next run of the same length),
    MyST roles kept (their `keys` are not code). Each run's partner is found by one pass
    from the end, so text of unclosed runs is read in linear time."""
    roles = [match.span() for match in _ROLE.finditer(text)]
    in_role = set()
    for start, end in roles:
        in_role.update(range(start, end))
    runs = [match.span() for match in _TICKS.finditer(text) if match.start() not in in_role]
    partner, seen = [None] * len(runs), {}
    for number in range(len(runs) - 1, -1, -1):
        length = runs[number][1] - runs[number][0]
        partner[number] = seen.get(length)
        seen[length] = number
    spans, number = [], 0
    while number < len(runs):
        closing = partner[number]
        if closing is not None and runs[closing][0] > runs[number][1]:
            spans.append((runs[number][0], runs[closing][1]))
            number = closing + 1
        else:
            number += 1
    return _blanked(text, spans)


def _pandoc_keys(body: str) -> tuple[list[str], dict[str, str]]:
    keys, locators = [], {}
    for item in body.split(";"):
        found = _PANDOC_KEY.search(item)
        if not found:
            continue
        key = found.group("key") or found.group("key2")
        keys.append(key)
        after = item[found.end():].strip().lstrip(",").strip()
        if after:
            locators[key] = after
    return keys, locators


def find_citations(markdown: str, cell: int | None = None) -> list[Citation]:
    """The citations of a Markdown text, in the order they appear; none inside code."""
    return [citation for _, _, citation in _citation_spans(markdown, cell)]


def as_pandoc(markdown: str, key_of=lambda key: key) -> str:
    """The Markdown with each citation, in whichever syntax, written as pandoc writes it,
    each key replaced by ``key_of(key)``: what pandoc's citeproc reads (export.py)."""
    out, last = [], 0
    for start, end, citation in _citation_spans(markdown):
        out += [markdown[last:start], _pandoc_citation(citation, key_of)]
        last = end
    return "".join(out) + markdown[last:]


def _pandoc_citation(citation: Citation, key_of) -> str:
    def item(key: str) -> str:
        locator = citation.locators.get(key)
        return f"@{key_of(key)}" + (f", {locator}" if locator else "")
    if citation.narrative and len(citation.keys) == 1:
        key = citation.keys[0]
        locator = citation.locators.get(key)
        return f"@{key_of(key)}" + (f" [{locator}]" if locator else "")
    return "[" + "; ".join(item(key) for key in citation.keys) + "]"


def _citation_spans(markdown: str, cell: int | None = None) -> list[tuple[int, int, Citation]]:
    """(start, end, citation) of each citation, in the order they appear; none inside code."""
    text = _without_code_spans(_without_fences(markdown))
    found: list[tuple[int, int, Citation]] = []
    for match in _MYST.finditer(text):
        keys, locators = [], {}
        for part in match.group("body").split(","):
            pre_post = re.fullmatch(r"\s*(?:\{(?P<pre>[^}]*)\})?(?P<key>[^{}\s]+)(?:\{(?P<post>[^}]*)\})?\s*", part)
            if pre_post:
                keys.append(pre_post.group("key"))
                if pre_post.group("post"):
                    locators[pre_post.group("key")] = pre_post.group("post")
        if keys:
            found.append((*match.span(), Citation(keys, "myst", match.group("kind") in ("t", "ts"), locators, cell)))
    text = _MYST.sub(_blank, text)
    for match in _LATEX.finditer(text):
        keys = [k.strip() for k in match.group("keys").split(",") if k.strip()]
        options = re.findall(r"\[([^\]]*)\]", match.group("options"))
        locators = {keys[0]: options[-1].replace("~", " ")} if keys and options and options[-1] else {}
        narrative = match.group("command").startswith(("citet", "textcite"))
        if keys:
            found.append((*match.span(), Citation(keys, "latex", narrative, locators, cell)))
    text = _LATEX.sub(_blank, text)
    for match in _BRACKETED.finditer(text):
        keys, locators = _pandoc_keys(match.group("body"))
        if keys:
            found.append((*match.span(), Citation(keys, "pandoc", False, locators, cell)))
    text = _BRACKETED.sub(_blank, text)
    for match in _NARRATIVE.finditer(text):
        found.append((*match.span(), Citation([match.group("key")], "pandoc", True, {}, cell)))
    return sorted(found, key=lambda span: span[0])


def notebook_citations(cells: list[dict]) -> list[Citation]:
    """Every citation of a notebook's Markdown cells (not of the reference list itself)."""
    citations = []
    for number, cell in enumerate(cells):
        if cell.get("cell_type") == "markdown" and not is_reference_list(cell):
            source = cell.get("source", "")
            citations += find_citations("".join(source) if isinstance(source, list) else source, number)
    return citations


def is_reference_list(cell: dict) -> bool:
    return bool(((cell.get("metadata") or {}).get(MARKER) or {}).get("references"))


def _numeric(style: str) -> bool:
    return 'citation-format="numeric"' in Path(style_path(style)).read_text(encoding="utf-8")[:20000]


@dataclass
class ReferenceList:
    markdown: str
    cited: list[str]                  # keys in order of first citation
    missing: list[str]                # cited keys no paper is known by
    papers: dict[str, Paper]          # key -> paper

    @property
    def listed(self) -> int:
        """How many entries the list holds (two keys of one paper are one entry)."""
        return len({paper.id for paper in self.papers.values()})

    def for_bibliography(self) -> tuple[list[Paper], dict[str, list[str]]]:
        """The cited papers once each, and the keys each is cited by: a paper cited by its
        arXiv id gets it as an alias (``ids``) in the .bib file."""
        aliases: dict[str, list[str]] = {}
        for key, paper in self.papers.items():
            aliases.setdefault(paper.id, []).append(key)
        return list({paper.id: paper for paper in self.papers.values()}.values()), aliases


def reference_list(cells: list[dict], lookup, style: str = "apa") -> ReferenceList:
    """The Markdown of the reference list of these cells: every cited paper once, in the
    style's order (numeric styles: by first citation), and the keys no paper is known by
    listed as missing, not dropped. ``lookup(key)`` gives the paper a key stands for."""
    cited: list[str] = []
    for citation in notebook_citations(cells):
        cited += [key for key in citation.keys if key not in cited]
    papers = {key: paper for key in cited if (paper := lookup(key)) is not None}
    missing = [key for key in cited if key not in papers]
    listed: dict[str, Paper] = {}  # by paper id: "[@2303.11643]" and "[@tian2023manipulating]" are one paper
    for key in cited:
        if key in papers:
            listed.setdefault(papers[key].id, papers[key])
    lines = [HEADING, ""]
    if listed:
        items = [to_csl(paper, f"ref{n}") for n, paper in enumerate(listed.values())]
        entries = format_references(items, style, "markdown", numbered=_numeric(style), style_order=True)
        lines += [f"{entry}\n" for entry in entries]
    if missing:
        lines.append("*Not found in the paper index:* " + ", ".join(escape_markdown(k) for k in missing))
    return ReferenceList("\n".join(lines).rstrip() + "\n", cited, missing, papers)


def _fingerprint(line: str) -> str:
    return hashlib.sha1(line.strip().encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _user_lines(cell: dict) -> list[str]:
    """The lines of a reference list cell that we did not write (its marker keeps the
    fingerprints of the lines we wrote), blank lines kept between them."""
    marker = (cell.get("metadata") or {}).get(MARKER) or {}
    generated = marker.get("generated")
    if not isinstance(generated, list):
        return []  # a cell written before lines were fingerprinted: all of it was ours
    source = cell.get("source", "")
    lines = ("".join(source) if isinstance(source, list) else str(source)).splitlines()
    kept = [line for line in lines if not line.strip() or _fingerprint(line) not in generated]
    while kept and not kept[0].strip():
        kept.pop(0)
    while kept and not kept[-1].strip():
        kept.pop()
    return kept


def reference_cell(cells: list[dict], markdown: str) -> tuple[str, dict]:
    """The source and marker of the reference list cell: ``markdown`` followed by whatever
    the user wrote in the cell (a note, an entry for a key not found), which is kept."""
    old = next((cell for cell in cells if isinstance(cell, dict) and is_reference_list(cell)), None)
    kept = _user_lines(old) if old else []
    source = markdown + ("\n" + "\n".join(kept) + "\n" if kept else "")
    generated = sorted({_fingerprint(line) for line in markdown.splitlines() if line.strip()})
    return source, {"references": True, "generated": generated}


def upsert_reference_cell(cells: list[dict], markdown: str, cell_ids: bool = True) -> int:
    """Update the marked reference list cell, or add one at the end (with an ``id`` where
    the notebook's format has them, nbformat 4.5 on); its position."""
    source, marker = reference_cell(cells, markdown)
    for number, cell in enumerate(cells):
        if is_reference_list(cell):
            cell["source"] = source
            cell.setdefault("metadata", {})[MARKER] = marker
            return number
    cell = {"cell_type": "markdown", "metadata": {MARKER: marker}, "source": source}
    if cell_ids:
        cell = {"id": uuid.uuid4().hex[:8], **cell}
    cells.append(cell)
    return len(cells) - 1


def bibliography(notebook: str | Path, index, style: str = "apa", bib: str | Path | None = None,
                 dialect: str | None = None) -> ReferenceList:
    """Find every citation of a saved notebook, write its reference list cell (added at
    the end, or updated in place) and, with ``bib``, append the cited papers to that .bib
    file (in ``dialect``, by default the file's own) and name it in the notebook's
    metadata, where pandoc, MyST and Jupyter Book look."""
    from .bibfile import write_atomically, write_bibliography

    path = Path(notebook)
    document = read_notebook(path)
    bib_path = Path(bib) if bib is not None else None
    known = {p.key.lower(): p for p in _read_bib(bib_path)} if bib_path and bib_path.exists() else {}
    lookup = lambda key: index.get(key) or known.get(key.lower())  # noqa: E731
    references = reference_list(document.get("cells", []), lookup, style)
    upsert_reference_cell(document["cells"], references.markdown, cell_ids=_has_cell_ids(document))
    if bib_path is not None and references.papers:
        papers, aliases = references.for_bibliography()
        write_bibliography(papers, bib_path, aliases, dialect)
        relative = bib_path.resolve().relative_to(path.resolve().parent) if bib_path.resolve().is_relative_to(
            path.resolve().parent) else bib_path.resolve()
        document.setdefault("metadata", {})["bibliography"] = str(relative)
    try:
        text = json.dumps(document, indent=1, ensure_ascii=False)
        data = (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate the notebook held as an escape: kept as one
        data = (json.dumps(document, indent=1) + "\n").encode("utf-8")
    write_atomically(path, data)
    return references


class NotebookError(ValueError):
    """A file that is not a notebook this module can read; the message says what is wrong."""


def read_notebook(path: Path) -> dict:
    """A notebook file as JSON, its cells checked for the shape nbformat gives them; what
    is wrong is said in one line, naming the file (and the cell)."""
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise NotebookError(f"{path}: not a notebook: not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise NotebookError(f"{path}: not a notebook: not JSON ({error.msg}, line {error.lineno})") from None
    except RecursionError:
        raise NotebookError(f"{path}: not a notebook: JSON nested too deeply") from None
    if not isinstance(document, dict):
        raise NotebookError(f"{path}: not a notebook: it must be a JSON object with a list of cells")
    problem = cells_problem(document.setdefault("cells", []))
    if problem is None and not isinstance(document.get("metadata", {}), dict):
        problem = "its metadata is not a JSON object"
    if problem:
        raise NotebookError(f"{path}: not a notebook: {problem}")
    return document


def cells_problem(cells) -> str | None:
    """What keeps ``cells`` from being a notebook's cells as nbformat shapes them, or None."""
    if not isinstance(cells, list):
        return "its cells are not a list"
    for number, cell in enumerate(cells, 1):
        source = cell.get("source", "") if isinstance(cell, dict) else None
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            return f"cell {number} is not a cell with text as its source"
        if not isinstance(cell.get("metadata", {}), dict) or not isinstance(cell.get("cell_type", ""), str):
            return f"cell {number}: its metadata is not a JSON object, or its type not a name"
    return None


def _has_cell_ids(document: dict) -> bool:
    """Cells have ids from nbformat 4.5 on (and in a notebook whose cells already have them)."""
    version = (document.get("nbformat"), document.get("nbformat_minor"))
    if all(isinstance(v, int) for v in version) and version >= (4, 5):
        return True
    return any(isinstance(cell, dict) and "id" in cell for cell in document["cells"])


def _read_bib(path: Path) -> list[Paper]:
    from ..sources import read_papers

    return list(read_papers(path))
