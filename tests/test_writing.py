"""The import's speed-ups write what Whoosh's own parts write: the TermPool, the listed
field lengths and the block-at-a-time writing the same postings, blocks and term
statistics, the FoldingTokenizer the same tokens, PaperText and WordsField the same terms."""

from __future__ import annotations

import functools
import random

import pytest
import whoosh.index
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import FieldType
from whoosh.filedb.filestore import FileStorage
from whoosh.support.charset import accent_map

import jupyter_papers as jp
from jupyter_papers import index as index_module
from jupyter_papers.backends.whoosh import arrays, writers
from jupyter_papers.backends.whoosh.analysis import (HYPHENS, TOKEN_PATTERN, FoldingTokenizer, PaperText, WordsField,
                                                    make_schema)
from jupyter_papers.backends.whoosh.pool import TermPool


def _postings(ix) -> dict:
    """Every posting of the index, by field and term, with the paper id for the document and
    the shortest and longest field of its block (what Whoosh bounds block scores with),
    after the term's statistics."""
    found = {}
    for leaf, _ in ix.reader().leaf_readers():
        ids = [leaf.stored_fields(d)["id"] for d in range(leaf.doc_count_all())]
        for fieldname, term in leaf.all_terms():
            info = leaf.term_info(fieldname, term)
            matcher = leaf.postings(fieldname, term)
            listed = found.setdefault((fieldname, term), [(
                info.doc_frequency(), info.weight(), info.min_length(), info.max_length(), info.max_weight(),
                ids[info.min_id()], ids[info.max_id()])])
            while matcher.is_active():
                listed.append((ids[matcher.id()], matcher.weight(), matcher.value(), matcher.block_min_length(),
                               matcher.block_max_length()))
                matcher.next()
    return found


def _random_postings(count: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    terms = [("abstract", f"w{n}".encode()) for n in range(300)] + [("title", f"t{n}".encode()) for n in range(50)]
    postings = []
    for document in range(count):
        for fieldname, term in rng.sample(terms, 20):
            postings.append((fieldname, term, document, float(rng.randint(1, 3)), bytes([rng.randint(0, 255)])))
    return postings


def test_postings_come_out_sorted_through_many_runs_and_run_merges(tmp_path):
    pool = TermPool(FileStorage(str(tmp_path)), None, limitmb=1)
    pool.limit = 20_000  # a run every hundred-odd postings
    postings = _random_postings(400, seed=3)
    for posting in postings:
        pool.add(posting)
    assert len(pool.runs) > 40
    assert list(pool.items(maxfiles=4)) == sorted(postings)  # maxfiles < runs: Whoosh's reduce_to merges some first
    assert not list(tmp_path.iterdir())  # run files removed once read


def test_a_pool_that_never_filled_gives_its_postings_sorted(tmp_path):
    pool = TermPool(FileStorage(str(tmp_path)), None)
    postings = _random_postings(50, seed=4)
    for posting in postings:
        pool.add(posting)
    assert not pool.runs and list(pool.items()) == sorted(postings)


@pytest.mark.parametrize("block", [128, 8])  # 8: many terms of many blocks, filled a block at a time
def test_an_index_written_through_the_term_pool_holds_what_whoosh_s_pool_writes(tmp_path, monkeypatch, block):
    papers = list(jp.read_papers(jp.bundled_corpus()))
    monkeypatch.setattr(index_module, "WRITER_MB", 1)  # a run file every few papers
    monkeypatch.setattr(W3Codec, "__init__", functools.partialmethod(W3Codec.__init__, blocklimit=block))
    ours = jp.open_index(tmp_path / "ours")
    ours.add(papers)
    monkeypatch.setattr(writers, "write_faster", lambda writer: None)
    whoosh_own = jp.open_index(tmp_path / "whoosh")
    whoosh_own.add(papers)
    held = _postings(whoosh.index.open_dir(str(tmp_path / "whoosh"), indexname="papers"))
    assert len(held) > 5000
    assert _postings(whoosh.index.open_dir(str(tmp_path / "ours"), indexname="papers")) == held
    assert [hit.paper.id for hit in ours.search("rotary position embedding")] == [
        hit.paper.id for hit in whoosh_own.search("rotary position embedding")]


TRICKY = ("Schrödinger's CAT-like İstanbul Straße naïve PFGM++ C# GLM-130B don't 0.01 x’y "
          "ﬁnancial Ångström ÆON résumé — αβγ-decay ǅemal 3×3 _under_score")


def _texts():
    return [TRICKY] + [paper.abstract for paper in jp.read_papers(jp.bundled_corpus())][:40]


@pytest.mark.parametrize("options", [{"mode": "query"}, {"mode": "query", "positions": True, "chars": True,
                                                        "start_pos": 5, "start_char": 9}, {"tokenize": False}])
def test_the_folding_tokenizer_gives_the_tokens_of_whoosh_s_three_step_chain(options):
    chain = RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)
    for text in _texts():
        theirs = [dict(vars(token)) for token in chain(text, **options)]
        ours = [dict(vars(token)) for token in FoldingTokenizer()(text, **options)]
        assert ours == theirs and len(ours) >= 1


