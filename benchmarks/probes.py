"""Re-run the reliability probes of issue 14 at their original scale and print the figures.

Kills at random moments (add, rebuild, a references.bib write), concurrent writers with a
searcher, fuzzed files and fuzzed queries, and the size limit on one .bib file. The tests
(tests/test_reliability.py, tests/test_bad_input.py) check each behaviour at a small scale;
this script counts how often it holds over many seeded trials.

    python benchmarks/probes.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bibtexparser

import jupyter_papers as jp
from jupyter_papers.sources.bibtex import MAX_FILE

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import workload  # noqa: E402

sys.path.insert(0, str(HERE.parent))
from tests.conftest import write_jsonl  # noqa: E402

FIXTURES = HERE.parent / "tests" / "data" / "bib"
SLOW = 10.0  # seconds: a case slower than this counts as blocking


def cli(index: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jupyter_papers.cli", "--index", str(index), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def timed_run(index: Path, *args: str) -> float:
    started = time.monotonic()
    assert cli(index, *args).wait(600) == 0
    return time.monotonic() - started


def readable(index: Path) -> tuple[int, int]:
    """Papers in the index, and how many of them come back incomplete."""
    with jp.open_index(index) as opened:
        papers = list(opened.search("", limit=len(opened) or 1))
        incomplete = sum(1 for hit in papers if not (hit.paper.title and hit.paper.abstract))
        opened.search("paper topic")
        return len(opened), incomplete


def kills_during_add(work: Path, trials: int, rng: random.Random) -> dict:
    """Each trial imports 1,000 new papers and is killed part way; the import is then run
    again to its end: the index must open after the kill, hold only whole papers, and end
    with every paper once."""
    index = work / "kill-add"
    duration = timed_run(index, "add", str(write_jsonl(work / "timed.jsonl", 0, 1000, prefix="timed")))
    expected, opened_after_kill, incomplete, partial_imports = 1000, 0, 0, 0
    for trial in range(trials):
        source = write_jsonl(work / f"kill-add-{trial}.jsonl", 0, 1000, prefix=f"t{trial}")
        process = cli(index, "add", str(source))
        time.sleep(rng.uniform(0.05, duration))
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        papers, broken = readable(index)
        opened_after_kill += expected <= papers <= expected + 1000
        partial_imports += expected < papers < expected + 1000
        incomplete += broken
        assert cli(index, "add", str(source)).wait(600) == 0
        expected += 1000
    return {"kills": trials, "index_opened_after_each_kill": opened_after_kill,
            "kills_that_left_part_of_an_import": partial_imports, "incomplete_papers": incomplete,
            "papers_at_end": readable(index)[0], "expected": expected}


def kills_during_rebuild(work: Path, trials: int, rng: random.Random) -> dict:
    index = work / "kill-rebuild"
    assert cli(index, "add", str(write_jsonl(work / "kill-rebuild.jsonl", 0, 1000))).wait(600) == 0
    duration = timed_run(index, "rebuild")
    kept_all, incomplete = 0, 0
    for _ in range(trials):
        process = cli(index, "rebuild")
        time.sleep(rng.uniform(0.05, duration))
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        papers, broken = readable(index)
        kept_all += papers == 1000
        incomplete += broken
    return {"kills": trials, "all_1000_kept_after_each": kept_all, "incomplete_papers": incomplete}


def concurrent_writers(work: Path, writers: int) -> dict:
    index = work / f"writers-{writers}"
    jp.open_index(index).close()
    files = [write_jsonl(work / f"w{writers}-{n}.jsonl", 0, 1000, prefix=f"w{n}") for n in range(writers)]
    processes = [cli(index, "add", str(path)) for path in files]
    searches, errors = 0, 0
    while any(p.poll() is None for p in processes):
        try:
            with jp.open_index(index) as opened:
                opened.search("paper topic 3")
            searches += 1
        except Exception:  # noqa: BLE001 - counting what a reader meets is the probe
            errors += 1
    failed = sum(p.returncode != 0 for p in processes)
    papers = readable(index)[0]
    return {"writers": writers, "papers_each": 1000, "papers": papers, "lost": writers * 1000 - papers,
            "failed_writers": failed, "searches_meanwhile": searches, "search_errors": errors}


BIB_WRITER = """
import sys, jupyter_papers as jp
papers = [jp.Paper(title=f"Shared paper {n}", authors=["Ann Writer"], year=2020, doi=f"10.5555/{n}") for n in range(int(sys.argv[2]))]
jp.write_bibliography(papers, sys.argv[1])
"""


def bib_writes(work: Path, trials: int, rng: random.Random) -> dict:
    shared = work / "shared.bib"
    processes = [subprocess.Popen([sys.executable, "-c", BIB_WRITER, str(shared), "60"]) for _ in range(4)]
    assert all(p.wait(120) == 0 for p in processes)
    entries = bibtexparser.parse_string(shared.read_text()).entries
    started = time.monotonic()
    assert subprocess.run([sys.executable, "-c", BIB_WRITER, str(work / "timed.bib"), "40000"]).returncode == 0
    duration = time.monotonic() - started
    truncated = lost_own = 0
    for trial in range(trials):
        path = work / f"killed{trial}.bib"
        path.write_text("@misc{mine, title={Mine}}\n")
        writer = subprocess.Popen([sys.executable, "-c", BIB_WRITER, str(path), "40000"])
        time.sleep(rng.uniform(0.2, duration * 1.2))
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
        library = bibtexparser.parse_string(path.read_text())
        truncated += bool(library.failed_blocks) or len(library.entries) not in (1, 40001)
        lost_own += not any(e.key == "mine" for e in library.entries)
    return {"four_processes_60_papers": {"entries": len(entries), "duplicate_keys": len(entries) - len({e.key for e in entries})},
            "killed_writes": trials, "truncated": truncated, "users_entry_lost": lost_own}


def mutations(rng: random.Random, count: int) -> list[tuple[str, bytes]]:
    """Fuzzed files: byte flips, cuts, splices and braces in real .bib fixtures; wrong types,
    deep nesting and junk in JSON Lines and CSL-JSON."""
    seeds = [(p.suffix, p.read_bytes()) for p in sorted(FIXTURES.glob("*.bib"))]
    record = {"id": "x", "title": "T", "abstract": "A", "authors": ["A B"], "year": 2020, "doi": "10.1/x",
              "extra": {"code": "u"}, "keywords": ["k"]}
    junk = [5, "5", [5], {}, None, [[1]], -1, 1e308, "\x00", "}" * 50, "{" * 5000]
    made = []
    for n in range(count):
        kind = n % 5
        if kind < 3:
            suffix, data = rng.choice(seeds)
            data = bytearray(data)
            for _ in range(rng.randint(1, 40)):
                at = rng.randrange(len(data) + 1)
                choice = rng.random()
                if choice < 0.4:
                    data[at:at + 1] = bytes([rng.randrange(256)])
                elif choice < 0.6:
                    data[at:at] = rng.choice([b"{", b"}", b"@", b"#", b"\"", b",", b"=", b"\\", b"%"]) * rng.randint(1, 2000)
                elif choice < 0.8:
                    del data[at:at + rng.randint(1, 500)]
                else:
                    other = rng.choice(seeds)[1]
                    start = rng.randrange(len(other))
                    data[at:at] = other[start:start + rng.randint(1, 2000)]
            made.append((suffix, bytes(data)))
        elif kind == 3:
            lines = []
            for _ in range(rng.randint(1, 50)):
                item = dict(record, id=f"x{rng.randrange(10**6)}")
                for _ in range(rng.randint(0, 3)):
                    item[rng.choice(list(record) + ["type", "issued", "author"])] = rng.choice(junk)
                lines.append(json.dumps(item))
            if rng.random() < 0.2:
                lines.append("[" * rng.randint(1000, 100_000))
            made.append((".jsonl", "\n".join(lines).encode()))
        else:
            item = {"id": "c", "type": rng.choice(["book", ["book"], {}, 5, "nonsense"]), "title": rng.choice(["T", 5, [], None]),
                    "author": rng.choice([[{"family": "F", "given": "G"}], [5], "x", [{"literal": None}]]),
                    "issued": rng.choice([{"date-parts": [[2020]]}, {"date-parts": "x"}, 5, {"date-parts": [[]]}])}
            made.append((".json", json.dumps([item] * rng.randint(1, 20)).encode()))
    return made


def fuzz_files(work: Path, count: int, rng: random.Random) -> dict:
    index = jp.open_index(work / "fuzz-files")
    uncaught, slow, slowest, problems = [], 0, (0.0, ""), 0
    for n, (suffix, data) in enumerate(mutations(rng, count)):
        path = work / f"fuzz{n}{suffix}"
        path.write_bytes(data)
        started = time.monotonic()
        try:
            reading = jp.read_papers(path)
            index.add(reading)
            problems += len(getattr(reading, "problems", []))
        except (ValueError, OSError) as error:  # a clear message for a file that cannot be read at all
            problems += 1
            if not str(error):
                uncaught.append(f"{path.name}: {type(error).__name__} without a message")
        except Exception as error:  # noqa: BLE001 - counting escapes is the probe
            uncaught.append(f"{path.name}: {type(error).__name__}: {error}"[:200])
        took = time.monotonic() - started
        slow += took > SLOW
        slowest = max(slowest, (took, f"{suffix} {len(data)} bytes"))
        path.unlink()
    papers = len(index)
    index.close()
    return {"files": count, "uncaught": len(uncaught), "examples": uncaught[:5], "over_10s": slow,
            "slowest_s": round(slowest[0], 2), "slowest": slowest[1], "papers_indexed": papers}


def fuzz_queries(index_path: Path, count: int, rng: random.Random) -> dict:
    pieces = ["learning", "deep", "*", "**", "?", "*e*", "?????", "a*", "[a TO z]", "abstract:[a TO z]", "title:",
              "author:", "year:", "year:2020..2023", "year:>=99999", "\"", "(", ")", "AND", "OR", "NOT", "~", "^2",
              "{", "}", "\\", "'", "\x00", "é", "Schrödinger", "10.1145/", "arxiv.org/abs/", "2403.00071", "-",
              "--", ":", "venue:", "title:*", "\"deep learning", "learn~2", "a" * 300, "..", "<mark>", ""]
    with jp.open_index(index_path) as index:
        uncaught, slow, times, slowest = [], 0, [], (0.0, "", "")
        for n in range(count):
            words = [rng.choice(pieces) for _ in range(rng.randint(1, 8))]
            query = "".join(words) if n % 3 == 0 else " ".join(words)
            if n % 50 == 0:
                query = "learning " * rng.randint(200, 1000)
            options = {}
            if n % 7 == 0:
                options = {"year_from": rng.choice([-5, 0, 99999, 2020, None]), "year_to": rng.choice([None, 1, 2023, 10**9])}
            started = time.monotonic()
            try:
                index.search(query, **options)
            except Exception as error:  # noqa: BLE001 - counting escapes is the probe
                uncaught.append(f"{query[:60]!r} {options}: {type(error).__name__}")
            took = time.monotonic() - started
            times.append(took)
            slow += took > SLOW
            slowest = max(slowest, (took, query[:80], str(options)))
        times.sort()
        return {"queries": count, "papers": len(index), "uncaught": len(uncaught), "examples": uncaught[:5],
                "over_10s": slow, "p50_ms": round(1000 * times[len(times) // 2], 1),
                "p99_ms": round(1000 * times[int(len(times) * 0.99)], 1), "slowest_s": round(times[-1], 2), "slowest": slowest[1:]}


def bib_sizes(work: Path, entries: int) -> dict:
    """A .bib of ``entries`` entries (10**6: about 95 MB) is refused by size at once; one
    under the limit reads in time linear in its size."""
    entry = "@article{{key{n},\n  author = {{Ann Author and Bob Writer}},\n  title = {{A title of paper {n} on things}},\n" \
            "  journal = {{Journal of Things}},\n  year = {{2020}},\n}}\n"
    results = {}
    for count in (entries, 20_000, 80_000, 1000):
        path = work / f"big{count}.bib"
        path.write_text("".join(entry.format(n=n) for n in range(count)) if count != 1000
                        else entry.format(n=0) * count)
        started = time.monotonic()
        reading = jp.read_papers(path)
        papers = sum(1 for _ in reading)
        took = time.monotonic() - started
        results[f"{count}_entries" + ("_one_key" if count == 1000 else "")] = {
            "megabytes": round(path.stat().st_size / 2**20, 1), "papers": papers, "seconds": round(took, 2),
            "problems": [p.message for p in reading.problems][:2]}
        path.unlink()
    results["limit_megabytes"] = MAX_FILE // 2**20
    return results


PATHOLOGICAL = {  # issue 31: Markdown that made the citation parser quadratic or worse
    "bracket_then_ats": lambda n: "[" + "@" * n,
    "unclosed_fences": lambda n: "~~~a\n" * (n // 5),
    "backtick_runs": lambda n: " ".join("`" * k for k in range(1, int((2 * n) ** 0.5))),
    "ats_and_punctuation": lambda n: "@a" + ":" * n,
}


def citation_parser(sizes: tuple[int, ...] = (20_000, 40_000, 80_000)) -> dict:
    """Seconds to find the citations of each pathological text at growing sizes, and the
    ratio from one size to the next (about 2 when the time is linear, 4 when quadratic)."""
    from jupyter_papers.citations.references import find_citations

    figures = {}
    for name, make in PATHOLOGICAL.items():
        times = []
        for size in sizes:
            text = make(size)
            started = time.perf_counter()
            find_citations(text)
            times.append(time.perf_counter() - started)
        figures[name] = {"seconds": [round(t, 4) for t in times],
                         "ratios": [round(b / a, 2) if a else None for a, b in zip(times, times[1:])]}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the trials (a smoke run)")
    parser.add_argument("--json", type=Path, help="write the figures here as well")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    rng = random.Random(14)
    report = {}
    with tempfile.TemporaryDirectory(prefix="jp-probes-") as folder:
        work = Path(folder)
        os.environ["JUPYTER_PAPERS_HOME"] = str(work / "home")
        steps = [
            ("citation_parser", citation_parser),
            ("sigkill_during_add", lambda: kills_during_add(work, max(3, int(27 * scale)), rng)),
            ("sigkill_during_rebuild", lambda: kills_during_rebuild(work, max(2, int(7 * scale)), rng)),
            ("two_writers", lambda: concurrent_writers(work, 2)),
            ("four_writers", lambda: concurrent_writers(work, 4)),
            ("references_bib", lambda: bib_writes(work, max(2, int(10 * scale)), rng)),
            ("fuzzed_files", lambda: fuzz_files(work, int(1105 * scale), rng)),
            ("fuzzed_queries", lambda: fuzz_queries(query_index(work, int(19_638 * scale)), int(1401 * scale), rng)),
            ("bib_size", lambda: bib_sizes(work, int(10**6 * scale))),
        ]
        for name, step in steps:
            started = time.monotonic()
            report[name] = step()
            report[name]["probe_seconds"] = round(time.monotonic() - started, 1)
            print(f"{name}: {json.dumps(report[name])}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


def query_index(work: Path, papers: int) -> Path:
    """An index of the first ``papers`` real papers (the repository's sample when the team's
    data folder is not beside it)."""
    if not workload.MLANTHOLOGY.exists():
        workload.use_sample()
    path = work / "queries"
    with jp.open_index(path) as index:
        index.add(workload.mlanthology(papers))
    return path


if __name__ == "__main__":
    main()
