"""The OpenSearch backend beside Whoosh and SQLite FTS5 (issue 28), in one run on this
machine: import time, and the query kinds of benchmarks/run.py (p50/p95) with the
known-item quality, for each size. The node is one real OpenSearch 2.19.6 (the tests'
launcher, tests/opensearch_node/, heap 512 MB) on localhost.

    python benchmarks/opensearch.py [--sizes 10000 all synthetic:1000000] [--per-kind 40] [--write]
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import fts5  # noqa: E402
import workload  # noqa: E402
from run import WARMUP_SEED, known_item_run, latencies, machine, summarize  # noqa: E402
from sections import publish  # noqa: E402

import jupyter_papers as jp  # noqa: E402
from jupyter_papers.backends.opensearch import BULK_CHUNK  # noqa: E402
from tests.opensearch_cluster import Node, build_launcher, wait_for  # noqa: E402

SECTION = "## OpenSearch beside Whoosh and FTS5 (benchmarks/opensearch.py)"
ENGINES = ("whoosh", "opensearch", "fts5")


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def corpus(size: str) -> list:
    if size.startswith("synthetic:"):
        return list(workload.synthetic(int(size.split(":")[1])))
    return workload.mlanthology(None if size == "all" else int(size))


def node_memory(node: Node, client) -> dict:
    """The node's resident memory (now and at its peak, from /proc) and its Java heap."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{node.process.pid}/status").read_text().splitlines())
    jvm = next(iter(client.nodes.stats(metric="jvm")["nodes"].values()))["jvm"]["mem"]
    return {"rss_mb": int(status["VmRSS"].split()[0]) / 1024, "peak_rss_mb": int(status["VmHWM"].split()[0]) / 1024,
            "heap_used_mb": jvm["heap_used_in_bytes"] / 2**20, "heap_max_mb": jvm["heap_max_in_bytes"] / 2**20,
            "old_peak_mb": jvm["pools"]["old"]["peak_used_in_bytes"] / 2**20}


def run_size(size: str, work: Path, node: Node, per_kind: int) -> dict:
    url = node.url.replace("http://", "opensearch://")
    papers = corpus(size)
    imports = {}
    started = time.perf_counter()
    whoosh = jp.open_index(work / f"whoosh-{size}")
    whoosh.add(papers, procs=2)
    imports["whoosh"] = time.perf_counter() - started
    started = time.perf_counter()
    remote = jp.open_index(f"{url}/bench-{size.replace(':', '-')}")
    remote.add(papers)
    imports["opensearch"] = time.perf_counter() - started
    started = time.perf_counter()
    baseline = fts5.build(papers, work / f"fts5-{size}.sqlite")
    imports["fts5"] = time.perf_counter() - started
    searches = {"whoosh": lambda q: whoosh.search(q, limit=10), "opensearch": lambda q: remote.search(q, limit=10),
                "fts5": lambda q: baseline.search(q, limit=10)}
    ids_of = {"whoosh": lambda r: [h.paper.id for h in r.hits], "opensearch": lambda r: [h.paper.id for h in r.hits],
              "fts5": lambda rows: [row[0] for row in rows]}
    queries = workload.queries(papers, per_kind=per_kind)
    warmup = workload.queries(papers, per_kind=5, seed=WARMUP_SEED)
    items = workload.known_items(papers, per_kind=per_kind)
    warm_items = workload.known_items(papers, per_kind=5, seed=WARMUP_SEED)
    report = {"size": size, "papers": len(papers), "import_seconds": imports,
              "opensearch_store_mb": remote.client.indices.stats(index=remote.alias)["_all"]["primaries"]["store"][
                  "size_in_bytes"] / 1e6, "whoosh_disk_mb": disk_mb(work / f"whoosh-{size}"),
              "node_after_import": node_memory(node, remote.client)}
    for engine in ENGINES:
        times = summarize(latencies(searches[engine], queries, warmup)[0])
        item_times, quality = known_item_run(searches[engine], ids_of[engine], items, warm_items)
        times.update(summarize(item_times))
        report[engine] = {"latency": times, "known_item": quality}
    report["node_after_queries"] = node_memory(node, remote.client)
    whoosh.close()
    remote.close()
    baseline.close()
    return report


def markdown(report: dict) -> list[str]:
    lines = [SECTION, "", f"`python benchmarks/opensearch.py --write`, {report['when']}, {report['machine']}; "
             f"one OpenSearch {report['version']} node, heap 512 MB, on the same machine as the client (2 cores "
             "shared by the engine, the client and the other two engines)."]
    for size in report["sizes"]:
        imports = size["import_seconds"]
        lines += ["", f"### {size['papers']:,} papers", "",
                  f"Import: Whoosh {imports['whoosh']:.0f} s (2 processes), OpenSearch {imports['opensearch']:.0f} s "
                  f"({size['papers'] / imports['opensearch']:.0f} papers/s, bulks of {BULK_CHUNK}), FTS5 "
                  f"{imports['fts5']:.0f} s. On disk: Whoosh {size['whoosh_disk_mb']:.0f} MB, OpenSearch "
                  f"{size['opensearch_store_mb']:.0f} MB (primaries, "
                  f"{size['opensearch_store_mb'] * 1e3 / size['papers']:.1f} kB a paper).", "",
                  f"The node after the import: {memory(size['node_after_import'])}; after the queries: "
                  f"{memory(size['node_after_queries'])}.", "",
                  "| query kind | Whoosh p50 | Whoosh p95 | OpenSearch p50 | OpenSearch p95 | FTS5 p50 | FTS5 p95 |",
                  "|---|---|---|---|---|---|---|"]
        for kind in size["whoosh"]["latency"]:
            cells = []
            for engine in ENGINES:
                t = size[engine]["latency"][kind]
                cells += [f"{t['p50']:.1f}", f"{t['p95']:.1f}"]
            lines.append(f"| {kind} | " + " | ".join(cells) + " |")
        lines += ["", "| known item (MRR) | Whoosh | OpenSearch | FTS5 |", "|---|---|---|---|"]
        for kind in size["whoosh"]["known_item"]:
            lines.append(f"| {kind} | " + " | ".join(f"{size[e]['known_item'][kind]['mrr']:.3f}" for e in ENGINES)
                         + " |")
    return lines + extrapolation(report["sizes"])


