import gzip
import json
import re

import pytest

import jupyter_papers as jp
from jupyter_papers.sources import UnknownFormatError, sniff_format

from .conftest import BIB

# Entry counts the fixtures' own parsers give (shared/data/README.md).
EXPECTED = {
    "pybtex__xampl.bib": 36, "pybtex__cyrillic.bib": 5, "bibtexparser-v1__traps.bib": 1,
    "bibtexparser-v1__article_with_strings.bib": 1, "bibtexparser-v1__wrong.bib": 2,
    "biber__examples.bib": 132, "biber__names.bib": 38, "biber__tugboat.bib": 3644,
    "jabref__complex.bib": 20, "jabref__encoding-windows-1252-without-header.bib": 1,
}


@pytest.mark.parametrize("name,count", sorted(EXPECTED.items()))
def test_every_real_fixture_imports_with_its_entry_count(name, count):
    reading = jp.read_papers(BIB / name)
    papers = list(reading)
    empty = [p for p in reading.problems if "has nothing to cite" in p.message]
    assert len(papers) + len(empty) == count, "every entry is read, or skipped with a reason"
    assert len({p.key for p in papers}) == len(papers), "citation keys stay distinct"
    assert all(p.citable for p in papers) and all(p.line for p in empty)


def test_listing_is_read_and_enriched_from_metadata():
    papers = list(jp.read_papers(jp.bundled_corpus()))
    assert len(papers) == 139
    first = papers[0]
    assert first.title == "Manipulating Transfer Learning for Property Inference"  # "Subscribe" removed
    assert first.arxiv_id == "2303.11643" and first.id == "2303.11643"
    assert first.authors[0] == "Yulong Tian" and first.year == 2023
    assert all(p.abstract and p.title for p in papers)


def test_listing_without_metadata_has_no_authors(tmp_path):
    listing = tmp_path / "papers-listing.txt"
    listing.write_text(jp.bundled_corpus().read_text(encoding="utf-8"), encoding="utf-8")
    papers = list(jp.read_papers(listing))
    assert len(papers) == 139 and not any(p.authors for p in papers)
    assert papers[0].id.startswith("manipulating-transfer-learning-for-property-inference-")
    assert len({p.id for p in papers}) == 139


def test_bibtex_strings_concatenation_and_months():
    paper = list(jp.read_papers(BIB / "bibtexparser-v1__article_with_strings.bib"))[0]
    assert paper.authors == ["Jean César"]
    assert paper.venue == "Nice Journal"
    assert paper.csl["issued"]["date-parts"][0][1] == 1


def test_bibtex_latex_accents_braces_and_multiline_authors():
    paper = list(jp.read_papers(BIB / "bibtexparser-v1__traps.bib"))[0]
    # one name in BibTeX's "Last, First" form, broken over two lines
    assert paper.authors == ["Ben Loaeb Jean Laidé"]
    assert paper.title == "An amazing title"
    assert "érudit" in paper.abstract and paper.keywords == ["keyword1", "keyword2"]


def test_bibtex_crossref_inherits_fields():
    papers = {p.key: p for p in jp.read_papers(BIB / "pybtex__xampl.bib")}
    child = papers["inproceedings-crossref"]
    assert child.year == 1983
    assert child.venue == "Proc. Fifteenth Annual ACM Symposium on the Theory of Computing", (
        "the parent's booktitle, with the @string's leading blank kept")
    full = papers["inproceedings-full"]
    assert full.venue == "Proc. Fifteenth Annual ACM Symposium on the Theory of Computing"
    assert child.csl["publisher-place"] == "Boston"


def test_cyrillic_and_cp1252_files():
    cyrillic = list(jp.read_papers(BIB / "pybtex__cyrillic.bib"))
    assert any(any("\u0400" <= ch <= "\u04ff" for ch in p.title + " ".join(p.authors)) for p in cyrillic)
    raw = (BIB / "jabref__encoding-windows-1252-without-header.bib").read_bytes()
    cp1252 = list(jp.read_papers(re.sub(rb"(@Article\{[^,]*,)", rb"\1 title={T},", raw), format="bibtex"))
    assert cp1252[0].abstract == "25° C"


def test_biblatex_name_forms():
    text = re.sub(r"(@BOOK\{[^,]+,)", r"\1 title={T},", (BIB / "biber__names.bib").read_text(encoding="utf-8"))
    papers = {p.key: p for p in jp.read_papers(text, format="bibtex")}
    assert papers["L1id"].authors == ["Alfred Adler"]
    assert papers["L5"].authors == ["Egbert von Eel"]


def test_malformed_entry_is_reported_and_the_rest_is_read():
    text = """@article{good1, title={First good one}, year=2020}

@article{broken, title={Never closed, year=2021

@article{good2, title={Second good one}, author={Ada Lovelace}, year=2022}
"""
    reading = jp.read_papers(text)
    papers = list(reading)
    titles = [p.title for p in papers]
    assert "Second good one" in titles and "First good one" in titles
    assert reading.problems, "the broken entry is reported"
    problem = reading.problems[0]
    assert problem.line == 3 and "skipped" in problem.message


