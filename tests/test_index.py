import multiprocessing
import random

import pytest

import jupyter_papers as jp
from jupyter_papers.index import IndexBrokenError, VERSION_FILE

from .conftest import BIB


def test_default_index_is_built_from_the_bundled_corpus(papers_home):
    index = jp.open_index()
    assert len(index) == 139
    assert (papers_home / "index").is_dir()
    assert index.get("2403.00071").title.startswith("Resonance RoPE")


def test_upsert_by_id_counts_and_merges(empty_index):
    first = empty_index.add([jp.Paper(arxiv_id="2403.00071", title="Resonance RoPE", abstract="old abstract")])
    assert (first.added, first.updated) == (1, 0)
    again = empty_index.add([jp.Paper(arxiv_id="2403.00071v2", title="Resonance RoPE", authors=["Suyuchen Wang"])])
    assert (again.added, again.updated) == (0, 1)
    paper = empty_index.get("arXiv:2403.00071")
    assert paper.authors == ["Suyuchen Wang"] and paper.abstract == "old abstract", "missing fields are kept"
    same = empty_index.add([paper])
    assert same.unchanged == 1 and len(empty_index) == 1


def test_citation_keys_are_unique(empty_index):
    papers = [jp.Paper(title="Deep learning", authors=["Yann LeCun"], year=2015, doi=f"10.1000/{n}") for n in range(3)]
    empty_index.add(papers)
    keys = sorted(empty_index.get(f"10.1000/{n}").key for n in range(3))
    assert keys == ["lecun2015deep", "lecun2015deepa", "lecun2015deepb"]
    assert empty_index.get("lecun2015deepa").doi.startswith("10.1000/")


def test_get_by_any_identifier_remove_and_len(demo_index, empty_index):
    empty_index.add(jp.read_papers(BIB / "pybtex__xampl.bib"))
    assert len(empty_index) == 36, "every entry, the 3 without a title too"
    assert empty_index.get("misc-minimal").csl["note"] == "This is a minimal MISC entry"
    assert empty_index.get("article-full").title == "The Gnats and Gnus Document Preparation System"
    assert empty_index.remove("article-full") and len(empty_index) == 35
    assert empty_index.get("article-full") is None and not empty_index.remove("article-full")
    assert demo_index.get("https://arxiv.org/abs/2403.00071").id == "2403.00071"


def test_malformed_bib_reports_and_indexes_the_rest(empty_index, tmp_path):
    path = tmp_path / "refs.bib"
    path.write_text("@article{ok, title={Fine paper}}\n@article{bad, title={oops\n@misc{ok2, title={Also fine}}\n")
    report = empty_index.add(jp.read_papers(path))
    assert report.added == 2 and len(report.skipped) == 1
    assert "refs.bib:2" in str(report.skipped[0])


def _add_many(path, start, count, barrier):
    index = jp.open_index(path)
    barrier.wait()
    for n in range(start, start + count, 25):
        index.add([jp.Paper(title=f"paper {k}", doi=f"10.5555/{k}") for k in range(n, n + 25)])
    index.close()


def test_a_searcher_still_reads_segments_another_writer_merged_away(tmp_path):
    """The search beside two importing processes (below) once failed here: a segment's
    stored fields were first read after another writer's commit had merged the segment
    and deleted its files."""
    index = jp.open_index(tmp_path / "index")
    for n in range(3):  # three commits, three segments
        index.add([jp.Paper(id=f"p{n}", title=f"Paper number {n}", year=2000 + n)])
    searcher = index._ix.searcher()
    segments = [leaf.segment().segment_id() for leaf, _ in searcher.reader().leaf_readers()]
    other = jp.open_index(tmp_path / "index")
    other._ix.optimize()  # one segment; the three segments' files are deleted
    assert len(segments) == 3 and not [name for name in other._ix.storage.list() if name.startswith(tuple(segments))]
    assert sorted(searcher.stored_fields(n)["id"] for n in range(3)) == ["p0", "p1", "p2"]
    assert [searcher.reader().doc_field_length(n, "title") for n in range(3)] == [3, 3, 3]
    searcher.close()
    index.close()
    other.close()


def test_two_processes_adding_500_each_while_a_third_searches_lose_nothing(tmp_path):
    path = tmp_path / "shared"
    reader = jp.open_index(path)
    assert len(reader) == 0
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [context.Process(target=_add_many, args=(path, start, 500, barrier)) for start in (0, 1000)]
    for worker in workers:
        worker.start()
    searches = 0
    while any(worker.is_alive() for worker in workers) and searches < 5000:
        assert reader.search("paper").total >= 0  # never an error while the others commit
        searches += 1
    for worker in workers:
        worker.join(300)
        assert worker.exitcode == 0
    assert searches > 0
    assert len(reader) == 1000, "the open reader sees both processes' commits"
    assert {p.doi for p in reader} == {f"10.5555/{k}" for k in [*range(500), *range(1000, 1500)]}