@pytest.mark.parametrize("keeporiginal", [False, True])
def test_indexing_adds_each_hyphenated_word_joined_before_its_parts(keeporiginal):
    """What a query's analysis gives, and each run of words joined by one hyphen once more,
    joined, at its first part's position and spanning the run (issue 30: "pretraining"
    finds "pre-training")."""
    chain = RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)
    options = {"positions": True, "chars": True, "keeporiginal": keeporiginal}
    joined = 0
    for text in _texts():
        parts = [(t.text, t.pos, t.startchar, t.endchar) for t in chain(text, **options)]
        expected, i = [], 0
        while i < len(parts):
            end = i
            while end + 1 < len(parts) and parts[end][3] + 1 == parts[end + 1][2] and text[parts[end][3]] in HYPHENS:
                end += 1
            if end > i:
                expected.append(("".join(p[0] for p in parts[i:end + 1]), parts[i][1], parts[i][2], parts[end][3]))
                joined += 1
            expected.extend(parts[i:end + 1])
            i = end + 1
        ours = [(t.text, t.pos, t.startchar, t.endchar) for t in FoldingTokenizer()(text, **options)]
        assert ours == expected
    assert joined > 20
    assert ("glm130b", 8, 55, 63) in [(t.text, t.pos, t.startchar, t.endchar)
                                        for t in FoldingTokenizer()(TRICKY, positions=True, chars=True)]


def test_fields_index_the_terms_their_analyzers_give():
    """PaperText and WordsField work out a paper's terms without the analyzer's generators;
    Whoosh's own FieldType.index runs the analyzer. Same terms, frequencies, weights and
    positions (stop words renumbered as Whoosh's StopFilter does)."""
    schema = make_schema()
    fields = {name: schema[name] for name in schema.names() if isinstance(schema[name], (PaperText, WordsField))}
    assert set(fields) == {"title", "abstract", "words", "authors", "venue", "keywords"}
    papers = list(jp.read_papers(jp.bundled_corpus()))
    texts = [TRICKY, "The of a the", "", "the the cat of the hat"] + [
        text for paper in papers for text in (paper.title, paper.abstract, ", ".join(paper.authors))]
    compared = 0
    for name, field in fields.items():
        for text in texts:
            ours, theirs = list(field.index(text)), list(FieldType.index(field, text))
            assert sorted(ours) == sorted(theirs), (name, text)
            compared += len(ours)
    assert compared > 40_000
    stopped = dict((term, positions) for term, _, _, positions in fields["abstract"].index("the cat of the hat sat"))
    assert fields["abstract"].format.decode_positions(stopped[b"hat"]) == [2]  # "the" before "cat" keeps its place


