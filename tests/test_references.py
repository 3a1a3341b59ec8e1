"""Writing with citations: one parser for pandoc, MyST and LaTeX citations, and the
notebook's reference list (exports: test_exports.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import jupyter_papers as jp
from jupyter_papers.citations.references import MARKER, find_citations, reference_list


def keys_of(text: str) -> list[list[str]]:
    return [c.keys for c in find_citations(text)]


@pytest.mark.parametrize("text,expected", [
    ("as [@wang2024resonance] shows", [["wang2024resonance"]]),
    ("[@a; @b] and [see @c, p. 33; also @d]", [["a", "b"], ["c", "d"]]),
    ("@knuth1984 says so, and so does @lamport1994.", [["knuth1984"], ["lamport1994"]]),
    ("{cite:p}`a,b` then {cite:t}`c` then {cite}`d`", [["a", "b"], ["c"], ["d"]]),
    (r"\cite{a,b} \citep[p.~33]{c} \citet{d} \textcite{e} \parencite[see][12]{f}", [["a", "b"], ["c"], ["d"], ["e"], ["f"]]),
    ("mail a@b.com or @ the desk", []),
    ("`[@in_code]` and ``@also {cite:p}`x` `` code", []),
    ("```python\n@decorator\nx = [@nope]\n```\nafter [@yes]", [["yes"]]),
    ("~~~\n\\cite{nope}\n~~~\n", []),
    ("[a link](https://x.org/@user) and [@key](https://x.org)", []),
])
def test_citations_are_found_in_all_three_syntaxes_and_never_in_code(text, expected):
    assert keys_of(text) == expected


def test_narrative_parenthetical_and_locators():
    pandoc, = find_citations("[see @c, p. 33; @d]")
    assert not pandoc.narrative and pandoc.locators == {"c": "p. 33"}
    assert find_citations("@c shows")[0].narrative
    myst = find_citations("{cite:t}`c` and {cite:p}`{see}d{p. 5}`")
    assert myst[0].narrative and not myst[1].narrative and myst[1].locators == {"d": "p. 5"}
    latex = find_citations(r"\citet{a} and \citep[p.~33]{b}")
    assert latex[0].narrative and latex[1].locators == {"b": "p. 33"}


def markdown_cell(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


CELLS = [
    markdown_cell("Tian [@tian2023manipulating] first, then {cite:p}`wang2024resonance`."),
    {"cell_type": "code", "metadata": {}, "source": "'[@2406.05000]'", "outputs": [], "execution_count": None},
    markdown_cell(r"Again \cite{wang2024resonance}, the same paper by its arXiv id [@2303.11643], and [@nosuch]."),
]


def test_numeric_styles_number_by_first_citation(demo_index):
    references = reference_list(CELLS, demo_index.get, "ieee")
    assert references.cited == ["tian2023manipulating", "wang2024resonance", "2303.11643", "nosuch"]
    assert references.missing == ["nosuch"] and references.listed == 2
    entries = references.markdown.split("\n\n")
    assert entries[0] == "## References"
    assert entries[1].startswith(r"\[1\] Y. Tian") and entries[2].startswith(r"\[2\] S. Wang")
    assert "nosuch" in entries[-1] and "Not found" in entries[-1]


def test_author_date_styles_sort_as_the_style_says(demo_index):
    entries = reference_list(CELLS, demo_index.get, "apa").markdown.split("\n\n")
    assert entries[1].startswith("Tian, Y.") and entries[2].startswith("Wang, S."), "APA sorts by author"
    assert not entries[1].startswith(r"\[")


def test_the_cli_writes_the_reference_cell_in_place_and_the_bib(tmp_path, papers_home):
    notebook = tmp_path / "paper.ipynb"
    notebook.write_text(json.dumps({"cells": CELLS, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    run = lambda *a: subprocess.run([sys.executable, "-m", "jupyter_papers.cli", *a], capture_output=True,  # noqa: E731
                                    text=True, timeout=300, env={**__import__("os").environ,
                                                                 "JUPYTER_PAPERS_HOME": str(papers_home)})
    done = run("bibliography", str(notebook), "--style", "ieee", "--bib", str(tmp_path / "references.bib"))
    assert done.returncode == 0, done.stderr
    assert "4 cited, 2 in the reference list, not in the index: nosuch" in done.stdout
    document = json.loads(notebook.read_text())
    assert len(document["cells"]) == 4 and document["cells"][-1]["metadata"][MARKER]["references"] is True
    assert document["metadata"]["bibliography"] == "references.bib"
    document["cells"].append(markdown_cell("A later cell citing [@2305.03726]."))
    notebook.write_text(json.dumps(document))
    assert run("bibliography", str(notebook)).returncode == 0
    document = json.loads(notebook.read_text())
    assert sum(MARKER in c["metadata"] for c in document["cells"]) == 1, "updated in place, not added again"
    assert "Otter" in document["cells"][3]["source"] and document["cells"][4]["source"].startswith("A later")
    bib = (tmp_path / "references.bib").read_text()
    assert bib.count("\n@") + bib.startswith("@") == 2 and "tian2023manipulating" in bib
    assert "ids = {2303.11643}" in bib, "a paper cited by its arXiv id can be found by it (biber; pandoc too when cited by key)"


def test_several_works_narrative_and_locators_in_each_syntax():
    from jupyter_papers.citations.cite import inline_citation

    a, b = jp.Paper(title="A", key="a2020"), jp.Paper(title="B", key="b2021")
    page = {a.id: "p. 33"}
    assert inline_citation([a, b], "pandoc") == "[@a2020; @b2021]"
    assert inline_citation([a, b], "pandoc", locators=page) == "[@a2020, p. 33; @b2021]"
    assert inline_citation([a], "pandoc", narrative=True, locators=page) == "@a2020 [p. 33]"
    assert inline_citation([a, b], "myst") == "{cite:p}`a2020,b2021`"
    assert inline_citation([a], "myst", narrative=True) == "{cite:t}`a2020`"
    assert inline_citation([a], "latex", locators=page) == r"\citep[p.~33]{a2020}"
    assert inline_citation([a, b], "latex", narrative=True) == r"\citet{a2020,b2021}"
    hostile = inline_citation([a], "pandoc", locators={a.id: "p. 1]; @evil [x"})
    assert [c.keys for c in jp.find_citations(hostile)] == [["a2020"]], "a locator cannot add a citation"
    for syntax in ("pandoc", "myst", "latex"):  # what we write, our parser reads back
        written = inline_citation([a, b], syntax, locators=page)
        assert jp.find_citations(written)[0].keys == ["a2020", "b2021"], syntax
