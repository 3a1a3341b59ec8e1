"""The REST API through a real jupyter_server (pytest-jupyter's jp_fetch)."""

import json

import pytest
from tornado.httpclient import HTTPClientError

from .conftest import BIB


async def get_json(jp_fetch, *parts, **params):
    response = await jp_fetch("jupyter-papers", *parts, params=params or None)
    assert response.code == 200
    return json.loads(response.body)


async def error_of(call):
    with pytest.raises(HTTPClientError) as raised:
        await call
    body = json.loads(raised.value.response.body)
    return raised.value.code, body["message"]


async def test_search_returns_escaped_highlights_total_suggestion_and_facets(jp_fetch):
    data = await get_json(jp_fetch, "search", q="resonanse rope", limit="5", facets="1")
    assert data["hits"][0]["paper"]["id"] == "2403.00071"
    assert data["suggestion"] == "resonance rope"
    assert "<mark>" in data["hits"][0]["highlights"]["abstract"]
    assert data["total"] >= 1 and data["facets"]["year"]
    assert (await get_json(jp_fetch, "search", q="resonanse rope"))["facets"] == {}


async def test_a_query_ending_in_a_space_is_searched_as_typed(jp_fetch):
    """Tornado strips arguments by default: the trailing space that says "no completion" was lost."""
    typing = await get_json(jp_fetch, "search", q="rotary reso")
    typed = await get_json(jp_fetch, "search", q="rotary reso ")
    assert typed["query"] == "rotary reso " and typed["total"] < typing["total"]


async def test_paging_and_year_range(jp_fetch):
    first = await get_json(jp_fetch, "search", q="model", limit="5", offset="0")
    second = await get_json(jp_fetch, "search", q="model", limit="5", offset="5")
    assert first["total"] == second["total"] > 10
    assert not {h["paper"]["id"] for h in first["hits"]} & {h["paper"]["id"] for h in second["hits"]}
    years = await get_json(jp_fetch, "search", q="diffusion", year_from="2024", year_to="2024")
    assert years["hits"] and {h["paper"]["year"] for h in years["hits"]} == {2024}


@pytest.mark.parametrize("params,words", [
    ({"q": "x", "limit": "lots"}, "limit must be a whole number"),
    ({"q": "x", "limit": "0"}, "limit must be between 1 and 100"),
    ({"q": "x", "offset": "-3"}, "offset must be at least 0"),
    ({"q": "x", "year_from": "20x4"}, "year_from must be a whole number"),
])
async def test_bad_parameters_get_400_with_a_message(jp_fetch, params, words):
    code, message = await error_of(jp_fetch("jupyter-papers", "search", params=params))
    assert code == 400 and words in message


async def test_paper_cite_abstract_related(jp_fetch):
    paper = await get_json(jp_fetch, "papers", "2403.00071")
    assert paper["title"].startswith("Resonance RoPE")
    cite = await get_json(jp_fetch, "papers", "2403.00071", "cite", style="ieee", format="text")
    assert "S. Wang, I. Kobyzev" in cite["text"] and cite["bibtex"].startswith("@inproceedings{wang2024resonance")
    abstract = await get_json(jp_fetch, "papers", "2403.00071", "abstract")
    assert abstract["markdown"].startswith("**[Resonance RoPE")
    related = await get_json(jp_fetch, "papers", "2403.00071", "related", limit="3")
    assert len(related["hits"]) == 3


async def test_unknown_id_is_404_and_unknown_style_400(jp_fetch):
    code, message = await error_of(jp_fetch("jupyter-papers", "papers", "no-such-paper"))
    assert code == 404 and "no-such-paper" in message
    code, message = await error_of(jp_fetch("jupyter-papers", "papers", "2403.00071", "cite", params={"style": "nope"}))
    assert code == 400 and "unknown citation style" in message


async def test_a_request_without_a_token_is_refused(jp_fetch, jp_base_url, http_server_client):
    with pytest.raises(HTTPClientError) as raised:
        await http_server_client.fetch(jp_base_url + "jupyter-papers/search?q=rope")
    assert raised.value.code == 403
    with pytest.raises(HTTPClientError) as raised:
        await http_server_client.fetch(jp_base_url + "jupyter-papers/papers", method="POST", body="@misc{a, title={b}}")
    assert raised.value.code == 403


async def test_post_malformed_bibtex_reports_errors_and_indexes_the_rest(jp_fetch):
    body = "@misc{good, title={A perfectly good entry about quokkas}}\n@article{bad, title={never closed\n@misc{good2, title={Second quokka paper}}\n"
    response = await jp_fetch("jupyter-papers", "papers", method="POST", body=body, params={"filename": "mine.bib"})
    report = json.loads(response.body)
    assert report["added"] == 2 and report["format"] == "bibtex"
    assert report["skipped"][0]["line"] == 2 and "skipped" in report["skipped"][0]["message"]
    found = await get_json(jp_fetch, "search", q="quokka")
    assert found["total"] == 2


