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


def test_a_synthetic_corpus_has_every_known_item_kind():
    """The 1M-paper run's corpus: its abstracts have sentences to ask with, and drawing
    known items ends (it once drew forever on abstracts without a sentence)."""
    sys.path.insert(0, str(BENCHMARKS))
    import workload

    workload.use_sample()
    papers = list(workload.synthetic(300, vocabulary_from=workload.mlanthology(300)))
    items = workload.known_items(papers, per_kind=10)
    assert {kind: len(found) for kind, found in items.items()} == {kind: 10 for kind in workload.KNOWN_ITEM_KINDS}
    assert all(sentence.endswith(".") and len(sentence.split()) == workload.SENTENCE
               for sentence, _ in items["sentence"])
    for paper in papers:
        paper.abstract = paper.abstract.replace(".", "")
    assert "sentence" not in workload.known_items(papers, per_kind=10)