def memory(figures: dict) -> str:
    return (f"{figures['rss_mb']:.0f} MB resident (peak {figures['peak_rss_mb']:.0f}), heap "
            f"{figures['heap_used_mb']:.0f} of {figures['heap_max_mb']:.0f} MB used (old generation peak "
            f"{figures['old_peak_mb']:.0f})")


def extrapolation(sizes: list[dict], papers: int = 2_500_000) -> list[str]:
    """An arXiv-sized index from the two largest sizes measured: disk and import in
    proportion to papers; query times growing from the larger size at the power of the
    number of papers they grew with between the two (at most in proportion)."""
    if len(sizes) < 2:
        return []
    small, large = sorted(sizes, key=lambda size: size["papers"])[-2:]
    scale = papers / large["papers"]
    store_gb = large["opensearch_store_mb"] * scale / 1e3
    rate = large["papers"] / large["import_seconds"]["opensearch"]
    lines = ["", f"### What {papers / 1e6:.1f}M papers (arXiv-sized) would need, extrapolated", "",
             f"From the {small['papers']:,} and {large['papers']:,}-paper runs above, one shard on one node of this "
             "kind (2 cores shared with the client, heap 512 MB):", "",
             f"- Disk: {store_gb:.1f} GB of primaries ({large['opensearch_store_mb'] * 1e3 / large['papers']:.1f} kB "
             f"a paper at {large['papers']:,}); each replica as much again, on another node. Search reads the index "
             f"through the page cache: RAM beside the heap as large as the index ({store_gb:.0f} GB) keeps every query "
             "off the disk.",
             f"- Import: {papers / rate / 3600:.1f} h at the {rate:.0f} papers/s measured at {large['papers']:,} "
             "(the rate falls as the index grows: a lower bound).",
             f"- Heap: {large['node_after_queries']['heap_used_mb']:.0f} MB used of 512 after the queries at "
             f"{large['papers']:,} ({small['node_after_queries']['heap_used_mb']:.0f} at {small['papers']:,}); Lucene "
             "keeps its terms index off the heap, so the heap follows the load (bulk requests, aggregations), not the "
             "papers: 512 MB to 1 GB a node; resident "
             f"{large['node_after_queries']['peak_rss_mb']:.0f} MB at the peak.", "",
             f"| query kind | p95 at {small['papers']:,} | p95 at {large['papers']:,} | p95 at {papers:,} (one shard) "
             "| the same over 3 shards on 3 nodes |", "|---|---|---|---|---|"]
    if not small["size"].startswith("synthetic") and large["size"].startswith("synthetic"):
        lines[3:3] = ["(the larger set is synthetic, written from the ML Anthology's words: benchmarks/workload.py)", ""]
    for kind, times in large["opensearch"]["latency"].items():
        before, after = small["opensearch"]["latency"][kind]["p95"], times["p95"]
        power = min(1.0, max(0.0, math.log(after / before) / math.log(large["papers"] / small["papers"])))
        expected = after * scale ** power
        lines.append(f"| {kind} | {before:.0f} ms | {after:.0f} ms | {expected:.0f} ms | {expected / 3:.0f} ms |")
    lines += ["", "Over shards a query's work divides but each shard answers in full and the coordinating node "
              "merges: the last column is the best case, reached with a core per shard."]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["10000", "all"])
    parser.add_argument("--per-kind", type=int, default=40)
    parser.add_argument("--write", action="store_true", help="put the figures in benchmarks/results.md")
    args = parser.parse_args(argv)
    missing = build_launcher()
    if missing:
        sys.exit(missing)
    report: dict = {"when": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(), "sizes": []}
    with tempfile.TemporaryDirectory(prefix="opensearch-bench-") as work:
        work = Path(work)
        node = Node("bench", work / "node")
        node.start([node], [node])
        try:
            wait_for(node.url, 1, watched=[node])
            with jp.open_index(f"{node.url.replace('http://', 'opensearch://')}/version") as probe:
                report["version"] = probe.client.info()["version"]["number"]
            for size in args.sizes:
                print(f"benchmark: {size}", file=sys.stderr, flush=True)
                report["sizes"].append(run_size(size, work, node, args.per_kind))
        finally:
            node.stop()
    report["client_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    publish(report, markdown(report), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
