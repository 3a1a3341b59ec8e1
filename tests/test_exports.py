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
import pytest

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
                  "Otter: a multi-modal model"):  # title case after a hyphen is not protected
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


def _mixed_notebook(folder: Path, index) -> Path:
    """Citations in all three syntaxes (one by arXiv id, one unknown) and our References cell."""
    notebook = notebook_citing(folder, "# A paper\n\nRoPE scaling [@wang2024resonance, p. 3] and "
                                       "{cite:t}`tian2023manipulating`. Also \\citep{2305.03726}; [@nosuchpaper].",
                               code="print(40 + 2)")
    jp.bibliography(notebook, "apa", index=index)
    return notebook


def _text_of(path: Path) -> str:
    """What a reader sees in an export, read back by an independent tool."""
    if path.suffix == ".pdf":
        return run("pdftotext", "-layout", str(path), "-", cwd=path.parent).stdout
    if path.suffix == ".docx":
        return run(_pandoc(), str(path), "-t", "plain", "--wrap=none", cwd=path.parent).stdout
    if path.suffix == ".tex":  # typeset as its reader will: twice, for the citations' links
        for _ in range(2):
            assert run("xelatex", "-interaction=nonstopmode", path.name, cwd=path.parent).returncode == 0
        return _text_of(path.with_suffix(".pdf"))
    reader = {".html": "html", ".md": "gfm"}[path.suffix]
    return run(_pandoc(), str(path), "-f", reader, "-t", "plain", "--wrap=none", cwd=path.parent).stdout


@pytest.mark.parametrize("to", ["html", "pdf", "docx", "md", "latex"])
def test_export_in_one_command_resolves_every_citation_with_one_reference_list(tmp_path, demo_index, to):
    """Issue 30, item 3: `jupyter-papers export`, each format end to end (the PDF through
    xelatex), citations of all three syntaxes resolved, pandoc's list where ours was."""
    notebook = _mixed_notebook(tmp_path, demo_index)
    from jupyter_papers.cli import main

    assert main(["--index", str(demo_index.path), "export", str(notebook), "--to", to]) == 0
    written = notebook.with_suffix({"latex": ".tex", "md": ".md"}.get(to, f".{to}"))
    text = " ".join(_text_of(written).split())
    for title in TITLES:
        assert text.count(title.split(":")[0]) == 1, (title, text)  # listed once: one reference list
    assert "Wang et al., 2024, p. 3" in text and "Tian et al. (2023)" in text and "Li et al., 2023" in text
    assert "[@" not in text and "cite:t" not in text and "citep" not in text
    assert "not found" not in text.lower()  # our list's line for unknown keys is gone with our list
    assert text.count("References") == 1
    assert "print(40 + 2)" in text
    if to == "latex":
        assert "\\begin{document}" in written.read_text()


def test_export_can_keep_our_reference_list_and_hide_the_code(tmp_path, demo_index, capsys):
    notebook = _mixed_notebook(tmp_path, demo_index)
    from jupyter_papers.cli import main

    assert main(["--index", str(demo_index.path), "export", str(notebook), "--to", "md", "--keep-references",
                 "--no-input", "--style", "ieee", "-o", str(tmp_path / "out.md")]) == 0
    assert "not found: nosuchpaper" in capsys.readouterr().out
    text = (tmp_path / "out.md").read_text()
    ours = next(cell for cell in json.loads(notebook.read_text())["cells"] if "References" in "".join(cell["source"]))
    assert "nosuchpaper" in "".join(ours["source"]) and "Not found" in text  # our list, as the notebook has it
    assert "print(40 + 2)" not in text
    assert "[1, p. 3]" in text.replace("\\[", "[").replace("\\]", "]")  # IEEE numbers in the text


def test_export_says_what_is_wrong(tmp_path, demo_index, capsys):
    from jupyter_papers.cli import main

    assert main(["--index", str(demo_index.path), "export", str(tmp_path / "missing.ipynb"), "--to", "html"]) == 2
    assert "missing.ipynb: no such file" in capsys.readouterr().err
    notebook = _mixed_notebook(tmp_path, demo_index)
    assert main(["--index", str(demo_index.path), "export", str(notebook), "--to", "html", "--style", "nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err
