"""A notebook exported with its citations resolved: HTML, PDF, Word, Markdown or LaTeX.

nbconvert turns the notebook into Markdown (code inputs shown or not, outputs' images
beside it); pandoc, the one the package installs, resolves every citation (written in any
of the three syntaxes) with its citeproc, from the papers of the index and of the
notebook's .bib, in the CSL style asked for, and puts one reference list where the
notebook's References cell was. A front end of the core, like the CLI: it imports nbconvert.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .citations.csl import _pandoc, style_path, to_csl
from .citations.references import _read_bib, as_pandoc, is_reference_list, read_notebook

FORMATS = {"html": ".html", "pdf": ".pdf", "docx": ".docx", "md": ".md", "latex": ".tex"}
# pandoc's writer for each format; Markdown and LaTeX get the citations as text, not as
# pandoc's or natbib's citation commands
WRITERS = {"html": "html5", "pdf": "latex", "docx": "docx", "md": "gfm", "latex": "latex"}
REFS = "::: {#refs}\n:::"
TIMEOUT = 300  # seconds pandoc (and LaTeX, for a PDF) may take


class ExportError(RuntimeError):
    """An export that could not be made; the message says why."""


@dataclass
class ExportReport:
    path: Path
    papers: int                                          # distinct papers in the reference list
    missing: list[str] = field(default_factory=list)     # keys found neither in the index nor the .bib


def export(notebook: str | Path, to: str, index, style: str = "apa", output: str | Path | None = None,
           keep_references: bool = False, no_input: bool = False) -> ExportReport:
    """Write the notebook as ``to`` (html, pdf, docx, md, latex) beside it, or at ``output``."""
    if to not in FORMATS:
        raise ExportError(f"cannot export to {to!r}: choose one of {', '.join(FORMATS)}")
    path = Path(notebook)
    document = read_notebook(path)
    csl = style_path(style)
    target = Path(output) if output else path.with_suffix(FORMATS[to])
    bib = _notebook_bib(path, document)
    own = {paper.key.lower(): paper for paper in _read_bib(bib)} if bib else {}
    papers, missing = {}, []

    def key_of(key: str) -> str:
        paper = index.get(key) or own.get(key.lower())
        if paper is None:
            if key not in missing:
                missing.append(key)
            return key
        papers[paper.key] = paper
        return paper.key

    document["cells"] = _cells_for_pandoc(document.get("cells", []), key_of, keep_references)
    with tempfile.TemporaryDirectory(prefix="jupyter-papers-export-") as work:
        work_dir = Path(work)
        markdown = _markdown(document, work_dir, no_input)
        (work_dir / "notebook.md").write_text(markdown, encoding="utf-8")
        (work_dir / "references.json").write_text(
            json.dumps([to_csl(paper, key) for key, paper in papers.items()], ensure_ascii=False), encoding="utf-8")
        command = [_pandoc(), "notebook.md", "--from", "markdown", "--to", WRITERS[to], "--citeproc",
                   f"--csl={csl}", "--bibliography=references.json", "--resource-path", f"{work_dir}{os.pathsep}{path.parent}",
                   "--metadata", f"pagetitle={path.stem}", "--metadata", "link-citations=true",
                   "-o", str(target.resolve())]
        if keep_references:
            command += ["--metadata", "suppress-bibliography=true"]
        elif not any(is_reference_list(cell) for cell in document["cells"]):
            command += ["--metadata", "reference-section-title=References"]  # the list at the end, headed
        if to in ("html", "latex", "pdf"):
            command.append("--standalone")
        if to == "html":
            command += ["--embed-resources", "--mathml"]  # one file, offline: no MathJax fetched
        if to == "pdf":
            command.append("--pdf-engine=xelatex")
        try:
            done = subprocess.run(command, cwd=work_dir, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired as error:
            raise ExportError(f"pandoc took more than {TIMEOUT} s exporting {path.name}") from error
        except FileNotFoundError as error:  # xelatex missing for a PDF
            raise ExportError(f"cannot run {error.filename}") from error
        if done.returncode != 0:
            hint = " (a PDF needs xelatex: install TeX Live)" if to == "pdf" and "xelatex" in done.stderr else ""
            raise ExportError(f"pandoc could not export {path.name} to {to}{hint}: {done.stderr.strip()[-2000:]}")
    return ExportReport(target, len(papers), missing)


def _notebook_bib(path: Path, document: dict) -> Path | None:
    """The .bib file the notebook names in its metadata, else references.bib beside it."""
    named = (document.get("metadata") or {}).get("bibliography")
    for candidate in ([named] if isinstance(named, str) else named or []) + ["references.bib"]:
        bib = path.parent / candidate
        if bib.is_file():
            return bib
    return None


def _cells_for_pandoc(cells: list[dict], key_of, keep_references: bool) -> list[dict]:
    """Markdown cells with their citations in pandoc's syntax under each paper's own key
    (an alias or arXiv id cited resolves to the paper, listed once), and our References
    cell replaced by the place pandoc puts its list (or kept as written)."""
    out = []
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            out.append(cell)
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if is_reference_list(cell):
            source = source if keep_references else f"{source.splitlines()[0] if source else '## References'}\n\n{REFS}"
        else:
            source = as_pandoc(source, key_of)
        out.append(dict(cell, source=source))
    return out


def _markdown(document: dict, work_dir: Path, no_input: bool) -> str:
    """The notebook as Markdown by nbconvert, the images of its outputs written beside it."""
    import nbformat
    from nbconvert import MarkdownExporter

    exporter = MarkdownExporter(exclude_input=no_input, exclude_input_prompt=True, exclude_output_prompt=True)
    body, resources = exporter.from_notebook_node(nbformat.reads(json.dumps(document), as_version=4))
    for name, data in (resources.get("outputs") or {}).items():
        (work_dir / name).write_bytes(data)
    return body
