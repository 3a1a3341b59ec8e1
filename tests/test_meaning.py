"""Search by meaning: the packaged model, vectors stored per segment beside the index,
embedding now and in the background, partial states, rebuilds, removals, the sentence
path and related papers (the [semantic] extra, installed by the test extra)."""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import jupyter_papers as jp
from jupyter_papers.backends.whoosh.vectors import folder
from jupyter_papers.meaning import model

WEATHER = "computers learn to forecast tomorrow's rain and temperature across the planet"
PRITHVI = "Prithvi WxC: Foundation Model for Weather and Climate"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """The demo corpus, every paper embedded (about 15 s on 2 cores)."""
    index = jp.open_index(tmp_path_factory.mktemp("meaning") / "index")
    index.add(jp.read_papers(jp.bundled_corpus()))
    assert index.meaning_status()["state"] == "partial"
    assert index.embed() == len(index)
    yield index
    index.close()


def titles(results) -> list[str]:
    return [hit.paper.title for hit in results.hits]


def wait_for(condition, what: str, timeout: float = 300.0):
    """A state, polled: embedding speed depends on how busy the machine is."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.2)


def test_the_packaged_model_gives_unit_vectors_close_for_close_meanings():
    encoder = model.encoder()
    assert encoder.files.origin == "package"
    vectors = encoder.encode(["Deep networks that classify photographs",
                              "Convolutional neural networks for image recognition",
                              "The tax law of medieval Venice"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > 0.5 > unrelated + 0.3


def test_vectors_live_beside_the_index_per_segment_as_int8(embedded):
    status = embedded.meaning_status()
    assert status == {"state": "complete", "embedded": len(embedded), "papers": len(embedded), "message": ""}
    base = folder(embedded.path)
    states = [json.loads(p.read_text()) for p in base.glob("*.json")]
    assert sum(s["done"] for s in states) == len(embedded) and all(s["done"] == s["papers"] for s in states)
    rows = sum(p.stat().st_size for p in base.glob("*.i8"))
    assert rows == 384 * len(embedded)  # one byte a dimension


def test_a_sentence_is_reranked_by_meaning(embedded):
    hybrid = embedded.search(WEATHER, limit=3)
    words = embedded.search(WEATHER, limit=3, meaning=False)
    assert hybrid.meaning == {"embedded": len(embedded), "papers": len(embedded)}
    assert words.meaning is None
    assert PRITHVI in titles(hybrid) and PRITHVI not in titles(words)
    assert titles(hybrid)[0] == "Forecasting Global Weather with Graph Neural Networks"
    assert "<mark>" in hybrid.hits[0].highlights["title"]  # still explained by its words
    assert hybrid.meaning_label == "by words and meaning"


def test_short_queries_stay_lexical_unless_meaning_is_forced(embedded, monkeypatch):
    assert embedded.search("weather", limit=5).meaning is None
    forced = embedded.search("weather", limit=5, meaning=True)
    assert forced.meaning is not None and PRITHVI in titles(forced)
    monkeypatch.setenv("JUPYTER_PAPERS_MEANING", "off")
    assert embedded.search(WEATHER, limit=3).meaning is None
    monkeypatch.setenv("JUPYTER_PAPERS_MEANING", "always")
    assert embedded.search("weather", limit=3).meaning is not None


def test_related_papers_fuse_nearest_meaning_with_shared_words(embedded):
    paper = embedded.find("Forecasting Global Weather with Graph Neural Networks")
    fused = embedded.more_like(paper.id, limit=5)
    words = embedded.more_like(paper.id, limit=5, meaning=False)
    assert fused.meaning is not None and words.meaning is None
    assert paper.id not in [hit.paper.id for hit in fused.hits]
    assert PRITHVI in titles(fused)
    assert titles(fused) != titles(words)


def test_a_partial_index_searches_what_it_has_and_says_so(embedded, empty_index):
    empty_index.add(list(embedded.papers())[:20])
    empty_index.embed()
    late = jp.Paper(id="late", title="Global weather forecasting with machine learning",
                    abstract="We predict rain and temperature for the whole planet a week ahead.")
    empty_index.add([late])
    status = empty_index.meaning_status()
    assert (status["state"], status["embedded"], status["papers"]) == ("partial", 20, 21)
    results = empty_index.search(WEATHER, limit=5)
    assert results.meaning == {"embedded": 20, "papers": 21}
    assert "late" in [hit.paper.id for hit in results.hits]  # found by its words meanwhile
    assert results.meaning_label == "by words and meaning: 20 of 21 papers embedded so far"
    assert empty_index.embed() == 1
    assert empty_index.meaning_status()["state"] == "complete"


def test_removed_papers_leave_progress_and_neighbours(embedded, empty_index):
    papers = list(embedded.papers())[:30]
    empty_index.add(papers)
    empty_index.embed()
    gone = empty_index.more_like(papers[0].id, limit=1).hits[0].paper
    assert empty_index.remove(gone.id)
    assert empty_index.meaning_status()["embedded"] == 29
    assert gone.id not in [hit.paper.id for hit in empty_index.more_like(papers[0].id, limit=10).hits]


def test_merges_and_rebuilds_reuse_vectors_instead_of_encoding_again(embedded, empty_index):
    for paper in list(embedded.papers())[:24]:  # a commit each: Whoosh merges the small segments
        empty_index.add([paper])
    assert empty_index.embed() == 24
    for paper in list(embedded.papers())[24:40]:
        empty_index.add([paper])
    encoded = empty_index.embed()
    assert encoded == 16  # only the new papers, though merged segments hold the old ones
    assert empty_index.rebuild() == 40
    assert empty_index.embed() == 0
    assert empty_index.meaning_status()["state"] == "complete"
    names = {p.stem for p in folder(empty_index.path).glob("*.json")}
    with empty_index._reading() as searcher:
        assert names == {leaf.reader().segment().segment_id() for leaf, _ in searcher.leaf_searchers()}


def test_an_embedding_killed_midway_resumes_where_it_stopped(embedded, empty_index):
    empty_index.add(list(embedded.papers())[:80])
    env = {**os.environ, "JUPYTER_PAPERS_EMBED": "background"}
    process = subprocess.Popen([sys.executable, "-m", "jupyter_papers.backends.whoosh.embedding",
                                str(empty_index.path)], env=env)
    wait_for(lambda: empty_index.meaning_status()["embedded"] >= 64, "the first chunk")
    process.kill()
    process.wait()
    done = empty_index.meaning_status()["embedded"]
    assert done >= 64
    assert empty_index.embed() == 80 - done
    assert empty_index.meaning_status()["state"] == "complete"


def test_an_import_embeds_in_the_background_and_shows_progress(embedded, empty_index, monkeypatch):
    monkeypatch.setenv("JUPYTER_PAPERS_EMBED", "background")
    empty_index._meaning.background = True
    empty_index.add(list(embedded.papers())[:70])
    assert empty_index.meaning_status()["state"] == "embedding"
    seen = set()

    def complete() -> bool:
        status = empty_index.meaning_status()
        seen.add(status["embedded"])
        return status["state"] == "complete"

    wait_for(complete, "the background embedder")
    assert seen & set(range(1, 70)), "no partial state was ever seen"
    assert empty_index.search(WEATHER, limit=3).meaning == {"embedded": 70, "papers": 70}


def test_without_a_model_search_is_by_words_and_the_status_says_how_to_get_one(embedded, monkeypatch, tmp_path):
    monkeypatch.setenv("JUPYTER_PAPERS_MODEL", str(tmp_path / "nowhere"))
    with pytest.raises(model.ModelUnavailable, match="holds no model.onnx"):
        model.find_model()
    status = embedded.meaning_status()
    assert status["state"] == "unavailable" and "nowhere" in status["message"]
    fresh = jp.open_index(tmp_path / "fresh")
    fresh.add(list(embedded.papers())[:10])
    assert fresh.search(WEATHER).meaning is None and not fresh.embed_later(asked=True)
    fresh.close()


def test_without_the_extra_nothing_heavy_is_imported(tmp_path):
    code = ("import sys, jupyter_papers as jp\n"
            f"ix = jp.open_index({str(tmp_path / 'ix')!r}); ix.add(jp.read_papers(jp.bundled_corpus()))\n"
            "ix.search('weather forecasting with graph neural networks for the whole globe'); ix.more_like(ix.find('weather').id)\n"
            "print(sorted(m for m in ('onnxruntime', 'tokenizers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "JUPYTER_PAPERS_EMBED": "manual"}).stdout
    assert out.strip() == "[]"


def test_the_model_downloads_from_the_hub_into_a_folder_it_can_be_used_from(tmp_path, monkeypatch):
    """The hub's URL layout served on localhost with the packaged files (the model file
    stands in for the hub's; the test is of the download and the loading)."""
    hub = tmp_path / "hub" / "sentence-transformers" / "all-MiniLM-L6-v2" / "resolve" / "main"
    (hub / "onnx").mkdir(parents=True)
    packaged = model.find_model()
    shutil.copy(packaged.model, hub / "onnx" / "model_quint8_avx2.onnx")
    shutil.copy(packaged.tokenizer, hub / "tokenizer.json")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(
        http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "hub")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    try:
        target = model.download(tmp_path / "cache", progress=False)
    finally:
        server.shutdown()
    assert (target / "model.onnx").read_bytes() == packaged.model.read_bytes()
    assert not list(target.glob(".*.part"))
    monkeypatch.setenv("JUPYTER_PAPERS_MODEL", str(target))
    found = model.find_model()
    assert (found.origin, found.model, found.tokenizer) == ("setting", target / "model.onnx", target / "tokenizer.json")
    assert model.Encoder(found).encode(["weather"]).shape == (1, 384)


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jupyter_papers.cli", "--index", str(home / "ix"), *args],
                          capture_output=True, text=True, env={**os.environ, "JUPYTER_PAPERS_EMBED": "manual"})


