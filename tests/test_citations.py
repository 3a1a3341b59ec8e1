"""The citation itself, checked against independent tools: pandoc (its BibTeX reader and
citeproc), biber, bibtexparser, pdflatex + bibtex. Each defect the citations issue lists
has a test here that failed before the paper record became CSL-JSON."""

from __future__ import annotations

import json
import shutil
import subprocess

import bibtexparser
import pytest

import jupyter_papers as jp
from jupyter_papers.citations.bibfile import BibliographyError, bibtex_entry
from jupyter_papers.citations.csl import _pandoc, format_references, to_csl

from .conftest import BIB

NAMES_BIB = r"""
@techreport{who2020report, author = {{World Health Organization}}, title = {Global Report on {COVID-19}},
  institution = {WHO}, number = {TR-5}, type = {Technical Report}, year = 2020,
  url = {http://example.org/final%20version.pdf}, doi = {10.1007/978-3-031-46674-8_12}}
@phdthesis{thesis2018, author = {King, Jr., Martin Luther and Garc{\'i}a M{\'a}rquez, Gabriel and Van de Graaff, R. J.},
  title = {Sorting in $O(n \log n)$ on 4$\times$ {GPUs}}, school = {MIT}, year = 2018, month = mar}
@inbook{knuth1984, author = {Knuth, Donald}, title = {The \TeX book}, booktitle = {Big Book}, editor = {Doe, Jane},
  publisher = {Addison-Wesley}, address = {Reading}, edition = {2}, series = {Computers and Typesetting},
  pages = {1--10}, year = 1984}
"""


@pytest.fixture(scope="module")
def hand_written():
    return {p.key: p for p in jp.read_papers(NAMES_BIB, format="bibtex")}


def pandoc_csl(bibtex: str) -> dict[str, dict]:
    done = subprocess.run([_pandoc(), "-f", "bibtex", "-t", "csljson"], input=bibtex.encode(), capture_output=True,
                          check=True)
    return {item["id"]: item for item in json.loads(done.stdout)}


def test_names_keep_their_structure(hand_written):
    assert hand_written["who2020report"].authors[0].parts == {"literal": "World Health Organization"}
    king, garcia, graaff = hand_written["thesis2018"].authors
    assert king.parts == {"family": "King", "given": "Martin Luther", "suffix": "Jr."}
    assert garcia.parts == {"family": "García Márquez", "given": "Gabriel"}
    assert graaff.parts == {"family": "Van de Graaff", "given": "R. J."}
    apa = jp.cite(hand_written["thesis2018"], "apa")
    assert apa.startswith("King, M. L., Jr., García Márquez, G., & Van de Graaff, R. J. (2018).")
    assert jp.cite(hand_written["who2020report"], "apa").startswith("World Health Organization. (2020).")


def test_names_as_pandoc_reads_them(hand_written):
    theirs = pandoc_csl(NAMES_BIB)
    for key in ("who2020report", "thesis2018", "knuth1984"):
        assert to_csl(hand_written[key])["author"] == theirs[key]["author"], key
    assert to_csl(hand_written["knuth1984"])["editor"] == theirs["knuth1984"]["editor"]


def test_fields_are_kept_and_mapped(hand_written):
    report, thesis, chapter = (to_csl(hand_written[k]) for k in ("who2020report", "thesis2018", "knuth1984"))
    assert report["type"] == "report" and report["number"] == "TR-5" and "issue" not in report
    assert report["publisher"] == "WHO" and report["genre"] == "Technical Report"
    assert report["URL"] == "http://example.org/final%20version.pdf", "URLs are not cut at %"
    assert report["DOI"] == "10.1007/978-3-031-46674-8_12"
    assert thesis["type"] == "thesis" and thesis["publisher"] == "MIT" and thesis["genre"] == "PhD thesis"
    assert thesis["issued"] == {"date-parts": [[2018, 3]]}
    assert chapter["type"] == "chapter" and chapter["container-title"] == "Big book"
    assert chapter["collection-title"] == "Computers and typesetting" and chapter["edition"] == "2"
    assert chapter["publisher-place"] == "Reading" and chapter["page"] == "1-10"
    assert hand_written["knuth1984"].title == "The TeXbook", "a macro with content is read, not deleted"
    assert "MIT" in jp.cite(hand_written["thesis2018"], "apa"), "a thesis cites its university"