def test_duplicate_keys_keep_both_entries():
    text = "@misc{same, title={One}}\n@misc{same, title={Two}}\n"
    reading = jp.read_papers(text, format="bibtex")
    papers = list(reading)
    assert [p.title for p in papers] == ["One", "Two"]
    assert papers[0].key != papers[1].key
    assert "duplicate key" in str(reading.problems[0])


def test_empty_inputs_yield_nothing(tmp_path):
    empty = tmp_path / "empty.bib"
    empty.write_text("")
    assert list(jp.read_papers(empty)) == []
    assert list(jp.read_papers("[]", format="csljson")) == []


def test_latin1_bytes_that_are_not_cp1252(tmp_path):
    path = tmp_path / "latin.bib"
    path.write_bytes("@misc{k, title={Caf\xe9 \x81}}".encode("latin-1"))
    assert list(jp.read_papers(path))[0].title.startswith("Café")


def test_large_bibtex_file(tmp_path):
    entry = "@article{{key{n}, title={{A study of thing number {n}}}, author={{Ann Author and Bob B{{\\\"o}}hm}}, year={year}, journal={{J}}}}\n"
    text = "".join(entry.format(n=n, year=1990 + n % 30) for n in range(27000))
    path = tmp_path / "big.bib"
    path.write_text(text)
    assert path.stat().st_size > 3_000_000
    papers = list(jp.read_papers(path))
    assert len(papers) == 27000 and papers[5].authors == ["Ann Author", "Bob Böhm"]


def test_csl_json():
    items = [{"id": "smith2020deep", "type": "paper-conference", "title": "Deep Things",
              "author": [{"family": "Smith", "given": "Jane"}, {"literal": "The Team"}],
              "issued": {"date-parts": [[2020, 5]]}, "container-title": "NeurIPS", "DOI": "10.1000/ABC",
              "volume": "3", "page": "1-9"}]
    paper = list(jp.read_papers(json.dumps(items)))[0]
    assert paper.authors == ["Jane Smith", "The Team"] and paper.year == 2020
    assert paper.doi == "10.1000/ABC" and paper.id == "10.1000/abc", "a DOI is kept as written, matched in any case" and paper.key == "smith2020deep"
    assert paper.type == "paper-conference" and paper.csl["page"] == "1-9" and paper.csl["volume"] == "3"
    assert paper.authors[1].parts == {"literal": "The Team"} and paper.authors[0].parts == {"family": "Smith", "given": "Jane"}


def test_arxiv_snapshot_jsonl_gz(tmp_path):
    record = {"id": "0704.0001", "submitter": "Pavel Nadolsky", "authors": "C. Bal\\'azs, E. L. Berger",
              "title": "Calculation of prompt diphoton\n  production", "journal-ref": "Phys.Rev.D76:013009,2007",
              "doi": "10.1103/PhysRevD.76.013009", "categories": "hep-ph", "abstract": "  A fully differential ...",
              "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}],
              "authors_parsed": [["Balázs", "C.", ""], ["Berger", "E. L.", ""]]}
    path = tmp_path / "arxiv.jsonl.gz"
    path.write_bytes(gzip.compress((json.dumps(record) + "\nnot json\n").encode()))
    reading = jp.read_papers(path)
    papers = list(reading)
    assert len(papers) == 1
    paper = papers[0]
    assert paper.arxiv_id == "0704.0001" and paper.year == 2007
    assert paper.title == "Calculation of prompt diphoton production"
    assert paper.authors == ["C. Balázs", "E. L. Berger"]
    assert reading.problems[0].line == 2


def test_arxiv_atom():
    atom = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <entry>
    <id>http://arxiv.org/abs/2403.00071v2</id>
    <published>2024-02-29T18:59:59Z</published>
    <title>Resonance RoPE: Improving Context Length
      Generalization of Large Language Models</title>
    <summary>This paper addresses the challenge.</summary>
    <author><name>Suyuchen Wang</name></author>
    <author><name>Ivan Kobyzev</name></author>
    <arxiv:primary_category term="cs.CL"/>
    <category term="cs.CL"/><category term="cs.AI"/>
  </entry>
