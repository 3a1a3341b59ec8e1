"""Bad input gets a clear message and nothing is lost: one bad record never aborts an
import, no input is slow beyond its size, no query raises, and no field or key can break
out of the format it lands in. Fuzzed with hypothesis (fixed seed, bounded examples)."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import time

import bibtexparser
import pytest
from hypothesis import HealthCheck, given, seed, settings, strategies as st

import jupyter_papers as jp

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
GOOD = "\n".join(json.dumps({"id": f"ok-{n}", "title": f"Good paper {n}"}) for n in range(50))


@pytest.mark.parametrize("bad", [
    '{"title": "t", "authors": 5}', '{"title": "t", "extra": ["x"]}', '{"title": "t", "extra": "x"}',
    '{"title": "t", "extra": 5}', '{"title": "t", "keywords": 5}', '{"title": "t", "type": ["book"]}',
    '{"title": "t", "type": {}, "issued": 5}', '{"id": "1", "title": "t", "authors_parsed": [5]}',
    '{"id": "2", "title": "t", "versions": "v1"}', '{"id": "3", "title": "t", "versions": 5}',
    '{"id": "4", "title": "t", "versions": ["v1"]}', "[" * 100_000 + "]" * 100_000,
    '{"title": {"nested": "object"}, "abstract": 7}', '{"title": "t", "year": "soon", "doi": ["x"]}',
])
def test_one_bad_jsonl_record_never_aborts_the_import(empty_index, bad):
    reading = jp.read_papers(GOOD + "\n" + bad + "\n", format="jsonl")
    report = empty_index.add(reading)
    assert report.added >= 50 and len(empty_index) >= 50, "the good records are all indexed"


def test_bad_records_are_reported_with_their_line(empty_index):
    reading = jp.read_papers(GOOD + "\n" + "[" * 100_000 + "]" * 100_000 + "\n{not json\n", format="jsonl")
    report = empty_index.add(reading)
    assert report.added == 50
    assert [(p.line, "deeply" in p.message or "valid JSON" in p.message) for p in report.skipped] == [
        (51, True), (52, True)]


def test_csl_json_nested_too_deep_is_a_problem_not_a_crash():
    reading = jp.read_papers("[" * 100_000 + "]" * 100_000, format="csljson")
    assert list(reading) == [] and "too deeply" in reading.problems[0].message


def test_bibtex_bombs_are_read_quickly(empty_index):
    deep_title = "@article{deep, title = {" + "{" * 100_000 + "x" + "}" * 100_000 + "}, year = 2000}\n"
    deep_author = "@article{names, author = {" + "{" * 1000 + "x" + "}" * 1000 + "}, title = {T}}\n"
    fan_out = '@string{a0 = "xxxxxxxxxx"}\n' + "".join(
        f"@string{{a{i} = a{i - 1} # a{i - 1} # a{i - 1} # a{i - 1}}}\n" for i in range(1, 14))
    fan_out += "@article{bomb, title = a13, year = 2000}\n"
    same_key = "".join(f"@article{{same, title = {{Paper {n}}}, year = 2000}}\n" for n in range(2000))
    started = time.monotonic()
    for text in (deep_title, deep_author, fan_out, same_key, "@article{ok, title = {Fine}}\n"):
        empty_index.add(jp.read_papers(text, format="bibtex"))
    assert time.monotonic() - started < 60, "minutes before (62 s for the macro fan-out alone)"
    assert len(empty_index) == 2004
    assert len(empty_index.get("bomb").title) == 100_000, "a value is cut at a stated limit"
    assert len({p.key for p in empty_index}) == 2004


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                          ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE)])
def test_utf16_and_utf32_files_with_a_bom(tmp_path, encoding, bom):
    bib = tmp_path / "refs.bib"
    bib.write_bytes(bom + "@article{k, title={Über Zürich}, year=2000}\n".encode(encoding))
    assert [p.title for p in jp.read_papers(bib)] == ["Über Zürich"]
    lines = tmp_path / "papers.jsonl"
    lines.write_bytes(bom + '{"id": "a", "title": "Ünö"}\n{"id": "b", "title": "Two"}\n'.encode(encoding))
    assert [p.title for p in jp.read_papers(lines)] == ["Ünö", "Two"]
    sniffed = tmp_path / "papers.txt"
    sniffed.write_bytes(lines.read_bytes())
    assert len(list(jp.read_papers(sniffed))) == 2, "the format is told from UTF-16/32 content too"


def test_the_cli_reports_a_bad_file_in_one_line(tmp_path, papers_home):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(GOOD + '\n{"title": "t", "authors": 5}\n' + "[" * 100_000 + "]" * 100_000 + "\n")
    done = subprocess.run([sys.executable, "-m", "jupyter_papers.cli", "--index", str(tmp_path / "ix"), "add",
                           str(bad)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr + done.stdout
    assert "added 51" in done.stdout and "bad.jsonl:52" in done.stdout


# --- queries ---------------------------------------------------------------------------------
@pytest.mark.parametrize("query,options", [
    ("learning " * 1000, {}), ("", {"year_from": 99999}), ("", {"year_from": -5}), ("", {"year_to": -5}),
    ("rope", {"year_from": 2025, "year_to": 2020}), ("year:99999", {}), ("year:0..70000 rope", {}),
])
def test_odd_queries_are_answered(demo_index, query, options):
    results = demo_index.search(query, **options)
    assert results.total >= 0 and isinstance(results.hits, list)


def test_a_reversed_year_range_is_read_the_right_way_round(demo_index):
    assert demo_index.search("", year_from=2024, year_to=2023).total == demo_index.search(
        "", year_from=2023, year_to=2024).total > 0


@seed(1405)
@FUZZ
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80))
def test_no_query_raises(demo_index, text):
    results = demo_index.search(text)
    assert results.total >= 0


@seed(1406)
@FUZZ
@given(st.text(max_size=400))
def test_no_bibtex_text_raises(text):
    reading = jp.read_papers("@article{x, title={" + text + "}}\n" + text, format="bibtex")
    for paper in reading:
        assert isinstance(paper.title, str)


@seed(1407)
@FUZZ
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(
                        st.sampled_from(["id", "title", "authors", "author", "year", "issued", "doi", "type", "extra",
                                         "keywords", "editor", "container-title", "versions", "authors_parsed"]),
                        children, max_size=6), max_leaves=20))
def test_no_json_record_raises(value):
    record = value if isinstance(value, dict) else {"title": "t", "authors": value}
    for paper in jp.read_papers(json.dumps(record) + "\n", format="jsonl"):
        assert isinstance(paper.title, str) and all(isinstance(a, str) for a in paper.authors)
    list(jp.read_papers(json.dumps([record]), format="csljson"))


# --- injection ------------------------------------------------------------------------------
HOSTILE_KEY = "x](javascript:alert(1))<img src=x onerror=alert(1)>"


def test_keys_cannot_carry_markup():
    paper = jp.Paper(title="T", key=HOSTILE_KEY)
    for style in ("pandoc", "myst", "latex"):
        inline = jp.cite(paper, style)
        assert "(" not in inline.replace("\\citep{", "") and "<" not in inline and "]" not in inline[:-1].replace(
            "[@", "")
    assert jp.cite(jp.Paper(title="T", key="k}, title={pwned"), "pandoc") == "[@ktitlepwned]"


def test_no_field_can_break_out_of_a_bibtex_entry(tmp_path):
    paper = jp.Paper(title="T}, title={pwned", key="k}, title={pwned", doi="10.1000/x},title={pwned",
                     url="http://x.org/}{", extra={"primaryclass": "cs.LG}\n@misc{evil,"}, arxiv_id="2401.00001",
                     venue="V}, note={pwned")
    entry = jp.bibtex_entry(paper)
    library = bibtexparser.parse_string(entry)
    assert len(library.entries) == 1 and not library.failed_blocks
    fields = library.entries[0].fields_dict
    assert set(fields) <= {"title", "howpublished", "journal", "eprint", "archiveprefix", "primaryclass", "url",
                           "doi", "year", "author"} and "note" not in fields
    markdown = jp.cite(jp.Paper(title="```\n<script>x</script>\n```", extra={"code": "```"}), "bibtex", "markdown")
    fence = markdown.split("\n", 1)[0]
    assert fence.startswith("````") and markdown.rstrip().endswith(fence[:-len("bibtex")])


@pytest.mark.parametrize("query", ["*e*", "?????", "abstract:[a TO z]", "a*", "title:[a TO b] x"])
def test_wildcards_and_ranges_stand_for_a_bounded_number_of_words(demo_index, query):
    from collections import Counter

    from jupyter_papers.backends.whoosh.query import MAX_EXPANSION, QueryBuilder

    with demo_index._reading() as searcher:
        plan = QueryBuilder(searcher, searcher.schema, demo_index._parser, {}).build(query, prefix=False)
    per_field = Counter(leaf.fieldname for leaf in plan.parsed.leaves())
    assert per_field and max(per_field.values()) <= MAX_EXPANSION + 1, per_field
    assert demo_index.search(query).total > 0


def test_a_pattern_matching_everything_lists_every_paper(demo_index):
    assert demo_index.search("*").total == demo_index.search("**").total == len(demo_index)


def test_a_bib_file_past_the_stated_limit_is_refused_with_a_reason(monkeypatch):
    from jupyter_papers.sources import bibtex

    monkeypatch.setattr(bibtex, "MAX_FILE", 1000)
    reading = jp.read_papers("".join(f"@misc{{k{n}, title={{Paper {n}}}}}\n" for n in range(100)), format="bibtex")
    assert list(reading) == [] and "split the file" in reading.problems[0].message


BAD_SHAPES = [
    {"id": "shape1", "type": "article-journal", "title": "Date parts of a bare number", "issued": {"date-parts": [5]}},
    {"id": "shape2", "type": "article-journal", "title": "Issued as a list", "issued": [1]},
    {"id": "shape3", "type": "thesis", "title": "Genre as a list", "genre": ["x"], "issued": {"date-parts": [[2020]]}},
    {"id": "shape4", "type": "book", "title": "Publisher as an object", "publisher": {"name": "x"},
     "translator": "not a list", "accessed": {"date-parts": [["2020", "x"]]}},
]


def test_records_of_the_wrong_csl_shape_are_repaired_or_reported_and_never_break_citing(empty_index, tmp_path,
                                                                                        demo_index):
    records = tmp_path / "shapes.json"
    records.write_text(json.dumps(BAD_SHAPES))
    read = jp.read_papers(records)
    papers = list(read)
    problems = "\n".join(str(p) for p in read.problems)
    assert len(papers) == 4, "every record is kept"
    assert "genre: list is not a CSL text or number" in problems and "publisher: dict" in problems
    assert "translator: str is not a CSL name list" in problems
    by_id = {paper.id: paper for paper in papers}
    assert by_id["shape1"].year == 5 and by_id["shape1"].csl["issued"] == {"date-parts": [[5]]}
    assert by_id["shape2"].year is None and "issued" not in by_id["shape2"].csl
    empty_index.add(papers)
    good = demo_index.get("2403.00071")
    for paper in [empty_index.get(i) for i in by_id]:
        assert jp.cite(paper, style="bibtex").startswith("@")
        assert paper.title in jp.cite(paper, style="apa").replace("*", "")
    report = jp.write_bibliography([empty_index.get(i) for i in by_id] + [good], tmp_path / "refs.bib")
    assert len(report.added) == 5
    cells = [{"cell_type": "markdown", "source": "[@wang2024resonance] and " + " ".join(
        f"[@{empty_index.get(i).key}]" for i in by_id)}]
    lookup = lambda key: demo_index.get(key) or empty_index.get(key)  # noqa: E731
    listed = jp.citations.references.reference_list(cells, lookup, "apa")
    assert listed.listed == 5 and "Resonance RoPE" in listed.markdown and "Genre as a list" in listed.markdown


def test_a_stored_record_of_the_wrong_shape_still_cites(tmp_path):
    """An index made before records were checked can hold such values: citing them must work."""
    paper = jp.Paper(id="old", key="old2020", title="Stored before the check", type="thesis",
                     csl={"issued": [1], "genre": ["x"], "page": {"a": 1}})
    assert "@phdthesis{old2020," in jp.cite(paper, style="bibtex")
    assert "Stored before the check" in jp.cite(paper, style="apa").replace("*", "")
    jp.write_bibliography([paper], tmp_path / "refs.bib")
    assert "old2020" in (tmp_path / "refs.bib").read_text()


@pytest.mark.parametrize("content, words", [
    (b"not json at all", "not JSON"),
    (b"[1, 2]", "a JSON object with a list of cells"),
    (b'{"cells": {"a": 1}}', "cells are not a list"),
    (b'{"cells": [{"cell_type": "markdown", "source": 7}]}', "cell 1 is not a cell with text"),
    ("{\"cells\": [{\"source\": \"caf\u00e9\"}]}".encode("latin-1"), "not UTF-8"),
    (b"[" * 100000 + b"]" * 100000, ""),
    (b'{"cells": [{"cell_type": "markdown", "source": "\\ud800 [@x]"}], "metadata": {}}', None),
])
def test_the_cli_says_what_is_wrong_with_a_notebook_in_one_line(tmp_path, papers_home, content, words):
    notebook = tmp_path / "broken.ipynb"
    notebook.write_bytes(content)
    done = subprocess.run([sys.executable, "-m", "jupyter_papers.cli", "bibliography", str(notebook)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "JUPYTER_PAPERS_HOME": str(papers_home)})
    assert "Traceback" not in done.stderr, done.stderr
    if words is None:  # a lone surrogate is text the notebook holds: kept, escaped as it was
        assert done.returncode == 0, done.stderr
        assert "\\ud800" in notebook.read_text() and "## References" in notebook.read_text()
    else:
        assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert words in done.stderr and "broken.ipynb" in done.stderr


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                           lambda children: st.lists(children, max_size=4) | st.dictionaries(
                               st.sampled_from(["date-parts", "raw", "literal", "family", "given", "season", "x"]),
                               children, max_size=4), max_leaves=16)


@seed(3110)
@FUZZ
@given(st.dictionaries(st.sampled_from(["issued", "accessed", "genre", "page", "volume", "publisher", "author",
                                        "translator", "container-title", "number", "edition", "note", "custom"]),
                       JSON_VALUES, max_size=6))
def test_every_csl_shape_reads_and_cites(variables):
    """Issue 31: CSL-JSON items of any shape are read, and whatever is read cites in every form."""
    item = {"id": "fuzzed", "type": "article-journal", "title": "A fuzzed record", **variables}
    for paper in jp.read_papers(json.dumps([item]), format="csljson"):
        assert jp.cite(paper, style="bibtex").startswith("@article{")
        assert "fuzzed record" in jp.cite(paper, style="apa")
        assert "fuzzed record" in jp.cite(jp.Paper(id="raw", title="A fuzzed record", csl=variables), style="ieee")


@seed(3111)
@FUZZ
@given(st.text(alphabet="`~[]@{}\\ \n:;,-cite{}pxa", max_size=300))
def test_markdown_of_citation_syntax_never_breaks_the_parser(text):
    for citation in jp.find_citations(text):
        assert citation.keys and all(isinstance(key, str) and key for key in citation.keys)


@seed(3112)
@FUZZ
@given(st.lists(st.one_of(JSON_VALUES, st.fixed_dictionaries({"cell_type": st.just("markdown"), "source": JSON_VALUES,
                                                              "metadata": JSON_VALUES})), max_size=4))
def test_a_notebook_of_any_shape_is_read_or_refused_in_one_sentence(tmp_path_factory, cells):
    from jupyter_papers.citations.references import NotebookError

    notebook = tmp_path_factory.mktemp("fuzzed") / "fuzzed.ipynb"
    notebook.write_text(json.dumps({"cells": cells, "metadata": {}}))
    try:
        jp.bibliography(notebook, "apa", index=jp.PaperIndex(tmp_path_factory.mktemp("index")))
    except NotebookError as error:
        assert "fuzzed.ipynb: not a notebook" in str(error) and "\n" not in str(error)
    else:
        assert "## References" in notebook.read_text()
