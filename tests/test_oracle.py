"""Real exports of ten tools (tests/data/exports) against two independent oracles, and the
round trip of each entry through our .bib writer (benchmarks/oracle.py holds the harness;
run it for the whole table and the differences)."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import pytest

import jupyter_papers as jp
from jupyter_papers.citations.bibfile import bibtex_entry
from jupyter_papers.citations.csl import to_csl

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
import oracle  # noqa: E402

EXPORTS = Path(__file__).parent / "data" / "exports"
# The issue's goal: at most 1% of the entries where both oracles agree, in every style
# (measured 2026-12-07: 0 in six styles, 1 of 248 in Chicago).
MOST_AGAINST_US = 0.01


def test_the_corpus_is_real_exports_of_ten_tools_each_entry_traced_to_its_repository():
    with open(EXPORTS / "SOURCES.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) >= 200 and len({r["exporter"] for r in rows}) >= 10
    assert all(re.fullmatch(r"[0-9a-f]{40}", r["commit"]) and r["repository"].count("/") == 1 for r in rows)
    for path in EXPORTS.glob("*.bib"):
        keys = re.findall(r"^@\w+\s*[{(]\s*([^,\s]*)", path.read_text(encoding="utf-8"), re.M)
        assert sorted(keys) == sorted(r["key"] for r in rows if r["file"] == path.name), path.name


@pytest.fixture(scope="module")
def agreement():
    assert oracle.installed(), "run `npm ci --prefix benchmarks/oracle` (.ci/run does)"
    return oracle.agreement(oracle.corpus())


def test_where_both_oracles_agree_we_rarely_differ_from_them(agreement, capsys):
    with capsys.disabled():
        print("\nstyle      entries  oracles agree  we differ  quirks of both oracles")
        for row in agreement.values():
            print(f"{row.style:10} {row.entries:7} {row.oracles_agree:14} {len(row.against_us):10}  {row.quirks}")
    for style, row in agreement.items():
        assert row.entries >= 230, style  # citation-js cannot parse a few entries: no second oracle for those
        assert row.share_against_us <= MOST_AGAINST_US, (style, row.against_us[:5])


@pytest.mark.parametrize("dialect,floor", [("bibtex", 0.94), ("biblatex", 0.99)])
def test_every_entry_reads_back_as_written_and_other_tools_read_our_file(dialect, floor):
    """Written by write_bibliography and read back, each entry gives the same record (what
    BibTeX cannot hold, @software or @online, only biblatex keeps)."""
    trip = oracle.round_trip(oracle.corpus(), dialect)
    assert trip.entries >= 250
    assert trip.share_same >= floor, trip.differing[:10]
    assert trip.errors == {"bibtexparser": [], "biber": [], "pandoc": []}


def test_biblatex_keeps_the_types_and_dates_bibtex_cannot():
    software = _read("@software{s, author={Casey, Andrew R.}, title={sick}, date={2017-06-02}, "
                     "organization={ACL}, url={https://ascl.net/1706.009}}")
    online = _read("@online{o, author={Nagy, P.}, title={Historians}, date={2008-10-24}, url={http://e.org/147}, "
                   "urldate={2017-12-12}, organization={Carnet EMMA}}")
    article = _read("@article{a, author={A, B}, title={T}, journal={J}, year={2020}, month={5}, address={Paris and Lyon}}")
    for paper, kind in ((software, "software"), (online, "online"), (article, "article")):
        entry = bibtex_entry(paper, dialect="biblatex")
        assert entry.startswith(f"@{kind}{{") and "year =" not in entry, entry
        back = _read(entry)
        assert (back.type, back.csl.get("issued"), back.venue) == (paper.type, paper.csl.get("issued"), paper.venue)
    assert "journaltitle = {J}" in bibtex_entry(article, dialect="biblatex")
    assert "location = {Paris and Lyon}" in bibtex_entry(article, dialect="biblatex")
    assert bibtex_entry(software).startswith("@misc{"), "BibTeX's styles know no @software"
    with pytest.raises(ValueError, match="dialect must be one of"):
        bibtex_entry(article, dialect="ris")


def test_a_publisher_whose_name_holds_and_is_one_publisher():
    """ADS's howpublished ("Swiss Society for Astrophysics and Astronomy") and a braced
    {{Organisation for Economic Co-operation and Development}} were split into two."""
    ads = _read("@misc{m, author={D, M}, title={M}, howpublished={Swiss Society for Astrophysics and Astronomy}, "
                "year=2018}")
    oecd = _read("@book{b, author={OECD}, title={M}, publisher={{Organisation for Economic Co-operation and "
                 "Development}}, year=2014}")
    two = _read("@book{c, author={A, B}, title={M}, publisher={Springer and Wiley}, year=2014}")
    assert ads.csl["publisher"] == "Swiss Society for Astrophysics and Astronomy"
    assert oecd.csl["publisher"] == "Organisation for Economic Co-operation and Development"
    assert two.csl["publisher"] == "Springer; Wiley"
    for paper in (ads, oecd, two):
        assert _read(bibtex_entry(paper, dialect="biblatex")).csl["publisher"] == paper.csl["publisher"]


def test_what_vancouver_and_the_title_need_is_read():
    """Mendeley's pmid (NLM styles print "PubMed PMID"), its several URLs in one field, a
    tilde before a braced word (Part~{{II}} lost its space) and a space before braced math."""
    paper = _read("@article{a, author={A, B}, title={Introduction to Part~{{II}}: of {$\\mu$} Her}, year=2009, "
                  "pmid={19795407}, url={http://a.org/1 http://b.org/2}, abstract={Greek: {$\\acute{\\epsilon}$}, "
                  "romanized}}")
    assert paper.csl["PMID"] == "19795407" and paper.url == "http://a.org/1"
    assert "part <span" in paper.csl["title"] and "of $\\mu$ Her" in paper.title
    assert paper.abstract == "Greek: $\\acute{\\epsilon}$, romanized"


def test_an_entry_without_a_title_is_indexed_cited_and_shown_as_untitled(empty_index):
    """pandoc and BibTeX cite a @misc with only an author or a note; it was skipped."""
    reading = jp.read_papers("@misc{untitled2020, author={Doe, Jane}, year={2020}}\n"
                             "@misc{noted, note={Volume 2 is listed under Knuth}}\n@misc{nothing, pages={1--2}}",
                             format="bibtex")
    papers = list(reading)
    assert [p.key for p in papers] == ["untitled2020", "noted"]
    assert [p.message for p in reading.problems] == [
        "entry 'nothing' has nothing to cite (no title, author, editor, venue, identifier, URL or note); skipped"]
    empty_index.add(papers)
    results = empty_index.search("doe")
    assert results[0].paper.key == "untitled2020" and "<b>untitled</b>" in results._repr_html_()
    assert jp.cite(empty_index.get("untitled2020"), style="apa").startswith("Doe, J. (2020)")
    assert "@misc{noted,\n  note = {Volume 2 is listed under Knuth}" in bibtex_entry(empty_index.get("noted"))


def test_zotero_csl_json_types_and_keys():
    """Better BibTeX's "video" is CSL's motion_picture; an id that is Zotero's item (its URI,
    or the web API's library/item pair) is no citation key: one is made."""
    items = [{"id": "marreEdge1992", "citation-key": "marreEdge1992", "type": "video", "title": "On the edge",
              "director": [{"family": "Marre", "given": "Jeremy"}], "issued": {"date-parts": [["1992"]]}},
             {"id": "12047273/KC6WFG78", "type": "webpage", "title": "Zotero Web API Documentation",
              "abstract": "dev:web api:v3:basics", "issued": {"date-parts": [["2021", 11, 5]]}},
             {"id": "http://zotero.org/users/local/abCD12/items/ABCD1234", "type": "book", "title": "X",
              "author": [{"family": "Doe", "given": "J"}], "issued": {"date-parts": [[2020]]}}]
    video, page, book = jp.read_papers(json.dumps(items), format="csljson")
    assert video.type == "motion_picture" and video.key == "marreEdge1992"
    assert page.key == "" and page.abstract == "dev:web api:v3:basics" and book.key == ""
    assert bibtex_entry(book).startswith("@book{doe2020x,")


