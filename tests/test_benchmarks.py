"""The benchmark suite's smoke run, so it cannot rot. It asserts what the report holds,
never how fast anything was."""

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def test_smoke_benchmark_reports_every_figure(tmp_path):
    output = tmp_path / "results.md"
    result = subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "--smoke", "--output", str(output)],
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    report = output.read_text()
    for kind in ("one_word", "two_three_words", "phrase", "field", "year_range", "typo", "as_you_type"):
        assert report.count(f"| {kind} |") == 2, kind  # demo and 2,000 papers
    for kind in ("shuffled_title_words", "surname_topic", "rare_words", "typo_in_words", "sentence"):
        assert report.count(f"| {kind} |") == 4, kind  # latency and known-item quality, at both sizes
    for figure in ("import (2 processes):", "cold start", "holding the index open", "REST round trip",
                   "test split (300 claims): ours 0.", "Train split", "Time per claim (test split): ours mean"):
        assert figure in report
    assert "## 2000: 2,000 papers" in report and "Machine: " in report
