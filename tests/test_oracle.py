"""Real exports of ten tools (tests/data/exports) against two independent oracles, and the
round trip of each entry through our .bib writer (benchmarks/oracle.py holds the harness;
run it for the whole table and the differences)."""

from __future__ import annotations

import csv
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
# Measured when the harness was written (2026-12-07); lower them as the reader improves.
MOST_AGAINST_US = {"apa": 0.02, "ieee": 0.025, "chicago": 0.04, "harvard": 0.025, "mla": 0.03, "nature": 0.015,
                   "vancouver": 0.10}


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
        assert row.share_against_us <= MOST_AGAINST_US[style], (style, row.against_us[:5])


def test_every_entry_reads_back_as_written_and_other_tools_read_our_file():
    trip = oracle.round_trip(oracle.corpus())
    assert trip.entries >= 250
    assert trip.share_same >= 0.82, trip.differing[:10]
    assert trip.errors == {"bibtexparser": [], "biber": [], "pandoc": []}


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


def test_only_the_part_of_a_hyphenated_word_with_inner_capitals_is_braced():
    paper = _read("@article{a, author={B, Z}, title={OLTP-Bench: An Extensible Testbed}, year=2013}")
    assert "{OLTP}-Bench" in bibtex_entry(paper)


def test_no_url_is_made_of_an_arxiv_id():
    """Google Scholar's journal = {arXiv preprint arXiv:1909.06516} and an eprint field
    name the preprint; pandoc and citation-js print no URL for it, and neither do we."""
    paper = _read("@article{a, author={Gheini, M.}, title={A universal parent model}, "
                  "journal={arXiv preprint arXiv:1909.06516}, year={2019}}")
    assert paper.arxiv_id == "1909.06516" and not paper.url and "URL" not in to_csl(paper)
