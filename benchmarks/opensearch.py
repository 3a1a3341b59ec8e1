"""The OpenSearch backend beside Whoosh and SQLite FTS5 (issue 28), in one run on this
machine: import time, and the query kinds of benchmarks/run.py (p50/p95) with the
known-item quality, for each size. The node is one real OpenSearch 2.19.6 (the tests'
launcher, tests/opensearch_node/, heap 512 MB) on localhost.

    python benchmarks/opensearch.py [--sizes 10000 all] [--per-kind 40] [--write]
"""

from __future__ import annotations

import argparse
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
from tests.opensearch_cluster import Node, build_launcher, wait_for  # noqa: E402

SECTION = "## OpenSearch beside Whoosh and FTS5 (benchmarks/opensearch.py)"
ENGINES = ("whoosh", "opensearch", "fts5")


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def run_size(size: str, work: Path, url: str, per_kind: int) -> dict:
    papers = workload.mlanthology(None if size == "all" else int(size))
    imports = {}
    started = time.perf_counter()
    whoosh = jp.open_index(work / f"whoosh-{size}")
    whoosh.add(papers, procs=2)
    imports["whoosh"] = time.perf_counter() - started
    started = time.perf_counter()
    remote = jp.open_index(f"{url}/bench-{size}")
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
                  "size_in_bytes"] / 1e6, "whoosh_disk_mb": disk_mb(work / f"whoosh-{size}")}
    for engine in ENGINES:
        times = summarize(latencies(searches[engine], queries, warmup)[0])
        item_times, quality = known_item_run(searches[engine], ids_of[engine], items, warm_items)
        times.update(summarize(item_times))
        report[engine] = {"latency": times, "known_item": quality}
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
                  f"({size['papers'] / imports['opensearch']:.0f} papers/s, bulk of 500), FTS5 {imports['fts5']:.0f} s. "
                  f"On disk: Whoosh {size['whoosh_disk_mb']:.0f} MB, OpenSearch {size['opensearch_store_mb']:.0f} MB "
                  "(primaries).", "",
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
            url = node.url.replace("http://", "opensearch://")
            with jp.open_index(f"{url}/version") as probe:
                report["version"] = probe.client.info()["version"]["number"]
            for size in args.sizes:
                print(f"benchmark: {size}", file=sys.stderr, flush=True)
                report["sizes"].append(run_size(size, work, url, args.per_kind))
        finally:
            node.stop()
    report["client_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    publish(report, markdown(report), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
