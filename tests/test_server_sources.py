"""Sources through the REST API, and the server's watcher: a .bib file written on disk
(real file writes, real watchfiles events) is synced without a request; PDFs are served
only as attachments the index knows."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from jupyter_papers.config import default_index_dir, local_folder

from .test_backends import opensearch_index_url
from .test_server import error_of
from .test_sources import entry


async def found(jp_fetch, query: str) -> list[str]:
    response = await jp_fetch("jupyter-papers", "search", params={"q": query, "limit": "5"})
    return [hit["paper"]["title"] for hit in json.loads(response.body)["hits"]]


async def eventually(check, seconds: float = 60.0):
    """Wait for a state (the watcher's sync), not for a time: ``check()`` until it holds."""
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


@pytest.fixture(params=["the default folder", "a folder the server's config names",
                        "an OpenSearch index the environment names"])
def index_where(request, tmp_path, monkeypatch) -> tuple[dict, Path]:
    """The server config that puts the server's index there, and the folder its list of
    sources goes to."""
    if request.param.startswith("an OpenSearch"):
        url = opensearch_index_url(request.getfixturevalue("opensearch_url"))
        monkeypatch.setenv("JUPYTER_PAPERS_INDEX", url)
        return {}, local_folder(url)
    if request.param.startswith("a folder"):
        return {"PapersExtension": {"index": str(tmp_path / "lab-index")}}, tmp_path / "lab-index"
    return {}, default_index_dir()


@pytest.fixture
def jp_server_config(jp_server_config, request):
    """conftest's, with where the index is when the test asks (``index_where``)."""
    if "index_where" in request.fixturenames:
        return {**jp_server_config, **request.getfixturevalue("index_where")[0]}
    return jp_server_config


async def test_a_bib_source_edited_on_disk_is_synced_by_the_watcher(jp_fetch, tmp_path, index_where):
    sources = index_where[1] / "sources.json"
    assert not sources.exists()
    bib = tmp_path / "library.bib"
    bib.write_text(entry("first2020", "Quokka population dynamics"))
    response = await jp_fetch("jupyter-papers", "sources", method="POST", body=json.dumps({"path": str(bib)}))
    assert json.loads(response.body)["added"] == 1
    listed = json.loads((await jp_fetch("jupyter-papers", "sources")).body)["sources"]
    assert [(s["name"], s["kind"], s["papers"]) for s in listed] == [("library", "bibtex", 1)]
    assert await found(jp_fetch, "quokka") == ["Quokka population dynamics"]
    await asyncio.sleep(0.5)  # the watcher's first round has started on the new folder
    with bib.open("a") as out:  # as Better BibTeX re-exports: rewritten in place
        out.write(entry("second2021", "Wombat burrow acoustics"))

    async def wombat():
        return await found(jp_fetch, "wombat burrow") == ["Wombat burrow acoustics"]

    assert await eventually(wombat), "the watcher synced the new entry with no request"
    bib.write_text(entry("second2021", "Wombat burrow acoustics"))

    async def no_quokka():
        return "Quokka population dynamics" not in await found(jp_fetch, "quokka population")

    assert await eventually(no_quokka), "an entry removed from the file left the index"
    assert sources.exists(), "the list of sources is where the index is"


async def test_sources_routes_refuse_what_they_must(jp_fetch, tmp_path):
    for body, words in (({"path": str(tmp_path / "nope.bib")}, "no such file"), ({"path": 5}, "path must be"),
                        ({"path": str(tmp_path)}, "a .bib, .json or .jsonl file"), ({"name": ""}, "name must be")):
        if body.get("path") == str(tmp_path):
            (tmp_path / "x.txt").write_text("x")
            body = {"path": str(tmp_path / "x.txt")}
        code, message = await error_of(jp_fetch("jupyter-papers", "sources", method="POST", body=json.dumps(body)))
        assert code == 400 and words in message, message
    code, message = await error_of(jp_fetch("jupyter-papers", "sources", "nope", method="DELETE"))
    assert code == 404 and "no source named 'nope'" in message


async def test_a_pdf_is_served_only_as_an_attachment_the_index_knows(jp_fetch, tmp_path):
    pdf = tmp_path / "files" / "paper.pdf"
    pdf.parent.mkdir()
    pdf.write_bytes(b"%PDF-1.4 a small test file\n%%EOF\n")
    bib = tmp_path / "with-file.bib"
    bib.write_text(entry("attached2022", "Platypus electroreception", extra=",\n  file = {Full Text:files/paper.pdf:"
                                                                            "application/pdf}"))
    await jp_fetch("jupyter-papers", "sources", method="POST", body=json.dumps({"path": str(bib)}))
    response = await jp_fetch("jupyter-papers", "papers", "attached2022", "pdf")
    assert response.headers["Content-Type"] == "application/pdf" and response.body.startswith(b"%PDF-1.4")
    code, message = await error_of(jp_fetch("jupyter-papers", "papers", "2403.00071", "pdf"))
    assert code == 404 and "no PDF attachment" in message
    code, _ = await error_of(jp_fetch("jupyter-papers", "papers", "..%2F..%2Fetc%2Fpasswd", "pdf"))
    assert code == 404
