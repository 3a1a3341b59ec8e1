"""A notebook written with our citations exports with every citation resolved and every
cited paper in the bibliography, by each route the README names: nbconvert + pandoc
(pandoc form), Jupyter Book 1 (MyST form, sphinxcontrib-bibtex) and LaTeX (natbib form,
our nbconvert template, xelatex + BibTeX). Each tool is the real one, reading our .bib."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pypandoc

import jupyter_papers as jp
from jupyter_papers.citations.csl import _pandoc, style_path

TITLES = ("Resonance RoPE", "Manipulating Transfer Learning", "Otter: A Multi-Modal Model")
KEYS = ("wang2024resonance", "tian2023manipulating", "li2023otter")


def notebook_citing(folder: Path, *sources: str, code: str = "print('[@not_a_citation] \\\\cite{nor_this}')") -> Path:
    """A notebook of Markdown cells (and one code cell whose citations must be ignored),
    with its References cell and references.bib written as the References command does."""
    def cell(source, kind="markdown"):
        extra = {"outputs": [], "execution_count": None} if kind == "code" else {}
        return {"cell_type": kind, "id": f"c{abs(hash(source)) % 10**8}", "metadata": {}, "source": source, **extra}

    notebook = folder / "paper.ipynb"
    cells = [cell(source) for source in sources] + [cell(code, "code")]
    notebook.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return notebook


def run(*command, cwd: Path, path_with_pandoc: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if path_with_pandoc:  # nbconvert's Markdown-to-LaTeX filter runs `pandoc`: the wheel's own
        env["PATH"] = f"{Path(pypandoc.get_pandoc_path()).parent}{os.pathsep}{env['PATH']}"
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_pandoc_route_nbconvert_to_markdown_then_citeproc(tmp_path, demo_index):
    notebook = notebook_citing(tmp_path, "# A paper\n\nRoPE scaling [@wang2024resonance, p. 3] and @tian2023manipulating.",
                               "More [@wang2024resonance; @li2023otter].")
    jp.bibliography(notebook, "apa", bib=tmp_path / "references.bib", index=demo_index)
    assert run(sys.executable, "-m", "jupyter", "nbconvert", "--to", "markdown", str(notebook), cwd=tmp_path).returncode == 0
    markdown = (tmp_path / "paper.md").read_text()
    done = run(_pandoc(), "paper.md", "--citeproc", "--bibliography", "references.bib", f"--csl={style_path('apa')}",
               "-M", "suppress-bibliography=false", "-t", "html", "--wrap=none", cwd=tmp_path)
    assert done.returncode == 0 and "WARNING" not in done.stderr, done.stderr
    html = done.stdout
    assert "???" not in html, html[html.find("???") - 300:html.find("???") + 100]
    assert "(Wang et al., 2024, p. 3)" in html and "Tian et al. (2023)" in html
    for title in TITLES:
        assert title in html, title
    assert "[@" not in html.replace("[@not_a_citation]", "") and "## References" in markdown


def test_jupyter_book_route_myst_citations_and_a_bibliography_directive(tmp_path, demo_index):
    book = tmp_path / "book"
    book.mkdir()
    notebook = notebook_citing(book, "# A paper\n\nRoPE scaling {cite:p}`wang2024resonance` and {cite:t}`tian2023manipulating`.",
                               "More {cite:p}`wang2024resonance,li2023otter`.", "```{bibliography}\n```")
    listed = jp.bibliography(notebook, "apa", bib=book / "references.bib", index=demo_index)
    assert listed.cited == list(KEYS) and not listed.missing
    (book / "_config.yml").write_text("title: A paper\nexecute:\n  execute_notebooks: 'off'\n"
                                      "bibtex_bibfiles:\n  - references.bib\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: paper\n")
    done = run(str(Path(sys.executable).parent / "jupyter-book"), "build", "--all", str(book), cwd=tmp_path)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert not re.search(r"WARNING.*(bibtex|citation|cite)", log, re.IGNORECASE), log[-3000:]
    html = (book / "_build" / "html" / "paper.html").read_text()
    article = html[html.find("<article"):html.find("</article>")]
    text = re.sub(r"<[^>]+>", "", article)
    assert "RoPE scaling [WKL+24] and Tian et al. [TSS+23]" in text and "More [LZC+23, WKL+24]" in text, text[:2000]
    assert "{cite" not in text and "[?]" not in text
    bibliography = article[article.find('class="bibtex bibliography') if 'bibtex bibliography' in article else article.find("citation-list"):]
    for title in ("Resonance RoPE: improving context length", "Manipulating transfer learning",
                  "Otter: a Multi-Modal model"):
        assert title in re.sub(r"<[^>]+>", "", bibliography), title


def test_latex_route_our_nbconvert_template_natbib_and_bibtex(tmp_path, demo_index):
    notebook = notebook_citing(tmp_path, "# A paper\n\nRoPE scaling \\citep[p.~3]{wang2024resonance} and \\citet{tian2023manipulating}.",
                               "More \\citep{wang2024resonance,li2023otter} and \\cite{li2023otter}, with $x^2$ & an ampersand.")
    jp.bibliography(notebook, "apa", bib=tmp_path / "references.bib", index=demo_index)
    done = run(sys.executable, "-m", "jupyter", "nbconvert", "--to", "latex", "--template", "papers", str(notebook),
               cwd=tmp_path, path_with_pandoc=True)
    assert done.returncode == 0, done.stderr
    tex = (tmp_path / "paper.tex").read_text()
    assert "\\bibliography{references}" in tex and "\\usepackage[round]{natbib}" in tex
    assert "## References" not in tex and "Wang, S., Kobyzev" not in tex, "BibTeX typesets the list, not our cell"
    for step in ("xelatex", "bibtex", "xelatex", "xelatex"):
        command = [step, "paper"] if step == "bibtex" else [step, "-interaction=nonstopmode", "-halt-on-error", "paper"]
        compiled = run(*command, cwd=tmp_path)
        assert compiled.returncode == 0, (compiled.stdout + compiled.stderr)[-3000:]
    log = (tmp_path / "paper.log").read_text(errors="replace")
    assert not re.search(r"Citation `[^']*' .*undefined|undefined citations", log), log[-3000:]
    assert "Warning--" not in (tmp_path / "paper.blg").read_text(), (tmp_path / "paper.blg").read_text()
    bbl = (tmp_path / "paper.bbl").read_text()
    assert [re.search(rf"\]{{{key}}}", bbl) is not None for key in KEYS] == [True] * 3, bbl
    assert (tmp_path / "paper.pdf").stat().st_size > 10_000
