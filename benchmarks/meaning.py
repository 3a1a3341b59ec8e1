"""Search by meaning (issue 27), measured: quality, speed, embedding cost, size, memory.

1. SciFact (5,183 abstracts, claims as queries): nDCG@10 by words alone and by words and
   meaning (the hybrid ``PaperIndex.search`` uses for sentences), train and test; a claim
   end to end (encoding, re-ranking, highlights) p50/p95 beside words alone and SQLite
   FTS5 in this process; embedding throughput; vector bytes per 1,000 papers.
2. Related papers on --related real papers (ML Anthology): a weak label (another paper of
   the same venue sharing an author) for more_like by words and fused with meaning; the
   time to embed them.
3. The exact scan of every vector (nearest neighbours, for related papers) at 158k and 1M
   papers (vectors of random directions: the speed does not depend on what they mean),
   and the memory of a process that searches with meaning at 158k.

    python benchmarks/meaning.py [--related 10000] [--write]
    JUPYTER_PAPERS_DATA=/path/to/shared/data python benchmarks/meaning.py ...
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402

import fts5  # noqa: E402
import workload  # noqa: E402
from run import percentile, scifact_corpus, scifact_runs, timed  # noqa: E402
from sections import publish  # noqa: E402

import jupyter_papers as jp  # noqa: E402
from jupyter_papers.backends.whoosh.vectors import SegmentVectors, folder, similarities  # noqa: E402

SECTION = "## Search by meaning (benchmarks/meaning.py)"


def cpu_seconds() -> float:
    """This process's and its finished children's CPU time (embedding runs threads here)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def embedded(index) -> dict:
    wall, cpu = time.perf_counter(), cpu_seconds()
    count = index.embed()
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    size = sum(p.stat().st_size for p in folder(index.path).iterdir() if p.suffix in (".i8", ".scale", ".keys"))
    return {"papers": count, "seconds": wall, "per_second": count / wall, "per_cpu_second": count / cpu,
            "bytes_per_1000": size / len(index) * 1000}


def scifact(work: Path) -> dict:
    papers, queries = scifact_corpus()
    index = jp.open_index(work / "scifact")
    index.add(papers)
    report = {"embedding": embedded(index)}
    baseline = fts5.build(papers, work / "scifact.sqlite")
    engines = {
        "hybrid": lambda text: [h.paper.id for h in index.search(text, limit=10, prefix=False, meaning=True)],
        "words": lambda text: [h.paper.id for h in index.search(text, limit=10, prefix=False, meaning=False)],
        "fts5": lambda text: [row[0] for row in baseline.search(text, limit=10, prefix=False)],
    }
    scifact_runs(engines, queries, report)
    index.close()
    baseline.close()
    return report


def related(work: Path, count: int, asked: int = 300) -> dict:
    """Papers of the same venue sharing an author, as the relatives more_like should find."""
    papers = [p for p in workload.mlanthology(count) if p.abstract and p.venue and p.authors]
    index = jp.open_index(work / "related")
    index.add(papers)
    report = {"corpus": len(papers), "embedding": embedded(index)}
    by_author: dict[tuple[str, str], set[str]] = {}
    for paper in papers:
        for author in paper.authors:
            by_author.setdefault((paper.venue, str(author)), set()).add(paper.id)
    relatives = {p.id: set().union(*(by_author[(p.venue, str(a))] for a in p.authors)) - {p.id} for p in papers}
    chosen = random.Random(5).sample([p for p in papers if relatives[p.id]], min(asked, len(papers)))
    for name, meaning in (("words", False), ("fused", True)):
        precision, hit, times = [], [], []
        for paper in chosen:
            ms, results = timed(index.more_like, paper.id, 5, meaning)
            found = [h.paper.id for h in results.hits]
            precision.append(sum(i in relatives[paper.id] for i in found) / 5)
            hit.append(any(i in relatives[paper.id] for i in found))
            times.append(ms)
        report[name] = {"precision_at_5": statistics.mean(precision), "hit_at_5": statistics.mean(hit),
                        "p50": statistics.median(times), "p95": percentile(times, 95)}
    report["queries"] = len(chosen)
    index.close()
    return report


def scan(work: Path, papers: int, queries: int = 30) -> dict:
    """Every vector of ``papers`` random unit vectors scored against a query."""
    rng = np.random.default_rng(3)
    vectors = SegmentVectors.create(work / f"scan{papers}", "segment", "bench", papers, 384)
    for start in range(0, papers, 100_000):
        block = rng.standard_normal((min(100_000, papers - start), 384)).astype(np.float32)
        vectors.fill(block / np.linalg.norm(block, axis=1, keepdims=True), np.zeros(len(block), dtype=np.uint64))
    vectors.commit(work / f"scan{papers}", "bench")
    times = []
    for _ in range(queries):
        query = rng.standard_normal(384).astype(np.float32)
        ms, _ = timed(similarities, vectors, query / np.linalg.norm(query))
        times.append(ms)
    return {"papers": papers, "p50": statistics.median(times), "p95": percentile(times, 95),
            "mb_on_disk": papers * (384 + 4 + 8) / 1e6}


