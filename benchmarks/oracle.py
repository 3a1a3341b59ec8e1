"""Our references against two independent oracles, entry by entry, on real exports.

    python benchmarks/oracle.py                  # every style, the whole corpus
    python benchmarks/oracle.py --styles apa,ieee --show 5

The corpus (tests/data/exports, provenance in tests/data/README.md) is .bib files as ten
tools export them, and Zotero's CSL-JSON as Better BibTeX exports it. Each entry is formatted three ways, with the same CSL files:
  - ours: our reading of the .bib into a paper, formatted by pandoc's citeproc;
  - pandoc: pandoc's own BibTeX/BibLaTeX reader, its citeproc formatting;
  - citation-js: citation-js reads the .bib, citeproc-js (Zotero's engine) formats it.
An entry counts against us when both oracles agree with each other and we differ from
them. Entries where the oracles disagree with each other are counted apart: either of them
may be wrong. Then the round trip: each entry written by write_bibliography and read back
must give the same record, and bibtexparser, biber and pandoc must read the written file
without an error.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import bibtexparser

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's jupyter_papers, not an installed one

import jupyter_papers as jp  # noqa: E402
from jupyter_papers.citations.bibfile import write_bibliography  # noqa: E402
from jupyter_papers.citations.csl import _pandoc, format_references, style_path, to_csl  # noqa: E402
from jupyter_papers.citations.latex import MATH  # noqa: E402

EXPORTS = ROOT / "tests" / "data" / "exports"
ORACLE = Path(__file__).resolve().parent / "oracle"
STYLES = ("apa", "ieee", "chicago", "harvard", "mla", "nature", "vancouver")
_ENTRY = re.compile(r'<div id="ref-([^"]+)" class="csl-entry"[^>]*>(.*?)</div>\s*(?=<div id="ref-|</div>\s*$)', re.S)


def normal(text: str | None) -> str:
    """An entry's words as a reader sees them: no list label, spaces and quotes made uniform."""
    text = html.unescape(re.sub(r"<[^>]+>", "", text or ""))
    text = re.sub(r"^\s*(\[\d+\]|\d+\.)\s*", "", text)
    return " ".join(text.replace("\u00a0", " ").split())


def reader_of(path: Path) -> str:
    return "biblatex" if "biblatex" in path.name else "bibtex"


def ours(path: Path, styles) -> dict[str, dict[str, str]]:
    papers = list(jp.read_papers(path))
    items = [to_csl(p, p.key) for p in papers]
    return {style: {p.key: normal(text) for p, text in zip(papers, format_references(items, style, "text",
                                                                                    numbered=False))}
            for style in styles}


def pandoc(path: Path, styles) -> dict[str, dict[str, str]]:
    found = {}
    for style in styles:
        if path.suffix == ".json":  # a CSL-JSON bibliography: every item of it, cited by nocite
            command, document = ["-f", "markdown", f"--bibliography={path}"], "---\nnocite: '@*'\n---\n"
        else:
            command, document = ["-f", reader_of(path), str(path)], None
        done = subprocess.run([_pandoc(), *command, "-t", "html", "--citeproc", f"--csl={style_path(style)}",
                               "--wrap=none"], input=document.encode() if document else None, capture_output=True)
        found[style] = {key: normal(re.sub(r'<div class="csl-left-margin">.*?</div>', "", body, flags=re.S))
                        for key, body in _ENTRY.findall(done.stdout.decode("utf-8"))}
    return found


def installed() -> bool:
    return (ORACLE / "node_modules" / "@citation-js" / "core").is_dir()


def citation_js(path: Path, styles) -> dict[str, dict[str, str]]:
    if not installed():
        raise SystemExit(f"citation-js is not installed: run `npm ci --prefix {ORACLE}`")
    request = json.dumps({"bib": str(path), "styles": {s: style_path(s) for s in styles}})
    done = subprocess.run(["node", str(ORACLE / "format.mjs")], input=request, capture_output=True, text=True,
                          check=True)
    return {style: {key: normal(text) for key, text in found.items()}
            for style, found in json.loads(done.stdout)["references"].items()}