def test_the_cli_embeds_with_progress_and_searches_by_meaning(papers_home):
    added = run_cli("add", str(jp.bundled_corpus()), home=papers_home)
    assert "meaning: 0 of 139 papers (`jupyter-papers semantic embed`)" in added.stdout
    embedded = run_cli("semantic", "embed", home=papers_home)
    assert "meaning: 139 papers embedded; 139 of 139 papers" in embedded.stdout
    assert "139/139" in embedded.stderr  # the progress bar
    search = run_cli("search", WEATHER, "--limit", "3", home=papers_home)
    assert "(by words and meaning)" in search.stdout and "Prithvi" in search.stdout
    words = run_cli("search", WEATHER, "--limit", "3", "--meaning", "off", home=papers_home)
    assert "meaning" not in words.stdout and "Prithvi" not in words.stdout
    assert "meaning: 139 of 139 papers" in run_cli("stats", home=papers_home).stdout


async def test_the_rest_api_reports_progress_starts_embedding_and_searches_by_meaning(jp_fetch):
    async def get(*parts, **params):
        response = await jp_fetch("jupyter-papers", *parts, params=params or None)
        return json.loads(response.body)

    status = await get("meaning")
    assert (status["state"], status["embedded"], status["papers"]) == ("partial", 0, 139)
    assert (await get("search", q=WEATHER))["meaning"] is None  # no vector yet: words alone
    started = json.loads((await jp_fetch("jupyter-papers", "meaning", method="POST", body="")).body)
    assert started["state"] == "embedding"
    deadline = time.monotonic() + 300
    while (status := await get("meaning"))["state"] != "complete":
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.2)
    results = await get("search", q=WEATHER, limit="3")
    assert results["meaning"] == {"embedded": 139, "papers": 139}
    assert PRITHVI in [hit["paper"]["title"] for hit in results["hits"]]
    assert (await get("search", q="weather", meaning="on"))["meaning"] is not None
    assert (await get("search", q=WEATHER, meaning="off"))["meaning"] is None
    paper_id = results["hits"][0]["paper"]["id"]
    assert (await get("papers", paper_id, "related", meaning="off"))["meaning"] is None
    assert (await get("papers", paper_id, "related"))["meaning"] is not None
    with pytest.raises(Exception) as refused:
        await get("search", q="weather", meaning="sometimes")
    assert refused.value.code == 400


def test_the_magic_embeds_with_progress_and_finds_papers_for_a_claim_by_meaning(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    cells = ["%load_ext jupyter_papers",
             f"%papers --index {tmp_path / 'ix'} --add {jp.bundled_corpus()}",
             "%papers --embed",
             f'r = %papers --for "{WEATHER}" --limit 3\nprint(r.meaning_label, [h.paper.title for h in r])',
             f'r = %papers --for "{WEATHER}" --limit 3 --meaning off\nprint(r.meaning, [h.paper.title for h in r])',
             f'%papers --for "{WEATHER}" --limit 3']
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [cell.outputs for cell in notebook.cells]
    stream = lambda i, name="stdout": "".join(  # noqa: E731
        o.get("text", "") for o in outputs[i] if o.output_type == "stream" and o.name == name)
    assert "%papers: meaning: 139 papers embedded now; 139 of 139 papers have a vector" in stream(2)
    assert "139/139" in stream(2, "stderr")  # tqdm's bar
    assert stream(3).startswith("by words and meaning [") and PRITHVI in stream(3)
    assert stream(4).startswith("None [") and PRITHVI not in stream(4)
    assert "by words and meaning" in outputs[5][0]["data"]["text/html"]
