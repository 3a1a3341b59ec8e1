"""A cluster of two real OpenSearch nodes (a cluster manager with data, and a data node),
one replica of every shard: a node stopped during a search load and during an import
loses nothing, and searches go on while the cluster is yellow."""

from __future__ import annotations

import threading
import time

import pytest

import jupyter_papers as jp

from .conftest import write_jsonl
from .opensearch_cluster import Node, build_launcher, health, wait_for


@pytest.fixture
def cluster(tmp_path):
    missing = build_launcher()
    if missing:
        pytest.fail(missing)
    manager = Node("manager", tmp_path / "manager")
    data = Node("data", tmp_path / "data", roles="data")
    for node in (manager, data):
        node.start([manager, data], [manager])
    try:
        wait_for(manager.url, 2, watched=[manager, data])
        yield manager, data
    finally:
        data.stop()
        manager.stop()


class SearchLoad(threading.Thread):
    """Searches one after another until stopped, keeping every answer's total and error."""

    def __init__(self, index, query: str):
        super().__init__(daemon=True)
        self.index, self.query = index, query
        self.totals: list[int] = []
        self.errors: list[str] = []
        self.running = True

    def run(self):
        while self.running:
            try:
                self.totals.append(self.index.search(self.query, limit=5).total)
            except Exception as error:  # what a client sees while a node goes away
                self.errors.append(f"{type(error).__name__}: {error}")

    def stop(self):
        self.running = False
        self.join(60)


def test_a_node_stopped_under_search_load_and_during_an_import_loses_nothing(cluster, tmp_path):
    manager, data = cluster
    index = jp.open_index(f"{manager.url.replace('http://', 'opensearch://')}/papers?replicas=1")
    index.add(jp.read_papers(write_jsonl(tmp_path / "first.jsonl", 0, 1000)))
    assert wait_for(manager.url, 2)["active_shards"] == 2  # a primary and its replica, on the two nodes

    load = SearchLoad(index, "paper topic")
    load.start()
    while len(load.totals) < 20:
        time.sleep(0.05)
    data.stop()  # the node goes away mid-load
    yellow = wait_for(manager.url, 1, status=("yellow",))
    seen = len(load.totals)
    while len(load.totals) < seen + 20:
        time.sleep(0.05)
    load.stop()
    assert yellow["unassigned_shards"] == 1  # the replica has nowhere to go
    assert set(load.totals) == {1000}, "every search answered, and whole"
    assert load.errors == [], load.errors[:3]

    data.start([manager, data], [manager])
    wait_for(manager.url, 2, watched=[manager, data])  # the replica copied back: green
    importing = threading.Thread(target=index.add, args=(jp.read_papers(write_jsonl(tmp_path / "more.jsonl",
                                                                                        1000, 3000)),))
    importing.start()
    while index.client.count(index=index.alias)["count"] < 1500 and importing.is_alive():
        time.sleep(0.05)
    assert importing.is_alive(), "the import was over before the node could be stopped during it"
    data.stop()  # the node goes away while papers are being sent
    importing.join(600)
    assert not importing.is_alive()
    assert health(manager.url)["status"] == "yellow"
    assert len(index) == 4000
    assert index.get("mine-3999").title == "Paper mine 3999 on topic 4"