@dataclass
class Agreement:
    style: str
    entries: int = 0
    oracles_agree: int = 0
    against_us: list = field(default_factory=list)  # (file, key, ours, theirs): both oracles agree, we differ
    quirks: dict = field(default_factory=dict)  # quirk -> entries where both oracles share a named mistake
    oracles_differ: int = 0  # the two oracles disagree with each other

    @property
    def share_against_us(self) -> float:
        return len(self.against_us) / self.entries if self.entries else 0.0


# Where both oracles print the same wrong thing, named so that it is counted apart.
QUIRKS = {
    "escaped-identifier": "a DOI or URL holding a TeX escape (10.1007/978-3-642-24550-3\\_29): both print the "
                          "backslash, which is no part of the identifier; we print the identifier",
    "math": "TeX math in a title ($L^p$): both drop the markup (Lp); we keep it as written (L^p)",
    "dotless-i": "{\\'\\i}: both print a dotless i with an accent (ı́); we print í",
    "doi-as-url": "a doi field holding a URL: both print https://doi.org/http://...; we print the URL",
}


def _shared_quirk(theirs: str, mine: str) -> str:
    if re.sub(r"\\([_%&#~])", r"\1", theirs) == mine:
        return "escaped-identifier"
    if theirs.replace("\u0131\u0301", "\u00ed") == mine:
        return "dotless-i"
    if "doi.org/http" in theirs and "doi.org/http" not in mine:
        return "doi-as-url"
    if ("^" in mine or "_" in mine) and re.sub(r"[\^_{}]", "", mine) == theirs:
        return "math"
    return ""


def agreement(paths, styles=STYLES) -> dict[str, Agreement]:
    rows = {style: Agreement(style) for style in styles}
    for path in paths:
        mine, theirs, other = ours(path, styles), pandoc(path, styles), citation_js(path, styles)
        for style in styles:
            row = rows[style]
            for key, text in mine[style].items():
                a, b = theirs[style].get(key), other[style].get(key)
                if a is None or b is None:
                    continue
                row.entries += 1
                if a == b:
                    row.oracles_agree += 1
                    if text != a:
                        quirk = _shared_quirk(a, text)
                        if quirk:
                            row.quirks[quirk] = row.quirks.get(quirk, 0) + 1
                        else:
                            row.against_us.append((path.name, key, text, a))
                else:
                    row.oracles_differ += 1
    return rows


_NOCASE = re.compile(r'<span class="nocase">(.*?)</span>', re.S)


def _meaning(value):
    """A CSL value as an engine reads it. Case protection (``<span class="nocase">``) is
    kept only where it changes what an engine prints: on a word in lower case, which title
    casing would capitalise (CSL engines capitalise; they never lower a capital, the value
    being in sentence case already). ``SentencePiece`` and
    ``<span class="nocase">S</span>entence<span class="nocase">P</span>iece`` mean the same."""
    if not isinstance(value, str):
        return value
    protected, plain, position = [], "", 0
    for match in _NOCASE.finditer(value):
        plain += value[position:match.start()]
        protected.append((len(plain), len(plain) + len(match.group(1))))
        plain += match.group(1)
        position = match.end()
    plain += value[position:]

    math = [m.span() for m in MATH.finditer(plain)]  # no engine recases math

    def marked(word):
        text = word.group()
        guarded = any(start < word.end() and word.start() < end for start, end in protected) and not any(
            start <= word.start() < end for start, end in math)
        return f"{{{text}}}" if guarded and re.search(r"[^\W\d_]", text) and text == text.lower() else text

    return re.sub(r"\w+", marked, plain)


