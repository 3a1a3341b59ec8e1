"""Sources kept in step (issue 24): .bib and JSON files, folders and Zotero libraries
registered once, synced by what changed, removed entries leaving the index, half-written
and missing files losing nothing, two processes syncing at once; Zotero read offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import jupyter_papers as jp
from jupyter_papers.sources import registry, zotero
from jupyter_papers.sources.registry import SourceError

from .zotero_library import ZoteroLibrary

SHARED_ZOTERO = Path(__file__).resolve().parents[2] / "shared" / "data" / "zotero"
needs_shared_zotero = pytest.mark.skipif(
    not (SHARED_ZOTERO / "datadir" / "zotero.sqlite").is_file(),
    reason="the real Zotero data directory is in the team's shared/data/zotero (not in this repository): "
           "clone the project beside shared/ to run this test")


def entry(key: str, title: str, year: int = 2020, extra: str = "") -> str:
    return f"@article{{{key},\n  title = {{{title}}},\n  author = {{Doe, Jane}},\n  year = {{{year}}},\n" \
           f"  journal = {{J}}{extra}\n}}\n\n"


@pytest.fixture
def bib(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_text(entry("one2020", "First paper") + entry("two2020", "Second paper") + entry("three2020", "Third"))
    return path


def titles(index) -> set[str]:
    return {paper.title for paper in index.papers()}


def test_a_bib_source_adds_updates_and_removes_what_changed(empty_index, bib):
    report = empty_index.sources.add(bib)
    assert (report.added, report.removed) == (3, 0) and titles(empty_index) == {"First paper", "Second paper", "Third"}
    bib.write_text(entry("one2020", "First paper, revised") + entry("three2020", "Third") + entry("four2021", "Fourth"))
    (report,) = empty_index.sources.sync()
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 1)
    assert titles(empty_index) == {"First paper, revised", "Third", "Fourth"}
    assert empty_index.get("two2020") is None and empty_index.get("one2020").title == "First paper, revised"
    (state,) = empty_index.sources.list()
    assert state.kind == "bibtex" and len(state.papers) == 3 and state.last_sync and not state.problems


def test_a_field_deleted_in_the_source_leaves_the_index_too(empty_index, tmp_path):
    bib = tmp_path / "edit.bib"
    bib.write_text(entry("ed2020", "Edited paper", extra=",\n  abstract = {An abstract to delete},\n  volume = {3}"))
    empty_index.sources.add(bib)
    assert empty_index.get("ed2020").abstract == "An abstract to delete"
    bib.write_text(entry("ed2020", "Edited paper", extra=",\n  volume = {4}"))
    empty_index.sources.sync()
    paper = empty_index.get("ed2020")
    assert paper.abstract == "" and paper.csl["volume"] == "4", "the source is the truth for its own entries"


def test_an_unchanged_source_is_not_read_and_a_touched_one_is_hashed_not_read(empty_index, bib, monkeypatch):
    empty_index.sources.add(bib)
    reads = []
    real_read = registry._read
    monkeypatch.setattr(registry, "_read", lambda *a: reads.append(a) or real_read(*a))
    assert empty_index.sources.sync()[0].skipped and reads == []
    os.utime(bib, ns=(bib.stat().st_atime_ns, bib.stat().st_mtime_ns + 5_000_000_000))  # touched, same bytes
    assert empty_index.sources.sync()[0].skipped and reads == []
    bib.write_text(bib.read_text() + entry("five2022", "Fifth"))
    assert empty_index.sources.sync()[0].added == 1 and len(reads) == 1


def test_a_half_written_bib_removes_nothing_until_it_reads_again(empty_index, bib):
    empty_index.sources.add(bib)
    whole = bib.read_text()
    bib.write_text(whole[: whole.index("Second paper") + 4])  # cut inside the second entry, as a writer mid-way
    (report,) = empty_index.sources.sync()
    assert report.removed == 0 and titles(empty_index) == {"First paper", "Second paper", "Third"}
    assert any("kept until it reads without problems" in problem for problem in report.problems)
    bib.write_text(entry("one2020", "First paper"))
    (report,) = empty_index.sources.sync()
    assert report.removed == 2 and titles(empty_index) == {"First paper"} and not report.problems


def test_a_missing_source_keeps_its_papers_and_says_so(empty_index, bib, tmp_path):
    empty_index.sources.add(bib)
    bib.rename(tmp_path / "away.bib")
    (report,) = empty_index.sources.sync()
    assert report.skipped and "is missing" in report.problems[0] and len(empty_index) == 3
    (state,) = empty_index.sources.list()
    assert state.missing
    (tmp_path / "away.bib").rename(bib)
    empty_index.sources.sync()
    (state,) = empty_index.sources.list()
    assert not state.missing and not state.problems and len(empty_index) == 3


def test_the_same_paper_in_two_sources_is_one_paper_until_both_are_gone(empty_index, tmp_path):
    doi = ",\n  doi = {10.1234/shared.1}"
    (tmp_path / "a.bib").write_text(entry("shared2020", "Shared paper", extra=doi) + entry("onlya", "Only in A"))
    (tmp_path / "b.json").write_text(json.dumps([{"id": "b1", "type": "article-journal", "title": "Shared paper",
                                                  "DOI": "10.1234/shared.1", "author": [{"family": "Doe"}]}]))
    empty_index.sources.add(tmp_path / "a.bib")
    empty_index.sources.add(tmp_path / "b.json")
    assert len(empty_index) == 2
    assert empty_index.sources.remove("a") == 1, "only the paper no other source holds leaves"
    assert titles(empty_index) == {"Shared paper"}
    assert empty_index.sources.remove("b") == 1 and len(empty_index) == 0


def test_a_folder_source_and_its_errors(empty_index, tmp_path, bib):
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copy(bib, folder / "refs.bib")
    (folder / "more.jsonl").write_text(json.dumps({"id": "j1", "title": "From JSON Lines"}) + "\n")
    (folder / "notes.txt").write_text("not a source file")
    report = empty_index.sources.add(folder)
    assert report.added == 4 and empty_index.sources.list()[0].kind == "folder"
    (folder / "more.jsonl").unlink()
    assert empty_index.sources.sync()[0].removed == 1
    with pytest.raises(SourceError, match="already the source"):
        empty_index.sources.add(folder)
    with pytest.raises(SourceError, match="a .bib, .json or .jsonl file"):
        empty_index.sources.add(folder / "notes.txt")
    with pytest.raises(SourceError, match="no source named 'nope'"):
        empty_index.sources.sync("nope")


def test_two_processes_syncing_at_once_lose_and_double_nothing(tmp_path):
    path, bib = tmp_path / "index", tmp_path / "many.bib"
    bib.write_text("".join(entry(f"key{n}", f"Paper number {n}") for n in range(600)))
    with jp.open_index(path) as index:
        index.sources.add(bib)
    bib.write_text("".join(entry(f"key{n}", f"Paper number {n}") for n in range(300, 1200)))
    command = [sys.executable, "-m", "jupyter_papers.cli", "--index", str(path), "sync"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    said = sorted(out.strip() for out, _ in outputs)
    assert said == ["many: added 600, updated 0, removed 300", "many: unchanged"], "one sync did it, the other waited"
    with jp.open_index(path) as index:
        assert len(index) == 900 and index.get("key299") is None and index.get("key1199") is not None


def test_the_cli_lists_adds_syncs_and_removes_sources(tmp_path, bib):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "jupyter_papers.cli", "--index", str(tmp_path / "ix"), *args],
                              capture_output=True, text=True, timeout=300)

    assert "no sources" in cli("sources", "list").stdout
    added = cli("sources", "add", str(bib), "--name", "mine")
    assert added.returncode == 0 and "mine: added 3" in added.stdout
    listed = cli("sources", "list").stdout
    assert listed.startswith("mine  bibtex  3 papers  synced ") and str(bib) in listed
    assert cli("sync").stdout.strip() == "mine: unchanged"
    missing = cli("sources", "add", str(tmp_path / "nope.bib"))
    assert missing.returncode != 0 and "no such file or folder" in missing.stderr and "Traceback" not in missing.stderr
    assert "3 papers left the index" in cli("sources", "remove", "mine").stdout


# --- Zotero ----------------------------------------------------------------------------------
@needs_shared_zotero
def test_the_real_zotero_library_reads_as_its_own_export_says(tmp_path):
    problems = []
    papers = {p.doi.lower(): p for p in zotero.read_library(SHARED_ZOTERO / "datadir", problems.append)}
    exported = {p.doi.lower(): p for p in jp.read_papers(SHARED_ZOTERO / "bibtex-export" / "zotero-library.bib")}
    assert len(papers) == 5 and not problems and set(papers) == set(exported)
    for doi, paper in papers.items():
        other = exported[doi]
        assert paper.type == other.type == "article-journal"
        assert paper.title == other.title and paper.year == other.year
        assert [str(a) for a in paper.authors] == [str(a) for a in other.authors]
        assert paper.csl.get("volume") == other.csl.get("volume") and paper.csl.get("page") == other.csl.get("page")
    svard = papers["10.1016/j.jcp.2014.02.031"]
    assert [(a.parts.get("family"), a.parts.get("given")) for a in svard.authors] == [("Svärd", "Magnus"),
                                                                                     ("Nordström", "Jan")]
    assert svard.csl["issued"] == {"date-parts": [[2014, 7]]} and svard.venue == "Journal of Computational Physics"
    assert svard.extra["pdf"].endswith(".pdf") and Path(svard.extra["pdf"]).is_file()
    assert "Svärd, M., & Nordström, J. (2014). Review of summation-by-parts schemes" in jp.cite(svard, "apa")


@needs_shared_zotero
def test_zotero_is_read_from_a_copy_while_zotero_holds_its_lock(tmp_path, empty_index):
    import sqlite3

    datadir = tmp_path / "Zotero"
    shutil.copytree(SHARED_ZOTERO / "datadir", datadir)
    running = sqlite3.connect(datadir / "zotero.sqlite")
    running.execute("PRAGMA locking_mode = EXCLUSIVE")
    running.execute("BEGIN EXCLUSIVE")  # as a running Zotero holds it
    try:
        report = empty_index.sources.add_zotero(datadir)
    finally:
        running.rollback()
        running.close()
    assert report.added == 5 and len(empty_index) == 5


def test_a_zotero_library_maps_like_zotero_and_skips_what_is_not_a_paper(tmp_path, empty_index):
    library = ZoteroLibrary(tmp_path / "Zotero")
    group = library.group("Reading group")
    thesis_folder = library.collection("Thesis")
    chapter = library.collection("Chapter 2", parent=thesis_folder)
    article, _ = library.item("journalArticle", {
        "title": "Spectral methods", "publicationTitle": "Journal of Spectra", "date": "2019-03-00 March 2019",
        "volume": "12", "pages": "1-20", "DOI": "10.1000/spectral", "extra": "Citation Key: spectral2019"},
        creators=[("author", "Ann", "Smith"), ("author", "World Health Organization"), ("editor", "Ed", "Itor")],
        collections=[chapter], tags=["methods", "spectra"])
    library.stored_pdf(article, "smith.pdf", b"%PDF-1.4 test")
    library.note(article, "my note")
    thesis, _ = library.item("thesis", {"title": "A thesis", "university": "Uni of Tests", "thesisType": "PhD thesis",
                                        "date": "2020-00-00 2020"}, creators=[("author", "Tess", "Student")])
    section, _ = library.item("bookSection", {"title": "A chapter", "bookTitle": "The book", "date": "2018"},
                              creators=[("author", "Cha", "Pter"), ("bookAuthor", "Boo", "Kauthor"),
                                        ("seriesEditor", "Ser", "Ies")], library=group, citation_key="pter2018bbt")
    linked = tmp_path / "elsewhere.pdf"
    linked.write_bytes(b"%PDF-1.4 linked")
    library.linked_pdf(section, linked)
    program, _ = library.item("computerProgram", {"title": "A tool", "date": "2021"},
                              creators=[("programmer", "Pro", "Grammer")])
    library.item("journalArticle", {"title": "Trashed paper"}, creators=[("author", "T", "Rash")], trashed=True)
    library.annotation(library.stored_pdf(thesis, "thesis.pdf", b"%PDF-1.4 t"), "highlighted")
    library.note(None, "a standalone note")
    library.feed_item(library.feed("News"), "A feed item")
    library.close()

    report = empty_index.sources.add_zotero(tmp_path / "Zotero")
    assert report.added == 4, report
    papers = {p.title: p for p in empty_index.papers()}
    assert set(papers) == {"Spectral methods", "A thesis", "A chapter", "A tool"}
    spectral = papers["Spectral methods"]
    assert spectral.key == "spectral2019" and spectral.doi == "10.1000/spectral"
    assert [n.to_csl() for n in spectral.authors] == [{"family": "Smith", "given": "Ann"},
                                                      {"literal": "World Health Organization"}]
    assert [n.to_csl() for n in spectral.editors] == [{"family": "Itor", "given": "Ed"}]
    assert spectral.csl["issued"] == {"date-parts": [[2019, 3]]} and spectral.csl["page"] == "1-20"
    assert spectral.extra["collections"] == "Thesis/Chapter 2" and {"methods", "spectra"} <= set(spectral.keywords)
    assert spectral.extra["pdf"].endswith("smith.pdf")
    thesis_paper = papers["A thesis"]
    assert thesis_paper.type == "thesis" and thesis_paper.csl["publisher"] == "Uni of Tests"
    assert thesis_paper.csl["genre"] == "PhD thesis" and thesis_paper.year == 2020
    chapter_paper = papers["A chapter"]
    assert chapter_paper.type == "chapter" and chapter_paper.venue == "The book" and chapter_paper.key == "pter2018bbt"
    assert chapter_paper.csl["container-author"] == [{"family": "Kauthor", "given": "Boo"}]
    assert chapter_paper.csl["collection-editor"] == [{"family": "Ies", "given": "Ser"}]
    assert chapter_paper.extra["library"] == "Reading group" and chapter_paper.extra["pdf"] == str(linked)
    assert papers["A tool"].type == "software" and str(papers["A tool"].authors[0]) == "Pro Grammer"
    assert [hit.paper.title for hit in empty_index.search('collection:"Thesis/Chapter 2"', limit=5)] == [
        "Spectral methods"]
    assert [hit.paper.title for hit in empty_index.search("collection:Thesis spectral", limit=5)] == [
        "Spectral methods"]
    assert empty_index.search("collection:Nowhere", limit=5).total == 0, "a filter, not more words"
    assert empty_index.search("collection:Thesis tool", limit=5).total == 0, "A tool is in no collection"


def test_a_newer_zotero_or_a_broken_database_is_refused_with_a_message_and_keeps_the_papers(tmp_path, empty_index):
    import sqlite3

    library = ZoteroLibrary(tmp_path / "Zotero")
    library.item("journalArticle", {"title": "Kept paper"}, creators=[("author", "K", "Ept")])
    library.close()
    empty_index.sources.add_zotero(tmp_path / "Zotero")
    database = sqlite3.connect(tmp_path / "Zotero" / "zotero.sqlite")
    database.execute("UPDATE version SET version = 99 WHERE schema = 'compatibility'")
    database.commit()
    database.close()
    (report,) = empty_index.sources.sync()
    assert "made by a newer Zotero (database compatibility 99" in report.problems[0] and len(empty_index) == 1
    (tmp_path / "Zotero" / "zotero.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    (report,) = empty_index.sources.sync()
    assert "cannot be read" in report.problems[0] and "last good papers are kept" in report.problems[0]
    assert [p.title for p in empty_index.papers()] == ["Kept paper"]


def test_zotero_is_found_where_its_profile_says(tmp_path):
    data = tmp_path / "Research" / "ZoteroData"
    data.mkdir(parents=True)
    (data / "zotero.sqlite").write_bytes(b"")
    profile = tmp_path / ".zotero" / "zotero" / "abcd.default"
    profile.mkdir(parents=True)
    (profile / "prefs.js").write_text(f'user_pref("extensions.zotero.dataDir", "{data}");\n'
                                      'user_pref("extensions.zotero.useDataDir", true);\n')
    assert zotero.find_data_directory(tmp_path) == data
    shutil.rmtree(tmp_path / ".zotero")
    with pytest.raises(zotero.ZoteroError, match="no Zotero data directory found"):
        zotero.find_data_directory(tmp_path)
    (tmp_path / "Zotero").mkdir()
    (tmp_path / "Zotero" / "zotero.sqlite").write_bytes(b"")
    assert zotero.find_data_directory(tmp_path) == tmp_path / "Zotero"


def test_a_sync_parses_only_the_entries_that_changed_and_keeps_the_others_problems(empty_index, tmp_path,
                                                                                monkeypatch):
    from jupyter_papers.sources import bibtex

    bib = tmp_path / "big.bib"
    untitled = "@misc{empty2020,\n  pages = {1--2}\n}\n\n"
    bib.write_text("".join(entry(f"k{n}", f"Paper {n}") for n in range(50)) + untitled)
    empty_index.sources.add(bib)
    parsed = []
    real_read = bibtex.read
    monkeypatch.setattr(bibtex, "read", lambda source, report: (parsed.append(source.text.count("@")),
                                                               real_read(source, report))[1])
    bib.write_text(entry("new1", "A new first paper") + "".join(
        entry(f"k{n}", f"Paper {n}" + (" revised" if n == 7 else "")) for n in range(50)) + untitled)
    (report,) = empty_index.sources.sync()
    assert parsed == [2], "only the new entry and the edited one were parsed"
    assert (report.added, report.updated, report.unchanged, report.removed) == (1, 1, 49, 0)
    assert empty_index.get("k7").title == "Paper 7 revised" and len(empty_index) == 51
    line = bib.read_text().count("\n", 0, bib.read_text().index("@misc{empty2020")) + 1
    assert report.problems == [f"big.bib:{line}: entry 'empty2020' {bibtex.NOTHING_TO_CITE}; skipped"], (
        "moved with its entry")


def test_a_changed_string_macro_or_a_crossref_reads_the_whole_file(empty_index, tmp_path):
    bib = tmp_path / "macros.bib"
    bib.write_text('@string{jn = "Journal One"}\n\n' + entry("m1", "Macro paper").replace("{J}", "jn"))
    empty_index.sources.add(bib)
    assert empty_index.get("m1").venue == "Journal One"
    bib.write_text('@string{jn = "Journal Two"}\n\n' + entry("m1", "Macro paper").replace("{J}", "jn"))
    empty_index.sources.sync()
    assert empty_index.get("m1").venue == "Journal Two", "the unchanged entry was read again with the new macro"


def test_a_rebuild_keeps_the_list_of_sources(tmp_path, empty_index):
    """The registry lives in the index folder, which a rebuild replaces: it goes along."""
    bib = tmp_path / "mine.bib"
    bib.write_text(entry("kept2020", "Kept across a rebuild"))
    empty_index.sources.add(bib)
    empty_index.rebuild()
    assert [state.name for state in empty_index.sources.list()] == ["mine"]
    assert empty_index.sources.sync()[0].skipped  # its files' state came along too: nothing to read again
    bib.write_text(entry("kept2020", "Kept across a rebuild") + entry("new2021", "Added after it"))
    assert empty_index.sources.sync()[0].added == 1 and empty_index.get("new2021") is not None
