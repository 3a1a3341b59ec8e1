"""Key-to-results in the sidebar, measured in a real JupyterLab and a real Chromium.

Queries drawn from the corpus's titles (seeded) are typed into the sidebar at a fast
typist's pace. For each key press, the latency is the time from the key's input event to
the first time the result list shows that text or a later one (a list for a later text
shows this key too: keys typed while a search is on its way are coalesced). Reported per
corpus: p50, p95, p99 and max over every key press.

    python benchmarks/key_to_results.py [--sizes demo 10000] [--queries 12] [--delay 90] [--write]

--write puts the table in benchmarks/results.md (its own section, replaced on each run).
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
from playwright.sync_api import expect, sync_playwright  # noqa: E402

import jupyter_papers as jp  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TOKEN, serve  # noqa: E402

RECORDER = """() => {
  const input = document.querySelector('.jp-papers-input');
  const list = document.querySelector('.jp-papers-results');
  window.typed = []; window.shown = [];
  input.addEventListener('input', () => window.typed.push([performance.now(), input.value]));
  new MutationObserver(() => window.shown.push([performance.now(), list.dataset.query]))
    .observe(list, { childList: true, attributes: true, attributeFilter: ['data-query'] });
}"""


def latencies(typed: list, shown: list) -> list[float]:
    """Per key press: ms until a list for that text or a later one was shown."""
    texts = [value for _, value in typed]
    result = []
    for i, (at, _) in enumerate(typed):
        later = set(texts[i:])
        seen = [when for when, query in shown if when >= at and query in later]
        if seen:
            result.append(seen[0] - at)
    return result


def queries(papers: list, count: int, seed: int = 13) -> list[str]:
    """Two to four title words of random papers, as people type them."""
    rng = random.Random(seed)
    chosen = []
    while len(chosen) < count:
        words = [w for w in workload.title_words(rng.choice(papers)) if len(w) > 2]
        if len(words) >= 2:
            start = rng.randrange(max(1, len(words) - 2))
            chosen.append(" ".join(words[start:start + rng.randint(2, 4)]).lower())
    return chosen


def measure(size: str, count: int, delay: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="jp-typing-") as folder:
        base = Path(folder)
        server = serve("jupyterlab", base)
        lab = next(server)
        try:
            os.environ["JUPYTER_PAPERS_HOME"] = str(lab.home)  # the server's index: the demo corpus, or
            index = jp.open_index() if size == "demo" else jp.open_index(lab.home / "index")  # an empty one filled here
            if size != "demo":
                index.add(workload.mlanthology(int(size)))
            papers = [hit.paper for hit in index.search("", limit=min(len(index), 5000))]
            total = len(index)
            index.close()
            typed_queries = queries(papers, count)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1500, "height": 950})
                page.goto(f"{lab.url}/lab?reset&token={TOKEN}")
                expect(page.locator(".jp-LauncherCard").first).to_be_visible(timeout=60_000)
                page.keyboard.press("Control+Alt+p")
                expect(page.locator(".jp-papers-hit").first).to_be_visible(timeout=60_000)
                page.evaluate(RECORDER)
                every = []
                for query in typed_queries:
                    page.fill(".jp-papers-input", "")
                    page.wait_for_timeout(400)
                    page.evaluate("() => { window.typed = []; window.shown = []; }")
                    page.locator(".jp-papers-input").press_sequentially(query, delay=delay)
                    page.wait_for_function(f"() => document.querySelector('.jp-papers-results').dataset.query === {json.dumps(query)}",
                                           timeout=30_000)
                    every += latencies(page.evaluate("window.typed"), page.evaluate("window.shown"))
                browser.close()
        finally:
            next(server, None)
    every.sort()
    pick = lambda q: round(every[min(len(every) - 1, int(q * len(every)))], 1)  # noqa: E731
    return {"papers": total, "queries": count, "key_presses": len(every), "delay_ms": delay,
            "p50_ms": round(statistics.median(every), 1), "p95_ms": pick(0.95), "p99_ms": pick(0.99),
            "max_ms": round(every[-1], 1)}


SECTION = "## Key to results in the sidebar (a real JupyterLab and Chromium)"


def write_section(rows: list[dict]) -> None:
    """The figures as a section of results.md, in place of the one a previous run wrote."""
    lines = [SECTION, "", f"`python benchmarks/key_to_results.py --write`, {time.strftime('%Y-%m-%d %H:%M')}: "
             "from each key's input event to the first result list showing that text or a later one.", "",
             "| papers | queries | key presses | ms between keys | p50 ms | p95 ms | p99 ms | max ms |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['papers']:,} | {r['queries']} | {r['key_presses']} | {r['delay_ms']} | {r['p50_ms']} | "
              f"{r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} |" for r in rows]
    replace_section(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["demo", "10000"], help="demo or a number of real papers")
    parser.add_argument("--queries", type=int, default=12)
    parser.add_argument("--delay", type=int, default=90, help="ms between key presses")
    parser.add_argument("--sample", action="store_true", help="the repository's sample corpus (2,000 papers)")
    parser.add_argument("--write", action="store_true", help="put the figures in benchmarks/results.md")
    args = parser.parse_args()
    if args.sample or not workload.MLANTHOLOGY.exists():
        workload.use_sample()
    rows = []
    for size in args.sizes:
        rows.append(measure(size, args.queries, args.delay))
        print(json.dumps({"size": size, **rows[-1]}), flush=True)
    if args.write:
        write_section(rows)


if __name__ == "__main__":
    main()