MEMORY = """
import sys
from jupyter_papers.backends.whoosh.vectors import SegmentVectors, similarities
from jupyter_papers.meaning.model import encoder
vectors = SegmentVectors.open(__import__('pathlib').Path(sys.argv[1]), "segment", "bench")
e = encoder()
for text in ["a claim about proteins that fold", "deep networks generalise when they are wide"] * 10:
    similarities(vectors, e.encode([text])[0])
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) / 1024)
"""


def memory(work: Path, papers: int) -> float:
    """Peak resident MB of a process that loads the model and scans ``papers`` vectors
    (VmHWM: ru_maxrss would count this process's peak, kept across fork and exec)."""
    out = subprocess.run([sys.executable, "-c", MEMORY, str(work / f"scan{papers}")], check=True,
                         capture_output=True, text=True, cwd=HERE.parent).stdout
    return float(out.strip())


def markdown(report: dict) -> list[str]:
    sf, rel = report["scifact"], report.get("related")
    e = sf["embedding"]
    lines = [SECTION, "",
             f"`python benchmarks/meaning.py --write`, {report['when']}, {report['machine']}. The model: "
             "all-MiniLM-L6-v2 as int8 ONNX (the `[semantic]` extra), batches of 4 on onnxruntime's threads.", "",
             "| SciFact nDCG@10 | train | test |", "|---|---|---|",
             f"| words and meaning (sentences' default) | {sf['hybrid_train']:.3f} | {sf['hybrid_test']:.3f} |",
             f"| words alone (`meaning=False`) | {sf['words_train']:.3f} | {sf['words_test']:.3f} |",
             f"| SQLite FTS5 | {sf['fts5_train']:.3f} | {sf['fts5_test']:.3f} |", "",
             "| a claim, end to end (test split) | p50 ms | p95 ms | p95 vs FTS5 |", "|---|---|---|---|"]
    for name, label in (("hybrid", "words and meaning (encode, re-rank 100, highlights)"),
                        ("words", "words alone (highlights)"), ("fts5", "SQLite FTS5 (bm25)")):
        ms = sf[f"{name}_ms"]
        lines.append(f"| {label} | {ms['p50']:.1f} | {ms['p95']:.1f} | {ms['p95'] / sf['fts5_ms']['p95']:.1f}x |")
    lines += ["", f"Embedding: {e['papers']:,} SciFact abstracts in {e['seconds']:.0f} s "
              f"({e['per_second']:.1f} papers/s on the machine, {e['per_cpu_second']:.1f} per CPU-second); "
              f"vectors on disk {e['bytes_per_1000'] / 1000:.0f} kB per 1,000 papers."]
    if rel:
        r = rel["embedding"]
        per_hour = r["per_second"] * 3600
        lines += [f"{rel['corpus']:,} ML Anthology papers embedded in {r['seconds'] / 60:.1f} min "
                  f"({r['per_second']:.1f} papers/s): 158k papers would take {157_332 / per_hour:.1f} h, "
                  f"1M {1_000_000 / per_hour:.1f} h on this machine.", "",
                  f"| related papers ({rel['queries']} papers with a relative in {rel['corpus']:,}) | precision@5 | "
                  "hit@5 | p50 ms | p95 ms |", "|---|---|---|---|---|"]
        for name, label in (("words", "more_like by words"), ("fused", "fused with nearest by meaning")):
            x = rel[name]
            lines.append(f"| {label} | {x['precision_at_5']:.3f} | {x['hit_at_5']:.3f} | {x['p50']:.1f} | {x['p95']:.1f} |")
        lines.append("")
        lines.append("Relatives: another paper of the same venue sharing an author (a weak label: it rewards "
                     "topic and group, not only meaning).")
    lines += ["", "| exact scan of every vector (random directions) | p50 ms | p95 ms | MB on disk |",
              "|---|---|---|---|"]
    for s in report["scan"]:
        lines.append(f"| {s['papers']:,} papers | {s['p50']:.1f} | {s['p95']:.1f} | {s['mb_on_disk']:.0f} |")
    lines += ["", f"A process with the model loaded that scanned 157,332 vectors 20 times: peak "
              f"{report['memory_mb']:.0f} MB resident (the vectors are mapped, shared through the page cache)."]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--related", type=int, default=10_000, help="ML Anthology papers for related papers (0: skip)")
    parser.add_argument("--write", action="store_true", help="put the figures in benchmarks/results.md")
    args = parser.parse_args(argv)
    from run import machine

    report: dict = {"when": time.strftime("%Y-%m-%d %H:%M"), "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="meaning-bench-") as work:
        work = Path(work)
        print("benchmark: scifact", file=sys.stderr, flush=True)
        report["scifact"] = scifact(work)
        if args.related:
            print("benchmark: related papers", file=sys.stderr, flush=True)
            report["related"] = related(work, args.related)
        print("benchmark: scans", file=sys.stderr, flush=True)
        report["scan"] = [scan(work, n) for n in (157_332, 1_000_000)]
        report["memory_mb"] = memory(work, 157_332)
    publish(report, markdown(report), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
