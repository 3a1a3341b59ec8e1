"""The full text of PDFs (issue 25), measured against SQLite FTS5 over the same page texts.

A library of --papers real papers (ML Anthology), of which the first --pdfs get a
generated PDF of --pages pages (reportlab; each page two real abstracts of other papers).
Measured: indexing those PDFs (PDFs/s, pages/s, bytes of page index per page), full-text
queries (words, four words in a row, a 12-word sentence from a page) p50/p95 for us
(``scope="fulltext"``, snippets included) and FTS5 (bm25, snippet(), grouped by paper),
the same at --large PDFs (page texts written straight into the page index: making 100k
pages of PDF is not what is measured), and the title/abstract queries of the library
before and after its PDFs were indexed (scope "all" and "metadata"), FTS5 beside them.

    python benchmarks/fulltext.py [--papers 10000] [--pdfs 1000] [--large 10000] [--pages 10] [--write]
    python benchmarks/fulltext.py --smoke     # small, from the samples the repository ships
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import workload  # noqa: E402
from sections import replace_section  # noqa: E402

import jupyter_papers as jp  # noqa: E402
from jupyter_papers.backends.whoosh.pages import FileText, PageIndex  # noqa: E402
from jupyter_papers.question import is_sentence  # noqa: E402
from jupyter_papers.fulltext import BATCH_FILES  # noqa: E402
from tests import pdfs  # noqa: E402

SECTION = "## Full text of PDFs (benchmarks/fulltext.py)"
KINDS = ("words", "four_in_a_row", "sentence")


def page_texts(abstracts: list[str], pdf: int, pages: int) -> list[str]:
    """PDF ``pdf``'s pages: two abstracts each, taken in turn from the pool."""
    start = pdf * pages * 2
    return [" ".join(abstracts[(start + 2 * page + k) % len(abstracts)] for k in (0, 1)) for page in range(pages)]


def queries(texts: list[list[str]], count: int, seed: int = 11) -> dict[str, list[tuple[str, int]]]:
    """(query, the PDF it was drawn from) of each kind, from random pages."""
    rng = random.Random(seed)
    drawn: dict[str, list[tuple[str, int]]] = {kind: [] for kind in KINDS}
    while any(len(found) < count for found in drawn.values()):
        pdf = rng.randrange(len(texts))
        words = [w for w in re.findall(r"[A-Za-z][a-z]+", rng.choice(texts[pdf])) if len(w) > 2]
        if len(words) < 20:
            continue
        content = [w for w in words if w.lower() not in workload.STOP]
        at = rng.randrange(len(words) - 12)
        candidates = {"words": " ".join(rng.sample(content, 3)), "four_in_a_row": " ".join(words[at:at + 4]),
                      "sentence": " ".join(words[at:at + 12])}
        for kind, query in candidates.items():
            if len(drawn[kind]) < count:
                drawn[kind].append((query, pdf))
    return drawn


class PagesFTS5:
    """The baseline: the page texts in an FTS5 table (porter, bm25), all words first,
    then any, grouped by paper with the best three pages' snippets, as our results are."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(str(path))
        self.db.execute("CREATE VIRTUAL TABLE pages USING fts5(paper UNINDEXED, page UNINDEXED, text, "
                        "tokenize='porter unicode61 remove_diacritics 2')")

    def add(self, paper: str, texts: list[str]) -> None:
        self.db.executemany("INSERT INTO pages VALUES (?, ?, ?)",
                            [(paper, number, text) for number, text in enumerate(texts, 1)])

    def search(self, query: str, limit: int = 10) -> list[str]:
        terms = [f'"{w}"' for w in re.findall(r"\w+", query)]
        rows = self._run(" AND ".join(terms), limit)
        if len({row[0] for row in rows}) < limit:
            rows += self._run(" OR ".join(terms), limit)
        papers: dict[str, list] = {}
        for paper, page, snippet in rows:
            if len(papers.setdefault(paper, [])) < 3:
                papers[paper].append((page, snippet))
        return list(papers)[:limit]

    def _run(self, match: str, limit: int) -> list[tuple]:
        return self.db.execute("SELECT paper, page, snippet(pages, 2, '<mark>', '</mark>', ' … ', 20) FROM pages "
                               "WHERE pages MATCH ? ORDER BY bm25(pages) LIMIT ?", (match, limit * 3)).fetchall()


def latency(search, drawn: dict[str, list[tuple[str, int]]], name_of) -> dict[str, dict]:
    """p50/p95 in ms per kind (after the kind's first five queries as a warm-up), and how
    often the page's own PDF came first."""
    figures = {}
    for kind, asked in drawn.items():
        for query, _ in asked[:5]:
            search(query)
        times, first = [], 0
        for query, pdf in asked:
            started = time.perf_counter()
            found = search(query)
            times.append((time.perf_counter() - started) * 1000)
            first += bool(found) and found[0] == name_of(pdf)
        times.sort()
        figures[kind] = {"p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))],
                         "first": first / len(asked)}
    return figures


def title_queries(papers, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    picked = []
    while len(picked) < count:
        words = [w for w in re.findall(r"\w+", rng.choice(papers).title) if w.lower() not in workload.STOP]
        if len(words) >= 2:
            picked.append(" ".join(words[:3]))
    return picked


def timed_all(search, asked: list[str]) -> dict:
    for query in asked[:5]:
        search(query)
    times = []
    for query in asked:
        started = time.perf_counter()
        search(query)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))]}


