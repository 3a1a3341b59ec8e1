"""benchmarks/results.md is shared: each benchmark script keeps its own section in it."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"


def publish(report: dict, lines: list[str], write: bool) -> None:
    """A benchmark's figures printed (JSON, then its section), and with ``write`` put in
    results.md."""
    print(json.dumps(report, indent=1))
    print("\n".join(lines))
    if write:
        replace_section(lines)


def replace_section(lines: list[str], results: Path = RESULTS) -> None:
    """Put the section (its first line is its heading) in place of the one a previous run
    wrote, or at the end."""
    heading = lines[0]
    text = results.read_text() if results.exists() else ""
    before, found, after = text.partition(heading)
    rest = after[after.find("\n## "):] if found and "\n## " in after else ""
    results.write_text(before.rstrip() + "\n\n" + "\n".join(lines).rstrip() + "\n" + rest)