def test_demo_conference_papers_are_conference_papers(resonance):
    assert resonance.type == "paper-conference"
    entry = bibtex_entry(resonance)
    assert entry.startswith("@inproceedings{") and "booktitle = {Findings of {ACL} 2024}" in entry
    assert "journal" not in entry


def test_engine_punctuation_initials_and_numbers(hand_written, resonance):
    chicago = jp.cite(hand_written["thesis2018"], "chicago")
    assert chicago.startswith("King, Martin Luther, Jr.,"), "Chicago spells given names out"
    assert "GPUs.”" in chicago, "punctuation inside the quotes"
    single = jp.cite(resonance, "ieee")
    assert single.startswith("S. Wang,"), "a reference alone is not numbered"
    listed = format_references([to_csl(resonance, "a"), to_csl(hand_written["knuth1984"], "b")], "ieee")
    assert listed[0].startswith("[1] S. Wang") and listed[1].startswith("[2] D. Knuth"), "a space after the number"
    assert jp.cite(resonance, "nature").startswith("Wang, S.")


def test_markdown_links_and_math(hand_written):
    markdown = jp.cite(hand_written["who2020report"], "apa", format="markdown")
    assert "(https://doi.org/10.1007/978-3-031-46674-8_12)" in markdown, "the link target is not escaped"
    thesis = jp.cite(hand_written["thesis2018"], "apa", format="markdown")
    assert r"$O(n \log n)$" in thesis and r"4$\times$" in thesis, "math stays for MathJax"
    assert "\\$" not in thesis
    cell = jp.abstract_cell(jp.Paper(title="T", abstract=r"On $4\times$RTX 3090 we gain 2.45\% on $D\to\infty$."))
    assert r"$4\times$RTX 3090 we gain 2.45% on $D\to\infty$." in cell


def test_hostile_math_is_not_rendered():
    paper = jp.Paper(title=r"Bad $\href{javascript:alert(1)}{x}$ math", year=2020)
    shown = r"`$\href{javascript:alert(1)}{x}$`"  # as code: no renderer reads math there
    assert shown in jp.abstract_cell(paper) and shown in jp.cite(paper, "apa", format="markdown")