def test_long_lists_written_as_arrays_hold_the_posting_file_s_postings(tmp_path, monkeypatch):
    monkeypatch.setattr(arrays, "LISTED_POSTINGS", 3)
    index = jp.open_index(tmp_path / "ix")
    index.add(list(jp.read_papers(jp.bundled_corpus())))
    reader = whoosh.index.open_dir(str(tmp_path / "ix"), indexname="papers").reader()
    listed = arrays.arrays_of(reader)
    checked = 0
    for fieldname, term in reader.all_terms():
        matcher = reader.postings(fieldname, term)
        ids, weights, positions = [], [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            positions.extend(matcher.value_as("positions") if fieldname in arrays.LISTED_FIELDS else [])
            matcher.next()
        found = listed.get(fieldname, term)
        if fieldname not in arrays.LISTED_FIELDS or len(ids) < 3:
            assert found is None
            continue
        assert found[0].tolist() == ids and found[1].tolist() == weights and found[2].tolist() == positions
        checked += 1
    assert checked > 500


QUERIES = ["rotary position embedding", "diffusion", "languag", "fine-tuning large language models",
           'title:"language model"', '"large language models"', '"reinforcement learning" agents', "attention is all you need", "reinforcement learning from human feedback"]


@pytest.mark.parametrize("with_positions", [True, False])  # False: as for a boosted field, blocks found from headers
def test_searches_read_the_same_from_the_arrays_as_from_the_posting_file(tmp_path, monkeypatch, with_positions):
    monkeypatch.setattr(arrays, "LISTED_POSTINGS", 3)
    if not with_positions:
        monkeypatch.setattr(arrays.ArrayWriter, "_positions", lambda self, weights: None)
    index = jp.open_index(tmp_path / "ix")
    index.add(list(jp.read_papers(jp.bundled_corpus())))
    with_arrays = [[(hit.paper.id, round(hit.score, 4)) for hit in index.search(q, limit=20)] for q in QUERIES]
    files = list((tmp_path / "ix").glob("*" + arrays.EXTENSION))
    assert len(files) == 1 and files[0].stat().st_size > 50_000
    files[0].unlink()  # as an index written before the arrays existed
    without = [[(hit.paper.id, round(hit.score, 4)) for hit in jp.open_index(tmp_path / "ix").search(q, limit=20)]
               for q in QUERIES]
    assert with_arrays == without and all(with_arrays)


def test_a_damaged_arrays_file_is_read_around(tmp_path, monkeypatch):
    monkeypatch.setattr(arrays, "LISTED_POSTINGS", 3)
    index = jp.open_index(tmp_path / "ix")
    index.add(list(jp.read_papers(jp.bundled_corpus())))
    expected = [hit.paper.id for hit in index.search("diffusion models")]
    file = next((tmp_path / "ix").glob("*" + arrays.EXTENSION))
    file.write_bytes(file.read_bytes()[:1000])  # cut short
    assert [hit.paper.id for hit in jp.open_index(tmp_path / "ix").search("diffusion models")] == expected


def test_a_parallel_import_numbers_the_papers_in_the_same_order_each_time(tmp_path):
    """Batches of 100 papers dealt to 2 workers in turn, the workers' segments in worker
    order: worker 0's batches 0, 2, 4 ..., then worker 1's. With Whoosh's shared queue
    the order depended on which worker was free first."""
    demo = list(jp.read_papers(jp.bundled_corpus()))
    papers = []
    for copy in range(11):  # 1529 papers: 16 batches
        for paper in demo:
            twin = jp.Paper.from_dict(paper.to_dict())
            twin.id, twin.key = f"{paper.id}-{copy}", f"{paper.key}{copy}"
            twin.arxiv_id = twin.doi = ""  # else the same paper, merged (as tests/test_backends.py checks)
            papers.append(twin)
    batches = [[paper.id for paper in papers[start:start + 100]] for start in range(0, len(papers), 100)]
    expected = [paper_id for batch in batches[0::2] + batches[1::2] for paper_id in batch]
    for attempt in ("first", "second"):
        index = jp.open_index(tmp_path / attempt)
        index.add(papers, procs=2)
        with index._reading() as searcher:
            numbered = [searcher.stored_fields(docnum)["id"] for docnum in range(searcher.doc_count_all())]
            segments = len(searcher.reader().leaf_readers())
        assert segments == 2 and numbered == expected, attempt
