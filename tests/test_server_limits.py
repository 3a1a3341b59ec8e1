"""Every route the extension registers refuses what it must (no token, a wrong token, a
cookie POST without XSRF), answers bad bodies with a 400 and a message, and no upload can
block the server: parsing happens off the event loop, within stated limits."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import shutil
import threading

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_papers.server import handlers

from .test_server import error_of

SAMPLE = {"paper_id": "2403.00071", "name": "mine", "action": "sync"}


def our_routes(app) -> list[tuple[str, type]]:
    """(path, handler class) of every route under /jupyter-papers, read from the server itself,
    so that a route added later is walked too."""
    routes = []
    for rule in app.default_router.rules:
        for inner in getattr(rule.target, "rules", []):
            pattern = inner.matcher.regex.pattern
            if "jupyter-papers" in pattern:
                path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLE[m.group(1)], pattern).rstrip("$")
                routes.append((path.replace("\\", ""), inner.target))
    return routes


@pytest.fixture
def routes(jp_serverapp):
    found = our_routes(jp_serverapp.web_app)
    assert len(found) >= 7, found
    return found


def methods(handler) -> list[str]:
    return [m for m in ("GET", "POST") if m.lower() in vars(handler)]


async def test_every_route_refuses_a_missing_or_wrong_token_and_a_cookie_post_without_xsrf(
        routes, http_server_client, jp_serverapp):
    for path, handler in routes:
        for method in methods(handler):
            body = "{}" if method == "POST" else None
            for headers in ({}, {"Authorization": "token wrong-token"}):
                with pytest.raises(HTTPClientError) as raised:
                    await http_server_client.fetch(path, method=method, body=body, headers=headers)
                assert raised.value.code == 403, (path, method, headers)
            if method == "POST":
                cookie_only = {"Cookie": "_xsrf=abc; username-localhost=whatever"}
                with pytest.raises(HTTPClientError) as raised:
                    await http_server_client.fetch(path, method=method, body=body, headers=cookie_only)
                assert raised.value.code == 403, (path, "cookie POST without XSRF")


@pytest.mark.parametrize("body", [
    b"[1, 2", json.dumps({"ids": [1, 2]}).encode(), json.dumps({"ids": [[1]]}).encode(),
    json.dumps({"ids": "2403.00071"}).encode(), json.dumps([1]).encode(), b"[" * 100_000 + b"]" * 100_000,
    json.dumps({"ids": ["2403.00071"], "path": 5}).encode(),
])
async def test_bad_bibliography_bodies_are_400(jp_fetch, body):
    code, message = await error_of(jp_fetch("jupyter-papers", "bibliography", method="POST", body=body))
    assert code == 400 and ("ids" in message or "path" in message or "JSON" in message)


@pytest.mark.parametrize("path,words", [
    ("missing/references.bib", "does not exist"), ("~/x.bib", "does not exist"), ("%2e%2e/x.bib", "does not exist"),
    ("../x.bib", "inside the server's root"), ("dir.bib", "is a folder"), ("a\0b.bib", "file name"),
    ("x" * 5000 + ".bib", "file name"), ("sub/.hidden.bib", "hidden"), (".secret/r.bib", "hidden"),
    ("notes.txt", "not a .bib file"),
])
async def test_bad_bibliography_paths_are_400(jp_fetch, jp_root_dir, path, words):
    (jp_root_dir / "dir.bib").mkdir()
    (jp_root_dir / "sub").mkdir()
    (jp_root_dir / ".secret").mkdir()
    body = json.dumps({"ids": ["2403.00071"], "path": path})
    code, message = await error_of(jp_fetch("jupyter-papers", "bibliography", method="POST", body=body))
    assert code == 400 and words in message, message
    assert not list((jp_root_dir / "sub").iterdir()) and not list((jp_root_dir / ".secret").iterdir())


async def test_an_unclosed_entry_in_the_target_is_a_400_naming_its_line(jp_fetch, jp_root_dir):
    (jp_root_dir / "mine.bib").write_text("@misc{a, title={A}}\n@misc{b, title={never closed\n")
    body = json.dumps({"ids": ["2403.00071"], "path": "mine.bib"})
    code, message = await error_of(jp_fetch("jupyter-papers", "bibliography", method="POST", body=body))
    assert code == 400 and "mine.bib:2" in message


@pytest.mark.parametrize("body", [
    b'{"title": "t", "authors": 5}\n{"title": "fine"}\n', b'[{"type": ["book"], "title": "t"}]',
    b'{"id": "1", "title": "t", "versions": "v1", "authors_parsed": [5]}\n',
])
async def test_wrong_json_types_in_an_upload_are_reported_not_500(jp_fetch, body):
    response = await jp_fetch("jupyter-papers", "papers", method="POST", body=body)
    assert response.code == 200 and json.loads(response.body)["added"] >= 1


async def test_a_gzip_bomb_is_refused(jp_fetch):
    bomb = gzip.compress(b"@misc{a, title={" + b"x" * (64 * 2**20) + b"}}\n", compresslevel=9)
    assert len(bomb) < 2**20
    code, message = await error_of(jp_fetch("jupyter-papers", "papers", method="POST", body=bomb))
    assert code == 413 and "inflates to more than 32 MB" in message
    small = gzip.compress(b"@misc{ok, title={A gzipped upload about echidnas}}\n")
    assert json.loads((await jp_fetch("jupyter-papers", "papers", method="POST", body=small)).body)["added"] == 1


async def test_an_oversized_upload_is_413(jp_fetch):
    code, message = await error_of(jp_fetch("jupyter-papers", "papers", method="POST",
                                            body=b"x" * (handlers.MAX_UPLOAD + 1)))
    assert code == 413 and "jupyter-papers add" in message


async def test_searches_do_not_wait_for_an_import(jp_fetch):
    big = "".join(f"@misc{{k{n}, title={{Slow upload paper number {n} on platypus}}, year=2001}}\n" for n in range(6000))
    upload = asyncio.ensure_future(jp_fetch("jupyter-papers", "papers", method="POST", body=big))
    await asyncio.sleep(0.2)
    status = await jp_fetch("api", "status")
    found = json.loads((await jp_fetch("jupyter-papers", "search", params={"q": "resonance rope"})).body)
    assert status.code == 200 and found["hits"][0]["paper"]["id"] == "2403.00071"
    assert not upload.done(), "the server and a search answered while the import was still being read"
    report = json.loads((await upload).body)
    assert report["added"] == 6000


async def test_the_reference_list_route_formats_live_cells_and_writes_the_bib(jp_fetch, jp_root_dir):
    cells = [{"cell_type": "markdown", "source": "See [@wang2024resonance; @2303.11643] and [@nope]."},
             {"cell_type": "code", "source": "'[@li2023otter]'"}]
    body = json.dumps({"cells": cells, "style": "ieee", "bib": "refs.bib"})
    result = json.loads((await jp_fetch("jupyter-papers", "references", method="POST", body=body)).body)
    assert result["cited"] == ["wang2024resonance", "2303.11643", "nope"] and result["missing"] == ["nope"]
    assert result["listed"] == 2 and result["markdown"].startswith("## References\n\n\\[1\\] S. Wang")
    bib = (jp_root_dir / "refs.bib").read_text()
    assert "@inproceedings{wang2024resonance," in bib and "ids = {2303.11643}" in bib and "otter" not in bib
    code, message = await error_of(jp_fetch("jupyter-papers", "references", method="POST",
                                            body=json.dumps({"cells": "nope"})))
    assert code == 400 and "cells must be a list" in message


async def test_the_inline_route_cites_several_papers(jp_fetch):
    body = json.dumps({"ids": ["2403.00071", "2303.11643"], "format": "myst"})
    result = json.loads((await jp_fetch("jupyter-papers", "inline", method="POST", body=body)).body)
    assert result["text"] == "{cite:p}`wang2024resonance,tian2023manipulating`"
    code, message = await error_of(jp_fetch("jupyter-papers", "inline", method="POST",
                                            body=json.dumps({"ids": ["2403.00071"], "format": "word"})))
    assert code == 400 and "pandoc, myst, latex" in message


@pytest.mark.parametrize("body, words", [
    ({"cells": [{"cell_type": "markdown", "source": ["[@a]", 7]}]}, "cell 1 is not a cell with text"),
    ({"cells": [{"cell_type": "markdown", "source": "[@a]", "metadata": []}]}, "its metadata is not a JSON object"),
    ({"cells": [{"cell_type": "markdown", "source": "[@wang2024resonance]"}], "style": "x" * 5000}, "style"),
    ({"cells": [{"cell_type": "markdown", "source": "[@wang2024resonance]"}], "style": ["apa"]}, "style"),
    ({"cells": [{"cell_type": "markdown", "source": "[@wang2024resonance]"}], "bib": "é" * 300 + ".bib"}, "bib"),
])
async def test_bad_reference_list_requests_are_400_with_a_message(jp_fetch, body, words):
    code, message = await error_of(jp_fetch("jupyter-papers", "references", method="POST", body=json.dumps(body)))
    assert code == 400 and words in message, message


async def test_a_request_past_its_time_limit_is_503_and_says_so(jp_fetch, monkeypatch):
    monkeypatch.setattr(handlers.PapersHandler, "TIME_LIMIT", 0.5)
    slow = threading.Event()
    monkeypatch.setattr(handlers.jp.PaperIndex, "search", lambda *a, **k: slow.wait(30))
    code, message = await error_of(jp_fetch("jupyter-papers", "search", params={"q": "rope"}))
    slow.set()
    assert code == 503 and "longer than" in message, message


async def test_an_index_deleted_under_a_running_server_is_503_saying_how_to_rebuild(jp_fetch, jp_serverapp):
    found = json.loads((await jp_fetch("jupyter-papers", "search", params={"q": "rope"})).body)
    assert found["total"] > 0
    index = jp_serverapp.web_app.settings["jupyter_papers_index"]
    shutil.rmtree(index.path)
    for route, params in (("search", {"q": "rotary"}), ("papers/2403.00071", None), ("papers/2403.00071/cite", None)):
        code, message = await error_of(jp_fetch("jupyter-papers", *route.split("/"), params=params))
        assert code == 503 and "rebuild" in message, (route, message)