async def test_post_csl_json_and_jsonl(jp_fetch):
    csl = json.dumps([{"id": "k1", "type": "article-journal", "title": "Wombat dynamics", "issued": {"date-parts": [[2020]]}}])
    response = await jp_fetch("jupyter-papers", "papers", method="POST", body=csl)
    assert json.loads(response.body)["added"] == 1
    lines = json.dumps({"id": "x1", "title": "Numbat studies"}) + "\n{broken json\n"
    report = json.loads((await jp_fetch("jupyter-papers", "papers", method="POST", body=lines)).body)
    assert report["added"] == 1 and report["skipped"][0]["line"] == 2


async def test_post_of_nothing_useful_is_400(jp_fetch):
    code, message = await error_of(jp_fetch("jupyter-papers", "papers", method="POST", body="hello there"))
    assert code == 400 and "could not tell the format" in message


async def test_bibliography_is_written_inside_the_root_only(jp_fetch, jp_root_dir):
    body = json.dumps({"ids": ["2403.00071"], "path": "notes/references.bib"})
    (jp_root_dir / "notes").mkdir()
    result = json.loads((await jp_fetch("jupyter-papers", "bibliography", method="POST", body=body)).body)
    assert result["added"] == ["wang2024resonance"]
    assert (jp_root_dir / "notes" / "references.bib").read_text().startswith("@inproceedings{wang2024resonance")
    outside = json.dumps({"ids": ["2403.00071"], "path": "../../etc/evil.bib"})
    code, _ = await error_of(jp_fetch("jupyter-papers", "bibliography", method="POST", body=outside))
    assert code == 400


async def test_the_bib_file_is_written_in_the_dialect_asked_or_its_own(jp_fetch, jp_root_dir):
    """The lab's "Write that .bib file as" setting: biblatex, or (auto) the file's own."""
    async def add(path, dialect=None):
        body = json.dumps({"ids": ["2403.00071"], "path": path, "dialect": dialect})
        return await jp_fetch("jupyter-papers", "bibliography", method="POST", body=body)

    await add("latex.bib", "biblatex")
    assert "date = {2024" in (jp_root_dir / "latex.bib").read_text()
    (jp_root_dir / "theirs.bib").write_text("@online{site, title = {A site}, urldate = {2024-01-02}}\n")
    await add("theirs.bib")
    assert "\n@inproceedings{wang2024resonance,\n" in (jp_root_dir / "theirs.bib").read_text()
    assert "date = {2024" in (jp_root_dir / "theirs.bib").read_text(), "a biblatex file stays biblatex"
    await add("plain.bib")
    assert "year = {2024}" in (jp_root_dir / "plain.bib").read_text()
    code, message = await error_of(add("x.bib", "ris"))
    assert code == 400 and "dialect must be one of bibtex, biblatex" in message


async def test_a_commit_from_another_writer_shows_on_the_next_search(jp_fetch, papers_home):
    import jupyter_papers as jp

    before = await get_json(jp_fetch, "search", q="capybara")
    assert before["total"] == 0
    other = jp.open_index()  # the kernel's view of the same default index
    other.add(jp.read_papers(BIB / "pybtex__cyrillic.bib"))
    other.add([jp.Paper(title="Capybara social behaviour", doi="10.1000/capy")])
    after = await get_json(jp_fetch, "search", q="capybara")
    assert after["total"] == 1


async def test_a_broken_index_is_503_saying_how_to_rebuild(jp_fetch, papers_home):
    from jupyter_papers.index import VERSION_FILE

    import jupyter_papers as jp

    jp.open_index().close()
    (papers_home / "index" / VERSION_FILE).write_text("0")
    code, message = await error_of(jp_fetch("jupyter-papers", "search", params={"q": "rope"}))
    assert code == 503 and "jupyter-papers rebuild" in message


async def test_a_notebook_is_exported_beside_itself_inside_the_root_only(jp_fetch, jp_root_dir):
    """POST export: what File > Save and Export Notebook As > ... with references sends."""
    import nbformat

    (jp_root_dir / "drafts").mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("RoPE [@wang2024resonance].")])
    nbformat.write(notebook, jp_root_dir / "drafts" / "paper.ipynb")
    body = json.dumps({"path": "drafts/paper.ipynb", "to": "md", "style": "bibtex"})  # not a CSL style: APA
    result = json.loads((await jp_fetch("jupyter-papers", "export", method="POST", body=body)).body)
    assert result == {"path": "drafts/paper.md", "papers": 1, "missing": []}
    assert "Wang et al., 2024" in (jp_root_dir / "drafts" / "paper.md").read_text()
    for bad, words in ((json.dumps({"path": "../paper.ipynb", "to": "md"}), "inside the server's root"),
                       (json.dumps({"path": "drafts/none.ipynb", "to": "md"}), "no notebook"),
                       (json.dumps({"path": "drafts/paper.ipynb", "to": "exe"}), "to must be one of")):
        code, message = await error_of(jp_fetch("jupyter-papers", "export", method="POST", body=bad))
        assert code in (400, 404) and words in message, message
