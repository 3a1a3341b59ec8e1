"""Shared fixtures: a real Whoosh index on disk, built from the bundled corpus."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import jupyter_papers as jp

pytest_plugins = ["pytest_jupyter.jupyter_server"]

# Papers are embedded for search by meaning only where a test asks (tests/test_meaning.py):
# a background embedder per index made would load the machine the suite runs on.
os.environ.setdefault("JUPYTER_PAPERS_EMBED", "manual")

DATA = Path(__file__).parent / "data"
BIB = DATA / "bib"


@pytest.fixture(autouse=True)
def papers_home(tmp_path, monkeypatch):
    """Every test gets its own JUPYTER_PAPERS_HOME: no test touches the user's index."""
    home = tmp_path / "home"
    monkeypatch.setenv("JUPYTER_PAPERS_HOME", str(home))
    return home


@pytest.fixture
def recorded_web(monkeypatch):
    """doi.org, Crossref, arXiv and NCBI as real recorded responses on a local server
    (tests/recorded_web.py); the online lookups of this test go there, and nowhere else."""
    from pytest_httpserver import HTTPServer

    from .recorded_web import RecordedWeb

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    web = RecordedWeb(server)
    for name, url in web.environment.items():
        monkeypatch.setenv(name, url)
    monkeypatch.delenv("JUPYTER_PAPERS_ONLINE", raising=False)
    yield web
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory):
    """The bundled demo corpus, indexed once per session (read-only in tests)."""
    index = jp.open_index(tmp_path_factory.mktemp("demo") / "index")
    index.add(jp.read_papers(jp.bundled_corpus()))
    yield index
    index.close()


@pytest.fixture
def empty_index(tmp_path):
    index = jp.open_index(tmp_path / "index")
    yield index
    index.close()


@pytest.fixture
def resonance(demo_index):
    return demo_index.get("2403.00071")


def write_jsonl(path, start: int, count: int, prefix: str = "mine"):
    """Papers of the user's own, ids ``{prefix}-{n}``, as JSON Lines."""
    with open(path, "w", encoding="utf-8") as out:
        for n in range(start, start + count):
            out.write(json.dumps({"id": f"{prefix}-{n}", "title": f"Paper {prefix} {n} on topic {n % 17}",
                                  "abstract": f"Abstract {n} about things", "authors": [f"Ann Author{n % 13}"],
                                  "year": 2000 + n % 25}) + "\n")
    return path


def count(path) -> int:
    with jp.open_index(path) as index:
        return len(index)


@pytest.fixture
def thousand(tmp_path):
    """An index of 1,000 papers of the user's own."""
    path = tmp_path / "index"
    index = jp.open_index(path)
    index.add(jp.read_papers(write_jsonl(tmp_path / "mine.jsonl", 0, 1000)))
    index.close()
    return path


@pytest.fixture
def jp_server_config():
    """jupyter_server with our extension enabled, as the installed config file does."""
    return {"ServerApp": {"jpserver_extensions": {"jupyter_papers.server": True}}}


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory):
    """One real OpenSearch node on localhost for the session (tests/opensearch_cluster.py)."""
    from .opensearch_cluster import Node, build_launcher, wait_for

    missing = build_launcher()
    if missing:
        pytest.fail(missing)
    node = Node("solo", tmp_path_factory.mktemp("opensearch") / "solo")
    node.start([node], [node])
    try:
        wait_for(node.url, 1, watched=[node])
        yield node.url.replace("http://", "opensearch://")
    finally:
        node.stop()
