"""Papers beyond the index through the REST API: the online answer for an identifier, a
looked-up paper added, and the web's failures answered as messages (real recorded
responses replayed on localhost, tests/recorded_web.py)."""

from __future__ import annotations

import json

from .recorded_web import WATER
from .test_server import error_of


async def test_an_identifier_is_shown_online_then_added_and_found_locally(jp_fetch, recorded_web):
    asked = await jp_fetch("jupyter-papers", "online", params={"q": f"https://doi.org/{WATER}", "email": "a@b.org"})
    answer = json.loads(asked.body)
    assert answer["error"] is None and [p["title"] for p in answer["papers"]] == ["The Structure of Ordinary Water"]
    assert "mailto:a@b.org" in recorded_web.asked("doi")[0].headers["User-Agent"]
    added = await jp_fetch("jupyter-papers", "lookup", method="POST", body=json.dumps({"id": f"doi:{WATER}"}))
    paper = json.loads(added.body)["paper"]
    assert paper["key"] == "frank1970structure" and paper["extra"]["looked_up"] == f"doi:{WATER}"
    local = json.loads((await jp_fetch("jupyter-papers", "search", params={"q": WATER})).body)
    assert [hit["paper"]["key"] for hit in local["hits"]] == ["frank1970structure"]
    again = json.loads((await jp_fetch("jupyter-papers", "online", params={"q": WATER})).body)
    assert again == {"papers": [], "error": None}  # the index has it now: nothing asked of the web
    sources = json.loads((await jp_fetch("jupyter-papers", "sources")).body)
    assert [(s["name"], s["papers"]) for s in sources["sources"]] == [("looked-up", 1)]


async def test_the_web_s_failures_are_messages_and_the_off_setting_sends_nothing(jp_fetch, recorded_web):
    off = json.loads((await jp_fetch("jupyter-papers", "online", params={"q": WATER, "online": "off"})).body)
    assert off == {"papers": [], "error": None} and recorded_web.requests == []
    recorded_web.fail("arxiv", times=5, status=500)
    failed = json.loads((await jp_fetch("jupyter-papers", "online", params={"q": "arXiv:1605.08386"})).body)
    assert failed["papers"] == [] and failed["error"].startswith("arXiv is failing (500")
    code, message = await error_of(jp_fetch("jupyter-papers", "lookup", method="POST",
                                            body=json.dumps({"id": "10.1126/foo"})))
    assert code == 502 and message == "doi.org knows no doi:10.1126/foo"
    code, message = await error_of(jp_fetch("jupyter-papers", "lookup", method="POST", body=json.dumps({"id": 5})))
    assert code == 400 and "a DOI, arXiv id" in message
    code, message = await error_of(jp_fetch("jupyter-papers", "online", params={"q": WATER, "online": "always"}))
    assert code == 400 and "online must be one of off, identifiers, search" in message