def folder_bytes(folder: Path, prefix: str) -> int:
    return sum(f.stat().st_size for f in folder.iterdir() if f.name.startswith((prefix, "_" + prefix)))


def run(args) -> dict:
    library = workload.mlanthology(args.papers + 2 * args.pages * max(args.pdfs, args.large) // 2)
    papers, pool = library[:args.papers], [p.abstract for p in library[args.papers:] if len(p.abstract) > 400]
    pool = pool or [p.abstract for p in papers]
    folder = Path(tempfile.mkdtemp(prefix="fulltext-bench-"))
    figures: dict = {"papers": len(papers), "pdfs": args.pdfs, "pages_per_pdf": args.pages, "large": args.large}

    # the library, its title/abstract queries before any PDF, and FTS5 over the same papers
    index = jp.open_index(folder / "index")
    index.add(papers)
    # each measurement asks its own draw of queries: a query asked before is answered from memory
    asked = {name: title_queries(papers, args.queries, seed) for name, seed in
             (("before", 5), ("all", 6), ("metadata", 7))}
    fts = workload_fts5(papers, folder / "papers.sqlite")
    before = timed_all(lambda q: index.search(q, prefix=False), asked["before"])
    baseline = timed_all(lambda q: fts.search(q, prefix=False), asked["before"])

    # PDFs, made (not measured), then indexed
    texts = [page_texts(pool, n, args.pages) for n in range(args.pdfs)]
    (folder / "pdfs").mkdir()
    started = time.perf_counter()
    for n in range(args.pdfs):
        pdfs.article(folder / "pdfs" / f"{n}.pdf", papers[n].title, texts[n], doi=papers[n].doi)
    figures["making_pdfs_s"] = time.perf_counter() - started
    attached = [jp.Paper.from_dict({**papers[n].to_dict(), "extra": {"pdf": str(folder / "pdfs" / f"{n}.pdf")}})
                for n in range(args.pdfs)]
    started = time.perf_counter()
    report = index.add(attached)
    seconds = time.perf_counter() - started
    assert not report.fulltext, report.fulltext[:3]
    pages = args.pdfs * args.pages
    figures["indexing"] = {"seconds": seconds, "pdfs_per_s": args.pdfs / seconds, "pages_per_s": pages / seconds,
                           "bytes_per_page": folder_bytes(index.path, "pages") / pages}
    page_fts = PagesFTS5(folder / "pages.sqlite")
    started = time.perf_counter()
    with page_fts.db:
        for n, paper in enumerate(attached):
            page_fts.add(paper.id, texts[n])
    figures["fts5_indexing_s"] = time.perf_counter() - started
    drawn = queries(texts, args.queries)
    ours = lambda q: [h.paper.id for h in index.search(q, scope="fulltext", prefix=False)]  # noqa: E731
    figures[f"queries_{args.pdfs}"] = {"ours": latency(ours, drawn, lambda n: attached[n].id),
                                       "fts5": latency(page_fts.search, drawn, lambda n: attached[n].id)}
    figures["title_queries"] = {
        "before_pdfs": before, "fts5": baseline,
        "after_pdfs_all": timed_all(lambda q: index.search(q, prefix=False), asked["all"]),
        "after_pdfs_metadata": timed_all(lambda q: index.search(q, prefix=False, scope="metadata"), asked["metadata"])}
    index.close()

    # many more PDFs: their page texts written straight into a page index
    if args.large:
        big = PageIndex(folder / "large")
        (folder / "large").mkdir()
        big_fts = PagesFTS5(folder / "large.sqlite")
        big_texts = [page_texts(pool, n, args.pages) for n in range(args.large)]
        started = time.perf_counter()
        for start in range(0, args.large, BATCH_FILES):
            big.write([FileText(f"paper-{n}", f"sha-{n}", f"{n}.pdf", big_texts[n])
                       for n in range(start, min(args.large, start + BATCH_FILES))])
        figures["large_indexing_s"] = time.perf_counter() - started
        with big_fts.db:
            for n, texts_of in enumerate(big_texts):
                big_fts.add(f"paper-{n}", texts_of)
        big_drawn = queries(big_texts, args.queries, seed=13)

        def ours_large(query):
            searcher = big.current()
            found, _ = big.search(searcher, big.terms(searcher, query, False), 10, is_sentence(query))
            return [entry.paper for entry in found]

        figures[f"queries_{args.large}"] = {"ours": latency(ours_large, big_drawn, lambda n: f"paper-{n}"),
                                            "fts5": latency(big_fts.search, big_drawn, lambda n: f"paper-{n}")}
        figures["large_bytes_per_page"] = folder_bytes(folder / "large", "pages") / (args.large * args.pages)
        big.close()
    return figures


def workload_fts5(papers, path: Path):
    from fts5 import build

    return build(papers, path)


def write_section(figures: dict) -> None:
    indexing = figures["indexing"]
    lines = [SECTION, "",
             f"`python benchmarks/fulltext.py --write`, {time.strftime('%Y-%m-%d %H:%M')}: a library of "
             f"{figures['papers']:,} ML Anthology papers, {figures['pdfs']:,} of them with a generated "
             f"{figures['pages_per_pdf']}-page PDF (two real abstracts a page). Ours: `search(scope=\"fulltext\")` "
             "with snippets; FTS5: the same page texts, bm25, snippet(), grouped by paper. Medians and p95 in ms.", "",
             f"Indexing {figures['pdfs']:,} PDFs ({figures['pdfs'] * figures['pages_per_pdf']:,} pages, 2 reading "
             f"processes): {indexing['seconds']:.1f} s, {indexing['pdfs_per_s']:.1f} PDFs/s, "
             f"{indexing['pages_per_s']:.0f} pages/s; the page index grows {indexing['bytes_per_page'] / 1024:.1f} KB "
             f"a page. FTS5 over the same texts: {figures['fts5_indexing_s']:.1f} s (text given, no PDF read).", ""]
    for key in sorted(k for k in figures if k.startswith("queries_")):
        size = int(key.split("_")[1])
        lines += [f"Full-text queries at {size:,} PDFs ({size * figures['pages_per_pdf']:,} pages):", "",
                  "| kind | ours p50 | ours p95 | FTS5 p50 | FTS5 p95 | p95 ratio | its PDF first: ours / FTS5 |",
                  "|---|---|---|---|---|---|---|"]
        ours, fts = figures[key]["ours"], figures[key]["fts5"]
        for kind in KINDS:
            lines.append(f"| {kind} | {ours[kind]['p50']:.1f} | {ours[kind]['p95']:.1f} | {fts[kind]['p50']:.1f} | "
                         f"{fts[kind]['p95']:.1f} | {ours[kind]['p95'] / fts[kind]['p95']:.2f}x | "
                         f"{ours[kind]['first']:.0%} / {fts[kind]['first']:.0%} |")
        lines.append("")
    if "large_indexing_s" in figures:
        lines += [f"At {figures['large']:,} PDFs the page index took {figures['large_indexing_s']:.0f} s to write "
                  f"({figures['large_bytes_per_page'] / 1024:.1f} KB a page).", ""]
    title = figures["title_queries"]
    lines += ["Title/abstract queries (three title words, not as you type) of the same library:", "",
              "| | p50 | p95 | p95 / FTS5 |", "|---|---|---|---|"]
    for name, label in (("before_pdfs", "before its PDFs were indexed"), ("after_pdfs_all", "after, everywhere"),
                        ("after_pdfs_metadata", "after, titles & abstracts only"), ("fts5", "FTS5")):
        lines.append(f"| {label} | {title[name]['p50']:.1f} | {title[name]['p95']:.1f} | "
                     f"{title[name]['p95'] / title['fts5']['p95']:.2f}x |")
    replace_section(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--pdfs", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10_000, help="PDFs of the larger page index (0: none)")
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--queries", type=int, default=100, help="per kind")
    parser.add_argument("--write", action="store_true", help="put the figures in benchmarks/results.md")
    parser.add_argument("--smoke", action="store_true", help="a small run on the repository's samples")
    args = parser.parse_args()
    if args.smoke:
        workload.use_sample()
        args.papers, args.pdfs, args.large, args.pages, args.queries = 300, 12, 60, 3, 8
    figures = run(args)
    print(json.dumps(figures, indent=1))
    if args.write:
        write_section(figures)


if __name__ == "__main__":
    main()
