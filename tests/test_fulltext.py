"""The full text of PDFs: read page by page in bounded workers, indexed beside the papers,
found by a sentence from the body, with the page it is on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import jupyter_papers as jp
from jupyter_papers import fulltext
from jupyter_papers.paper import Paper
from jupyter_papers.sources import extract, pdf

from . import pdfs
from .zotero_library import ZoteroLibrary

SHARED_ZOTERO = Path(__file__).resolve().parents[2] / "shared" / "data" / "zotero"
BODY = ("The held-out split of 1,204 claims was annotated by two ecologists, and the remaining "
        "claims were kept for calibration of the sediment gauges.")


@pytest.fixture
def abstracts():
    """Real abstracts (the bundled corpus), the body text of the PDFs made here."""
    return [paper.abstract for paper in jp.read_papers(jp.bundled_corpus()) if len(paper.abstract) > 600][:12]


@pytest.fixture
def article(tmp_path, abstracts):
    """A four-page paper with a DOI on page 1 and BODY on page 3."""
    return pdfs.article(tmp_path / "estuary.pdf", "Sediment Transport in Tidal Estuaries: A Field Study",
                        [abstracts[0], abstracts[1], abstracts[2] + " " + BODY, abstracts[3]],
                        doi="10.5555/estuary.2021", authors="Ann Smith and Bo Lee")


def run_text(paths, **options):
    return {Path(path).name: result for path, result in extract.run("text", paths, **options)}


# --- reading a PDF -------------------------------------------------------------------
def test_each_page_is_read_on_its_own(article, abstracts):
    text = pdf.page_texts(article)
    assert text.problem is None and len(text.pages) == 4 and text.total_pages == 4
    assert text.pages[0].startswith("Sediment Transport in Tidal Estuaries: A Field Study Ann Smith and Bo Lee "
                                    "doi:10.5555/estuary.2021")
    assert "held-out split of 1,204 claims" in text.pages[2] and "held-out" not in text.pages[1]
    assert abstracts[1].split()[0] in text.pages[1].split()[:1]


def test_ligatures_of_a_latex_pdf_read_as_letters(tmp_path):
    source = tmp_path / "ligatures.tex"
    source.write_text(r"\documentclass{article}\begin{document}The first office flow of efficient "
                      r"differential fluffy workflows.\end{document}")
    subprocess.run(["pdflatex", "-interaction=batchmode", source.name], cwd=tmp_path, check=True,
                   capture_output=True, timeout=120)
    page = pdf.page_texts(tmp_path / "ligatures.pdf").pages[0]
    assert "The first office flow of efficient differential fluffy workflows." in page
    assert not any(0xFB00 <= ord(ch) <= 0xFB06 for ch in page)


def test_bad_pdfs_are_reported_each_with_why_and_the_good_one_is_still_read(tmp_path, article):
    pdfs.article(tmp_path / "locked.pdf", "Locked", ["secret words"], encrypt="hunter2")
    pdfs.scanned(tmp_path / "scan.pdf")
    pdfs.custom_encoding(tmp_path / "glyphs.pdf")
    (tmp_path / "notes.pdf").write_text("these are my notes, not a PDF")
    whole = article.read_bytes()
    (tmp_path / "cut.pdf").write_bytes(whole[: len(whole) // 3])
    found = run_text([tmp_path / name for name in
                      ("locked.pdf", "scan.pdf", "glyphs.pdf", "notes.pdf", "cut.pdf", "estuary.pdf")])
    assert found["locked.pdf"].problem == "encrypted: it opens only with a password"
    assert found["scan.pdf"].problem.startswith("no text: a scan without a text layer")
    assert found["glyphs.pdf"].problem == "its text cannot be read (a font without a Unicode mapping)"
    assert found["notes.pdf"].problem.startswith("not a PDF")
    assert found["cut.pdf"].problem.startswith("cannot be read") or not found["cut.pdf"].readable
    assert found["estuary.pdf"].readable and len(found["estuary.pdf"].pages) == 4


def test_a_pdf_bomb_is_stopped_by_the_memory_limit_and_a_slow_one_by_the_time_limit(tmp_path, article):
    bomb = pdfs.bomb(tmp_path / "bomb.pdf", megabytes=1024)
    found = run_text([bomb, article], megabytes=256)
    assert isinstance(found["bomb.pdf"], str) and "256 MB" in found["bomb.pdf"], found["bomb.pdf"]
    assert found["estuary.pdf"].readable
    book = pdfs.book(tmp_path / "book.pdf", 2000)
    found = run_text([book, article], time_limit=0.05, procs=1)
    assert found["book.pdf"] == "took longer than 0 s to read; skipped"
    assert found["estuary.pdf"] == "took longer than 0 s to read; skipped" or found["estuary.pdf"].readable


def test_a_2000_page_pdf_is_read_up_to_the_page_limit_and_says_so(tmp_path, empty_index):
    book = pdfs.book(tmp_path / "book.pdf", 2000)
    report = empty_index.add([Paper(id="long-report", title="A long report", extra={"pdf": str(book)})])
    assert [str(p) for p in report.fulltext] == [f"{book}: only its first {pdf.MAX_PAGES} of 2000 pages are "
                                                 "searchable"]
    hits = empty_index.search("in:fulltext tidal estuaries", limit=1)
    assert hits.total == 1 and hits[0].paper.id == "long-report" and len(hits[0].pages) == 3
    assert all(1 <= page["page"] <= pdf.MAX_PAGES for page in hits[0].pages)


# --- searching the pages -------------------------------------------------------------
def test_a_sentence_from_the_body_finds_the_paper_and_its_page(demo_index, tmp_path, article):
    index = jp.open_index(tmp_path / "index")
    index.add(jp.read_papers(jp.bundled_corpus()))
    report = index.add([Paper(id="estuary", title="Sediment transport in tidal estuaries", extra={"pdf": str(article)})])
    assert report.fulltext == []
    results = index.search("held-out split of 1,204 claims annotated by two ecologists")
    assert results[0].paper.id == "estuary"
    page = results[0].pages[0]
    assert page["page"] == 3 and "<mark>ecologists</mark>" in page["snippet"] and "<mark>204</mark>" in page["snippet"]
    only = index.search("in:fulltext held-out split ecologists")
    assert [hit.paper.id for hit in only] == ["estuary"] and only[0].pages[0]["page"] == 3
    assert "estuary" not in [hit.paper.id for hit in index.search("in:metadata held-out split ecologists", limit=50)]
    assert [hit.paper.id for hit in index.search("held-out split ecologists", scope="fulltext")] == ["estuary"]


def test_papers_without_pdfs_keep_their_order_when_pages_are_indexed(demo_index, tmp_path, article):
    index = jp.open_index(tmp_path / "index")
    index.add(jp.read_papers(jp.bundled_corpus()))
    before = {q: [h.paper.id for h in index.search(q, limit=20)] for q in ("rotary position", "diffusion models")}
    index.add([Paper(id="estuary", title="Sediment transport", extra={"pdf": str(article)})])
    for query, ids in before.items():
        after = [h.paper.id for h in index.search(query, limit=20)]
        assert [i for i in after if i != "estuary"] == ids[: len([i for i in after if i != "estuary"])]


def test_page_text_is_escaped_in_snippets(tmp_path, empty_index):
    hostile = pdfs.article(tmp_path / "x.pdf", "Markup", ['the <script>alert("sediment")</script> & <b>gauges</b>'])
    empty_index.add([Paper(id="x", title="Markup", extra={"pdf": str(hostile)})])
    snippet = empty_index.search("in:fulltext sediment gauges")[0].pages[0]["snippet"]
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet and "<mark>gauges</mark>" in snippet


# --- keeping pages in step -----------------------------------------------------------
def test_unchanged_pdfs_are_not_read_again_and_the_same_file_is_read_once(tmp_path, empty_index, article,
                                                                           monkeypatch):
    reads = []
    real_run = extract.run
    monkeypatch.setattr(extract, "run", lambda job, paths, **kw: (reads.extend(paths), real_run(job, paths, **kw))[1])
    empty_index.add([Paper(id="a", title="A", extra={"pdf": str(article)})])
    empty_index.add([Paper(id="a", title="A again", extra={"pdf": str(article)})])
    copy = shutil.copy(article, tmp_path / "copy.pdf")
    empty_index.add([Paper(id="b", title="B", extra={"pdf": str(copy)})])
    assert reads == [str(article)]
    assert {h.paper.id for h in empty_index.search("in:fulltext sediment transport tidal")} == {"a", "b"}


def test_removing_a_paper_or_its_pdf_removes_its_pages(tmp_path, empty_index, article):
    copy = shutil.copy(article, tmp_path / "b.pdf")
    empty_index.add([Paper(id="a", title="A", source="mine.bib", extra={"pdf": str(article)}),
                     Paper(id="b", title="B", source="mine.bib", extra={"pdf": str(copy)})])
    assert empty_index.search("in:fulltext ecologists").total == 2
    empty_index.remove("a")
    assert [h.paper.id for h in empty_index.search("in:fulltext ecologists")] == ["b"]
    empty_index.add([Paper(id="b", title="B", source="mine.bib")], edits=True)
    assert empty_index.search("in:fulltext ecologists").total == 0


def test_a_rebuild_keeps_the_pages_without_reading_the_pdfs(tmp_path, empty_index, article, monkeypatch):
    empty_index.add([Paper(id="a", title="A", extra={"pdf": str(article)})])
    monkeypatch.setattr(extract, "run", lambda *a, **k: pytest.fail("a rebuild read a PDF again"))
    empty_index.rebuild()
    assert empty_index.search("in:fulltext ecologists")[0].pages[0]["page"] == 3


# --- a folder of PDFs ------------------------------------------------------------------
def test_a_folder_of_pdfs_becomes_papers_with_metadata_from_the_index_the_pdf_or_a_guess(tmp_path, empty_index,
                                                                                         abstracts):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (tmp_path / "refs.bib").write_text("@article{smith2021sediment, title = {Sediment Transport in Tidal Estuaries},"
                                       " author = {Smith, Ann}, year = {2021}, doi = {10.5555/estuary.2021}}\n")
    empty_index.add(jp.read_papers(tmp_path / "refs.bib"))
    pdfs.article(folder / "known.pdf", "Sediment Transport in Tidal Estuaries: The Long Title", [abstracts[0], BODY],
                 doi="10.5555/estuary.2021")
    pdfs.article(folder / "described.pdf", "Whatever", [abstracts[1]], authors="Cy Young",
                 info_title="Graph Neural Networks for River Deltas", encrypt=None)
    pdfs.article(folder / "bare.pdf", "Attention Over Tidal Gauges at Scale", [abstracts[2]],
                 info_title="Microsoft Word - final_v3.docx")
    pdfs.article(folder / "locked.pdf", "Locked Away", [abstracts[3]], encrypt="hunter2")
    report = empty_index.sources.add(folder)
    assert (report.added, report.updated) == (3, 1), report
    assert report.problems == [f"{folder / 'locked.pdf'}: its text is not searchable: encrypted: it opens only "
                               "with a password"]
    assert empty_index.find("locked").guessed == "title from the file name"
    known = empty_index.get("smith2021sediment")
    assert known.title == "Sediment Transport in Tidal Estuaries" and known.extra["pdf"] == str(folder / "known.pdf")
    assert not known.guessed
    described = empty_index.find("Graph Neural Networks for River Deltas")
    assert described.title == "Graph Neural Networks for River Deltas" and not described.guessed
    assert [str(a) for a in described.authors] == ["Cy Young"]
    bare = empty_index.find("Attention Over Tidal Gauges")
    assert bare.title == "Attention Over Tidal Gauges at Scale" and bare.guessed == "title from the first page"
    assert empty_index.search("in:fulltext held-out ecologists")[0].paper.key == "smith2021sediment"
    # a record of the guessed paper, naming its PDF, replaces the guess; its key keeps resolving
    (tmp_path / "more.bib").write_text("@article{lee2020attention, title = {Attention over tidal gauges},"
                                       f" author = {{Lee, Bo}}, year = {{2020}}, file = {{{folder / 'bare.pdf'}}}}}\n")
    empty_index.add(jp.read_papers(tmp_path / "more.bib"))
    fixed = empty_index.get(bare.key)
    assert fixed.title == "Attention over tidal gauges" and not fixed.guessed and fixed.key == "lee2020attention"
    assert len([p for p in empty_index if "tidal gauges" in p.title.lower()]) == 1


def test_the_cli_adds_a_folder_of_pdfs_and_lists_the_guessed_titles(tmp_path, abstracts):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    pdfs.article(folder / "bare.pdf", "Attention Over Tidal Gauges at Scale", [abstracts[2], BODY])
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj garbage")
    run = subprocess.run([sys.executable, "-m", "jupyter_papers.cli", "--index", str(tmp_path / "ix"), "add",
                          str(folder)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "2 PDF(s): added 2" in run.stdout
    assert "broken.pdf: its text is not searchable: cannot be read" in run.stdout
    assert "attention: 'Attention Over Tidal Gauges at Scale' (title from the first page; bare.pdf)" in run.stdout
    search = subprocess.run([sys.executable, "-m", "jupyter_papers.cli", "--index", str(tmp_path / "ix"), "search",
                             "two ecologists annotated", "--in", "fulltext"], capture_output=True, text=True,
                            timeout=120)
    assert "(guessed: title from the first page)" in search.stdout
    assert "p. 2: " in search.stdout and "*ecologists*" in search.stdout
    stats = subprocess.run([sys.executable, "-m", "jupyter_papers.cli", "--index", str(tmp_path / "ix"), "stats"],
                           capture_output=True, text=True, timeout=120).stdout
    assert "PDFs:   2, 2 pages searchable; 1 without searchable text:" in stats
    assert f"{folder / 'broken.pdf'}: cannot be read" in stats
    cited = subprocess.run([sys.executable, "-m", "jupyter_papers.cli", "--index", str(tmp_path / "ix"), "cite",
                            "attention"], capture_output=True, text=True, timeout=120)
    assert "Attention Over Tidal Gauges at Scale" in cited.stdout
    assert cited.stderr.startswith("attention: its metadata was guessed from its PDF (title from the first page)")


# --- Zotero --------------------------------------------------------------------------
def test_zotero_s_own_extraction_is_used_where_the_pdf_gives_less(tmp_path, empty_index):
    library = ZoteroLibrary(tmp_path / "Zotero")
    item, _ = library.item("journalArticle", {"title": "Scanned estuary survey", "DOI": "10.5555/scan"})
    attachment = library.stored_pdf(item, "survey.pdf", pdfs.scanned(tmp_path / "s.pdf").read_bytes())
    library.close()
    storage = next((tmp_path / "Zotero" / "storage").iterdir())
    (storage / ".zotero-ft-cache").write_text("Recognised text: the dredging of the channel moved 4,000 tonnes.")
    assert attachment
    report = empty_index.sources.add_zotero(tmp_path / "Zotero")
    assert report.added == 1 and not report.problems
    hit = empty_index.search("in:fulltext dredging channel tonnes")[0]
    assert hit.paper.doi == "10.5555/scan" and hit.pages[0]["page"] == 0
    assert "<mark>dredging</mark>" in hit.pages[0]["snippet"]


@pytest.mark.skipif(not (SHARED_ZOTERO / "datadir").is_dir(),
                    reason="the real Zotero data directory is in the team's shared/data/zotero (not in this "
                           "repository): clone the project beside shared/ to run this test")
def test_the_real_zotero_library_s_text_is_searchable(tmp_path, empty_index):
    shutil.copytree(SHARED_ZOTERO / "datadir", tmp_path / "Zotero")
    empty_index.sources.add_zotero(tmp_path / "Zotero")
    hit = empty_index.search("in:fulltext pseudodifferential operators transmission property")[0]
    assert hit.paper.doi == "10.1016/j.aim.2014.09.018"
    assert "<mark>" in hit.pages[0]["snippet"]
    records = json.dumps(sorted(fulltext.PageIndex(empty_index.path).file_records().values(), key=str))
    assert records.count('"paged": false') == 4


def test_long_texts_are_highlighted_as_a_word_by_word_scan_would():
    """A page is first searched for words that begin as the terms do (highlight.py): the
    same words must come out marked as when every word is looked up."""
    import random
    import re

    from jupyter_papers.backends.whoosh import highlight
    from jupyter_papers.backends.whoosh.analysis import make_schema

    schema = make_schema()
    marker, analyzer = highlight.Highlighter(schema), schema["abstract"].analyzer
    abstracts = [paper.abstract for paper in jp.read_papers(jp.bundled_corpus())]
    rng = random.Random(3)
    for _ in range(300):
        text = " ".join(rng.sample(abstracts, 3)) + " Schrödinger’s naïve café i.e. U.S. a..e key any"
        words = rng.sample(re.findall(r"\w+", text), 8) + ["schrodinger", "naive", "e", "s", "key", "any"]
        terms = {token.text for word in words for token in analyzer(word)}
        assert len(text) > highlight.LONG_TEXT
        fast = marker._matches(text, terms, "abstract")
        every_word = [highlight._Match(t.start(), t.end(), marker._term("abstract", t.group()))
                      for t in highlight._TOKEN.finditer(text)]
        assert fast == marker._with_compounds(text, terms, "abstract", [m for m in every_word if m.term in terms])


def test_a_page_with_one_of_the_words_does_not_outrank_a_title_with_all_of_them(tmp_path, empty_index, article):
    """Fusion weighs a page by how much of the query it holds: "sediment gauges" in a
    PDF must not lift its paper over one whose title is the query."""
    empty_index.add([Paper(id="titled", title="Tidal estuaries gauges calibration"),
                     Paper(id="pdf", title="Tidal notes", extra={"pdf": str(article)})])
    hits = empty_index.search("tidal estuaries gauges calibration")
    assert [hit.paper.id for hit in hits][:2] == ["titled", "pdf"]


def test_query_syntax_keeps_to_the_index_and_collections_filter_pages(tmp_path, empty_index, article):
    empty_index.add([Paper(id="a", title="Alpha", extra={"pdf": str(article), "collections": "Thesis"}),
                     Paper(id="b", title="Beta", extra={"pdf": str(shutil.copy(article, tmp_path / "b.pdf"))})])
    assert [h.paper.id for h in empty_index.search('title:alpha OR title:beta')] == ["a", "b"] or \
        {h.paper.id for h in empty_index.search('title:alpha OR title:beta')} == {"a", "b"}
    assert empty_index.search('"held-out split" ecologists').total == 0  # a phrase: titles and abstracts only
    found = empty_index.search('in:fulltext ecologists collection:Thesis')
    assert [h.paper.id for h in found] == ["a"] and found[0].pages[0]["page"] == 3


def test_a_pdf_rewritten_in_a_folder_source_has_its_new_text_searched(tmp_path, empty_index, abstracts):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    pdfs.article(folder / "notes.pdf", "Field Notes on Estuary Gauges", [abstracts[0], "first draft about silt"],
                 doi="10.5555/notes.1")
    empty_index.sources.add(folder)
    assert empty_index.search("in:fulltext silt").total == 1
    pdfs.article(folder / "notes.pdf", "Field Notes on Estuary Gauges", [abstracts[0], "second draft about kelp"],
                 doi="10.5555/notes.1")
    report = empty_index.sources.sync()[0]
    assert (report.added, report.updated) == (0, 0)  # the same paper: its record did not change
    assert empty_index.search("in:fulltext kelp").total == 1 and empty_index.search("in:fulltext silt").total == 0


def test_a_paper_given_twice_in_one_add_has_its_pages_once(empty_index, article):
    empty_index.add([Paper(id="a", title="A", extra={"pdf": str(article)}),
                     Paper(id="a", title="A, again", extra={"pdf": str(article)})])
    assert fulltext.PageIndex(empty_index.path).searcher().doc_count() == 1 + 4  # its record and its 4 pages
