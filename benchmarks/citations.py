"""Which CSL engine formats references: citeproc-py against pandoc's citeproc, both fed
the same CSL-JSON items (our records of the real BibTeX fixtures), entry by entry.

    python benchmarks/citations.py            # APA, IEEE, Chicago author-date

Prints, per style, how many entries the two engines format the same, how long each takes,
and a few differences. The answer decided the engine (README, "Formatted references").
"""

from __future__ import annotations

import re
import sys
import time
import warnings
from pathlib import Path

import jupyter_papers as jp
from jupyter_papers.citations.csl import format_references, style_path, to_csl

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "data" / "bib"


def citeproc_py(items: list[dict], style: str) -> list[str]:
    """citeproc-py's bibliography entries, in the order of the items."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bibliography = CitationStylesBibliography(CitationStylesStyle(style_path(style), validate=False),
                                                  CiteProcJSON(items), formatter.plain)
        for item in items:
            bibliography.register(Citation([CitationItem(item["id"])]))
        entries = {}
        for item_id, entry in zip(bibliography.keys, bibliography.bibliography()):
            entries[item_id] = str(entry)
    return [entries.get(item["id"].lower(), entries.get(item["id"], "")) for item in items]


def normal(text: str) -> str:
    return re.sub(r"^\[\d+\]\s*", "", " ".join(text.split()))


def main(styles: list[str]) -> int:
    papers = [p for path in sorted(FIXTURES.glob("*.bib")) if "tugboat" not in path.name for p in jp.read_papers(path)]
    papers += list(jp.read_papers(FIXTURES / "biber__tugboat.bib"))[::6]
    items = [to_csl(p, f"item{n}") for n, p in enumerate(papers)]
    for style in styles:
        started = time.perf_counter()
        reference = format_references(items, style, "text", numbered=False)
        pandoc_seconds = time.perf_counter() - started
        started = time.perf_counter()
        try:
            other = citeproc_py(items, style)
            failed = ""
        except Exception as error:  # citeproc-py gives up on some items: say so, count none as agreeing
            other, failed = [""] * len(items), f" (citeproc-py failed: {type(error).__name__}: {error})"
        citeproc_seconds = time.perf_counter() - started
        same = sum(normal(a) == normal(b) for a, b in zip(reference, other))
        print(f"{style}: citeproc-py agrees with pandoc on {same}/{len(items)} = {same / len(items):.1%}; "
              f"pandoc {pandoc_seconds:.1f} s, citeproc-py {citeproc_seconds:.1f} s{failed}")
        for a, b in [(a, b) for a, b in zip(reference, other) if normal(a) != normal(b)][:3]:
            print(f"   pandoc:      {a[:160]}\n   citeproc-py: {b[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["apa", "ieee", "chicago"]))