# --- exports other tools accept --------------------------------------------------------------
FIXTURES = sorted(BIB.glob("*.bib"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every fixture's papers written by write_bibliography into one .bib file."""
    papers = [p for path in FIXTURES for p in jp.read_papers(path)]
    path = tmp_path_factory.mktemp("export") / "all.bib"
    report = jp.write_bibliography(papers, path)
    return papers, path, report


def test_export_keeps_every_paper_under_its_own_key(exported):
    papers, path, report = exported
    assert len(papers) > 3700
    by_key = {}
    for paper in papers:
        by_key.setdefault(report.keys[paper.id], []).append(paper)
    shared = {key: group for key, group in by_key.items() if len(group) > 1}
    for key, group in shared.items():  # one entry only for the same DOI or arXiv id, never for a title
        assert len({p.doi or p.arxiv_id for p in group} - {""}) == 1, (key, [p.key for p in group])
    assert len(report.added) == len(by_key) and len(shared) <= 2
    library = bibtexparser.parse_string(path.read_text(encoding="utf-8"))
    assert not library.failed_blocks and len(library.entries) == len(report.added)
    assert not [e.key for e in library.entries if not e.fields], "no empty entries"


def test_pandoc_reads_the_export_with_fields_preserved(exported):
    papers, path, report = exported
    done = subprocess.run([_pandoc(), "-f", "bibtex", "-t", "csljson", str(path)], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[:2000]
    items = {item["id"]: item for item in json.loads(done.stdout)}
    assert len(items) == len(report.added)
    for paper in (p for p in papers if p.id not in report.empty):
        item = items[report.keys[paper.id]]
        if paper.doi:
            assert item.get("DOI", "") == paper.doi, "DOIs are written as the source gave them"
        if paper.authors:
            assert len(item["author"]) == len(paper.authors), paper.key
        if paper.year:
            assert item["issued"]["date-parts"][0][0] == paper.year


def test_biber_reads_the_export(exported, tmp_path):
    _, path, _ = exported
    shutil.copy(path, tmp_path / "refs.bib")
    done = subprocess.run(["biber", "--tool", "refs.bib"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and "ERROR" not in done.stdout, done.stdout[-3000:]


def _latex_build(folder, bib_text: str) -> tuple[subprocess.CompletedProcess, str]:
    """pdflatex, bibtex, pdflatex on a document citing every entry; (last run, .bbl)."""
    (folder / "refs.bib").write_text(bib_text, encoding="utf-8")
    (folder / "doc.tex").write_text("\\documentclass{article}\\usepackage[T1]{fontenc}\\usepackage{url}\n"
                                    "\\begin{document}\\nocite{*}\\bibliographystyle{plain}\\bibliography{refs}"
                                    "\\end{document}\n", encoding="utf-8")
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc"]
    output = dict(capture_output=True, encoding="utf-8", errors="replace")  # TeX logs are not all UTF-8
    subprocess.run(latex, cwd=folder, **output)
    bibtex = subprocess.run(["bibtex", "doc"], cwd=folder, **output)
    assert bibtex.returncode < 2 and "error message" not in bibtex.stdout, bibtex.stdout[-3000:]
    return subprocess.run(latex, cwd=folder, **output), (folder / "doc.bbl").read_text(
        encoding="utf-8", errors="replace")


def test_bibtex_reads_the_whole_export(exported, tmp_path):
    papers, path, report = exported
    _, bbl = _latex_build(tmp_path, path.read_text(encoding="utf-8"))
    assert bbl.count("\\bibitem") == len(report.added)


def test_pdflatex_typesets_the_export(exported, tmp_path):
    """Every entry in a script pdflatex sets without language packages (Cyrillic and Greek
    need T2A/LGR fonts: that is pdflatex's coverage, not our export's)."""
    papers, path, report = exported
    latin = [p for p in papers if all(ord(c) < 0x250 or 0x2000 <= ord(c) < 0x2070 for c in bibtex_entry(p))]
    assert len(latin) > 3500
    entries = "\n\n".join(bibtex_entry(p, key=report.keys[p.id]) for p in {report.keys[p.id]: p for p in latin}.values())
    done, bbl = _latex_build(tmp_path, entries)
    assert done.returncode == 0 and (tmp_path / "doc.pdf").exists(), done.stdout[-3000:]
    assert "Warning: Citation" not in done.stdout


def test_jupyter_books_formatter_finds_every_field_it_needs(hand_written):
    """pybtex's unsrt style (what sphinxcontrib-bibtex, and so Jupyter Book, uses) said
    "missing school in thesis2018" and "missing institution in who2020report" before."""
    from pybtex import errors
    from pybtex.backends.plaintext import Backend
    from pybtex.database import parse_string
    from pybtex.style.formatting.unsrt import Style

    entries = "\n\n".join(bibtex_entry(p) for p in hand_written.values())
    reported = []
    strict, errors.strict = errors.strict, False
    original, errors.report_error = errors.report_error, reported.append
    try:
        formatted = {e.key: e.text.render(Backend()) for e in Style().format_entries(
            parse_string(entries, "bibtex").entries.values())}
    finally:
        errors.strict, errors.report_error = strict, original
    assert reported == []
    assert "PhD thesis, MIT, March 2018" in formatted["thesis2018"]
    assert "Technical Report TR-5, WHO, 2020" in formatted["who2020report"]
    assert "In Jane Doe, editor, Big Book" in formatted["knuth1984"]


# --- references.bib --------------------------------------------------------------------------
def test_same_title_different_papers_get_two_entries(tmp_path):
    first = jp.Paper(title="Introduction", authors=["Ann Smith"], year=2020, key="intro")
    second = jp.Paper(title="Introduction", authors=["Bob Jones"], year=2021, key="intro2")
    report = jp.write_bibliography([first, second], tmp_path / "r.bib")
    assert report.added == ["intro", "intro2"]
    again = jp.write_bibliography([first, second], tmp_path / "r.bib")
    assert again.added == [] and again.present == ["intro", "intro2"]


def test_keys_stay_unique_past_26(tmp_path):
    papers = [jp.Paper(title=f"Deep {n}", authors=["Jo Smith"], year=2020, abstract=str(n)) for n in range(60)]
    assert len({p.base_key() for p in papers}) == 1
    report = jp.write_bibliography(papers, tmp_path / "r.bib")
    assert len(set(report.added)) == 60 and "smith2020deepaa" in report.added


def test_appending_keeps_encoding_and_line_endings(tmp_path):
    path = tmp_path / "cp1252.bib"
    original = "@misc{mine,\r\n  title = {Caf\xe9 25\xb0 C},\r\n}\r\n".encode("cp1252")
    path.write_bytes(original)
    jp.write_bibliography([jp.Paper(title="Über Zürich", authors=["Jörg Müller"], year=2020)], path)
    data = path.read_bytes()
    assert data.startswith(original)
    data.decode("cp1252") and pytest.raises(UnicodeDecodeError, data.decode, "utf-8")
    assert b"\r\n" in data[len(original):] and b"\n" not in data[len(original):].replace(b"\r\n", b"")
    assert "Über Zürich" in data.decode("cp1252")


def test_appending_to_a_utf16_file_keeps_it_utf16(tmp_path):
    import codecs

    path = tmp_path / "wide.bib"
    original = codecs.BOM_UTF16_LE + "@misc{mine, title={Über}}\n".encode("utf-16-le")
    path.write_bytes(original)
    jp.write_bibliography([jp.Paper(title="Zürich papers", authors=["Jörg Müller"], year=2020)], path)
    data = path.read_bytes()
    assert data.startswith(original) and data.count(codecs.BOM_UTF16_LE) == 1
    assert [p.title for p in jp.read_papers(path)] == ["Über", "Zürich papers"]


def test_refuses_to_append_after_an_unclosed_entry(tmp_path):
    path = tmp_path / "broken.bib"
    path.write_text("@misc{ok, title={Fine}}\n\n@article{broken,\n  title = {Never closed\n")
    before = path.read_bytes()
    with pytest.raises(BibliographyError, match=r"broken.bib:3"):
        jp.write_bibliography([jp.Paper(title="New", year=2020)], path)
    assert path.read_bytes() == before


def test_papers_with_nothing_to_cite_are_not_written(tmp_path):
    report = jp.write_bibliography([jp.Paper(key="final"), jp.Paper(title="Real", key="real")], tmp_path / "r.bib")
    assert report.empty == ["final"] and report.added == ["real"]
    assert "@misc{final" not in (tmp_path / "r.bib").read_text()


def test_export_escapes_and_keeps_verbatim_fields():
    paper = jp.Paper(title="{\\tt Dvi_QMS}: a driver for $O(n \\log n)$ & more", doi="10.1007/978-3-031-46674-8_12",
                     url="http://example.org/final%20version.pdf", authors=["Ann Smith"], year=2020)
    entry = bibtex_entry(paper)
    assert "doi = {10.1007/978-3-031-46674-8_12}" in entry and "url = {http://example.org/final%20version.pdf}" in entry
    assert "$O(n \\log n)$" in entry and "\\&" in entry
    done = subprocess.run([_pandoc(), "-f", "bibtex", "-t", "csljson"], input=entry.encode(), capture_output=True)
    assert done.returncode == 0 and json.loads(done.stdout)[0]["DOI"] == paper.doi