</feed>"""
    paper = list(jp.read_papers(atom))[0]
    assert paper.id == "2403.00071" and paper.year == 2024
    assert paper.title == "Resonance RoPE: Improving Context Length Generalization of Large Language Models"
    assert paper.authors == ["Suyuchen Wang", "Ivan Kobyzev"] and paper.extra["primaryclass"] == "cs.CL"


def test_our_jsonl_shape():
    lines = [json.dumps({"id": "bifet2010acml-accurate", "title": "Accurate Ensembles", "abstract": "x",
                         "authors": ["Albert Bifet"], "year": 2010, "venue": "ACML", "doi": "", "url": "https://x"})]
    paper = list(jp.read_papers("\n".join(lines)))[0]
    assert paper.id == "bifet2010acml-accurate" and paper.authors == ["Albert Bifet"]


def test_unknown_format_says_so():
    with pytest.raises(UnknownFormatError, match="could not tell the format"):
        jp.read_papers("just some words")
    assert sniff_format("@article{x, title={t}}") == "bibtex"


# --- issue 29: what real exporters write -------------------------------------------------
def _one(bib: str) -> jp.Paper:
    papers = list(jp.read_papers(bib, format="bibtex"))
    assert len(papers) == 1
    return papers[0]


def test_nasa_ads_journal_macros_name_the_journal():
    paper = _one(r"@article{a, author={Smith, J.}, title={Winds}, journal={\mnras}, shortjournal={MNRAS}, year=2001}")
    assert paper.venue == "Monthly Notices of the Royal Astronomical Society"
    assert paper.csl["container-title-short"] == "MNRAS"


def test_a_space_beside_braced_math_and_after_a_math_operator_stays():
    paper = _one(r"@article{a, author={Smith, J.}, title={Star {$\mu$} Herculis and {$O(n \log n)$} sorting}, year=2001}")
    assert "Star $\\mu$ Herculis" in paper.title
    from jupyter_papers.citations.latex import to_plain
    assert to_plain(paper.title) == "Star μ Herculis and O(n log n) sorting"


def test_urls_and_dois_lose_the_escapes_exporters_put_in():
    paper = _one(r"@misc{a, author={X, Y.}, title={Home}, url={http://x.org/{\~{}}user/a\_b{\&}c}, "
                 r"doi={10.1000/a\_b}, year=2001}")
    assert paper.url == "http://x.org/~user/a_b&c" and paper.doi == "10.1000/a_b"
    assert _one(r"@misc{a, author={X, Y.}, title={Mendeley{\~{}}s tilde}, year=2001}").title == "Mendeley~s tilde"


def test_a_url_in_howpublished_or_a_title_is_a_url_not_a_publisher():
    paper = _one(r"@misc{a, author={Roe, R.}, title={Properties of potassium \url{https://ex.org/k}}, "
                 r"howpublished={\url{https://ex.org/page}}, year=2022}")
    assert paper.url == "https://ex.org/page" and "publisher" not in paper.csl
    assert paper.title == "Properties of potassium https://ex.org/k"


def test_software_names_its_organization_and_acm_keeps_the_publisher_s_place():
    software = _one(r"@software{s, author={Doe, J.}, title={Tool}, organization={Big Lab}, year=2021}")
    assert software.csl["publisher"] == "Big Lab"
    acm = _one(r"@inproceedings{c, author={Lee, K.}, title={Talk}, booktitle={Proc. X}, publisher={ACM}, "
               r"address={New York, NY, USA}, location={Paris, France}, year=2020}")
    assert acm.csl["publisher-place"] == "New York, NY, USA" and acm.csl["event-place"] == "Paris, France"


def test_noopsort_in_a_year_gives_the_year_bibtex_prints():
    assert _one(r"@book{k, author={Knuth, D.}, title={TeX}, year={{\noopsort{1973c}}1981}}").year == 1981


def test_a_short_doi_as_zotero_stores_it_is_kept():
    item = '[{"id": "a", "type": "article-journal", "title": "T", "DOI": "10/fqd6hj", "author": [{"family": "A"}]}]'
    assert [paper.doi for paper in jp.read_papers(item, format="csljson")] == ["10/fqd6hj"]


def test_a_doi_is_printed_once_not_again_as_a_url_made_of_it():
    paper = jp.Paper(id="x", title="A paper", doi="10.1000/xyz", authors=["Ann Smith"], year=2020)
    for style in ("vancouver", "apa", "ieee"):
        assert jp.cite(paper, style).count("10.1000/xyz") == 1, style


def test_what_we_write_reads_back_as_it_was_read():
    """Issue 29's round trip: dates with their day, abstracts, short titles and journals,
    languages, access dates, PubMed ids and translators written; no URL made of the DOI; a
    booktitle's protected words kept; title case after a hyphen not frozen."""
    from jupyter_papers.citations.bibfile import bibtex_entry

    source = _one(r"""@inproceedings{k, author={Lee, K.}, translator={Roe, R.},
      title={Higher-Dimensional Algebra for {BERT}}, booktitle={{European} {Signal} Processing Conference},
      date={2004-10-27}, doi={10.1000/xyz}, abstract={We show $x^2$ \& more.}, shorttitle={Algebra},
      shortjournal={EUSIPCO}, langid={british}, urldate={2020-01-02}, pmid={12345}, url={https://ex.org/p}}""")
    written = bibtex_entry(source)
    back = _one(written)
    assert "doi.org" not in written
    for name in ("title", "venue", "year", "doi", "url", "abstract", "authors"):
        assert getattr(back, name) == getattr(source, name), name
    assert back.csl == source.csl
    assert source.csl["issued"] == {"date-parts": [[2004, 10, 27]]} and source.csl["language"] == "en-GB"
    assert "European Signal processing conference" in source.csl["container-title"].replace(
        '<span class="nocase">', "").replace("</span>", "")