def test_a_broken_index_says_how_to_rebuild(tmp_path):
    path = tmp_path / "index"
    index = jp.open_index(path)
    index.add([jp.Paper(title="keep me", doi="10.1000/keep")])
    index.close()
    for part in path.glob("papers_*.*"):  # every file of the segment, not the table of contents
        part.write_bytes(b"garbage")
    with pytest.raises(IndexBrokenError, match="jupyter-papers rebuild"):
        jp.open_index(path).search("keep")


def test_an_index_of_another_schema_version_says_how_to_rebuild(tmp_path):
    path = tmp_path / "index"
    jp.open_index(path).close()
    (path / VERSION_FILE).write_text("0")
    with pytest.raises(IndexBrokenError, match="rebuild"):
        jp.open_index(path)


def test_rebuild_keeps_every_paper(tmp_path):
    path = tmp_path / "index"
    index = jp.open_index(path)
    index.add(jp.read_papers(BIB / "pybtex__cyrillic.bib"))
    assert index.rebuild() == 5
    assert len(index) == 5 and index.search("diffusion coefficient").total == 1


def test_large_import_is_streamed_in_one_writer(tmp_path):
    index = jp.open_index(tmp_path / "index")
    report = index.add(jp.Paper(title=f"Synthetic paper {n} about topic {n % 50}", doi=f"10.4242/{n}",
                                year=1990 + n % 30) for n in range(3000))
    assert report.added == 3000 and len(index) == 3000
    assert index.search("topic", year_from=2000, year_to=2000).total == 100


def test_an_id_repeated_in_one_call_is_merged_not_duplicated(empty_index):
    copies = [jp.Paper(doi="10.1000/same", title="Same paper", year=2020)]
    copies += [jp.Paper(doi="10.1000/same", title="Same paper", abstract=f"version {n}") for n in range(12)]
    report = empty_index.add(copies + [jp.Paper(doi="10.1000/other", title="Other")])
    assert len(empty_index) == 2
    assert (report.added, report.updated) == (2, 1)
    paper = empty_index.get("10.1000/same")
    assert paper.abstract == "version 11" and paper.year == 2020


def test_posting_lists_skip_to_the_first_document_at_or_after_the_target(empty_index):
    empty_index.add([jp.Paper(id=f"p{n:04}", title="common" if n % 3 == 0 else "other") for n in range(1000)])
    reader = empty_index._current_searcher().reader()
    holding = list(reader.postings("title", "common").all_ids())
    assert len(holding) == 334
    rng = random.Random(5)
    for _ in range(20):
        matcher, target = reader.postings("title", "common"), 0
        while True:
            target += rng.choice([0, 1, 2, 5, 50, 200])  # within a block of 128 and across blocks
            expected = next((docnum for docnum in holding if docnum >= target), None)
            if expected is None:
                break
            matcher.skip_to(target)
            assert matcher.id() == expected
    assert type(matcher).__name__ == "SkippingLeafMatcher"


def test_our_matcher_is_our_index_s_own_and_whoosh_is_left_as_it_is(empty_index, tmp_path):
    """Skipping by bisection comes with our index's storage: another Whoosh index in the
    same process reads with Whoosh's own matcher, and the files name Whoosh's codec."""
    from whoosh import fields
    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.filedb.filestore import FileStorage

    empty_index.add([jp.Paper(id=f"p{n}", title="common words") for n in range(300)])
    ours = empty_index._current_searcher().reader().postings("title", "common")
    assert type(ours).__name__ == "SkippingLeafMatcher"
    other = FileStorage(str(tmp_path)).create_index(fields.Schema(text=fields.TEXT(stored=True)), indexname="plain")
    with other.writer() as writer:
        for n in range(300):
            writer.add_document(text="common words")
    with other.searcher() as searcher:
        theirs = searcher.reader().postings("text", "common")
        assert type(theirs) is W3LeafMatcher
        assert "skip_to" not in vars(W3LeafMatcher) or W3LeafMatcher.skip_to.__module__.startswith("whoosh")
    table = next(empty_index.path.glob("_papers_*.toc")).read_bytes()
    assert b"W3Codec" in table and b"SkippingCodec" not in table


def test_an_index_written_before_the_modules_moved_opens_answers_and_takes_papers(tmp_path):
    """tests/data/index-0.1.0-flat was written when the schema's classes lived in
    jupyter_papers.analysis (its table of contents pickles that name)."""
    import shutil

    from .conftest import DATA

    old = tmp_path / "old"
    shutil.copytree(DATA / "index-0.1.0-flat", old)
    assert b"jupyter_papers.analysis" in next(old.glob("_papers_*.toc")).read_bytes()
    index = jp.open_index(old)
    assert len(index) == 3
    first = next(iter(index.papers()))
    assert index.search(first.title, limit=1)[0].paper.id == first.id
    index.add([jp.Paper(id="new-one", title="Sparse mixtures of rotary experts")])
    assert len(index) == 4 and index.search("rotary experts", limit=1)[0].paper.id == "new-one"
    index.close()