# Defects the corpus showed, each failing before its fix.

def _read(text: str):
    return list(jp.read_papers(text, format="bibtex"))[0]


def test_an_accent_on_a_braced_letter_is_a_letter_not_a_protected_word():
    """MathSciNet writes {S}chr\\"{o}dinger: the title became "Schr ̈odinger"."""
    paper = _read('@article{a, author={B, Z}, title={Lattice {S}chr\\"{o}dinger operators}, year=2004}')
    assert paper.csl["title"] == 'Lattice <span class="nocase">S</span>chrödinger operators'


def test_a_title_the_source_kept_whole_is_written_kept_whole():
    """Mendeley's {{...}} and NASA ADS's "{...}": every word as written, in every style."""
    paper = _read("@article{a, author={B, Z}, title={{How depolymerization can promote polymerization}}, year=2009}")
    assert "title = {{How depolymerization can promote polymerization}}" in bibtex_entry(paper)
    assert _read(bibtex_entry(paper)).csl["title"] == paper.csl["title"]


def test_a_lower_case_word_the_source_protected_is_braced_there_only():
    """Better BibTeX's {{$\\Delta$1,4-diol and ...}}: "and" protected there, not in
    "Synthesis and Proof" (it was braced everywhere, or nowhere, and "diol" title-cased)."""
    paper = _read("@article{h, author={H, J}, title={Synthesis and Proof of {{$\\Delta$1,4-diol and "
                  "$\\Delta$1,4-trione}}}, year=1955}")
    assert "title = {Synthesis and Proof of $\\Delta$1,4-{diol} {and} $\\Delta$1,4-{trione}}" in bibtex_entry(paper)


def test_inline_math_in_parentheses_is_math():
    """JabRef's 5\\({}^{\\mbox{th}}\\): written back as escaped text, read as "5\\({}ˆ{..."."""
    paper = _read("@proceedings{k, editor={K, O}, title={Proceedings of the 5\\({}^{\\mbox{th}}\\) Workshop}, "
                  "year=2013}")
    assert paper.title == "Proceedings of the 5${}^{\\mbox{th}}$ Workshop"
    assert _read(bibtex_entry(paper, dialect="biblatex")).title == paper.title


def test_only_the_part_of_a_hyphenated_word_with_inner_capitals_is_braced():
    paper = _read("@article{a, author={B, Z}, title={OLTP-Bench: An Extensible Testbed}, year=2013}")
    assert "{OLTP}-Bench" in bibtex_entry(paper)


def test_no_url_is_made_of_an_arxiv_id():
    """Google Scholar's journal = {arXiv preprint arXiv:1909.06516} and an eprint field
    name the preprint; pandoc and citation-js print no URL for it, and neither do we."""
    paper = _read("@article{a, author={Gheini, M.}, title={A universal parent model}, "
                  "journal={arXiv preprint arXiv:1909.06516}, year={2019}}")
    assert paper.arxiv_id == "1909.06516" and not paper.url and "URL" not in to_csl(paper)
