"""Syncing sources (issue 24), measured: a 10,000-entry .bib in which one entry changed,
the same file re-added whole as before sources existed (the baseline, same process), an
unchanged sync, a 10,000-item Zotero library's first and unchanged syncs, and, in a real
JupyterLab and Chromium, the time from saving a .bib to its new paper in the sidebar.

    python benchmarks/sources.py [--entries 10000] [--items 10000] [--repeat 5] [--browser 5] [--write]

Medians of --repeat runs (the browser: of --browser saves). --write puts the table in
benchmarks/results.md (its own section, replaced on each run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import jupyter_papers as jp  # noqa: E402
from sections import replace_section  # noqa: E402
from tests.zotero_library import synthetic_library  # noqa: E402

WORDS = "spectral graph neural sparse attention retrieval citation corpus robust causal bayesian kernel".split()


def bib_entry(n: int, revision: int = 0) -> str:
    title = " ".join(WORDS[(n * 7 + k) % len(WORDS)] for k in range(6)).capitalize()
    return (f"@article{{key{n},\n  title = {{{title} {n}{' revised' * revision}}},\n"
            f"  author = {{Author{n % 389}, Ann and Second{n % 53}, Bo}},\n  journal = {{Journal of Tests}},\n"
            f"  year = {{{2000 + n % 25}}},\n  volume = {{{n % 40}}},\n  pages = {{{n % 90 + 1}--{n % 90 + 12}}},\n"
            f"  doi = {{10.1234/test.{n}}}\n}}\n\n")


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def bib_figures(folder: Path, entries: int, repeat: int) -> dict:
    bib = folder / "library.bib"
    bib.write_text("".join(bib_entry(n) for n in range(entries)))
    index = jp.open_index(folder / "index")
    first = timed(lambda: index.sources.add(bib))
    one_changed, re_added, unchanged = [], [], []
    for run in range(1, repeat + 1):
        text = "".join(bib_entry(n, revision=run if n == 17 else 0) for n in range(entries))
        bib.write_text(text)
        one_changed.append(timed(lambda: index.sources.sync("library")))
        re_added.append(timed(lambda: index.add(jp.read_papers(bib))))
        unchanged.append(timed(lambda: index.sources.sync("library")))
    index.close()
    return {"entries": entries, "first_sync_s": first, "one_changed_s": statistics.median(one_changed),
            "re_add_s": statistics.median(re_added), "unchanged_s": statistics.median(unchanged)}


def zotero_figures(folder: Path, items: int, repeat: int) -> dict:
    built = timed(lambda: synthetic_library(folder / "Zotero", items))
    index = jp.open_index(folder / "zindex")
    first = timed(lambda: index.sources.add_zotero(folder / "Zotero"))
    unchanged = [timed(lambda: index.sources.sync("zotero")) for _ in range(repeat)]
    count = len(index)
    index.close()
    return {"items": items, "papers": count, "library_built_s": built, "first_sync_s": first,
            "unchanged_s": statistics.median(unchanged)}


def browser_figures(folder: Path, saves: int) -> dict:
    """From the write of a .bib (a new entry appended) to the new paper's title in the sidebar."""
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TOKEN, serve

    (folder / "lab").mkdir()
    served = serve("jupyterlab", folder / "lab")
    lab = next(served)
    bib = lab.root / "live.bib"
    bib.write_text(bib_entry(0))
    lab.api("jupyter-papers/sources", "POST", json.dumps({"path": str(bib)}).encode())
    waits = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{lab.url}/lab?reset&token={TOKEN}")
            expect(page.locator('.jp-SideBar [data-id="jupyter-papers-panel"]')).to_be_visible(timeout=120_000)
            page.keyboard.press("Control+Alt+p")
            expect(page.locator(".jp-papers-input")).to_be_focused()
            for n in range(1, saves + 1):
                title = f"Platypus census {n}"
                page.fill(".jp-papers-input", title.lower())
                page.wait_for_timeout(1500)  # the sources' state is read every 1.5 s: start at a random phase
                started = time.perf_counter()
                with bib.open("a") as out:
                    out.write(bib_entry(n).replace(bib_entry(n).split("title = {")[1].split("}")[0], title))
                expect(page.locator(".jp-papers-hit").first.locator(".jp-papers-title")).to_contain_text(
                    title, timeout=60_000)
                waits.append(time.perf_counter() - started)
            browser.close()
    finally:
        next(served, None)
    return {"saves": saves, "save_to_sidebar_p50_s": statistics.median(waits), "save_to_sidebar_max_s": max(waits)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--browser", type=int, default=5, help="saves timed in the browser (0: none)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jp-sources-") as work:
        folder = Path(work)
        import os

        os.environ["JUPYTER_PAPERS_HOME"] = str(folder / "home")
        figures = {"bib": bib_figures(folder, args.entries, args.repeat),
                   "zotero": zotero_figures(folder, args.items, args.repeat)}
        if args.browser:
            figures["browser"] = browser_figures(folder, args.browser)
    print(json.dumps(figures, indent=1))
    if args.write:
        write_section(figures)


def write_section(figures: dict) -> None:
    bib, zotero = figures["bib"], figures["zotero"]
    lines = ["## Sources (benchmarks/sources.py)", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M')}; medians.", "",
             "| what | seconds | goal |", "|---|---|---|",
             f"| .bib of {bib['entries']:,} entries, first sync | {bib['first_sync_s']:.1f} | |",
             f"| the same, one entry changed: sync | {bib['one_changed_s']:.2f} | <= 2 |",
             f"| the same, re-added whole (before sources) | {bib['re_add_s']:.2f} | baseline |",
             f"| the same, unchanged: sync | {bib['unchanged_s']:.3f} | |",
             f"| Zotero library of {zotero['items']:,} items, first sync | {zotero['first_sync_s']:.1f} | <= 60 |",
             f"| the same, unchanged: sync | {zotero['unchanged_s']:.3f} | <= 1 |"]
    if "browser" in figures:
        browser = figures["browser"]
        lines.append(f"| saving a .bib to its new paper in the sidebar (p50 / max of {browser['saves']}) | "
                     f"{browser['save_to_sidebar_p50_s']:.2f} / {browser['save_to_sidebar_max_s']:.2f} | <= 3 |")
    replace_section(lines)


if __name__ == "__main__":
    main()