def _record(paper) -> dict:
    """What we read of an entry, as compared after writing it and reading it back."""
    return dict(title=paper.title, abstract=paper.abstract, authors=[str(n) for n in paper.authors],
                editors=[str(n) for n in paper.editors], year=paper.year, venue=paper.venue,
                doi=paper.doi.lower(), arxiv_id=paper.arxiv_id, url=paper.url, keywords=paper.keywords,
                type=paper.type, csl={k: _meaning(v) for k, v in paper.csl.items()}, key=paper.key)


@dataclass
class RoundTrip:
    entries: int = 0
    same: int = 0
    differing: list = field(default_factory=list)  # (file, key, {field: (before, after)})
    errors: dict = field(default_factory=dict)  # tool -> messages reading the written files

    @property
    def share_same(self) -> float:
        return self.same / self.entries if self.entries else 0.0


def _tool_errors(written: Path) -> dict[str, list[str]]:
    errors = {}
    library = bibtexparser.parse_string(written.read_text(encoding="utf-8"))
    errors["bibtexparser"] = [f"{type(b).__name__}: {b.raw[:80]}" for b in library.failed_blocks]
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(["biber", "--tool", "--nolog", f"--output-directory={folder}", str(written)],
                              capture_output=True, text=True)
        errors["biber"] = [line for line in done.stdout.splitlines() if line.startswith("ERROR")] + (
            [done.stderr.strip()] if done.returncode else [])
    done = subprocess.run([_pandoc(), "-f", "biblatex", "-t", "csljson", str(written)], capture_output=True,
                          text=True)
    errors["pandoc"] = [done.stderr.strip()] if done.returncode or done.stderr.strip() else []
    return errors


def round_trip(paths, dialect: str = "bibtex") -> RoundTrip:
    result = RoundTrip()
    with tempfile.TemporaryDirectory() as folder:
        for path in (p for p in paths if p.suffix == ".bib"):
            papers = list(jp.read_papers(path))
            written = Path(folder, path.name)
            write_bibliography(papers, written, dialect=dialect)
            back = {p.key: p for p in jp.read_papers(written)}
            for paper in papers:
                result.entries += 1
                before = _record(paper)
                after = _record(back[paper.key]) if paper.key in back else {}
                changed = {k: (v, after.get(k)) for k, v in before.items() if after.get(k) != v}
                if changed:
                    result.differing.append((path.name, paper.key, changed))
                else:
                    result.same += 1
            for tool, messages in _tool_errors(written).items():
                result.errors.setdefault(tool, []).extend(f"{path.name}: {m}" for m in messages)
    return result


def corpus() -> list[Path]:
    """The .bib files, then Zotero's CSL-JSON (read by all three; no round trip through .bib)."""
    return sorted(EXPORTS.glob("*.bib")) + sorted(EXPORTS.glob("*.json"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--styles", default=",".join(STYLES))
    parser.add_argument("--show", type=int, default=3, help="differences shown per style")
    args = parser.parse_args(argv)
    styles = args.styles.split(",")
    paths = corpus()
    print(f"{len(paths)} files from tests/data/exports")
    print("style       entries  oracles agree  we differ from both  (share)  oracles differ")
    rows = agreement(paths, styles)
    for row in rows.values():
        print(f"{row.style:10} {row.entries:8} {row.oracles_agree:14} {len(row.against_us):20}  "
              f"({row.share_against_us:5.1%}) {row.oracles_differ:15}")
    for row in rows.values():
        for name, key, mine, theirs in row.against_us[:args.show]:
            print(f"\n{row.style} {name} {key}\n  both: {theirs}\n  ours: {mine}")
    for dialect in ("bibtex", "biblatex"):
        trip = round_trip(paths, dialect)
        print(f"\nround trip, written as {dialect}: {trip.same} of {trip.entries} entries read back the same "
              f"({trip.share_same:.1%})")
        for name, key, changed in trip.differing[:args.show * 3]:
            print(f"  {name} {key}: {changed}")
        for tool, messages in trip.errors.items():
            print(f"{tool} reading the written files: {len(messages)} errors" + "".join(f"\n  {m}" for m in messages[:5]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
