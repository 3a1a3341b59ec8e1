"""A sentence as the query (issue 15): a claim, a paragraph's topic or a pasted title,
read as such and scored term at a time, with the same years, deletions and highlights as
every other search."""

from __future__ import annotations

import pytest

import jupyter_papers as jp
from jupyter_papers.question import is_sentence

CLAIM = ("Refining the interpolation of RoPE features for out-of-distribution positions narrows the generalization "
         "gap when models are trained short and tested long.")


@pytest.mark.parametrize("text, sentence", [
    (CLAIM, True),
    ("Deleting Raptor reduces G-CSF levels.", True),  # short, but written as a sentence
    ("Crosstalk between dendritic cells (DCs) and innate lymphoid cells (ILCs) matters", True),
    ("Does transfer learning leak properties of the training data?", True),
    ("resonance rope context length", False),  # a known-item search
    ("Deleting Raptor reduces levels", False),
    ('"rotary position" embeddings for long sequences of tokens', False),  # query syntax
    ("title:rope embeddings for long sequences of many tokens", False),
    ("diffu* models for images and video generation tasks", False),
])
def test_a_sentence_is_many_words_without_query_syntax(text, sentence):
    assert is_sentence(text) is sentence


def test_a_claim_finds_the_paper_that_makes_it(demo_index):
    results = demo_index.search(CLAIM)
    assert results.hits[0].paper.id == "2403.00071"
    theft = "An adversary who controls an upstream model can infer properties of the data a victim fine-tuned on"
    assert demo_index.search(theft).hits[0].paper.id == "2303.11643"
    assert "<mark>" in results.hits[0].highlights["abstract"]
    assert results.total >= len(results.hits) and results.total_exact


def test_a_pasted_title_comes_first(demo_index):
    for paper in [demo_index.get("2403.00071"), demo_index.get("2303.11643"), demo_index.get("2305.03726")]:
        results = demo_index.search(paper.title + ".")
        assert results.hits[0].paper.id == paper.id, paper.title


def test_years_paging_and_deletions_hold_for_sentences(empty_index):
    empty_index.add([jp.Paper(id=f"p{n}", title=f"Quokka colonies number {n}", year=2000 + n,
                              abstract="We count quokka colonies on islands and measure how their burrows spread over time.")
                     for n in range(30)])
    claim = "Quokka colonies spread their burrows over islands as time passes."
    assert is_sentence(claim)
    assert demo_total(empty_index, claim) == 30
    recent = empty_index.search(claim, year_from=2020, limit=50)
    assert sorted(h.paper.year for h in recent) == list(range(2020, 2030))
    first, second = empty_index.search(claim, limit=10), empty_index.search(claim, limit=10, offset=10)
    assert not {h.paper.id for h in first} & {h.paper.id for h in second}
    empty_index.remove("p5")
    assert "p5" not in {h.paper.id for h in empty_index.search(claim, limit=50)}
    assert demo_total(empty_index, claim) == 29


def test_a_paper_without_a_year_is_outside_every_year_range_for_sentences_too(empty_index):
    """As for words (collect.shown_papers): "up to 2023" does not list papers of unknown year."""
    abstract = "We count quokka colonies on islands and measure how their burrows spread over time."
    empty_index.add([jp.Paper(id="dated", title="Quokka colonies", year=2010, abstract=abstract),
                     jp.Paper(id="undated", title="Quokka colonies", abstract=abstract)])
    claim = "Quokka colonies spread their burrows over islands as time passes."
    assert {h.paper.id for h in empty_index.search(claim)} == {"dated", "undated"}
    assert [h.paper.id for h in empty_index.search(claim, year_to=2023)] == ["dated"]
    assert [h.paper.id for h in empty_index.search(claim + " year:<=2023")] == ["dated"]


def demo_total(index, text):
    return index.search(text, limit=1).total
