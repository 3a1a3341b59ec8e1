"""Any paper by its identifier, and the scholarly web when the index has too little: the
client against real recorded responses of doi.org, Crossref, arXiv and NCBI replayed on
localhost (tests/recorded_web.py), failures made from them."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

import jupyter_papers as jp
from jupyter_papers.lookups import OnlineError, OnlineSettings, look_up, online_results
from jupyter_papers.sources.identifiers import Identifier, recognise

from .recorded_web import WATER, plain_body


@pytest.mark.parametrize("text, expected", [
    ("10.1145/3519935.3520001", ("doi", "10.1145/3519935.3520001")),
    ("https://doi.org/10.1126/science.169.3946.635", ("doi", WATER)),
    ("http://dx.doi.org/10.1371/journal.pone.0033693", ("doi", "10.1371/journal.pone.0033693")),
    ("doi:10.1371/journal.pone.0033693", ("doi", "10.1371/journal.pone.0033693")),
    ("https://dl.acm.org/doi/pdf/10.1145/3519935.3520001", ("doi", "10.1145/3519935.3520001")),
    ("https://link.springer.com/content/pdf/10.1007/s11263-015-0816-y.pdf", ("doi", "10.1007/s11263-015-0816-y")),
    ("https://onlinelibrary.wiley.com/doi/full/10.1002/anie.201915678", ("doi", "10.1002/anie.201915678")),
    ("https://journals.plos.org/plosone/article?id=10.1371/journal.pone.0033693",
     ("doi", "10.1371/journal.pone.0033693")),
    ("https://www.science.org/doi/10.1126/science.169.3946.635", ("doi", WATER)),
    ("arXiv:2403.00071", ("arxiv", "2403.00071")),
    ("2403.00071v2", ("arxiv", "2403.00071")),
    ("https://arxiv.org/abs/1605.08386v1", ("arxiv", "1605.08386")),
    ("https://arxiv.org/pdf/hep-th/9901001v2", ("arxiv", "hep-th/9901001")),
    ("astro-ph/0601001", ("arxiv", "astro-ph/0601001")),
    ("pmid:27797938", ("pmid", "27797938")),
    ("PMID: 27797938", ("pmid", "27797938")),
    ("https://pubmed.ncbi.nlm.nih.gov/27797938/", ("pmid", "27797938")),
    ("isbn:978-0-262-03384-8", ("isbn", "9780262033848")),
    ("ISBN 0-262-03384-4", ("isbn", "0262033844")),
    ("9780262033848", ("isbn", "9780262033848")),
])
def test_identifiers_are_recognised_in_the_forms_people_paste(text, expected):
    assert recognise(text) == Identifier(*expected)


@pytest.mark.parametrize("text", ["978-0-262-03384-9", "0262033844", "rotary position embedding",
                                  "see 10.1145/3519935.3520001 for details", "pmid", "3.14159", ""])
def test_what_is_not_an_identifier_is_searched_as_words(text):
    assert recognise(text) is None


# --- looking up -------------------------------------------------------------------------
def test_a_doi_is_looked_up_through_doi_org_s_redirect_as_csl_json_and_fetched_once(recorded_web):
    settings = OnlineSettings.from_environment(email="ann@example.org")
    paper = look_up(f"https://doi.org/{WATER}", settings)
    assert paper.title == "The Structure of Ordinary Water" and paper.doi == WATER
    assert [str(a) for a in paper.authors] == ["Henry S. Frank"] and paper.year == 1970
    assert paper.venue == "Science" and paper.type == "article-journal" and paper.csl["page"] == "635-641"
    assert paper.abstract.startswith("The train of thought pursued in this article") and "<jats" not in paper.abstract
    first = recorded_web.asked("doi")[0]
    assert first.headers["Accept"] == "application/vnd.citationstyles.csl+json"
    assert first.headers["User-Agent"].startswith("jupyter-papers/") and "mailto:ann@example.org" in first.headers[
        "User-Agent"]
    assert len(recorded_web.asked("crossref")) == 1  # the redirect was followed
    asked = len(recorded_web.requests)
    assert look_up(WATER, settings).title == paper.title
    assert len(recorded_web.requests) == asked  # the second time from the on-disk cache


def test_arxiv_ids_new_and_old_are_looked_up_in_arxiv_s_api(recorded_web):
    walks = look_up("https://arxiv.org/abs/1605.08386v1")
    assert walks.title == "Heat-bath random walks with Markov bases" and walks.arxiv_id == "1605.08386"
    assert [str(a) for a in walks.authors] == ["Caprice Stanley", "Tobias Windisch"] and walks.year == 2016
    assert recorded_web.asked("arxiv")[0].args["id_list"] == "1605.08386"
    old = look_up("astro-ph/0601001")
    assert old.arxiv_id == "astro-ph/0601001" and old.title
    with pytest.raises(OnlineError, match=r"arXiv has no paper arXiv:0000\.0000"):
        look_up("arXiv:0000.0000")


def test_a_pubmed_id_is_looked_up_in_ncbi_s_e_utilities(recorded_web):
    paper = look_up("https://pubmed.ncbi.nlm.nih.gov/27797938/", OnlineSettings.from_environment(email="a@b.org"))
    assert paper.title == ("Leucocyte telomere length, genetic variants at the TERT gene region and risk of "
                           "pancreatic cancer")
    assert paper.doi == "10.1136/gutjnl-2016-312510" and paper.venue == "Gut" and paper.year == 2017
    assert paper.csl["volume"] == "66" and paper.csl["page"] == "1116-1122" and paper.extra["pmid"] == "27797938"
    assert paper.abstract.startswith("Objective: Telomere shortening") and [a.family for a in paper.authors][:2] == [
        "Bao", "Prescott"]
    asked = recorded_web.asked("eutils")[0]
    assert asked.args["db"] == "pubmed" and asked.args["email"] == "a@b.org" and asked.args["tool"] == "jupyter-papers"


def test_a_looked_up_paper_joins_the_index_as_its_own_source_is_cited_and_lands_in_the_bib(recorded_web,
                                                                                          empty_index, tmp_path):
    paper = empty_index.add_identifier(f"doi:{WATER}")
    assert paper.key == "frank1970structure" and empty_index.get(WATER).key == "frank1970structure"
    assert [(s.name, len(s.papers)) for s in empty_index.sources.list()] == [("looked-up", 1)]
    assert empty_index.add_identifier(WATER).id == paper.id  # the index's, not asked again
    assert len(recorded_web.asked("doi")) == 1
    pubmed = empty_index.add_identifier("pmid:27797938")
    assert empty_index.get("pmid:27797938").id == pubmed.id
    assert [(s.name, len(s.papers)) for s in empty_index.sources.list()] == [("looked-up", 2)]
    assert ("Frank, H. S. (1970). The Structure of Ordinary Water. Science, 169(3946), 635–641. "
            "https://doi.org/10.1126/science.169.3946.635") in jp.cite(paper, "apa")
    bib = tmp_path / "references.bib"
    jp.write_bibliography([paper], bib)
    entry = list(jp.read_papers(bib))[0]
    assert entry.key == "frank1970structure" and entry.doi == WATER and entry.title == paper.title
    with pytest.raises(OnlineError, match="knows no doi:10.1126/foo"):
        empty_index.add_identifier("10.1126/foo")
    assert len(empty_index) == 2


def test_searching_an_identifier_the_index_lacks_shows_nothing_local_and_the_online_paper(recorded_web,
                                                                                         demo_index):
    assert demo_index.search(f"https://doi.org/{WATER}").hits == []
    found = online_results(demo_index, f"https://doi.org/{WATER}", [], 10)
    assert [p.title for p in found] == ["The Structure of Ordinary Water"]
    assert online_results(demo_index, "2403.00071", [], 10) == []  # the index holds it: nothing sent
    assert not recorded_web.asked("arxiv")


def test_online_search_asks_crossref_and_arxiv_only_when_allowed_and_few_papers_are_found(recorded_web, demo_index):
    assert online_results(demo_index, "chemical ecology testing", [], 10) == []  # identifiers only, the default
    off = OnlineSettings.from_environment(mode="off")
    assert online_results(demo_index, f"doi:{WATER}", [], 10, off) == []
    assert recorded_web.requests == []  # nothing left the machine
    search = OnlineSettings.from_environment(mode="search")
    found = online_results(demo_index, "chemical ecology testing", [], 10, search)
    titles = [p.title for p in found]
    assert titles[0] == "Communicating Ecology" and "Chemical Ecology" in titles and len(titles) == 10
    assert {p.doi for p in found[:2]} == {"10.1093/obo/9780199830060-0238", ""} or found[1].arxiv_id
    assert recorded_web.asked("crossref")[0].args["query.bibliographic"] == "chemical ecology testing"
    local = [demo_index.get("2403.00071")] * 10
    assert online_results(demo_index, "rotary position embedding", local, 10, search) == []


# --- failures -------------------------------------------------------------------------------
def test_a_429_is_retried_after_retry_after_and_a_lasting_one_is_said(recorded_web):
    recorded_web.fail("arxiv", status=429, retry_after="1")
    started = time.monotonic()
    assert look_up("1605.08386").arxiv_id == "1605.08386"
    assert time.monotonic() - started >= 1.0 and len(recorded_web.asked("arxiv")) == 2
    recorded_web.fail("eutils", times=5, status=429, retry_after="30")
    with pytest.raises(OnlineError, match=r"PubMed \(NCBI\) asks us to slow down \(429, retry after 30 s\)"):
        look_up("pmid:27797938")


def test_a_failing_service_is_retried_then_said_and_a_slow_one_cut_at_the_time_limit(recorded_web, tmp_path):
    recorded_web.fail("eutils", times=1, status=503)
    assert look_up("pmid:27797938").extra["pmid"] == "27797938"
    recorded_web.fail("eutils", times=5, status=500)
    with pytest.raises(OnlineError, match=r"PubMed \(NCBI\) is failing \(500 INTERNAL SERVER ERROR\)"):
        look_up("pmid:27797938", OnlineSettings.from_environment(cache=tmp_path / "another-cache"))
    recorded_web.fail("arxiv", status=200, delay=2.5, body=plain_body(recorded_web.recordings["arxiv:1605.08386"]))
    started = time.monotonic()
    with pytest.raises(OnlineError, match="arXiv did not answer for arXiv:1605.08386 within 1 s"):
        look_up("1605.08386", OnlineSettings.from_environment(time_limit=1.0))
    assert time.monotonic() - started < 2.0


def test_a_cut_or_html_answer_and_an_unreachable_service_each_say_what_happened(recorded_web, tmp_path):
    csl = plain_body(recorded_web.recordings["csl-json"])
    recorded_web.fail("crossref", status=200, body=csl[: len(csl) // 2], content_type="application/json")
    with pytest.raises(OnlineError, match=r"doi.org answered for doi:10.1126/science.169.3946.635 with something "
                                          r"that is not JSON \(application/json"):
        look_up(WATER)
    page = plain_body(recorded_web.recordings["doi-not-found"])
    recorded_web.fail("crossref", status=200, body=page, content_type="text/html;charset=utf-8")
    with pytest.raises(OnlineError, match=r"not JSON \(text/html"):
        look_up(WATER, OnlineSettings.from_environment(cache=tmp_path / "fresh-cache"))
    nowhere = OnlineSettings.from_environment(urls={"doi": "http://doi.invalid", "arxiv": "http://127.0.0.1:9"})
    with pytest.raises(OnlineError, match=r"cannot reach doi.org .*is this machine online"):
        look_up(WATER, nowhere)
    with pytest.raises(OnlineError, match=r"cannot reach arXiv"):
        look_up("1605.08386", nowhere)
    with pytest.raises(OnlineError, match="online lookups are off: doi:10.1126/science.169.3946.635 is not in"):
        look_up(WATER, OnlineSettings.from_environment(mode="off"))


# --- the command line ---------------------------------------------------------------------
def test_the_cli_adds_papers_by_identifier_and_says_what_failed(recorded_web, tmp_path):
    index = tmp_path / "index"
    run = subprocess.run([sys.executable, "-m", "jupyter_papers.cli", "--index", str(index), "add",
                          f"https://doi.org/{WATER}", "arXiv:1605.08386", "pmid:27797938", "10.1126/foo"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert f"https://doi.org/{WATER}: added frank1970structure: The Structure of Ordinary Water" in run.stdout
    assert "arXiv:1605.08386: added stanley2016heat: Heat-bath random walks with Markov bases" in run.stdout
    assert "10.1126/foo: doi.org knows no doi:10.1126/foo" in run.stderr
    listed = subprocess.run([sys.executable, "-m", "jupyter_papers.cli", "--index", str(index), "sources", "list"],
                            capture_output=True, text=True, timeout=120).stdout
    assert listed.startswith("looked-up  jsonl  3 papers")
    records = [json.loads(line) for line in (index / "looked-up.jsonl").read_text().splitlines()]
    assert [r["title"] for r in records][0] == "The Structure of Ordinary Water" and len(records) == 3


def test_lookups_go_through_the_proxy_set_or_the_environment_s(recorded_web, monkeypatch):
    """The services named by a host that does not resolve, reached only through a proxy
    (the local server, which answers a proxied request by its path)."""
    hidden = {name: f"http://papers.invalid/{name}" for name in ("doi", "crossref", "arxiv", "eutils", "openlibrary")}
    proxy = recorded_web.server.url_for("/").rstrip("/")
    with pytest.raises(OnlineError, match="cannot reach arXiv"):
        look_up("1605.08386", OnlineSettings.from_environment(urls=hidden))
    set_here = OnlineSettings.from_environment(urls=hidden, proxy=proxy)
    assert look_up("1605.08386", set_here).title == "Heat-bath random walks with Markov bases"
    monkeypatch.setenv("HTTP_PROXY", proxy)
    from_environment = OnlineSettings.from_environment(urls=hidden)
    assert look_up("pmid:27797938", from_environment).extra["pmid"] == "27797938"
    assert {request.host for request in recorded_web.requests} == {"papers.invalid"}
