"""The benchmark suite: speed, memory and search quality of the index, beside SQLite FTS5
run in the same process on the same corpus and queries.

    python benchmarks/run.py --sizes demo 10000 50000 all --synthetic 1000000
    python benchmarks/run.py --smoke          # what CI runs, so the suite cannot rot

Writes benchmarks/results.md (and results.json) with the machine's description. Times are
medians and percentiles of warm queries; every latency also appears as a ratio to FTS5's.
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import jupyter_papers as jp  # noqa: E402
import fts5  # noqa: E402
import workload  # noqa: E402

RESULTS = HERE / "results"
WARMUP_SEED = 12  # the timed queries use workload.queries' default seed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return (time.perf_counter() - start) * 1000, result


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    memory = ""
    if Path("/proc/meminfo").exists():
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB"
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}, {platform.system()}"


PEAK_CODE = """
def peak_mb():
    # the process's own high-water mark: Linux keeps ru_maxrss across exec, so a child
    # started from this benchmark (holding a corpus of papers) reported the benchmark's size
    try:
        status = dict(line.split(':', 1) for line in open('/proc/self/status'))
        return int(status['VmHWM'].split()[0]) / 1024
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""


def child(code: str, *args: str) -> dict:
    """Run code in a fresh Python process; it prints one JSON line. Adds peak memory."""
    script = ("import json, resource, sys, time\n" + PEAK_CODE + code +
              "\nresult['peak_mb'] = peak_mb()\nprint(json.dumps(result))")
    output = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                            cwd=str(HERE), env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    if output.returncode:
        raise RuntimeError(f"benchmark child process failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


IMPORT_CODE = """
import itertools, jupyter_papers as jp, workload
path, size = sys.argv[1], sys.argv[2]
if size == 'demo':
    papers = jp.read_papers(jp.bundled_corpus())
elif size.startswith('synthetic:'):
    papers = workload.synthetic(int(size.split(':')[1]))
else:
    papers = itertools.islice(jp.read_papers(workload.MLANTHOLOGY), None if size == 'all' else int(size))
start = time.perf_counter()
index = jp.open_index(path)
report = index.add(papers, procs=2)  # as `jupyter-papers add` does on this 2-core machine
seconds = time.perf_counter() - start
result = {'papers': len(index), 'seconds': seconds,
          'worker_peak_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}
"""

COLD_CODE = """
import jupyter_papers as jp
start = time.perf_counter()
index = jp.open_index(sys.argv[1])
index.search(sys.argv[2])
result = {'ms': (time.perf_counter() - start) * 1000}
"""

HOLD_CODE = """
import jupyter_papers as jp
index = jp.open_index(sys.argv[1])
for query in json.loads(sys.argv[2]):
    index.search(query)
status = dict(line.split(':', 1) for line in open('/proc/self/status'))
result = {name: int(status[name].split()[0]) / 1024 for name in ('RssAnon', 'RssFile')}
"""


def import_index(size: str, path: Path) -> dict:
    shutil.rmtree(path, ignore_errors=True)
    figures = child(IMPORT_CODE, str(path), size)
    figures["size_mb"] = sum(f.stat().st_size for f in path.iterdir()) / 1e6
    figures["per_second"] = figures["papers"] / figures["seconds"]
    return figures


def latencies(search, queries: dict[str, list[str]], warmup: dict[str, list[str]]) -> tuple[dict[str, list[float]], list]:
    """Each query's time, by kind, and what each search returned. The warm-up queries,
    others than the timed ones, run first, and each kind's again just before it: they
    warm the OS page cache (which this machine empties of files not read for a minute)
    and the index's per-snapshot memory, and must not answer the timed queries in advance."""
    for kind_queries in warmup.values():
        for query in kind_queries:
            search(query)
    measured, answers = {}, []
    for kind, kind_queries in queries.items():
        for query in warmup.get(kind, []):
            search(query)
        times = []
        for query in kind_queries:
            ms, answer = timed(search, query)
            times.append(ms)
            answers.append(answer)
        measured[kind] = times
    return measured, answers


def summarize(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {kind: {"p50": statistics.median(v), "p95": percentile(v, 95), "p99": percentile(v, 99), "n": len(v)}
            for kind, v in times.items() if v}


def rest_round_trip(index_dir: Path, queries: list[str], warmup: list[str]) -> dict[str, float]:
    """p50/p95 of GET /jupyter-papers/search through a real jupyter_server (after ``warmup``)."""
    import socket
    import urllib.error
    import urllib.parse
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = "benchmark"
    home = Path(tempfile.mkdtemp())
    shutil.copytree(index_dir, home / "index")
    env = {**os.environ, "JUPYTER_PAPERS_HOME": str(home)}
    log = RESULTS / "rest-server.log"
    RESULTS.mkdir(exist_ok=True)
    server = subprocess.Popen([sys.executable, "-m", "jupyter_server", f"--port={port}", "--no-browser",
                               f"--ServerApp.token={token}", "--allow-root", f"--ServerApp.root_dir={home}"],
                              env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/jupyter-papers/search?"
    headers = {"Authorization": f"token {token}"}

    def get(query):
        request = urllib.request.Request(base + urllib.parse.urlencode({"q": query, "limit": 10}), headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()

    try:
        for _ in range(100):
            try:
                get("warm up")
                break
            except OSError:
                time.sleep(0.3)
        for query in warmup:
            get(query)
        times, errors = [], []
        for query in queries:
            try:
                times.append(timed(get, query)[0])
            except urllib.error.HTTPError as error:
                errors.append(f"{query!r}: {error.code} {error.read()[:200]!r}")
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(home, ignore_errors=True)
    return {"p50": statistics.median(times), "p95": percentile(times, 95), "n": len(times), "errors": errors}


def ndcg_at_10(ranked: list[str], relevant: dict[str, int]) -> float:
    gains = sum(relevant.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:10]))
    ideal = sum(g / math.log2(rank + 2) for rank, g in enumerate(sorted(relevant.values(), reverse=True)[:10]))
    return gains / ideal if ideal else 0.0


def _qrels(split: str) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for line in open(workload.SCIFACT / split, encoding="utf-8").read().splitlines()[1:]:
        query_id, doc_id, score = line.split("\t")
        qrels.setdefault(query_id, {})[f"sf{doc_id}"] = int(score)
    return qrels


def scifact_corpus() -> tuple[list, dict[str, str]]:
    """SciFact's abstracts as papers, and its claims by id."""
    corpus = [json.loads(line) for line in gzip.open(workload.SCIFACT / "corpus.jsonl.gz", "rt", encoding="utf-8")]
    papers = [jp.Paper(id=f"sf{doc['_id']}", title=doc.get("title", ""), abstract=doc.get("text", "")) for doc in corpus]
    queries = {q["_id"]: q["text"] for q in map(json.loads, open(workload.SCIFACT / "queries.jsonl", encoding="utf-8"))}
    return papers, queries


def scifact_runs(engines: dict, queries: dict[str, str], report: dict) -> dict:
    """Each engine's nDCG@10 on the train and test splits, and its time per claim on test."""
    for split, name in (("qrels_train.tsv", "train"), ("qrels.tsv", "test")):
        qrels = _qrels(split)
        for engine, search in engines.items():
            search(queries[next(iter(qrels))])  # warm
            quality, times = [], []
            for query_id, relevant in qrels.items():
                ms, ranked = timed(search, queries[query_id])
                quality.append(ndcg_at_10(ranked, relevant))
                times.append(ms)
            report[f"{engine}_{name}"] = statistics.mean(quality)
            if name == "test":
                report[f"{engine}_ms"] = {"mean": statistics.mean(times), "p50": statistics.median(times),
                                          "p95": percentile(times, 95), "n": len(times)}
        report["queries"] = len(qrels)
    return report


def scifact(work: Path) -> dict:
    """SciFact: each claim's papers, nDCG@10 on the test split and (what the ranking was
    tuned on) the train split, and time per claim, for our index and FTS5 in this process."""
    papers, queries = scifact_corpus()
    index = jp.open_index(work / "scifact-index")
    index.add(papers)
    baseline = fts5.build(papers, work / "scifact.sqlite")
    engines = {"ours": lambda text: [h.paper.id for h in index.search(text, limit=10, prefix=False, highlights=False)],
               "fts5": lambda text: [row[0] for row in baseline.search(text, limit=10, prefix=False)]}
    report = scifact_runs(engines, queries, {"published_bm25": 0.665})
    index.close()
    baseline.close()
    return report


def known_item_run(search, ids_of, items: dict[str, list[tuple[str, str]]],
                   warmup: dict[str, list[tuple[str, str]]]) -> tuple[dict, dict]:
    """Times by kind, and how well each kind finds its paper: MRR and hit@10. Warmed up
    kind by kind, as ``latencies``."""
    times, quality = {}, {}
    for kind, pairs in items.items():
        for query, _ in warmup.get(kind, []):
            search(query)
        spent, reciprocal, hits = [], [], 0
        for query, target in pairs:
            ms, answer = timed(search, query)
            ranked = ids_of(answer)
            spent.append(ms)
            reciprocal.append(1 / (ranked.index(target) + 1) if target in ranked else 0.0)
            hits += target in ranked
        times[kind] = spent
        quality[kind] = {"mrr": statistics.mean(reciprocal), "hit10": hits / len(pairs), "n": len(pairs)}
    return times, quality


def run_size(size: str, work: Path, per_kind: int, rest: bool) -> dict:
    path = work / f"index-{size.replace(':', '-')}"
    imported = import_index(size, path)
    if size == "demo":
        papers = list(jp.read_papers(jp.bundled_corpus()))
    elif size.startswith("synthetic:"):
        papers = list(workload.synthetic(int(size.split(":")[1])))
    else:
        papers = workload.mlanthology(None if size == "all" else int(size))
    query_set = workload.queries(papers, per_kind=per_kind)
    warmup = workload.queries(papers, per_kind=5, seed=WARMUP_SEED)
    baseline_start = time.perf_counter()
    baseline = fts5.build(papers, work / f"fts5-{size.replace(':', '-')}.sqlite")
    baseline_seconds = time.perf_counter() - baseline_start
    index = jp.open_index(path)
    our_times, answers = latencies(lambda q: index.search(q, limit=10), query_set, warmup)
    ours = summarize(our_times)
    theirs = summarize(latencies(lambda q: baseline.search(q, limit=10), query_set, warmup)[0])
    items = workload.known_items(papers, per_kind=per_kind)
    warm_items = workload.known_items(papers, per_kind=5, seed=WARMUP_SEED)
    item_times, our_quality = known_item_run(lambda q: index.search(q, limit=10),
                                             lambda results: [h.paper.id for h in results.hits], items, warm_items)
    fts5_times, fts5_quality = known_item_run(lambda q: baseline.search(q, limit=10),
                                              lambda rows: [row[0] for row in rows], items, warm_items)
    ours.update(summarize(item_times))
    theirs.update(summarize(fts5_times))
    truncated = sum(answer.truncated for answer in answers)
    index.close()
    baseline.close()
    first_query = query_set["one_word"][0]
    cold = [child(COLD_CODE, str(path), first_query)["ms"] for _ in range(3)]
    held = child(HOLD_CODE, str(path), json.dumps([q for qs in query_set.values() for q in qs][:200]))
    result = {
        "size": size, "papers": imported["papers"], "import": imported, "fts5_import_seconds": baseline_seconds,
        "latency": ours, "fts5_latency": theirs, "truncated_queries": truncated,
        "known_item": {"ours": our_quality, "fts5": fts5_quality},
        "cold_start_ms": statistics.median(cold), "holding_memory_mb": held["peak_mb"],
        "holding_anon_mb": held["RssAnon"], "holding_file_mb": held["RssFile"],
    }
    if rest:
        result["rest"] = rest_round_trip(path, query_set["two_three_words"] + query_set["as_you_type"][:60],
                                         [query for queries in warmup.values() for query in queries])
    return result


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.1f}x" if theirs > 0 else "-"


def markdown(report: dict) -> str:
    lines = ["# Benchmark results", "", f"Machine: {report['machine']}", f"Run: {report['started']} "
             f"({report['mode']}), command: `{report['command']}`", ""]
    for result in report["sizes"]:
        imported = result["import"]
        lines += [f"## {result['size']}: {result['papers']:,} papers", "",
                  f"- import (2 processes): {imported['seconds']:.1f} s ({imported['per_second']:.0f} papers/s), peak "
                  f"memory {imported['peak_mb']:.0f} MB reading + {imported['worker_peak_mb']:.0f} MB per "
                  f"indexing process, index {imported['size_mb']:.1f} MB on disk "
                  f"(FTS5: {result['fts5_import_seconds']:.1f} s)",
                  f"- cold start (new process: open + first query): {result['cold_start_ms']:.0f} ms",
                  f"- memory of a process holding the index open after 200 queries: peak {result['holding_memory_mb']:.0f} MB; "
                  f"at the end {result['holding_anon_mb']:.0f} MB own + {result['holding_file_mb']:.0f} MB mapped index files",
                  f"- queries cut short by the time limit: {result['truncated_queries']}"]
        if "rest" in result:
            lines.append(f"- REST round trip (GET /jupyter-papers/search): p50 {result['rest']['p50']:.1f} ms, "
                         f"p95 {result['rest']['p95']:.1f} ms over {result['rest']['n']} queries; "
                         f"failed requests: {len(result['rest']['errors'])} {result['rest']['errors'][:3]}")
        lines += ["", "| query kind | n | p50 ms | p95 ms | p99 ms | FTS5 p50 | FTS5 p95 | p50 ratio | p95 ratio |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for kind, ours in result["latency"].items():
            theirs = result["fts5_latency"].get(kind, {"p50": float("nan"), "p95": float("nan")})
            lines.append(f"| {kind} | {ours['n']} | {ours['p50']:.1f} | {ours['p95']:.1f} | {ours['p99']:.1f} | "
                         f"{theirs['p50']:.1f} | {theirs['p95']:.1f} | {ratio(ours['p50'], theirs['p50'])} | "
                         f"{ratio(ours['p95'], theirs['p95'])} |")
        lines.append("")
        if "known_item" in result:
            found = result["known_item"]
            lines += ["Known-item quality (each query is for one paper): MRR and hit@10", "",
                      "| query kind | n | ours MRR | FTS5 MRR | ours hit@10 | FTS5 hit@10 |", "|---|---|---|---|---|---|"]
            for kind, ours in found["ours"].items():
                theirs = found["fts5"][kind]
                lines.append(f"| {kind} | {ours['n']} | {ours['mrr']:.3f} | {theirs['mrr']:.3f} | "
                             f"{ours['hit10']:.0%} | {theirs['hit10']:.0%} |")
            lines.append("")
    if "scifact" in report:
        quality = report["scifact"]
        ours_ms, fts5_ms = quality["ours_ms"], quality["fts5_ms"]
        lines += ["## SciFact: papers for a claim (5,183 abstracts)", "",
                  f"nDCG@10, test split ({quality['queries']} claims): ours {quality['ours_test']:.3f}, FTS5 (porter, "
                  f"bm25) {quality['fts5_test']:.3f}, published BM25 {quality['published_bm25']:.3f}. Train split "
                  f"(what the ranking was tuned on): ours {quality['ours_train']:.3f}, FTS5 {quality['fts5_train']:.3f}.",
                  "", f"Time per claim (test split): ours mean {ours_ms['mean']:.1f} ms, p50 {ours_ms['p50']:.1f}, "
                  f"p95 {ours_ms['p95']:.1f}; FTS5 mean {fts5_ms['mean']:.1f} ms, p50 {fts5_ms['p50']:.1f}, "
                  f"p95 {fts5_ms['p95']:.1f} (ratios: mean {ratio(ours_ms['mean'], fts5_ms['mean'])}, "
                  f"p95 {ratio(ours_ms['p95'], fts5_ms['p95'])}).", ""]
    if report.get("previous"):
        lines += [f"Previous full run, for comparison: [{report['previous']}]({report['previous']}).", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["demo", "10000", "50000", "all"],
                        help="demo, a number of mlanthology papers, all, or synthetic:N")
    parser.add_argument("--synthetic", type=int, default=0, help="also a seeded synthetic corpus of N papers")
    parser.add_argument("--per-kind", type=int, default=40, help="queries per kind")
    parser.add_argument("--smoke", action="store_true", help="a small, quick run (CI)")
    parser.add_argument("--no-rest", action="store_true")
    parser.add_argument("--no-scifact", action="store_true")
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    parser.add_argument("--previous", help="the file holding the run before this one (linked from the report)")
    args = parser.parse_args(argv)
    if args.smoke:
        workload.use_sample()
    sizes = ["demo", "2000"] if args.smoke else args.sizes + ([f"synthetic:{args.synthetic}"] if args.synthetic else [])
    per_kind = 5 if args.smoke else args.per_kind
    report = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M"), "mode": "smoke" if args.smoke else "full",
              "previous": args.previous,
              "command": "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:]), "sizes": []}
    with tempfile.TemporaryDirectory() as work:
        if not args.no_scifact:
            print("benchmark: scifact", file=sys.stderr, flush=True)
            report["scifact"] = scifact(Path(work))
        for size in sizes:  # the report is rewritten after each size: a long run shows its progress
            print(f"benchmark: {size}", file=sys.stderr, flush=True)
            report["sizes"].append(run_size(size, Path(work), per_kind, rest=not args.no_rest))
            write_report(report, args.output)
    print(markdown(report))
    return 0


def write_report(report: dict, output: Path) -> None:
    output.write_text(markdown(report) + "\n")
    output.with_suffix(".json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    sys.exit(main())
